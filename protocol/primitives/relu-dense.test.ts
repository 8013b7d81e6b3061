import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { p0Bundle, p1Bundle, prepareBundle, type DealScript, type PartyBundle } from '../correlated/dealer.js';
import { dealSeeds } from '../correlated/prg.js';
import { MemoryWeightMasks, type WeightMaskSession } from '../correlated/weight-masks.js';
import { createContext } from '../context.js';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { getKernels } from '../kernels/index.js';
import { referenceKernels as ref } from '../kernels/reference.js';
import { secureForward } from '../layers/runner.js';
import { shareModel } from '../layers/share-model.js';
import { plainForward } from '../reference/forward.js';
import { plainRelu } from '../reference/plain.js';
import type { AShare, PartyId } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { networkA, seededPrg, uniform } from '../seed-models.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { MAX_U64, randomSigned, randomU64s, withEdges } from '../testing/values.js';
import { memoryTransports } from '../transport/memory.js';
import type { FloatTensor, ModelIR } from '../ir.js';
import { FUSE_MAX_WORDS, fusesIntoDense, reluDenseCost, reluIntoDense } from './relu-dense.js';

/** One store whose key names the party: 'w0', 'w1' hold F = W - B, 'w2' holds B (the kept masks of a build run). */
function keptStore(W: BigUint64Array): { masks: WeightMaskSession; y: [BigUint64Array, BigUint64Array, BigUint64Array] } {
  const B = randomU64s(W.length), F = new BigUint64Array(W.length), Y0 = randomU64s(W.length), Y1 = new BigUint64Array(W.length);
  ref.sub(W, B, F);
  ref.sub(W, Y0, Y1);
  const masks = new MemoryWeightMasks().session('use');
  masks.set('w0', F); masks.set('w1', F); masks.set('w2', B);
  return { masks, y: [Y0, Y1, new BigUint64Array(W.length)] };
}

/** ReLU(a) W over Z_2^64, a: rows x K, W: K x N. */
function plainReluDense(a: BigUint64Array, W: BigUint64Array, rows: number, K: number, N: number): BigUint64Array {
  const out = new BigUint64Array(rows * N);
  ref.gemm(plainRelu(a), W, rows, K, N, out);
  return out;
}

const B31 = 1n << 31n;
const narrowEdges = [0n, 1n, MAX_U64, B31 - 1n, BigInt.asUintN(64, -B31), BigInt.asUintN(64, -(B31 - 1n)), 1n << 16n, BigInt.asUintN(64, -(1n << 16n))];
const narrowValues = (n: number): BigUint64Array => {
  const r = Array.from(randomU64s(n - narrowEdges.length), (v) => BigInt.asUintN(64, BigInt.asIntN(32, v)));
  return BigUint64Array.from([...narrowEdges, ...r]);
};

describe('ReLU fused into a dense layer with a kept weight mask (relu-dense.ts)', () => {
  const rows = 3, K = 7, N = 5;
  for (const [bits, radix] of [[32, 4], [32, 2], [64, 4]] as const) {
    it(`${bits}-bit ring${bits === 32 ? `, radix ${radix}` : ''}: ReLU(a) W exactly mod 2^64 (zero, -1, the ring's ends, random), in the ReLU's 3 rounds, bytes as declared`, async () => {
      const a = bits === 32 ? narrowValues(rows * K) : BigUint64Array.from([...withEdges(randomSigned(rows * K)).subarray(0, rows * K - 2), 1n << 63n, (1n << 63n) - 1n]);
      expect(a.length).toBe(rows * K);
      const W = randomU64s(K * N);
      const { masks, y } = keptStore(W);
      const as = shareFor3(a);
      const r = await run3((ctx) => reluIntoDense(ctx, as[ctx.party], y[ctx.party]!, rows, K, N, `w${ctx.party}`, 'act'), { compareBits: bits, compareRadix: radix, weightMasks: masks });
      expect(reconstruct(ref, r.results[0], r.results[1])).toEqual(plainReluDense(a, W, rows, K, N));
      expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(reluDenseCost(rows, K, N, bits, radix));
      expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
    });
  }

  it('all-negative and all-zero inputs give zero; all-positive give a W', async () => {
    const W = randomU64s(K * N);
    const { masks, y } = keptStore(W);
    for (const a of [BigUint64Array.from({ length: rows * K }, (_, i) => BigInt.asUintN(64, -BigInt(i + 1))), new BigUint64Array(rows * K), BigUint64Array.from({ length: rows * K }, (_, i) => BigInt(i * 1000 + 1))]) {
      const as = shareFor3(a);
      const r = await run3((ctx) => reluIntoDense(ctx, as[ctx.party], y[ctx.party]!, rows, K, N, `w${ctx.party}`, 'act'), { compareBits: 32, compareRadix: 4, weightMasks: masks });
      expect(reconstruct(ref, r.results[0], r.results[1])).toEqual(plainReluDense(a, W, rows, K, N));
    }
  });

  it('every shape down to 1 x 1 (rows, K, N in {1, 2, 9}), both rings: exact, bytes as declared', async () => {
    for (const [r0, K0, N0] of [[1, 1, 1], [1, 1, 9], [2, 9, 1], [9, 2, 2], [1, 9, 9]] as const) for (const bits of [32, 64] as const) {
      const a = bits === 32 ? narrowValues(Math.max(r0 * K0, narrowEdges.length + 1)).subarray(0, r0 * K0) : withEdges(randomSigned(r0 * K0)).subarray(0, r0 * K0);
      const W = randomU64s(K0 * N0);
      const { masks, y } = keptStore(W);
      const as = shareFor3(a);
      const r = await run3((ctx) => reluIntoDense(ctx, as[ctx.party], y[ctx.party]!, r0, K0, N0, `w${ctx.party}`, 'act'), { compareBits: bits, compareRadix: 4, weightMasks: masks });
      expect(reconstruct(ref, r.results[0], r.results[1]), `${r0}x${K0}x${N0}/${bits}`).toEqual(plainReluDense(a, W, r0, K0, N0));
      expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(reluDenseCost(r0, K0, N0, bits, 4));
    }
  });

  it('refuses a run without the kept mask (build mode or no store), with a coded error', async () => {
    const a = new BigUint64Array(rows * K) as AShare;
    await expect(run3((ctx) => reluIntoDense(ctx, a, new BigUint64Array(K * N), rows, K, N, 'w', 'act'))).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
  });
});

