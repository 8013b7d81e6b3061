/**
 * Replicated multiplication with resharing (Araki, Furukawa, Lindell, Nof,
 * Ohara, CCS 2016, §2.2 "multiplication"), run on the value and on the MAC
 * as in SPDZ-wise replicated sharing (Dalskov, Escudero, Keller, PoPETs 2020,
 * §3, Pi_Mult: [alpha x y] = [alpha x] · [y]), for any bilinear map f
 * (elementwise product, matrix product, the key times a vector):
 *
 *  1. z_i = f(x_i, y_i) + f(x_i, y_{i+1}) + f(x_{i+1}, y_i) + beta_i, with
 *     beta a three-party zero sharing (rep.ts zeroShare); the same for the
 *     MAC, with [alpha x] in place of [x] (its own zero sharing).
 *  2. P_i sends z_i (and its MAC share) to P_{i-1}.
 *  3. P_i holds (z_i, z_{i+1}): a replicated sharing of f(x, y).
 *
 * No check here: a party that sends a wrong z_i adds an error e to the
 * value (or the MAC) without knowing alpha, so the MAC relation breaks. The
 * output is registered with the session, and the batched MAC check
 * (mac-check.ts) verifies every registered value (masked) and every opened
 * one before any output (Dalskov et al. Thm. 1; SPDZ_2k Thm. 1 for the
 * bound). Registering the outputs also covers a MAC the product does not use
 * (that of y): it was some earlier product's or macOf's output.
 *
 * Cost: 1 round; each party sends one 16-byte word per output element for
 * the value and one for the MAC: 96 bytes per output element in all (48 for
 * macOf, which computes the MAC only).
 */
