/**
 * Replicated 2-out-of-3 sharing with MACs over Z_2^128 ("SPDZ-wise
 * replicated", Dalskov, Escudero, Keller, PoPETs 2020, §3; replicated
 * sharing of Araki et al., CCS 2016, §2.1).
 *
 * x = x_0 + x_1 + x_2 mod 2^128, and party i holds (x_i, x_{i+1}) (indices
 * mod 3): every share is held by two parties. A MACed value is the pair
 * ([x], [alpha x]) under one replicated key alpha. Linear operations are
 * local on both components (no check needed); this file holds them, the
 * random and zero sharings drawn from the pair PRGs, and the dealer-side
 * share / reconstruct (tests and, later, the client) whose reconstruction
 * checks that the two copies of every share agree.
 *
 * Pair PRGs (correlated/prg.ts): share x_j is known to parties j - 1 and j,
 * so it is drawn from their common seed: x_0 from s02, x_1 from s01, x_2 from
 * s12. Party i draws x_i from pairPrg(i - 1) and x_{i+1} from pairPrg(i + 1),
 * always both, in that order, so the two holders of a seed stay in step.
 */
import { randomBytes } from 'node:crypto';
import type { PartyContext } from '../context.js';
import { assert, MpcError } from '../errors.js';
import { Prg } from '../correlated/prg.js';
import type { PartyId } from '../ring/types.js';
import { add128, alloc128, bytes128, equal128, len128, mulScalar128, random128, sub128, type Vec128 } from './ring128.js';
import { add128Kernels, mulScalar128Kernels, sub128Kernels } from './gemm128.js';
import type { RingKernels } from '../kernels/types.js';

/** Party i's two shares of a replicated sharing: a = x_i, b = x_{i+1}. */
export interface Rep {
  readonly a: Vec128;
  readonly b: Vec128;
}

/** A MACed replicated sharing of n values (one party's part): value [x] and MAC [alpha x]. */
export interface MShare {
  readonly n: number;
  readonly x: Rep;
  readonly m: Rep;
}

export const next = (p: PartyId): PartyId => ((p + 1) % 3) as PartyId;
export const prev = (p: PartyId): PartyId => ((p + 2) % 3) as PartyId;

/**
 * The kernels the local operations may run on (a context's, `s.ctx.kernels`):
 * the native Z_2^128 ones when present (gemm128.ts), else ring128.ts / the
 * Z_2^64 fallback; the same bits either way. Without kernels: ring128.ts.
 */
export type LocalKernels = Pick<RingKernels, 'mul' | 'add' | 'mul128' | 'mulScalar128' | 'add128' | 'sub128'>;

const repOp = (f: (u: Vec128, v: Vec128, o: Vec128) => Vec128, x: Rep, y: Rep): Rep => ({
  a: f(x.a, y.a, alloc128(len128(x.a))),
  b: f(x.b, y.b, alloc128(len128(x.b))),
});

export const addRep = (x: Rep, y: Rep, kernels?: LocalKernels): Rep => repOp(kernels ? (u, v, o) => add128Kernels(kernels, u, v, o) : add128, x, y);
export const subRep = (x: Rep, y: Rep, kernels?: LocalKernels): Rep => repOp(kernels ? (u, v, o) => sub128Kernels(kernels, u, v, o) : sub128, x, y);
export const scaleRep = (x: Rep, c: Vec128, kernels?: LocalKernels): Rep => {
  const times = (v: Vec128): Vec128 => (kernels ? mulScalar128Kernels(kernels, v, c, alloc128(len128(v))) : mulScalar128(v, c, alloc128(len128(v))));
  return { a: times(x.a), b: times(x.b) };
};

/**
 * A zeroed MShare of n elements whose four share vectors are views of one
 * buffer (one allocation instead of four: a typed array's own buffer costs
 * about ten times a view on this machine, and the comparisons make hundreds
 * of short MShares per layer). The views do not overlap.
 */