// Network A as the party servers run it (kept masks, 32-bit radix-4 ring, local truncation), with the runner's fusion.
const k = getKernels();
const F = 16;
async function runA(batch: number, x: Float64Array, stores: MemoryWeightMasks[], mode: 'build' | 'use', fuse: boolean, extra: { bundles?: PartyBundle[]; script?: DealScript } = {}) {
  const net = networkA();
  const parts = shareModel(k, net, F);
  const xs = shareFor3(encode(x, F));
  const ts = memoryTransports();
  const seeds = dealSeeds();
  const out = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => {
    const ctx = createContext(p, ts[p], seeds[p], {
      fracBits: F, compareBits: 32, compareRadix: 4, truncation: 'local', comparison: 'direct', weightMasks: stores[p]!.session(mode),
      ...(extra.bundles ? { bundle: extra.bundles[p]! } : {}), ...(extra.script && p === 2 ? { dealScript: extra.script } : {}),
    });
    return secureForward(ctx, parts[p], { shape: [batch, 784], data: xs[p] }, { fuseReluIntoDense: fuse }).catch((e: unknown) => { ts.forEach((t) => t.close(e as Error)); throw e; });
  }));
  const got = decode(reconstruct(k, out[0].data, out[1].data), F), want = plainForward(net, x, batch).data;
  return { got, want, rounds: Math.max(...ts.map((t) => t.counters.depth)), bytes: ts.reduce((s, t) => s + t.counters.bytesSent, 0), ts };
}
const close = (got: Float64Array, want: Float64Array): void => { for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want[i]!))); };
const input = (seed: number, batch: number): Float64Array => uniform(seededPrg(seed), 784 * batch, 1).map((v) => (v + 1) / 2);

describe('the runner fuses a ReLU into the small dense layer after it (ForwardOptions.fuseReluIntoDense)', () => {
  it('Network A, batch 1 and 2, live and from a bundle: 8 rounds instead of 9, outputs as the plaintext; bytes: 24 K N more, dense_2\'s E (and live its C_1) less', async () => {
    expect(fusesIntoDense(1, 128, 10) && fusesIntoDense(2, 128, 10) && !fusesIntoDense(1, 128, 128) && !fusesIntoDense(3, 128, 10)).toBe(true);
    for (const batch of [1, 2]) {
      const stores = [0, 1, 2].map(() => new MemoryWeightMasks());
      const build = await runA(batch, input(1, batch), stores, 'build', true); // a build run keeps the masks: no fusion
      expect(build.rounds).toBe(9);
      close(build.got, build.want);
      const x = input(3 + batch, batch);
      const plain = await runA(batch, x, stores, 'use', false), fused = await runA(batch, x, stores, 'use', true);
      expect([plain.rounds, fused.rounds]).toEqual([9, 8]);
      close(plain.got, plain.want);
      close(fused.got, fused.want);
      expect(fused.bytes - plain.bytes).toBe(24 * batch * 128 * 10 - 16 * batch * 128 - 8 * batch * 10);
      expect(fused.ts.map((t) => t.pending)).toEqual([0, 0, 0]);
      // From a bundle recorded in a fused run (P2's dealt jobs then hold no triple for dense_2).
      const script: DealScript = [];
      await runA(batch, input(9, batch), stores, 'use', true, { script });
      const s02 = randomBytes(16), s12 = randomBytes(16);
      const { forP1, p2 } = prepareBundle(k, script, s02, s12);
      const fromBundle = await runA(batch, x, stores, 'use', true, { bundles: [p0Bundle(s02), p1Bundle(s12, forP1), p2] });
      expect(fromBundle.rounds).toBe(8);
      close(fromBundle.got, fromBundle.want);
    }
  });

  it(`a batch whose R, M, N would exceed ${FUSE_MAX_WORDS} words runs unfused (9 rounds)`, async () => {
    const stores = [0, 1, 2].map(() => new MemoryWeightMasks());
    await runA(3, input(1, 3), stores, 'build', true);
    const r = await runA(3, input(2, 3), stores, 'use', true);
    expect(r.rounds).toBe(9);
    close(r.got, r.want);
  });
});

