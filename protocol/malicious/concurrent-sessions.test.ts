/**
 * Two malicious sessions at once in one process, as a party's desk serves them (parties/malicious-desk.ts: up to
 * batch.maxConcurrentRuns client sessions open, each a MalSession over its own mesh view, all in the party's
 * epoch): the epoch's MAC key and MACed weights are shared, each session has its own derived seeds, and the
 * messages of both are handed over in the same tick (memory.ts Coalescer, as the h2 link delivers a read that
 * carries frames of both). Each session must pass its MAC check and give its own client its own output: a value
 * of the other session taken across an await would fail the MAC check (E_INTEGRITY) or give the wrong output.
 * And the mask pool of an epoch that one session discards while another holds a proposal of it (mask-pool.ts clear).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dealSeeds, type PartySeeds } from '../correlated/prg.js';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { sizeOf } from '../layers/types.js';
import { plainForward } from '../reference/forward.js';
import { seededPrg, uniform } from '../seed-models.js';
import { runMal3, values } from '../testing/cheat.js';
import { Coalescer } from '../transport/memory.js';
import { inputFromClient, inputMask, outputToClient } from './client-io.js';
import { deriveSeeds, setupEpoch } from './epoch.js';
import { MaskPool } from './mask-pool.js';
import { MaskEntry } from './mask-source.js';
import type { Rep } from './rep.js';
import { malForward } from './runner.js';
import { createMalSession } from './session.js';
import type { MTensor } from './tensor.js';
import { shareModelReplicated } from './weights.js';
import { maskedInput, reconstructOutput } from '../../client-sdk/src/malicious-io.js';

const F = 13;
const g = seededPrg(50);
const w = (shape: number[], a = 0.5): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });
/** Conv2D (truncation, ReLU), MaxPool 2x2 stride 1, Dense: every kind of the epoch's masks (input, trunc, compare). */
const model: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [5, 5, 1], output: 'd', outputActivation: 'linear',
  nodes: [
    { kind: 'conv2d', name: 'c', inputs: ['input'], filters: 3, kernelSize: [2, 2], strides: [1, 1], padding: 'valid', activation: 'relu', kernel: w([2, 2, 1, 3]), bias: w([3]) },
    { kind: 'maxpool2d', name: 'p', inputs: ['c'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
    { kind: 'flatten', name: 'f', inputs: ['p'] },
    { kind: 'dense', name: 'd', inputs: ['f'], units: 2, activation: 'linear', kernel: w([27, 2]), bias: w([2]) },
  ],
} as ModelIR<FloatTensor>;
const parts = shareModelReplicated(model, F);
const N_IN = sizeOf(model.inputShape);

interface Ep { pair: PartySeeds['pair']; alpha: Rep; weights: ModelIR<MTensor> }

/** One client session in the epoch (label), as the desk runs it: mask, the client's d, forward, checked output. */
function session(eps: [Ep, Ep, Ep], label: string, x: Float64Array, coalescer: Coalescer) {
  let give!: (d: Uint8Array) => void;
  const d = new Promise<Uint8Array>((res) => { give = res; });
  const masks: Uint8Array[] = [];
  return runMal3(async (s) => {
    const { r, forClient } = await inputMask(s, N_IN);
    masks[s.party] = forClient;
    if ([0, 1, 2].every((i) => masks[i])) give(maskedInput(encode(x, F), masks as [Uint8Array, Uint8Array, Uint8Array]));
    const xin = await inputFromClient(s, r, await d);
    const y = await malForward(s, eps[s.party].weights, { shape: [1, ...model.inputShape], data: xin });
    return outputToClient(s, y.data);
  }, {
    seeds: (p) => deriveSeeds(eps[p].pair, label, randomBytes(16)),
    create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha }),
    coalescer,
  });
}

describe('two malicious sessions at once in one process (one epoch) keep apart', () => {
  it('both pass their MAC checks and each client gets the output of its own input, messages of both delivered in one tick', async () => {
    const dealt = dealSeeds();
    const eps = values(await runMal3(async (s) => ({ pair: dealt[s.party].pair, alpha: s.alpha, weights: await setupEpoch(s, parts[s.party]) }),
      { seeds: (p) => deriveSeeds(dealt[p].pair, 'epoch', randomBytes(16)) }));
    // A random input and an edge input (zeros and ties in every pooling window).
    const xs = [uniform(seededPrg(51), N_IN, 1), Float64Array.from({ length: N_IN }, (_, i) => (i % 2 ? 0 : 0.75))];
    const coalescer = new Coalescer();
    const runs = await Promise.all(xs.map((x, i) => session(eps, `client-${i}`, x, coalescer)));
    const want = xs.map((x) => plainForward(model, x, 1).data);
    const apart = Math.max(...Array.from(want[0]!, (v, i) => Math.abs(v - want[1]![i]!)));
    expect(apart).toBeGreaterThan(0.1);
    runs.forEach((r, i) => {
      const got = decode(reconstructOutput(values(r), 2), F);
      for (let j = 0; j < 2; j++) expect(Math.abs(got[j]! - want[i]![j]!), `session ${i}, logit ${j}`).toBeLessThan(4 / 2 ** F + 1e-3);
    });
  });

  it('an epoch discarded by one session (its pool cleared) while another holds a proposal of it: that session can still take its entry, as the other two parties do', () => {
    const pool = new MaskPool();
    pool.add([new MaskEntry('e0', [], []), new MaskEntry('e1', [], [])], 100);
    const a = pool.propose()!;
    pool.clear(); // session B's hellos disagreed: the epoch is discarded at this party before A's hellos are all in
    expect(pool.take(a).id).toBe('e0'); // A's hellos agree: it takes its entry (before the fix: E_INTERNAL here only)
    expect(pool.propose()).toBeNull(); // the free entry is gone: the discarded epoch proposes nothing more
    expect(pool.bytes).toBe(0);
  });
});