export function allocM(n: number): MShare {
  const buf = alloc128(4 * n), v = (q: number): Vec128 => buf.subarray(4 * n * q, 4 * n * (q + 1)) as Vec128;
  return { n, x: { a: v(0), b: v(1) }, m: { a: v(2), b: v(3) } };
}

/** out = f(x, y) on each of the four share vectors, into one allocM. */
function mapM(f: (u: Vec128, v: Vec128, o: Vec128) => Vec128, x: MShare, y: MShare): MShare {
  const out = allocM(x.n);
  f(x.x.a, y.x.a, out.x.a); f(x.x.b, y.x.b, out.x.b); f(x.m.a, y.m.a, out.m.a); f(x.m.b, y.m.b, out.m.b);
  return out;
}

function sameN(op: string, x: MShare, y: MShare): void {
  assert(x.n === y.n, 'E_SHAPE', `malicious.${op}: ${x.n} and ${y.n} elements`);
}

/** [x + y], [alpha(x + y)]: local (on `kernels` when given). */
export function addM(x: MShare, y: MShare, kernels?: LocalKernels): MShare {
  sameN('add', x, y);
  return mapM(kernels ? (u, v, o) => add128Kernels(kernels, u, v, o) : add128, x, y);
}

/** [x - y]: local (on `kernels` when given). */
export function subM(x: MShare, y: MShare, kernels?: LocalKernels): MShare {
  sameN('sub', x, y);
  return mapM(kernels ? (u, v, o) => sub128Kernels(kernels, u, v, o) : sub128, x, y);
}

/** [c x] for a public scalar c (1-element vector): local (on `kernels` when given). */
export function mulPublicM(x: MShare, c: Vec128, kernels?: LocalKernels): MShare {
  return { n: x.n, x: scaleRep(x.x, c, kernels), m: scaleRep(x.m, c, kernels) };
}

/**
 * [x + c] for public c (n elements): c is added to share x_0 (held by P0 as
 * its a and by P2 as its b) and c·alpha to the MAC shares (each party adds
 * c·alpha_j to its MAC share j, for its two j).
 */
export function addPublicM(party: PartyId, alpha: Rep, x: MShare, c: Vec128, kernels?: ScalarKernels): MShare {
  assert(len128(c) === x.n, 'E_SHAPE', `malicious.addPublic: ${len128(c)} public values for ${x.n} elements`);
  const add = (u: Vec128, v: Vec128, o: Vec128): Vec128 => (kernels ? add128Kernels(kernels, u, v, o) : add128(u, v, o));
  // The value: a copy of x's shares with c added to share x_0 (a fresh output, no copy first, where c goes).
  const val = {
    a: party === 0 ? add(x.x.a, c, alloc128(x.n)) : x.x.a.slice() as Vec128,
    b: party === 2 ? add(x.x.b, c, alloc128(x.n)) : x.x.b.slice() as Vec128,
  };
  // The MAC: [alpha c] made fresh, x's MAC shares added into it in place.
  const m = macPublic(alpha, c, kernels);
  add(m.a, x.m.a, m.a);
  add(m.b, x.m.b, m.b);
  return { n: x.n, x: val, m };
}

/** [alpha c] for public c: party i's MAC shares alpha_i c, alpha_{i+1} c (on the Z_2^64 kernels when given: gemm128.ts). */
export function macPublic(alpha: Rep, c: Vec128, kernels?: ScalarKernels): Rep {
  const n = len128(c), buf = alloc128(2 * n); // both shares in one buffer (views)
  const times = (sc: Vec128, o: Vec128): Vec128 => (kernels ? mulScalar128Kernels(kernels, c, sc, o) : mulScalar128(c, sc, o));
  return { a: times(alpha.a, buf.subarray(0, 4 * n) as Vec128), b: times(alpha.b, buf.subarray(4 * n) as Vec128) };
}