// A consumer dense layer marked for the 64-bit comparison ring (model-import/static-bounds.ts: its pre-activation may
// pass 2^31 at 2^f) must run its own activation there whether or not the ReLU before it is fused into its product.
function wideConsumer(): ModelIR<FloatTensor> {
  const g = seededPrg(31);
  const t = (shape: number[], scale: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((a, b) => a * b, 1), scale) });
  // d2's weights up to 1e5: its pre-activations reach ~1e5, past 2^31 / 2^16 = 32768 on both signs.
  return {
    formatVersion: 1, inputShape: [4], output: 'd3', outputActivation: 'linear',
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: 6, activation: 'relu', kernel: t([4, 6], 1), bias: t([6], 1) },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: 5, activation: 'relu', compareBits: 64, kernel: t([6, 5], 100000) },
      { kind: 'dense', name: 'd3', inputs: ['d2'], units: 3, activation: 'linear', kernel: t([5, 3], 1) },
    ],
  };
}

async function runNet(net: ModelIR<FloatTensor>, batch: number, x: Float64Array, stores: MemoryWeightMasks[], mode: 'build' | 'use', fuse: boolean) {
  const parts = shareModel(k, net, F);
  const xs = shareFor3(encode(x, F));
  const ts = memoryTransports();
  const seeds = dealSeeds();
  const out = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => {
    const ctx = createContext(p, ts[p], seeds[p], { fracBits: F, compareBits: 32, compareRadix: 4, truncation: 'local', comparison: 'direct', weightMasks: stores[p]!.session(mode) });
    return secureForward(ctx, parts[p], { shape: [batch, ...net.inputShape], data: xs[p] }, { fuseReluIntoDense: fuse }).catch((e: unknown) => { ts.forEach((t) => t.close(e as Error)); throw e; });
  }));
  return { got: decode(reconstruct(k, out[0].data, out[1].data), F), want: plainForward(net, x, batch).data, rounds: Math.max(...ts.map((t) => t.counters.depth)) };
}

describe('the fused pair keeps each layer\'s comparison ring', () => {
  it('a consumer marked compareBits 64 runs its ReLU on the 64-bit ring (pre-activations past 2^31 at 2^f): fused = unfused = plaintext', async () => {
    const net = wideConsumer(), batch = 4;
    const x = uniform(seededPrg(5), 4 * batch, 2);
    const stores = [0, 1, 2].map(() => new MemoryWeightMasks());
    await runNet(net, batch, uniform(seededPrg(6), 4 * batch, 2), stores, 'build', true);
    const plain = await runNet(net, batch, x, stores, 'use', false), fused = await runNet(net, batch, x, stores, 'use', true);
    // The input reaches both signs past the 32-bit ring at d2 (else this test could not fail).
    const d2 = plainForward({ ...net, output: 'd2', nodes: [net.nodes[0]!, { ...net.nodes[1]!, activation: 'linear' as const }] as ModelIR<FloatTensor>['nodes'] }, x, batch).data;
    expect(Math.max(...d2)).toBeGreaterThan(2 ** 15);
    expect(Math.min(...d2)).toBeLessThan(-(2 ** 15));
    expect([plain.rounds, fused.rounds]).toEqual([9, 7]); // the fusion did run (d1 into d2, d2 into d3 on its 64-bit ring)
    close(plain.got, plain.want);
    close(fused.got, fused.want);
  });
});

describe('a chain of small dense layers (each ReLU fused into the next)', () => {
  it('d1 -> d2 -> d3: d2 is a consumer and a producer; its ReLU runs once, in d3\'s product: 7 rounds (unfused 9), as the plaintext', async () => {
    const net = wideConsumer();
    // All on the 32-bit ring: d2's weights scaled down to keep its pre-activations inside it.
    const chain: ModelIR<FloatTensor> = { ...net, nodes: net.nodes.map(({ compareBits: _, ...n }) => (n.name === 'd2' && n.kind === 'dense' ? { ...n, kernel: { ...n.kernel, data: n.kernel.data.map((v) => v * 1e-4) } } : n)) as ModelIR<FloatTensor>['nodes'] };
    for (const batch of [1, 3]) {
      const x = uniform(seededPrg(7 + batch), 4 * batch, 2);
      const stores = [0, 1, 2].map(() => new MemoryWeightMasks());
      await runNet(chain, batch, uniform(seededPrg(6), 4 * batch, 2), stores, 'build', true);
      const plain = await runNet(chain, batch, x, stores, 'use', false), fused = await runNet(chain, batch, x, stores, 'use', true);
      expect([plain.rounds, fused.rounds]).toEqual([9, 7]);
      close(plain.got, plain.want);
      close(fused.got, fused.want);
    }
  });
});
