import { describe, expect, it } from 'vitest';
import { createContext } from '../context.js';
import { decode, encode } from '../fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR } from '../ir.js';
import { getKernels } from '../kernels/index.js';
import { secureForward } from '../layers/runner.js';
import { shareModel } from '../layers/share-model.js';
import { sizeOf } from '../layers/types.js';
import { beaverBilinear, bilinearCost, matmulOp } from '../primitives/matmul.js';
import { plainForward } from '../reference/forward.js';
import type { AShare, PartyId } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { shareFor3 } from '../testing/run3.js';
import { networkA, seedCnn, seededPrg, uniform } from '../seed-models.js';
import { randomSigned } from '../testing/values.js';
import { memoryTransports } from '../transport/memory.js';
import { dealSeeds } from './prg.js';
import { MemoryWeightMasks } from './weight-masks.js';

const k = getKernels();
type Stores = [MemoryWeightMasks, MemoryWeightMasks, MemoryWeightMasks];

/** Three parties, each with its own store, in one mode; returns results, bytes sent by each party and rounds. */
async function run<T>(stores: Stores | null, mode: 'build' | 'use', fn: (ctx: ReturnType<typeof createContext>) => Promise<T>, fracBits = 13) {
  const ts = memoryTransports();
  const seeds = dealSeeds();
  const results = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => fn(createContext(p, ts[p], seeds[p], { fracBits, compareBits: 32, ...(stores ? { weightMasks: stores[p].session(mode) } : {}) }))));
  return { results, sent: ts.map((t) => t.counters.bytesSent), rounds: Math.max(...ts.map((t) => t.counters.depth)), pending: ts.map((t) => t.pending) };
}

async function forwardTwice(model: ModelIR<FloatTensor>, N: number, f: number) {
  const x = uniform(seededPrg(3), N * sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);
  const want = plainForward(model, x, N).data;
  const parts = shareModel(k, model, f);
  const xs = shareFor3(encode(x, f));
  const stores: Stores = [new MemoryWeightMasks(), new MemoryWeightMasks(), new MemoryWeightMasks()];
  const go = (s: Stores | null, mode: 'build' | 'use') => run(s, mode, (ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party] }), f);
  const plain = await go(null, 'build');
  const build = await go(stores, 'build');
  const use1 = await go(stores, 'use');
  const use2 = await go(stores, 'use');
  const err = (r: typeof plain) => Math.max(...Array.from(decode(reconstruct(k, r.results[0].data, r.results[1].data), f), (g, i) => Math.abs(g - want[i]!)));
  const weights = model.nodes.reduce((a, nd) => a + ('kernel' in nd ? sizeOf(nd.kernel.shape) : 0), 0);
  return { plain, build, use1, use2, err, stores, weights };
}

describe('fixed weight masks (Alg. 1 with the weights\' mask kept across runs)', () => {
  it('MNIST Network A: build then use runs equal the plaintext; use runs open no weight mask (16 bytes per weight less), same rounds', async () => {
    const { plain, build, use1, use2, err, stores, weights } = await forwardTwice(networkA(), 2, 16);
    for (const r of [plain, build, use1, use2]) expect(err(r)).toBeLessThan(2e-3);
    expect(build.sent).toEqual(plain.sent);
    expect(use1.sent[0] + use1.sent[1] + use1.sent[2]).toBe(plain.sent[0] + plain.sent[1] + plain.sent[2] - 16 * weights);
    expect(use2.sent).toEqual(use1.sent);
    expect(use1.rounds).toBe(plain.rounds);
    expect(use1.sent[2]).toBe(plain.sent[2]); // P2 still sends C_1 and its comparison messages
    for (const r of [build, use1, use2]) expect(r.pending).toEqual([0, 0, 0]);
    // P0 and P1 keep F, P2 keeps B: one u64 per weight each.
    for (const s of stores) expect(s.bytes).toBe(8 * weights);
  });

  it('seed CNN (MaxPool) at batch 1 builds, then serves batch 2 from the same masks (the mask of the weights does not depend on the batch)', async () => {
    const model = seedCnn('maxpool2d');
    const f = 13;
    const parts = shareModel(k, model, f);
    const stores: Stores = [new MemoryWeightMasks(), new MemoryWeightMasks(), new MemoryWeightMasks()];
    for (const [N, mode] of [[1, 'build'], [2, 'use']] as const) {
      const x = uniform(seededPrg(10 + N), N * sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);
      const xs = shareFor3(encode(x, f));
      const r = await run(stores, mode, (ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party] }), f);
      const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), f), want = plainForward(model, x, N).data;
      expect(Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!)))).toBeLessThan(5e-3);
    }
  });

  it('a use run whose store lacks a key fails with E_PROTOCOL_DESYNC at every party, naming the key, and the bytes match bilinearCost(op, true)', async () => {
    const op = matmulOp(3, 40, 5, 'mm');
    const X = shareFor3(randomSigned(op.sizeX, 20)), Y = shareFor3(randomSigned(op.sizeY, 20));
    const stores: Stores = [new MemoryWeightMasks(), new MemoryWeightMasks(), new MemoryWeightMasks()];
    const empty = run(stores, 'use', (ctx) => beaverBilinear(ctx, op, X[ctx.party], Y[ctx.party], 'w1'));
    await expect(empty).rejects.toMatchObject({ code: 'E_PROTOCOL_DESYNC', message: expect.stringContaining("'w1'") });
    await run(stores, 'build', (ctx) => beaverBilinear(ctx, op, X[ctx.party], Y[ctx.party], 'w1'));
    const used = await run(stores, 'use', (ctx) => beaverBilinear(ctx, op, X[ctx.party], Y[ctx.party], 'w1'));
    expect(used.sent.reduce((a, b) => a + b, 0)).toBe(bilinearCost(op, true).bytes);
    expect(used.rounds).toBe(bilinearCost(op, true).rounds);
    const want = new BigUint64Array(op.sizeZ);
    k.gemm(reconstruct(k, X[0], X[1]), reconstruct(k, Y[0], Y[1]), 3, 40, 5, want);
    expect(reconstruct(k, used.results[0] as AShare, used.results[1] as AShare)).toEqual(want);
  });
});
