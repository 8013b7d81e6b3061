/**
 * The runner's ReLU moved after a MaxPool (ir-kit/deferred.ts) and fused into the pool's last comparison pass
 * (primitives/relu-max-pairs.ts through layers/pool-pairs.ts and maxpool.ts): exact against a plaintext
 * ReLU-then-max on ring values (ties, zeros, negatives, the narrow ring's largest magnitudes), for the seed CNN's
 * 2x2 stride-1 pools and for tournament pools, batched and chunked; 3 rounds fewer per pool than unfused.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { getKernels } from '../kernels/index.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { plainForward } from '../reference/forward.js';
import { reconstruct } from '../sharing/sharing.js';
import { seedCnn, seededPrg, uniform } from '../seed-models.js';
import { run3, shareFor3, type Run3Options } from '../testing/run3.js';
import { randomU64s } from '../testing/values.js';
import { secureForward } from './runner.js';
import { shareModel } from './share-model.js';

const k = getKernels();

/** ReLU then MaxPool(pool, strides, padding) as one model (the ReLU is moved after the pool and fused). */
const reluPool = (shape: [number, number, number], pool: [number, number], strides: [number, number], padding: 'valid' | 'same'): ModelIR<FloatTensor> => ({
  formatVersion: IR_FORMAT_VERSION, inputShape: shape, output: 'mp', outputActivation: 'linear',
  nodes: [
    { kind: 'activation', name: 'a', inputs: ['input'], activation: 'relu' },
    { kind: 'maxpool2d', name: 'mp', inputs: ['a'], poolSize: pool, strides, padding },
  ],
});

/** Plaintext max(0, window) over signed ring values, NHWC, 'valid' windows. */
function plainReluMax(x: BigUint64Array, [N, H, W, C]: number[], [ph, pw]: [number, number], [sh, sw]: [number, number]): BigUint64Array {
  const oh = Math.floor((H! - ph) / sh) + 1, ow = Math.floor((W! - pw) / sw) + 1;
  const out = new BigUint64Array(N! * oh * ow * C!);
  let o = 0;
  for (let b = 0; b < N!; b++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let c = 0; c < C!; c++) {
    let m = 0n;
    for (let u = 0; u < ph; u++) for (let v = 0; v < pw; v++) { const e = BigInt.asIntN(64, x[((b * H! + i * sh + u) * W! + j * sw + v) * C! + c]!); if (e > m) m = e; }
    out[o++] = m;
  }
  return out;
}

async function secure(model: ModelIR<FloatTensor>, x: BigUint64Array, shape: number[], opts: Run3Options, fwd: { limit?: number; fuse?: boolean } = {}) {
  const parts = shareModel(k, model, 13);
  const xs = shareFor3(x);
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape, data: xs[ctx.party] }, { fuseReluIntoMaxPool: fwd.fuse ?? true, ...(fwd.limit ? { maxComparisonsPerCall: fwd.limit } : {}) }), { fracBits: 13, ...opts });
  return { got: reconstruct(k, r.results[0].data, r.results[1].data), r, fused: r.transports[0].steps.get('ReLU+MaxPool')?.calls ?? 0 };
}

const B30 = 1n << 30n;
/** Values for the narrow ring: many ties (from {-2..2}), random below 2^30, and the extremes +-2^30 (differences up to 2^31 - 1). */
function values(n: number, seed: number): BigUint64Array {
  const r = randomU64s(n);
  return BigUint64Array.from({ length: n }, (_, i) => {
    const kind = (i * 7 + seed) % 5;
    const v = kind === 0 ? BigInt((i % 5) - 2) : kind === 1 ? 0n : kind === 2 ? (i % 2 ? B30 - 1n : -B30) : BigInt.asIntN(31, r[i]!);
    return BigInt.asUintN(64, v);
  });
}