import type { Cost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import { alloc128, bytes128, len128, view128, WORD_BYTES, type Vec128 } from './ring128.js';
import { add128Kernels, matmul128Gemm, mul128Kernels, mulScalar128Kernels } from './gemm128.js';
import { addZeroShareInto, randomRep, type MShare, type Rep } from './rep.js';
import type { MalSession } from './session.js';

/** A bilinear map on one party's share vectors into `sizeZ` elements. */
export interface Bilinear128 {
  readonly sizeZ: number;
  f(x: Vec128, y: Vec128, out: Vec128): Vec128;
  /** Optional fused step 1 without the zero sharings: [f(x_i, s) + f(x_{i+1}, y_i), the same for the MAC], s = y_i + y_{i+1}, for y's shares (y_i, y_{i+1}). */
  both?(x: Rep, m: Rep, y: Rep): [Vec128, Vec128];
}

export const mulCostM = (n: number): Cost => ({ rounds: 1, bytes: 3 * 2 * WORD_BYTES * n });
export const matmulCostM = (m: number, n: number): Cost => mulCostM(m * n);
export const macOfCost = (n: number): Cost => ({ rounds: 1, bytes: 3 * WORD_BYTES * n });

/**
 * Step 1 for one quantity, into `out` (map.sizeZ elements): z_i = f(x_i, ySum)
 * + f(x_{i+1}, y_i) + beta_i with ySum = y_i + y_{i+1}, on the context's
 * kernels; `tmp` (out's size) is scratch for the second term and the zero
 * sharing's draws (rep.ts addZeroShareInto: zeroShare's draws, in its order).
 */
function localProduct(s: MalSession, map: Bilinear128, x: Rep, ySum: Vec128, yA: Vec128, out: Vec128, tmp: Vec128): Vec128 {
  map.f(x.a, ySum, out);
  add128Kernels(s.ctx.kernels, out, map.f(x.b, yA, tmp), out);
  return addZeroShareInto(s.ctx, out, tmp);
}

/** The vectors of `parts` (n elements each) as one vector: a view when they lie end to end in one buffer, else a copy. */
function joined(parts: Vec128[], n: number): Vec128 {
  const first = parts[0]!;
  const contiguous = parts.every((p, q) => p.buffer === first.buffer && p.byteOffset === first.byteOffset + q * n * WORD_BYTES && p.length === 4 * n);
  if (contiguous) return new Uint32Array(first.buffer, first.byteOffset, 4 * n * parts.length) as Vec128;
  const out = alloc128(parts.length * n);
  parts.forEach((z, q) => out.set(z, 4 * n * q));
  return out;
}

/**
 * Steps 2-3 for k quantities of n elements each, end to end in `zs` (4kn
 * words), in one message: send own z_i to P_{i-1} (a copy: the returned
 * shares are views of zs, which callers may change once the product
 * returned), get z_{i+1} from P_{i+1} (used in place, ring128.ts view128).
 */
async function reshare(s: MalSession, tag: string, zs: Vec128, k: number, n: number): Promise<Rep[]> {
  s.send(s.prev, tag, bytes128(zs.slice() as Vec128));
  const got = view128(await s.recv(s.next, tag, k * n * WORD_BYTES));
  return Array.from({ length: k }, (_, q) => ({ a: zs.subarray(4 * n * q, 4 * n * (q + 1)) as Vec128, b: got.subarray(4 * n * q, 4 * n * (q + 1)) as Vec128 }));
}

/** [f(x, y)] with its MAC, for MACed x, y (the MAC of the product is f([alpha x], [y])). */
export async function productM(s: MalSession, map: Bilinear128, x: MShare, y: MShare, kind = 'mul', check?: () => void): Promise<MShare> {
  return s.guard(`mal.${kind}`, async () => {
    check?.(); // inside the step: a refused argument aborts the session at every party, none waits
    const tag = s.label(kind);
    const n = map.sizeZ;
    const zm = productLocal(s, map, x, y);
    // Steps 2-3.
    const [rx, rm] = await reshare(s, tag, zm, 2, n);
    return s.register({ n, x: rx!, m: rm! });
  });
}

/**
 * Step 1 for value and MAC: [z_i | m_i] in one buffer (2 sizeZ elements),
 * each with its own zero sharing, drawn in this order at every party.
 * Exported for product-trunc.ts, which sends it with a truncation's opening.
 */
export function productLocal(s: MalSession, map: Bilinear128, x: MShare, y: MShare): Vec128 {
  const n = map.sizeZ, k = s.ctx.kernels;
  const tmp = alloc128(n);
  let zm: Vec128;
  if (map.both) {
    zm = joined(map.both(x.x, x.m, y.x), n);
    addZeroShareInto(s.ctx, zm.subarray(0, 4 * n) as Vec128, tmp);
    addZeroShareInto(s.ctx, zm.subarray(4 * n) as Vec128, tmp);
  } else {
    const ySum = add128Kernels(k, y.x.a, y.x.b, alloc128(y.n));
    zm = alloc128(2 * n);
    localProduct(s, map, x.x, ySum, y.x.a, zm.subarray(0, 4 * n) as Vec128, tmp);
    localProduct(s, map, x.m, ySum, y.x.a, zm.subarray(4 * n) as Vec128, tmp);
  }
  return zm;
}

/**
 * mulM split at its round: steps 1-2 now (the local product and its message to P_{i-1}, the receive from P_{i+1}
 * queued now), step 3 when the returned function is awaited (the received share; the product registered for the
 * MAC check then, in program order). For a product that rides in another protocol's round (binary/compare-bin.ts:
 * its send and receive queued there in the same order at the three parties). Cost mulCostM(n), in that round.
 */
export function mulStartM(s: MalSession, x: MShare, y: MShare): () => Promise<MShare> {
  assert(x.n === y.n, 'E_SHAPE', `malicious.mul: ${x.n} and ${y.n} elements`, { party: s.party });
  const n = x.n, tag = s.label('mul');
  const zm = productLocal(s, { sizeZ: n, f: (a, b, o) => mul128Kernels(s.ctx.kernels, a, b, o) }, x, y);
  s.send(s.prev, tag, bytes128(zm.slice() as Vec128));
  const gotP = s.recv(s.next, tag, 2 * n * WORD_BYTES);
  gotP.catch(() => undefined); // awaited by the caller; a failure before that (an abort notice) must not be an unhandled rejection
  return async () => {
    const got = view128(await gotP);
    return s.register({ n, x: { a: zm.subarray(0, 4 * n) as Vec128, b: got.subarray(0, 4 * n) as Vec128 }, m: { a: zm.subarray(4 * n) as Vec128, b: got.subarray(4 * n) as Vec128 } });
  };
}

/** [x · y] elementwise (n elements). Cost mulCostM(n). */
export function mulM(s: MalSession, x: MShare, y: MShare): Promise<MShare> {
  return productM(s, { sizeZ: x.n, f: (a, b, o) => mul128Kernels(s.ctx.kernels, a, b, o) }, x, y, 'mul',
    () => assert(x.n === y.n, 'E_SHAPE', `malicious.mul: ${x.n} and ${y.n} elements`, { party: s.party }));
}

/**
 * Operands that never change once made: the MACed weights of a session or
 * an epoch (weights.ts prepareWeights marks them). For such a right-hand
 * operand Y, matmulM keeps the block [Y_i + Y_{i+1}; Y_i] it multiplies by
 * (2k x n words) instead of making it again in every session of the epoch:
 * the same values, one more copy of the weights in memory. Keyed by the
 * share vector itself (a WeakMap: it goes with the weights).
 */
const constantOperands = new WeakSet<Vec128>();
const rightBlocks = new WeakMap<Vec128, Vec128>();

/** Mark x as never changed again (its share vectors are not written after this); see constantOperands. */
export function markConstant(x: MShare): void {
  constantOperands.add(x.x.a);
}

/** [Y_i + Y_{i+1}; Y_i] (2k x n, row-major) for Y's shares (y_i, y_{i+1}); kept for a constant operand. */
function rightBlock(kernels: MalSession['ctx']['kernels'], y: Rep, kn: number): Vec128 {
  const kept = rightBlocks.get(y.a);
  if (kept) return kept;
  const right = alloc128(2 * kn);
  add128Kernels(kernels, y.a, y.b, right.subarray(0, 4 * kn) as Vec128);
  right.set(y.a, 4 * kn);
  if (constantOperands.has(y.a)) rightBlocks.set(y.a, right);
  return right;
}

/** [X Y] for X (m x k) and Y (k x n), row-major; the local products on the context's Z_2^64 GEMM (gemm128.ts). Cost matmulCostM(m, n). */
export function matmulM(s: MalSession, X: MShare, Y: MShare, m: number, k: number, n: number): Promise<MShare> {
  return productM(s, matmulMap(s, m, k, n), X, Y, 'matmul', () => checkMatmul(s, X, Y, m, k, n));
}

/** The shapes of a matrix product: E_SHAPE otherwise. */
export function checkMatmul(s: MalSession, X: MShare, Y: MShare, m: number, k: number, n: number): void {
  assert(X.n === m * k && Y.n === k * n, 'E_SHAPE', `malicious.matmul: expected ${m}x${k} and ${k}x${n}, got ${X.n} and ${Y.n} elements`, { party: s.party });
}

/** The bilinear map of matmulM: (m x k)(k x n), value and MAC in one GEMM (`both`). */
export function matmulMap(s: MalSession, m: number, k: number, n: number): Bilinear128 {
  const gemm = (a: Vec128, b: Vec128, rows: number, inner: number, o: Vec128): Vec128 => matmul128Gemm(s.ctx.kernels, a, b, rows, inner, n, o);
  return {
    sizeZ: m * n,
    f: (a, b, o) => gemm(a, b, m, k, o),
    // One product for value and MAC, both terms: [X_i X_{i+1}; M_i M_{i+1}] (2m x 2k) times [Y_i + Y_{i+1}; Y_i] (2k x n).
    both: (x, mac, y) => {
      const left = alloc128(4 * m * k);
      [x, mac].forEach((r, h) => {
        for (let i = 0; i < m; i++) {
          const row = 4 * (h * m + i) * 2 * k;
          left.set(r.a.subarray(4 * i * k, 4 * (i + 1) * k), row);
          left.set(r.b.subarray(4 * i * k, 4 * (i + 1) * k), row + 4 * k);
        }
      });
      const out = gemm(left, rightBlock(s.ctx.kernels, y, k * n), 2 * m, 2 * k, alloc128(2 * m * n));
      return [out.subarray(0, 4 * m * n) as Vec128, out.subarray(4 * m * n) as Vec128]; // end to end: productM uses them in place
    },
  };
}

/**
 * The MAC [alpha r] of a replicated [r] (n elements): the same resharing
 * with f(alpha_j, r_l) = alpha_j r_l, value only. Used for random MACed
 * values (masks) and inputs. Cost macOfCost(n).
 */
export function macOf(s: MalSession, r: Rep): Promise<MShare> {
  return s.guard('mal.macOf', () => macOfBody(s, r));
}

/** macOf without its own step (for protocols that run it alongside another message, as input.ts does). */
export async function macOfBody(s: MalSession, r: Rep, register = true): Promise<MShare> {
  const n = len128(r.a), k = s.ctx.kernels;
  const tag = s.label('macOf');
  const m = alloc128(n);
  localProduct(s, { sizeZ: n, f: (a, b, o) => mulScalar128Kernels(k, b, a, o) }, s.alpha, add128Kernels(k, r.a, r.b, alloc128(n)), r.a, m, alloc128(n));
  const [zm] = await reshare(s, tag, m, 1, n);
  const out = { n, x: r, m: zm! };
  return register ? s.register(out) : out;
}

/** n uniform MACed values nobody knows (masks): a random replicated sharing and its MAC. Cost macOfCost(n). */
export function randomMacced(s: MalSession, n: number): Promise<MShare> {
  return macOf(s, randomRep(s.ctx, n));
}
