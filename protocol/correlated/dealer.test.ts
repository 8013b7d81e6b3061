import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createContext, type PartyContext } from '../context.js';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { getKernels } from '../kernels/index.js';
import { secureForward } from '../layers/runner.js';
import { shareModel } from '../layers/share-model.js';
import { sizeOf } from '../layers/types.js';
import { beaverBilinear, bilinearCost, bilinearDealtBytes, matmulOp } from '../primitives/matmul.js';
import { comparisonDealtBytes, reluDirect, reluDirectCost } from '../primitives/relu-direct.js';
import { plainForward } from '../reference/forward.js';
import { plainRelu } from '../reference/plain.js';
import type { PartyId } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { shareFor3 } from '../testing/run3.js';
import { seedCnn, seededPrg, uniform } from '../seed-models.js';
import { MAX_U64, randomSigned } from '../testing/values.js';
import { memoryTransports } from '../transport/memory.js';
import { p0Bundle, p1Bundle, prepareBundle, scriptBytes, type DealScript, type PartyBundle } from './dealer.js';
import { dealSeeds } from './prg.js';
import { MemoryWeightMasks, type WeightMaskSession } from './weight-masks.js';

const k = getKernels();

interface RunOpts { compareBits?: 32 | 64; script?: DealScript; bundles?: [PartyBundle, PartyBundle, PartyBundle]; masks?: WeightMaskSession[]; fracBits?: number }
/** The three parties over the in-memory transport, live (P2 recording into opts.script) or with bundles. */
async function run3d<T>(fn: (ctx: PartyContext) => Promise<T>, o: RunOpts = {}) {
  const ts = memoryTransports();
  const seeds = dealSeeds();
  const ctxs = ([0, 1, 2] as PartyId[]).map((p) => createContext(p, ts[p], seeds[p], {
    compareBits: o.compareBits ?? 32, fracBits: o.fracBits ?? 13,
    ...(o.bundles ? { bundle: o.bundles[p] } : {}), ...(o.script && p === 2 ? { dealScript: o.script } : {}), ...(o.masks ? { weightMasks: o.masks[p] } : {}),
  }));
  const results = await Promise.all(ctxs.map((c) => fn(c)));
  return { results, sent: ts.map((t) => t.counters.bytesSent), bytes: ts.reduce((a, t) => a + t.counters.bytesSent, 0), rounds: Math.max(...ts.map((t) => t.counters.depth)), pending: ts.map((t) => t.pending) };
}

/** Replay P2's script into the three parties' parts of a bundle, as the servers do (fresh seeds). */
function bundlesOf(script: DealScript): { bundles: [PartyBundle, PartyBundle, PartyBundle]; toP1: number } {
  const s02 = randomBytes(16), s12 = randomBytes(16);
  const { forP1, p2 } = prepareBundle(k, script, s02, s12);
  return { bundles: [p0Bundle(s02), p1Bundle(s12, forP1), p2], toP1: forP1.reduce((a, i) => a + i.data.byteLength, 0) };
}

const B31 = 1n << 31n;
const NARROW = BigUint64Array.from([...Array.from(randomSigned(400), (v) => BigInt.asUintN(64, BigInt.asIntN(31, v))), 0n, MAX_U64, 1n, B31 - 1n, BigInt.asUintN(64, -B31)]);