describe('ReLU fused into the MaxPool that follows it (relu-max-pairs.ts)', () => {
  it('2x2 stride 1 (the seed CNN\'s pools), batch 3: exact with ties, zeros, negatives and +-2^30 on both rings, radix 4 and 2; 6 rounds instead of 9', async () => {
    const shape = [3, 5, 6, 2];
    const x = values(3 * 5 * 6 * 2, 1);
    const want = plainReluMax(x, shape, [2, 2], [1, 1]);
    const m = reluPool([5, 6, 2], [2, 2], [1, 1], 'valid');
    for (const opts of [{ compareBits: 32 as const }, { compareBits: 32 as const, compareRadix: 2 as const }, { compareBits: 64 as const }]) {
      const f = await secure(m, x, shape, opts), u = await secure(m, x, shape, opts, { fuse: false });
      expect(f.got, JSON.stringify(opts)).toEqual(want);
      expect(u.got, JSON.stringify(opts)).toEqual(want);
      expect(f.fused).toBe(1);
      expect([f.r.rounds, u.r.rounds]).toEqual([6, 9]);
    }
    // All-equal windows, positive, zero and negative.
    const eq = BigUint64Array.from({ length: 3 * 5 * 6 * 2 }, (_, i) => BigInt.asUintN(64, BigInt([7, 0, -7][Math.floor(i / 60)]!)));
    expect((await secure(m, eq, shape, { compareBits: 32 })).got).toEqual(plainReluMax(eq, shape, [2, 2], [1, 1]));
  });

  it('tournament pools: 2x2 stride 2 and 3x3 stride 1 (valid), 3x3 stride 2 same-padded: the last level fused, exact against the plaintext', async () => {
    const shape = [2, 7, 6, 3];
    const x = values(2 * 7 * 6 * 3, 3);
    for (const [pool, strides] of [[[2, 2], [2, 2]], [[3, 3], [1, 1]], [[1, 2], [1, 2]]] as [[number, number], [number, number]][]) {
      const f = await secure(reluPool([7, 6, 3], pool, strides, 'valid'), x, shape, { compareBits: 32 });
      expect(f.got, `${pool} ${strides}`).toEqual(plainReluMax(x, shape, pool, strides));
      expect(f.fused).toBe(1);
    }
    // 'same' padding (the -2^29 fill never wins a window with a real value): against the float reference.
    const xf = uniform(seededPrg(31), 2 * 7 * 6 * 3, 3);
    const ms = reluPool([7, 6, 3], [3, 3], [2, 2], 'same');
    const s = await secure(ms, encode(xf, 13), shape, { compareBits: 32 });
    expect(Array.from(decode(s.got, 13))).toEqual(Array.from(decode(encode(plainForward(ms, decode(encode(xf, 13), 13), 2).data, 13), 13)));
    expect(s.fused).toBe(1);
  });

  it('chunked: whole images per call when all do not fit (3 fused calls for 3 images), unfused when one image does not fit; same exact result', async () => {
    const shape = [3, 5, 6, 2];
    const x = values(3 * 5 * 6 * 2, 2);
    const want = plainReluMax(x, shape, [2, 2], [1, 1]);
    const m = reluPool([5, 6, 2], [2, 2], [1, 1], 'valid');
    // The fused H pass compares 5*5*2 = 50 elements and 4*5*2 = 40 differences per image.
    const perImage = await secure(m, x, shape, { compareBits: 32 }, { limit: 90 });
    expect(perImage.got).toEqual(want);
    expect(perImage.fused).toBe(3);
    const tooSmall = await secure(m, x, shape, { compareBits: 32 }, { limit: 89 });
    expect(tooSmall.got).toEqual(want);
    expect(tooSmall.fused).toBe(0);
  });

  it('seed CNN (MaxPool), full 150x125x1 input, 32-bit ring, radix 4: same agreement with the plaintext, 12 rounds fewer (4 pools x 3), bytes within +12%', async () => {
    const model = seedCnn('maxpool2d');
    const x = uniform(seededPrg(9), 150 * 125, 1).map((v) => (v + 1) / 2);
    const want = plainForward(model, x, 1).data;
    const parts = shareModel(k, model, 13);
    const xs = shareFor3(encode(x, 13));
    const go = (fuseReluIntoMaxPool: boolean) => run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, 150, 125, 1], data: xs[ctx.party] }, { fuseReluIntoMaxPool }), { fracBits: 13, compareBits: 32 });
    const [fused, unfused] = [await go(true), await go(false)];
    for (const r of [fused, unfused]) {
      const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), 13);
      const scale = Math.max(...Array.from(want, Math.abs));
      expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!))) / scale).toBeLessThan(1e-3);
    }
    expect(fused.transports[0].steps.get('ReLU+MaxPool')!.calls).toBe(4);
    expect(fused.rounds).toBe(unfused.rounds - 12);
    expect(fused.bytes / unfused.bytes).toBeLessThan(1.12);
  });

  it('seed CNN (MaxPool) on a 96x96 input, batch 2, f = 16: both images agree with the plaintext, fused and unfused alike; one fused call per pool for the batch', async () => {
    const model = seedCnn('maxpool2d', 7, [96, 96, 1]);
    const x = uniform(seededPrg(12), 2 * 96 * 96, 1).map((v) => (v + 1) / 2);
    const want = plainForward(model, x, 2).data;
    const parts = shareModel(k, model, 16);
    const xs = shareFor3(encode(x, 16));
    const go = (fuseReluIntoMaxPool: boolean) => run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [2, 96, 96, 1], data: xs[ctx.party] }, { fuseReluIntoMaxPool }), { fracBits: 16, compareBits: 32 });
    const [fused, unfused] = [await go(true), await go(false)];
    const scale = Math.max(...Array.from(want, Math.abs));
    for (const r of [fused, unfused]) {
      const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), 16);
      expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!))) / scale).toBeLessThan(1e-3);
    }
    expect(fused.transports[0].steps.get('ReLU+MaxPool')!.calls).toBe(4);
    expect(fused.rounds).toBe(unfused.rounds - 12);
  });
});
