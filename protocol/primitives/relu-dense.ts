/**
 * ReLU(a) · W for a dense layer W whose Beaver mask is kept (correlated/weight-masks.ts 'use' runs: F = W - B public
 * to P0 and P1, B known to P2), inside the ReLU's rounds: the dense layer's opening of E = X - A is gone. An
 * optimisation of ours, not an algorithm of the paper: SecureNN's ReLU (Alg. 7, here relu-direct.ts) followed by its
 * MatMul (Alg. 1) takes the ReLU's 3 rounds and then 1 more for E; this takes the 3 (issue 28, "fuse a dense layer's
 * Beaver opening with the previous ReLU's last message").
 *
 * Why one round goes. After ReLU's step 3, P2 knows z (and r, w = r z); P0 and P1 know c = a + r and b, with
 * ReLU(a)_i = e_i a_i + s_i (a z)_i, e_i = [b_i = 0], s_i = (b_i ? 1 : -1), (a z)_i = c_i z_i - w_i (relu-direct.ts).
 * With W = F + B, ReLU(a) W = X F + X B, and X F is local (X_j F). For X B:
 *     sum_i e_i a_i B_ij = sum_i e_i c_i B_ij - e_i R_ij,                 R_ij = r_i B_ij,
 *     sum_i s_i (a z)_i B_ij = sum_i s_i c_i M_ij - s_i N_ij,             M_ij = z_i B_ij, N_ij = w_i B_ij,
 * where e, s, c are public to P0 and P1, B is shared (P0: Y_0, P1: Y_1 - F, as in matmul.ts's kept-mask step 4), and
 * R, M, N are what P2 can compute. So P2 shares R, M, N in step 4 (P0's shares from the PRG it shares with P2, P1's
 * appended to its (z, w) message) and each data party finishes locally:
 *     Z_j = X_j F + (e c) (Y_j - j F) + sum_i [ -e_i R_j,i + s_i c_i M_j,i - s_i N_j,i ].
 * The result has 2f fractional bits, as Alg. 1's; the runner truncates and adds the bias after it.
 *
 * Steps: 1-3 of relu-direct.ts; 4. P2 as relu-direct.ts, and R, M, N (per image row of a: K x N each) shared, P1's
 * share sent with z_1, w_1; 5. P_j: ReLU_j as relu-direct.ts, then Z_j above (one product with F, one with Y_j - jF,
 * one 1 x 3K by 3K x N product per image row for R, M, N).
 *
 * What each party sees: as relu-direct.ts; P1 also R - R_0, M - M_0, N - N_0, each masked by a draw of the P0-P2 PRG
 * (uniform to P1). No message to P2 changes; no opening of X at all (E = X - A is not sent).
 *
 * Cost: 3 rounds (the ReLU's), the ReLU's bytes (relu-direct.ts) + 24 K N per image row (R, M, N to P1) instead of
 * the ReLU's + the dense layer's 16 K per row (E) + 8 N per row (C_1, dealt). So it pays where K N is small: the
 * runner fuses only below FUSE_MAX_WORDS (Network A's last layer, 128 x 10: 30 KiB for one round).
 */
import type { PartyContext } from '../context.js';
import { keptMask } from '../correlated/weight-masks.js';
import { assert } from '../errors.js';
import { keepWhereBit, selectByBit } from '../ring/ops.js';
import { scratchU64, scratchU8 } from '../ring/scratch.js';
import type { AShare } from '../ring/types.js';
import type { Cost } from './cost.js';
import { reluDirectCost, reluDirectInto, type ReluTail } from './relu-direct.js';

/** The most words of R, M, N (3 K N per image row, all rows) the runner sends instead of the dense layer's opening. */
export const FUSE_MAX_WORDS = 8192;

/** Cost of reluIntoDense for `rows` image rows of K inputs and N outputs (bits, radix: the comparison ring's). */
export const reluDenseCost = (rows: number, K: number, N: number, bits: 32 | 64 = 64, radix: 2 | 4 = 4): Cost =>
  ({ rounds: 3, bytes: reluDirectCost(rows * K, bits, radix).bytes + 24 * rows * K * N });

/** Whether the runner may fuse a ReLU of rows x K values into a dense layer of N units (same answer at every party). */
export const fusesIntoDense = (rows: number, K: number, N: number): boolean => 3 * rows * K * N <= FUSE_MAX_WORDS;

/**
 * Shares of ReLU(a) W, a: rows x K (this party's share; P2: a placeholder), W: K x N (y: this party's share of the
 * weights; P2: a placeholder) under the kept-mask key `key` (ctx.weightMasks in 'use' mode). label: the ReLU's.
 */
