/**
 * Every comparison primitive and the local truncation on deterministic and
 * edge sharings ((x, 0), (0, x), shares at 2^63, 2^64 - 1, 2^31, 2^32 - 1,
 * 2^32, low 32 bits 0; testing/edge-sharings.ts) against the plaintext
 * reference. Such sharings are valid and occur in real models: a
 * ZeroPadding2D cell is shared (0, 0), a P0-only public constant (c, 0).
 * Local truncation (SecureML) used to be wrong on them by -2^64 / 2^f for
 * every x >= 0 (truncate.ts says why); the comparisons never were, and these
 * tests keep it so.
 */
import { describe, expect, it } from 'vitest';
import { referenceKernels as ref } from '../kernels/reference.js';
import { plainDivFloor, plainDrelu, plainMaxPool, plainRelu } from '../reference/plain.js';
import type { AShare } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { edgeSharings, type EdgeSharings } from '../testing/edge-sharings.js';
import { run3, type Run3Options } from '../testing/run3.js';
import { MAX_POS, MIN_NEG, randomSigned, randomU64s } from '../testing/values.js';
import type { PartyContext } from '../context.js';
import { drelu } from './drelu.js';
import { maxOfPairs, maxPool } from './maxpool.js';
import { relu } from './relu.js';
import { dreluDirect, reluDirect } from './relu-direct.js';
import { divideByPublic, truncate } from './truncate.js';
import { truncateExact } from './truncate-exact.js';

const N = (v: bigint) => BigInt.asUintN(64, v);
/** Values every comparison ring handles (|x| < 2^31), fixed-point 0, +-0.5, +-1 at f = 13 among them. */
const NARROW = [0n, 1n, -1n, 2n, 4096n, -4096n, 8192n, -8192n, (1n << 30n) - 1n, -(1n << 30n), ...Array.from(randomSigned(4, 30), (v) => BigInt.asIntN(64, v))];
/** The 64-bit rings also take |x| up to 2^62. */
const WIDE = [...NARROW, BigInt.asIntN(64, MAX_POS), BigInt.asIntN(64, MIN_NEG), 1n << 40n, -(1n << 40n)];

async function onShares(e: EdgeSharings, fn: (ctx: PartyContext, a: AShare) => Promise<BigUint64Array> | BigUint64Array, opts: Run3Options = {}): Promise<BigUint64Array> {
  const shares = [e.s0, e.s1, new BigUint64Array(e.x.length)];
  const r = await run3(async (ctx) => fn(ctx, shares[ctx.party]!.slice() as AShare), opts);
  return reconstruct(ref, r.results[0], r.results[1]);
}
/** The sharings where got differs from want (names, for the failure message). */
const mismatches = (e: EdgeSharings, got: BigUint64Array, want: BigUint64Array, tol = 0n) =>
  e.kind.filter((_, i) => { const d = BigInt.asIntN(64, got[i]! - want[i]!); return d > tol || d < -tol; });

const CONFIGS: [string, Run3Options, bigint[]][] = [
  ['SecureNN route (ShareConvert, ComputeMSB, radix-2 PrivateCompare)', { comparison: 'securenn' }, WIDE],
  ['direct, 64-bit ring, radix 2', { comparison: 'direct', compareBits: 64, compareRadix: 2 }, WIDE],
  ['direct, 64-bit ring, radix 4', { comparison: 'direct', compareBits: 64, compareRadix: 4 }, WIDE],
  ['direct, 32-bit ring, radix 2', { comparison: 'direct', compareBits: 32, compareRadix: 2 }, NARROW],
  ['direct, 32-bit ring, radix 4', { comparison: 'direct', compareBits: 32, compareRadix: 4 }, NARROW],
];

describe.each(CONFIGS)('comparisons on deterministic and edge sharings: %s', (_name, opts, values) => {
  const e = edgeSharings(values);
  const direct = opts.comparison === 'direct';
  it('DReLU equals the plaintext sign bit on every sharing', async () => {
    const got = await onShares(e, (ctx, a) => (direct ? dreluDirect : drelu)(ctx, a), opts);
    expect(mismatches(e, got, plainDrelu(e.x))).toEqual([]);
  });
  it('ReLU equals the plaintext max(x, 0) on every sharing', async () => {
    const got = await onShares(e, (ctx, a) => (direct ? reluDirect : relu)(ctx, a), opts);
    expect(mismatches(e, got, plainRelu(e.x))).toEqual([]);
  });
  it('max of pairs and MaxPool (with ties) equal the plaintext max on every sharing', async () => {
    // Y = x - 1, x, x + 1 in turn under one random sharing; X = x under the edge sharing.
    const n = e.x.length, X = e.x, Y = X.map((v, i) => N(v + BigInt((i % 3) - 1)));
    const r0 = randomU64s(1)[0]!;
    const xs = [e.s0, e.s1, new BigUint64Array(n)], ys = [Y.map((v) => N(v - r0)), Y.map(() => r0), new BigUint64Array(n)];
    const pairs = await run3((ctx) => maxOfPairs(ctx, xs[ctx.party]!.slice(), ys[ctx.party]!.slice(), 'mp'), opts);
    const want = X.map((v, i) => (BigInt.asIntN(64, v) >= BigInt.asIntN(64, Y[i]!) ? v : Y[i]!));
    expect(mismatches(e, reconstruct(ref, pairs.results[0], pairs.results[1]), want)).toEqual([]);
    // Windows (x, x, y): the first two a tie under the same edge sharing.
    const windows = (p: number) => BigUint64Array.from(Array.from({ length: n }, (_, i) => [xs[p]![i]!, xs[p]![i]!, ys[p]![i]!]).flat());
    const pooled = await run3((ctx) => maxPool(ctx, windows(ctx.party) as AShare, n, 3), opts);
    const plain = plainMaxPool(BigUint64Array.from(Array.from({ length: n }, (_, i) => [X[i]!, X[i]!, Y[i]!]).flat()), n, 3);
    expect(mismatches(e, reconstruct(ref, pooled.results[0], pooled.results[1]), plain)).toEqual([]);
  });
});

/** |x| < 2^37: local truncation's documented failure rate for random shares is then ~2^-26 per element. */
const TRUNC_VALUES = [0n, 1n, -1n, 4096n, -4096n, 8192n, -8192n, 3n << 26n, -(3n << 26n), (1n << 37n) - 1n, -(1n << 37n), ...Array.from(randomSigned(4, 37), (v) => BigInt.asIntN(64, v))];

describe('truncation on deterministic and edge sharings', () => {
  const e = edgeSharings(TRUNC_VALUES);
  it.each([13, 24, 2])('local truncation by %i bits is within 1 of floor(x / 2^f) on every sharing', async (f) => {
    const got = await onShares(e, (ctx, a) => truncate(ctx, a, f));
    expect(mismatches(e, got, plainDivFloor(e.x, 1n << BigInt(f)), 1n)).toEqual([]);
  });
  it.each([9, 3, 49])('division by the public %i (AveragePool, Rescaling) is within 1 of floor(x / d) on every sharing', async (d) => {
    const got = await onShares(e, (ctx, a) => divideByPublic(ctx, a, Uint32Array.of(d)));
    expect(mismatches(e, got, plainDivFloor(e.x, BigInt(d)), 1n)).toEqual([]);
  });
  it('exact truncation (with P2) is within 1 of floor(x / 2^13) on every sharing', async () => {
    const got = await onShares(e, (ctx, a) => truncateExact(ctx, a, 13));
    expect(mismatches(e, got, plainDivFloor(e.x, 1n << 13n), 1n)).toEqual([]);
  });
});
