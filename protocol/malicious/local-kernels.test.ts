/**
 * The local operations of rep.ts on the context's kernels (the native
 * Z_2^128 add128 / sub128 / mulScalar128, the Z_2^64 fallback, the TS
 * kernels) give the same bits as without kernels (ring128.ts) and as a BigInt
 * oracle, on random and edge values; addZeroShareInto adds exactly zeroShare's
 * value with the same PRG draws; view128 views an aligned payload and copies
 * an unaligned one.
 */
import { describe, expect, it } from 'vitest';
import { EDGES, kernelSets128, M, mod, random } from '../testing/ring128-cases.js';
import { dealSeeds } from '../correlated/prg.js';
import { createContext } from '../context.js';
import { isMpcError } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import { memoryTransports } from '../transport/memory.js';
import { addM, addPublicM, addZeroShareInto, mulPublicM, subM, zeroShare, type MShare, type Rep } from './rep.js';
import { alloc128, fromBigints, scalar128, toBigints, view128, type Vec128 } from './ring128.js';

const SETS = kernelSets128('ts');

/** A MACed share whose four vectors are given bigints (not a sharing of anything: the operations are per vector). */
function mshare(vs: bigint[][]): MShare {
  const [a, b, ma, mb] = vs.map(fromBigints) as [Vec128, Vec128, Vec128, Vec128];
  return { n: vs[0]!.length, x: { a, b }, m: { a: ma, b: mb } };
}
const parts = (x: MShare): bigint[][] => [x.x.a, x.x.b, x.m.a, x.m.b].map(toBigints);

describe('rep.ts local operations on the kernels equal ring128.ts and the oracle', () => {
  const n = EDGES.length + 37;
  // Edge values against edge values (in both orders) and random ones.
  const gen = (q: number): bigint[] => [...(q & 1 ? EDGES.slice().reverse() : EDGES), ...random(n - EDGES.length)];
  const X = [0, 1, 2, 3].map(gen), Y = [1, 0, 3, 2].map(gen);
  const c = random(1)[0]!;

  it.each(SETS)('addM, subM, mulPublicM on %s', (_name, kernels) => {
    const x = mshare(X), y = mshare(Y);
    const sum = addM(x, y, kernels), diff = subM(x, y, kernels), scaled = mulPublicM(x, scalar128(c), kernels);
    expect(parts(sum)).toEqual(parts(addM(x, y)));
    expect(parts(sum)).toEqual(X.map((v, q) => v.map((e, i) => mod(e + Y[q]![i]!))));
    expect(parts(diff)).toEqual(X.map((v, q) => v.map((e, i) => mod(e - Y[q]![i]!))));
    expect(parts(scaled)).toEqual(X.map((v) => v.map((e) => mod(e * c))));
    // The inputs are unchanged (fresh outputs).
    expect(parts(x)).toEqual(X);
    expect(parts(y)).toEqual(Y);
  });

  it.each(SETS)('addPublicM on %s: c on share x_0 (P0 a, P2 b), alpha c on the MAC shares, inputs unchanged', (_name, kernels) => {
    const x = mshare(X), pub = fromBigints(Y[0]!);
    const alpha: Rep = { a: fromBigints([c]), b: fromBigints([M - c + 5n]) };
    for (const party of [0, 1, 2] as PartyId[]) {
      const out = addPublicM(party, alpha, x, pub, kernels);
      expect(parts(out)).toEqual(parts(addPublicM(party, alpha, x, pub)));
      const plusC = (v: bigint[], on: boolean) => v.map((e, i) => mod(e + (on ? Y[0]![i]! : 0n)));
      expect(parts(out)).toEqual([
        plusC(X[0]!, party === 0), plusC(X[1]!, party === 2),
        X[2]!.map((e, i) => mod(e + c * Y[0]![i]!)), X[3]!.map((e, i) => mod(e + (M - c + 5n) * Y[0]![i]!)),
      ]);
      expect(parts(x)).toEqual(X);
    }
  });
});

describe('addZeroShareInto', () => {
  it.each(SETS)('adds exactly zeroShare (same draws, same order) on %s; the three parts sum to zero', (_name, kernels) => {
    const seeds = dealSeeds();
    const mem = memoryTransports();
    const mk = () => ([0, 1, 2] as PartyId[]).map((p) => createContext(p, mem[p]!, seeds[p]!, { kernels }));
    const [inPlace, reference] = [mk(), mk()];
    const n = 29, start = random(n);
    const outs = inPlace.map((ctx) => {
      const out = fromBigints(start);
      addZeroShareInto(ctx, out, alloc128(n));
      addZeroShareInto(ctx, out, alloc128(n)); // a second call: the streams advance as zeroShare's do
      return toBigints(out);
    });
    reference.forEach((ctx, p) => {
      const z1 = toBigints(zeroShare(ctx, n)), z2 = toBigints(zeroShare(ctx, n));
      expect(outs[p]).toEqual(start.map((s, i) => mod(s + z1[i]! + z2[i]!)));
    });
    expect(start.map((s, i) => mod(outs[0]![i]! + outs[1]![i]! + outs[2]![i]! - 3n * s))).toEqual(start.map(() => 0n));
  });
});

describe('view128', () => {
  it('views an aligned payload (no copy), copies an unaligned one, refuses a partial word', () => {
    const v = fromBigints([...EDGES, ...random(5)]);
    const bytes = new Uint8Array(v.buffer);
    const aligned = view128(bytes);
    expect(aligned.buffer).toBe(v.buffer);
    expect(toBigints(aligned)).toEqual(toBigints(v));
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    const copy = view128(shifted.subarray(1));
    expect(copy.buffer).not.toBe(shifted.buffer);
    expect(copy.byteOffset % 4).toBe(0);
    expect(toBigints(copy)).toEqual(toBigints(v));
    let err: unknown;
    try { view128(bytes.subarray(0, 15)); } catch (e) { err = e; }
    expect(isMpcError(err) && err.code).toBe('E_SHAPE');
  });
});