export function reluIntoDense(ctx: PartyContext, a: AShare, y: BigUint64Array, rows: number, K: number, N: number, key: string, label: string): Promise<AShare> {
  const masks = ctx.weightMasks;
  assert(masks?.mode === 'use', 'E_BAD_ARGUMENT', `${label}: the ReLU fuses into a dense layer only with the weights' mask kept ('use' runs)`, { party: ctx.party, step: label });
  assert(a.length === rows * K && (ctx.party === 2 || y.length === K * N), 'E_SHAPE', `${label}: expected ${rows} x ${K} inputs and ${K} x ${N} weights, got ${a.length} and ${y.length}`, { party: ctx.party, step: label });
  const KN = K * N, k = ctx.kernels;
  const mask = keptMask(masks, key, ctx.party, KN); // P2: B; P0, P1: F
  let R: BigUint64Array | null = null;
  const tail: ReluTail = {
    words: 3 * rows * KN,
    tag: 'z,w,RMN',
    // R = r_i B_i per image row, made while P0's and P1's d travel (r is known before step 3); read after P2's await: fresh.
    prepare(r) {
      R = new BigUint64Array(rows * KN);
      for (let idx = 0; idx < rows * K; idx++) { const i = idx % K; k.mulScalar(mask.subarray(i * N, (i + 1) * N), r[idx]!, R.subarray(idx * N, (idx + 1) * N)); }
    },
    deal(z, out) {
      // Per image row: R, M = z_i B_i, N = z_i R_i (w_i = r_i z_i), as K x N blocks one after the other. z is secret
      // (z XOR b = DReLU(a), b known to P0 and P1) and P2's time to this message is seen by P1: no branch on z_i, a
      // masked copy (keepWhereBit) of each row whatever z_i is. Read only here: scratch.
      const zi = scratchU8('reludense.zi', N);
      for (let row = 0; row < rows; row++) {
        const base = 3 * row * KN;
        out.set(R!.subarray(row * KN, (row + 1) * KN), base);
        for (let i = 0; i < K; i++) {
          const idx = row * K + i, Mi = out.subarray(base + KN + i * N, base + KN + (i + 1) * N), Ni = out.subarray(base + 2 * KN + i * N, base + 2 * KN + (i + 1) * N);
          zi.fill(z[idx]!);
          keepWhereBit(zi, 1, mask.subarray(i * N, (i + 1) * N), Mi);
          keepWhereBit(zi, 1, R!.subarray(idx * N, (idx + 1) * N), Ni);
        }
      }
    },
    finish(x, b, c, t) {
      const j = ctx.party;
      // Y_j - j F: P0's share of B is Y_0, P1's Y_1 - F (matmul.ts, kept-mask step 4). Read only below: scratch.
      let Yt = y;
      if (j === 1) { Yt = scratchU64('reludense.yt', KN); k.sub(y, mask, Yt); }
      const n = rows * K;
      const u = scratchU64('reludense.u', n);
      keepWhereBit(b, 0, c, u); // e c
      const Z = new BigUint64Array(rows * N);
      k.gemm(x, mask, rows, K, N, Z); // X_j F
      const Z2 = scratchU64('reludense.z2', rows * N);
      k.gemm(u, Yt, rows, K, N, Z2);
      k.add(Z, Z2, Z);
      // Coefficients of R, M, N per element: -e, s c, -s.
      const ones = scratchU64('reludense.one', n).fill(1n), minus = scratchU64('reludense.minus', n).fill(0xffffffffffffffffn);
      const negC = scratchU64('reludense.negc', n);
      k.sub(scratchU64('reludense.zero', n).fill(0n), c, negC);
      const coef = scratchU64('reludense.coef', 3 * K), zr = scratchU64('reludense.zr', N);
      for (let row = 0; row < rows; row++) {
        const o = row * K, bRow = b.subarray(o, o + K);
        keepWhereBit(bRow, 0, minus.subarray(o, o + K), coef.subarray(0, K));
        selectByBit(bRow, c.subarray(o, o + K), negC.subarray(o, o + K), coef.subarray(K, 2 * K));
        selectByBit(bRow, minus.subarray(o, o + K), ones.subarray(o, o + K), coef.subarray(2 * K));
        k.gemm(coef, t.subarray(3 * row * KN, 3 * (row + 1) * KN), 1, 3 * K, N, zr);
        k.add(Z.subarray(row * N, (row + 1) * N), zr, Z.subarray(row * N, (row + 1) * N));
      }
      return Z as AShare;
    },
  };
  if (ctx.party === 2) return reluDirectInto(ctx, a, label, tail).then(() => new BigUint64Array(rows * N) as AShare);
  return reluDirectInto(ctx, a, label, tail);
}