describe('P2 dealing ahead of the run (correlated/dealer.ts)', () => {
  for (const bits of [32, 64] as const) {
    it(`ReLU (${bits}-bit comparison ring) from a bundle: same result, the bit shares of r' leave the run (cost minus ${bits === 32 ? 32 : 64} bytes per element), same rounds`, async () => {
      const A = bits === 32 ? NARROW : BigUint64Array.from([...randomSigned(300), 1n << 63n, (1n << 63n) - 1n, 0n, MAX_U64]);
      const as = shareFor3(A);
      const script: DealScript = [];
      const live = await run3d((ctx) => reluDirect(ctx, as[ctx.party]), { compareBits: bits, script });
      expect(reconstruct(k, live.results[0], live.results[1])).toEqual(plainRelu(A));
      expect(script.map((s) => s.tag)).toEqual(['relu:xbits']);
      expect(scriptBytes(script)).toBe(comparisonDealtBytes(A.length, bits));
      const { bundles, toP1 } = bundlesOf(script);
      expect(toP1).toBe(comparisonDealtBytes(A.length, bits));
      const pre = await run3d((ctx) => reluDirect(ctx, as[ctx.party]), { compareBits: bits, bundles });
      expect(reconstruct(k, pre.results[0], pre.results[1])).toEqual(plainRelu(A));
      const cost = reluDirectCost(A.length, bits);
      expect(live.bytes).toBe(cost.bytes);
      expect(pre.bytes).toBe(cost.bytes - comparisonDealtBytes(A.length, bits));
      expect(pre.rounds).toBe(cost.rounds);
      expect(pre.pending).toEqual([0, 0, 0]);
      // Each bundle serves one run: its items are used up.
      expect(bundles[1].items.size + bundles[2].items.size).toBe(0);
    });
  }

  it('Beaver matmul from a bundle: same product, C_1 leaves the run; a second run on the same bundle is refused (E_PROTOCOL_DESYNC), not served twice', async () => {
    const m = 5, kk = 7, n = 3;
    const X = randomSigned(m * kk, 20), Y = randomSigned(kk * n, 20);
    const xs = shareFor3(X), ys = shareFor3(Y);
    const op = matmulOp(m, kk, n);
    const want = new BigUint64Array(m * n);
    k.gemm(X, Y, m, kk, n, want);
    const script: DealScript = [];
    const live = await run3d((ctx) => beaverBilinear(ctx, op, xs[ctx.party], ys[ctx.party]), { script });
    const { bundles } = bundlesOf(script);
    const pre = await run3d((ctx) => beaverBilinear(ctx, op, xs[ctx.party], ys[ctx.party]), { bundles });
    for (const r of [live, pre]) expect(reconstruct(k, r.results[0], r.results[1])).toEqual(want);
    expect(live.bytes).toBe(bilinearCost(op).bytes);
    expect(pre.bytes).toBe(bilinearCost(op).bytes - bilinearDealtBytes(op));
    expect(pre.sent[2]).toBe(0); // P2 sends nothing in the run
    await expect(run3d((ctx) => beaverBilinear(ctx, op, xs[ctx.party], ys[ctx.party]), { bundles })).rejects.toMatchObject({ code: 'E_PROTOCOL_DESYNC' });
  });

  it('a bundle made for one shape is refused by a run of another (E_PROTOCOL_DESYNC naming the step)', async () => {
    const as = shareFor3(NARROW);
    const script: DealScript = [];
    await run3d((ctx) => reluDirect(ctx, as[ctx.party]), { script });
    const { bundles } = bundlesOf(script);
    const other = shareFor3(NARROW.subarray(0, 10));
    await expect(run3d((ctx) => reluDirect(ctx, other[ctx.party]), { bundles })).rejects.toMatchObject({ code: 'E_PROTOCOL_DESYNC' });
  });

  for (const fuseReluIntoMaxPool of [false, true]) it(`seed CNN (MaxPool, kept weight masks${fuseReluIntoMaxPool ? ', ReLU fused into the pools: relu-max-pairs.ts' : ''}), batch 2: a run from a bundle equals the plaintext and the live run, sends exactly the dealt bytes less, same rounds`, async () => {
    const model = seedCnn('maxpool2d', 7, [96, 96, 1]);
    const N = 2, f = 13;
    const x = uniform(seededPrg(5), N * sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);
    const want = plainForward(model, x, N).data;
    const parts = shareModel(k, model, f);
    const xs = shareFor3(encode(x, f));
    const stores = [new MemoryWeightMasks(), new MemoryWeightMasks(), new MemoryWeightMasks()];
    const fwd = (ctx: PartyContext) => secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party] }, { fuseReluIntoMaxPool });
    await run3d(fwd, { masks: stores.map((s) => s.session('build')) });
    const script: DealScript = [];
    const live = await run3d(fwd, { masks: stores.map((s) => s.session('use')), script });
    const dealt = scriptBytes(script);
    expect(dealt).toBeGreaterThan(0);
    const { bundles, toP1 } = bundlesOf(script);
    expect(toP1).toBe(dealt);
    const pre = await run3d(fwd, { masks: stores.map((s) => s.session('use')), bundles });
    const err = (r: typeof live) => Math.max(...Array.from(decode(reconstruct(k, r.results[0].data, r.results[1].data), f), (g, i) => Math.abs(g - want[i]!)));
    expect(err(live)).toBeLessThan(5e-3);
    expect(err(pre)).toBeLessThan(5e-3);
    expect(pre.bytes).toBe(live.bytes - dealt);
    expect(pre.sent[0]).toBe(live.sent[0]);
    expect(pre.sent[1]).toBe(live.sent[1]);
    expect(pre.rounds).toBe(live.rounds);
    expect(pre.pending).toEqual([0, 0, 0]);
  });
});
