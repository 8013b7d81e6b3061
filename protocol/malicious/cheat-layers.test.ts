/**
 * The cheating-party harness (protocol/testing/cheat-loop.ts) on the layers
 * the malicious runner gained beyond Conv2D / Dense / ReLU / MaxPool
 * (layers-linear.ts, layers-activations.ts, layers-smooth.ts), in a small
 * form: a 1x2x1 input through DepthwiseConv2D (the secret-kernel product,
 * truncM), PReLU (reluM, the secret-slope mulM, truncM), a squeeze-excite
 * Multiply (mulM, truncM) and sigmoid (folded on |x|: dreluM of x and one
 * mulM for |x|, one dreluM batch of |x| against the positive breakpoints,
 * two mulM, two truncM, one mulM by 2d - 1), then the opening and the MAC
 * check.
 * One party in turn alters each of its messages (the alteration rotating
 * over offset, bit flip, replay, another session's message, as
 * cheat-runner.test.ts, to keep the loop short); every honest party ends with E_INTEGRITY and
 * no output, and the next honest run is right. The one exception is the MAC
 * check's confirm (mac-check.ts step 4): the party it goes to aborts, the
 * other may finish, with the right output. Comparisons at ell = 20 (the
 * compared values stay below 2^19 ring units) keep each run small.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { plainForward } from '../reference/forward.js';
import { everyAlteration } from '../testing/cheat-loop.js';
import { MAL_F } from '../testing/mal-forward.js';
import { inputM } from './input.js';
import { macCheck } from './mac-check.js';
import { openLow } from './open.js';
import { liftSigned } from './ring128.js';
import { malForward } from './runner.js';
import type { MalSession } from './session.js';
import { prepareWeights, shareModelReplicated } from './weights.js';

const F = MAL_F;
const w = (shape: number[], v: number[]): FloatTensor => ({ shape, data: Float64Array.from(v) });
const model: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [1, 2, 1], output: 'sg', outputActivation: 'linear',
  nodes: [
    { kind: 'depthwise_conv2d', name: 'dw', inputs: ['input'], kernelSize: [1, 1], strides: [1, 1], padding: 'valid', depthMultiplier: 1, activation: 'linear', kernel: w([1, 1, 1, 1], [1.5]), bias: w([1], [-0.25]) },
    { kind: 'prelu', name: 'pr', inputs: ['dw'], kernel: w([1], [0.25]) },
    { kind: 'global_avgpool2d', name: 'gap', inputs: ['pr'] },
    { kind: 'reshape', name: 'gate', inputs: ['gap'], targetShape: [1, 1, 1] },
    { kind: 'multiply', name: 'se', inputs: ['pr', 'gate'] },
    { kind: 'activation', name: 'sg', inputs: ['se'], activation: 'sigmoid' },
  ],
};
const X = Float64Array.from([1.25, -2]);
const WANT = Array.from(plainForward(model, X, 1).data);
const parts = shareModelReplicated(model, F);

async function inference(s: MalSession): Promise<number[]> {
  const wts = await prepareWeights(s, parts[s.party]);
  const x = await inputM(s, 0, s.party === 0 ? liftSigned(encode(X, F)) : null, 2);
  const y = await malForward(s, wts, { shape: [1, 1, 2, 1], data: x }, { compareBits: 20 });
  const out = await openLow(s, y.data);
  await macCheck(s);
  return Array.from(decode(out, F));
}

describe('cheating-party harness on the new malicious layers (depthwise, PReLU, squeeze-excite Multiply, sigmoid): one altered message makes every honest party abort with E_INTEGRITY', () => {
  it('every message of every party, the alteration rotating; the honest output is within sigmoid\'s bound of the twin', async () => {
    const { cases, confirmCases } = await everyAlteration(inference, (v, label) => {
      expect(v.length, label).toBe(2);
      v.forEach((y, i) => expect(Math.abs(y - WANT[i]!), label).toBeLessThan(1e-3));
    }, 20, { rotate: true });
    expect(cases).toBeGreaterThan(100);
    expect(confirmCases).toBeGreaterThan(0);
  }, 300_000);
});
