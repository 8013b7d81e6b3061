/**
 * The malicious mode on deterministic replicated sharings: publicM's (c on
 * P0's and P2's a/b, 0 elsewhere) and ZeroPadding2D's padded cells, the class
 * of sharing on which the semi-honest local truncation used to fail
 * (primitives/truncate.ts). Here comparisons and truncation open x + r with a
 * fresh uniform r (compare.ts, trunc.ts), so the sharing of x does not
 * matter; these tests show it.
 */
import { describe, expect, it } from 'vitest';
import type { FloatTensor, LayerNode, ModelIR } from '../ir.js';
import { IR_FORMAT_VERSION } from '../ir.js';
import { maxAbsErr, malVsPlain } from '../testing/mal-forward.js';
import { runMal3, values } from '../testing/cheat.js';
import { dreluM, reluM } from './compare.js';
import { publicM } from './input.js';
import { macCheck } from './mac-check.js';
import { openLow } from './open.js';
import { liftSigned } from './ring128.js';
import { truncM } from './trunc.js';

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
/** Edge values (|x| < 2^47 for truncM's default ell = 48): 0, +-1, +-2^31, 2^32 - 1, -2^32, +-(2^47 - 1), fixed-point +-0.5. */
const XS = [0n, 1n, -1n, 1n << 31n, -(1n << 31n), (1n << 32n) - 1n, -(1n << 32n), (1n << 47n) - 1n, -((1n << 47n) - 1n), 4096n, -4096n];

describe('malicious mode on deterministic sharings', () => {
  it('dreluM, reluM and truncM are right on publicM sharings (x held by P0 and P2, 0 by the rest)', async () => {
    const r = await runMal3(async (s) => {
      const x = publicM(s, liftSigned(BigUint64Array.from(XS.map((v) => BigInt.asUintN(64, v)))));
      const outs = [await dreluM(s, x, 64), await reluM(s, x, 64), await truncM(s, x, 13)];
      const opened = [];
      for (const o of outs) opened.push(Array.from(await openLow(s, o), s64));
      await macCheck(s);
      return opened;
    });
    for (const [drelu, relu, trunc] of values(r)) {
      expect(drelu).toEqual(XS.map((x) => (x < 0n ? 0n : 1n)));
      expect(relu).toEqual(XS.map((x) => (x < 0n ? 0n : x)));
      // Probabilistic truncation: floor(x / 2^13) or one more.
      trunc!.forEach((t, i) => { const fl = XS[i]! >> 13n; expect(t === fl || t === fl + 1n).toBe(true); });
    }
  });

  const model = (layer: LayerNode<FloatTensor>): ModelIR<FloatTensor> => ({
    formatVersion: IR_FORMAT_VERSION, inputShape: [2, 3, 2], output: layer.name, outputActivation: 'linear',
    nodes: [{ kind: 'zero_padding2d', name: 'zp', inputs: ['input'], padding: [[1, 0], [0, 1]] }, layer],
  });
  const X = Float64Array.from([0, 0.5, -0.5, 1, 1.5, 1.5, -2, -2, 3.5, -4, 7, 0.25]);
  it.each([
    ['LeakyReLU', { kind: 'leaky_relu', name: 'y', inputs: ['zp'], alpha: 0.1 }],
    ['HardSigmoid', { kind: 'activation', name: 'y', inputs: ['zp'], activation: 'hard_sigmoid' }],
    ['ReLU6', { kind: 'activation', name: 'y', inputs: ['zp'], activation: 'relu6' }],
    ['MaxPool2D 2x2 (ties, padded zeros)', { kind: 'maxpool2d', name: 'y', inputs: ['zp'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' }],
  ] as [string, LayerNode<FloatTensor>][])('ZeroPadding2D -> %s matches the plaintext twin in the padded cells too', async (_name, layer) => {
    const { got, want } = await malVsPlain(model(layer), 1, X);
    expect(maxAbsErr(got, want)).toBeLessThan(0.01);
  });
});