/** The kernels the scalar products may run on (a context's). */
export type ScalarKernels = LocalKernels;

/** n uniform replicated values: (x_i, x_{i+1}) = (pairPrg(i - 1), pairPrg(i + 1)) draws; nobody knows x. */
export function randomRep(ctx: Pick<PartyContext, 'party' | 'pairPrg'>, n: number): Rep {
  const a = random128(ctx.pairPrg(prev(ctx.party)), n);
  const b = random128(ctx.pairPrg(next(ctx.party)), n);
  return { a, b };
}

/**
 * Three-party zero sharing (Araki et al. §2.2, "correlated randomness"):
 * beta_i = F(s_{i,i+1}) - F(s_{i-1,i}); sum over i is 0. Same draws as randomRep.
 */
export function zeroShare(ctx: Pick<PartyContext, 'party' | 'pairPrg'> & { readonly kernels?: LocalKernels }, n: number): Vec128 {
  const r = randomRep(ctx, n);
  return ctx.kernels ? sub128Kernels(ctx.kernels, r.b, r.a, r.a) : sub128(r.b, r.a, r.a);
}

/**
 * out += beta_i (zeroShare's value) in place, with the same draws in the same
 * order (x_i's seed, then x_{i+1}'s) into the scratch `tmp` (out's length):
 * no vector allocated. out - r_i + r_{i+1} equals out + zeroShare bit for bit.
 */
export function addZeroShareInto(ctx: Pick<PartyContext, 'party' | 'pairPrg'> & { readonly kernels?: LocalKernels }, out: Vec128, tmp: Vec128): Vec128 {
  const k = ctx.kernels ?? {};
  ctx.pairPrg(prev(ctx.party)).fill(bytes128(tmp));
  sub128Kernels(k, out, tmp, out);
  ctx.pairPrg(next(ctx.party)).fill(bytes128(tmp));
  return add128Kernels(k, out, tmp, out);
}

/** Dealer side (tests; the client's input later): three parties' MACed shares of x under key alpha. */
export function shareMacced(x: Vec128, alpha: Vec128): [MShare, MShare, MShare] {
  const n = len128(x);
  const split = (v: Vec128): [Vec128, Vec128, Vec128] => {
    const g = new Prg(randomBytes(16));
    const s0 = random128(g, n), s1 = random128(g, n);
    const s2 = sub128(sub128(v, s0, alloc128(n)), s1, alloc128(n));
    return [s0, s1, s2];
  };
  const xs = split(x), ms = split(mulScalar128(x, alpha, alloc128(n)));
  return ([0, 1, 2] as const).map((i) => ({ n, x: { a: xs[i]!, b: xs[(i + 1) % 3]! }, m: { a: ms[i]!, b: ms[(i + 1) % 3]! } })) as [MShare, MShare, MShare];
}

/** Dealer side: the three parties' parts of a sharing of alpha (tests). */
export function shareKey(alpha: Vec128): [Rep, Rep, Rep] {
  return shareMacced(alpha, alloc128(1)).map((s) => s.x) as [Rep, Rep, Rep];
}

/**
 * Reconstruct from the three parts of a replicated sharing, checking that
 * the two copies of every share agree (party i's b is party i+1's a):
 * a mismatch is E_INTEGRITY (one holder altered its copy).
 */
export function reconstructRep(parts: readonly [Rep, Rep, Rep], step = 'reconstruct'): Vec128 {
  for (let i = 0; i < 3; i++) {
    if (!equal128(parts[i]!.b, parts[(i + 1) % 3]!.a)) {
      throw new MpcError('E_INTEGRITY', `malicious.${step}: the two copies of share x_${(i + 1) % 3} (from P${i} and P${(i + 1) % 3}) disagree`, { step });
    }
  }
  const n = len128(parts[0].a);
  return add128(add128(parts[0].a, parts[1].a, alloc128(n)), parts[2].a, alloc128(n));
}
