/**
 * SecureNN Algorithm 1, MatMul (F_MatMul), generalised to any bilinear map
 * op(X, Y): matrix product, convolution, depthwise convolution, elementwise
 * product. Beaver's technique with a triple (A, B, C = op(A, B)) dealt by P2.
 *
 * Correlated randomness (PROTOCOL-NOTES): A_0, B_0, C_0 come from the PRG
 * P0 shares with P2, A_1, B_1 from the PRG P1 shares with P2, so P2 sends only
 * the correction C_1 = op(A, B) - C_0 to P1.
 *
 * Steps (paper numbering):
 *  1. P2 picks A, B, computes C = op(A, B), shares them (here: C_1 sent to P1).
 *  2. P_j computes E_j = X_j - A_j, F_j = Y_j - B_j.
 *  3. P0 and P1 reconstruct E and F (openToDataParties: E, F are masked by A, B).
 *  4. P_j outputs Z_j = -j E.F + X_j.F + E.Y_j + C_j  (computed as
 *     op(X_j - j E, F) + op(E, Y_j) + C_j or op(X_j, F) + op(E, Y_j - j F) + C_j,
 *     whichever subtracts from the smaller operand: two ops per party; for a
 *     dense layer of batch 1, P1 then subtracts 784 elements, not 100k).
 * The result has 2f fractional bits when X and Y have f; callers truncate.
 *
 * Cost: 1 round (C_1 does not depend on the inputs and travels in parallel
 * with the exchange of E, F; the paper counts it as a separate round),
 * 8 |Z| + 16 (|X| + |Y|) bytes: C_1 to P1, and E_j, F_j each way. With the
 * weights' mask kept ('use' mode): 8 |Z| + 16 |X|, same round. With a
 * preprocessed bundle (correlated/dealer.ts), C_1 (8 |Z|: bilinearDealtBytes)
 * travels before the run.
 */
import type { PartyContext } from '../context.js';
import type { RingKernels } from '../kernels/types.js';
import { openToDataParties } from '../sharing/open.js';
import type { AShare } from '../ring/types.js';
import { concatU64 } from '../ring/ops.js';
import { scratchU64 } from '../ring/scratch.js';
import { bytesU64, u64Bytes } from '../sharing/sharing.js';
import type { DealJob } from '../correlated/dealer.js';
import type { Prg } from '../correlated/prg.js';
import { assert } from '../errors.js';
import type { Cost } from './cost.js';
import { keptMask, type WeightMaskSession } from '../correlated/weight-masks.js';

export interface BilinearOp {
  /** Label for counters and message tags, e.g. 'matmul', 'conv2d', 'mul'. */
  readonly label: string;
  readonly sizeX: number;
  readonly sizeY: number;
  readonly sizeZ: number;
  /** op(x, y), a bilinear map over Z_2^64: into `out` (sizeZ elements, overwritten) if given, else into a fresh array; returns it. */
  apply(k: RingKernels, x: BigUint64Array, y: BigUint64Array, out?: BigUint64Array): BigUint64Array;
}

/** Cost of beaverBilinear; keptY: Y's mask is kept (weight-masks.ts 'use' mode), so only E is opened. */
export function bilinearCost(op: Pick<BilinearOp, 'sizeX' | 'sizeY' | 'sizeZ'>, keptY = false): Cost {
  return { rounds: 1, bytes: 8 * op.sizeZ + 16 * (op.sizeX + (keptY ? 0 : op.sizeY)) };
}

/** Bytes of step 1 (C_1 to P1), the part a preprocessed bundle sends ahead. */
export const bilinearDealtBytes = (op: Pick<BilinearOp, 'sizeZ'>): number => 8 * op.sizeZ;

/**
 * Beaver multiplication for a bilinear op. P2 passes placeholders (only
 * lengths are used) and gets a zero placeholder back. fixedKey: y is a
 * fixed operand (the model's weights) under this key; with ctx.weightMasks
 * its mask is kept ('build') or reused ('use'), see correlated/weight-masks.ts.
 */
export async function beaverBilinear(ctx: PartyContext, op: BilinearOp, x: AShare, y: AShare, fixedKey?: string): Promise<AShare> {
  const masks = fixedKey !== undefined ? ctx.weightMasks : undefined;
  return ctx.step('MatMul', () => beaverBilinearBody(ctx, op, x, y, masks, fixedKey));
}

/**
 * The steps above; with masks in 'use' mode, Y's mask is the one kept from a
 * build run: P2 deals a fresh A only and sends C_1 = op(A, B) - C_0 for the
 * kept B; P0 and P1 open E = X - A only and take the kept F = Y - B.
 */
