/**
 * Two runs at once in one process, as a party serves them (batch.maxConcurrentRuns = 2), with their messages
 * handed over in the same tick (Coalescer: one read of a link carrying both runs' frames, as the h2 link
 * delivers them). Each run must get its own answer. A scratch slot filled inside an async function and read by
 * its caller after the await (Beaver's opened E did so until 2026-12-06) gives one run the other's value: under
 * load that was wrong logits or E_INTERNAL at the client (ring/scratch.ts).
 */
import { describe, expect, it } from 'vitest';
import { dealSeeds } from '../correlated/prg.js';
import { MemoryWeightMasks } from '../correlated/weight-masks.js';
import { createContext } from '../context.js';
import { decode, encode } from '../fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR } from '../ir.js';
import { getKernels } from '../kernels/index.js';
import { plainForward } from '../reference/forward.js';
import type { PartyId } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { networkA, seedCnn, seededPrg, uniform } from '../seed-models.js';
import { shareFor3 } from '../testing/run3.js';
import { Coalescer, memoryTransports } from '../transport/memory.js';
import { secureForward } from './runner.js';
import { shareModel } from './share-model.js';
import { sizeOf } from './types.js';

const k = getKernels();
type Stores = [MemoryWeightMasks, MemoryWeightMasks, MemoryWeightMasks];

async function twoRunsAtOnce(model: ModelIR<FloatTensor>, f: number, truncation: 'local' | 'exact', coalesce: boolean) {
  const parts = shareModel(k, model, f);
  const stores: Stores = [new MemoryWeightMasks(), new MemoryWeightMasks(), new MemoryWeightMasks()];
  const coalescer = coalesce ? new Coalescer() : undefined;
  const run = (mode: 'build' | 'use', seed: number) => {
    const x = uniform(seededPrg(seed), sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);
    const xs = shareFor3(encode(x, f));
    const ts = memoryTransports({ coalescer });
    const seeds = dealSeeds();
    const results = Promise.all(([0, 1, 2] as PartyId[]).map((p) => secureForward(createContext(p, ts[p], seeds[p], { fracBits: f, compareBits: 32, truncation, weightMasks: stores[p].session(mode) }), parts[p], { shape: [1, ...model.inputShape], data: xs[p] })));
    return results.then((r) => ({ got: decode(reconstruct(k, r[0].data, r[1].data), f), want: plainForward(model, x, 1).data }));
  };
  await run('build', 1);
  // The two runs share the parties' kept weight masks and the process's scratch slots, as two runs of a party do.
  const [a, b] = await Promise.all([run('use', 2), run('use', 3)]);
  return [a, b].map((r) => Math.max(...Array.from(r.got, (g, i) => Math.abs(g - r.want[i]!))));
}

describe('two runs at once in one process keep apart', () => {
  it('MNIST Network A (kept weight masks, Beaver opening E only), messages of both runs delivered in one tick: both exact', async () => {
    for (const err of await twoRunsAtOnce(networkA(), 16, 'local', true)) expect(err).toBeLessThan(2e-3);
  });

  it('seed CNN (MaxPool, exact truncation), messages of both runs delivered in one tick: both exact', async () => {
    for (const err of await twoRunsAtOnce(seedCnn('maxpool2d'), 13, 'exact', true)) expect(err).toBeLessThan(5e-3);
  });
});