async function beaverBilinearBody(ctx: PartyContext, op: BilinearOp, x: AShare, y: AShare, masks?: WeightMaskSession, key?: string): Promise<AShare> {
  const k = ctx.kernels;
  const tag = `${op.label}:C1`;
  const kept = masks?.mode === 'use';
  if (ctx.party === 2) {
    // Step 1: P2 deals the triple; only C_1 travels (ctx.dealer: now, or in a bundle made before the run).
    const B = kept ? keptMask(masks!, key!, 2, op.sizeY) : null;
    const job = tripleJob(op, B);
    ctx.dealer.deal(tag, job);
    if (masks?.mode === 'build') masks.set(key!, job.B!); // B is not sent; kept for later runs
    return new BigUint64Array(op.sizeZ) as AShare;
  }
  assert(x.length === op.sizeX && y.length === op.sizeY, 'E_SHAPE', `${op.label}: expected operands of ${op.sizeX} and ${op.sizeY} elements, got ${x.length} and ${y.length}`, { party: ctx.party, step: op.label });
  const j = ctx.party;
  const keptF = kept ? keptMask(masks!, key!, j, op.sizeY) : null;
  const g = ctx.dealer.prg(2);
  // A_j, B_j are read before the first await; E_j and F_j too where they travel as one concatenated message.
  const Aj = g.u64Into(scratchU64('beaver.Aj', op.sizeX)), Bj = kept ? null : g.u64Into(scratchU64('beaver.Bj', op.sizeY));
  const Cj = j === 0 ? g.u64(op.sizeZ) : null;
  // Step 2: E_j = X_j - A_j, F_j = Y_j - B_j.
  const Ej = keptF ? new BigUint64Array(op.sizeX) : scratchU64('beaver.Ej', op.sizeX);
  k.sub(x, Aj, Ej);
  let E: BigUint64Array, F: BigUint64Array;
  if (keptF) {
    // Step 3 with F kept: open E only.
    // E goes over the received share (open.ts), never a scratch slot: the caller resumes a microtask after the
    // callee filled it, and another session's open may fill the same slot in between (ring/scratch.ts).
    E = await openToDataParties(ctx, `${op.label}:E`, Ej);
    F = keptF;
  } else {
    const Fj = scratchU64('beaver.Fj', op.sizeY);
    k.sub(y, Bj!, Fj);
    // Step 3: reconstruct E and F (one message each way carrying both).
    const EF = await openToDataParties(ctx, `${op.label}:EF`, concatU64([Ej, Fj]));
    E = EF.subarray(0, op.sizeX);
    F = EF.subarray(op.sizeX);
    if (masks?.mode === 'build') masks.set(key!, F.slice()); // F = Y - B, kept for later runs
  }
  // Step 4: Z_j = op(X_j - j E, F) + op(E, Y_j) + C_j, or op(X_j, F) + op(E, Y_j - j F) + C_j where Y is the smaller
  // operand (both equal -j E.F + X_j.F + E.Y_j + C_j: op is bilinear). Xt, Yt are read only by the two ops: scratch.
  // The two ops run before P1 waits for C_1: P2 computes op(A, B) for C_1 meanwhile, instead of P1 starting its two
  // ops only once P2's is done (the same sum mod 2^64; the messages and their order are unchanged).
  let Yt: BigUint64Array = y, Xt: BigUint64Array = x;
  if (j === 1 && op.sizeX <= op.sizeY) { Xt = scratchU64('beaver.Xt', op.sizeX); k.sub(x, E, Xt); }
  else if (j === 1) { Yt = scratchU64('beaver.Yt', op.sizeY); k.sub(y, F, Yt); }
  const Z = op.apply(k, Xt, F);
  const Z2 = op.apply(k, E, Yt, scratchU64('beaver.Z2', op.sizeZ));
  k.add(Z, Z2, Z);
  const C = Cj ?? bytesU64(await ctx.dealer.take(tag, 8 * op.sizeZ), op.sizeZ);
  k.add(Z, C, Z);
  return Z as AShare;
}

/**
 * Step 1 as P2 deals it (correlated/dealer.ts): A = A_0 + A_1, B = B_0 + B_1 (or the kept B), C_0 from the
 * dealing PRGs; returns C_1 = op(A, B) - C_0 for P1. job.B is B once run (a build run keeps it).
 */
export function tripleJob(op: BilinearOp, keptB: BigUint64Array | null): DealJob & { B: BigUint64Array | null } {
  const job = {
    bytesToP1: 8 * op.sizeZ,
    B: keptB,
    run(k: RingKernels, g0: Prg, g1: Prg) {
      // A, C0 and the PRG draws added in are read only here: scratch buffers (ring/scratch.ts).
      const A = g0.u64Into(scratchU64('beaver.A', op.sizeX)), B = keptB ?? g0.u64(op.sizeY), C0 = g0.u64Into(scratchU64('beaver.C0', op.sizeZ));
      k.add(A, g1.u64Into(scratchU64('beaver.draw', op.sizeX)), A);
      if (!keptB) k.add(B, g1.u64Into(scratchU64('beaver.draw', op.sizeY)), B);
      const C1 = op.apply(k, A, B);
      k.sub(C1, C0, C1);
      job.B = B;
      return { toP1: u64Bytes(C1) };
    },
  };
  return job;
}

/** Matrix product X[m x kk] . Y[kk x n]. */
export function matmulOp(m: number, kk: number, n: number, label = 'matmul'): BilinearOp {
  return {
    label, sizeX: m * kk, sizeY: kk * n, sizeZ: m * n,
    apply(k, x, y, out = new BigUint64Array(m * n)) { k.gemm(x, y, m, kk, n, out); return out; },
  };
}

/** Elementwise product of two vectors of n elements. */
export function mulOp(n: number, label = 'mul'): BilinearOp {
  return {
    label, sizeX: n, sizeY: n, sizeZ: n,
    apply(k, x, y, out = new BigUint64Array(n)) { k.mul(x, y, out); return out; },
  };
}

/** Secure elementwise multiplication (no truncation). */
export function mulShares(ctx: PartyContext, x: AShare, y: AShare, label = 'mul'): Promise<AShare> {
  return beaverBilinear(ctx, mulOp(x.length, label), x, y);
}

export const mulCost = (n: number): Cost => bilinearCost({ sizeX: n, sizeY: n, sizeZ: n });
