/**
 * Kernels of the radix-4 PrivateCompare on the 32-bit comparison ring
 * (protocol/primitives/private-compare-radix4.ts): values below 2^31 as 16
 * digits of 2 bits (digit i = bits 2i, 2i+1; i = 15 the most significant).
 * P2 deals, per element and digit, shares over Z_p of the three prefix
 * indicators L_i[u] = [x_i <= u] (u = 0, 1, 2; L_i[3] = 1 is public): 48 Z_p
 * values per element, planar: entry 16 u + i of the element's 48. These plain loops are both the ts kernels and the test
 * oracle of the native ones.
 */
import { MpcError } from '../errors.js';
import { checkLen, checkNarrowPc, checkType, sizeOf } from './check.js';
import { allBelow2p31 } from './narrow.js';
import type { RingKernels } from './types.js';
import { zeroTestRows } from './zp-rows.js';

const P = 67;
/** Digits per element and Z_p values dealt per element. */
export const R4_DIGITS = 16;
export const R4_DEALT = 48;

const mod = (v: number): number => ((v % P) + P) % P;

export const radix4Kernels: Pick<RingKernels, 'digitShareZp16' | 'privateCompareR4' | 'zeroTest16'> = {
  digitShareZp16(x, r, out) {
    const op = 'digitShareZp16';
    checkType(op, 'x', x, BigUint64Array);
    checkType(op, 'r', r, Uint8Array);
    checkType(op, 'out', out, Uint8Array);
    const len = sizeOf(op, '48*x.length', x.length, R4_DEALT);
    checkLen(op, 'r (48*x.length)', r.length, len);
    checkLen(op, 'out (48*x.length)', out.length, len);
    const w = new Uint32Array(x.buffer, x.byteOffset, 2 * x.length);
    for (let e = 0; e < x.length; e++) {
      const lo = w[2 * e]!;
      for (let i = 0; i < R4_DIGITS; i++) {
        const xi = (lo >>> (2 * i)) & 3;
        for (let u = 0; u < 3; u++) {
          const q = e * R4_DEALT + 16 * u + i;
          out[q] = mod((xi <= u ? 1 : 0) - r[q]!);
        }
      }
    }
  },

  privateCompareR4(j, xl, r, beta, s, rot, mask, d) {
    const op = 'privateCompareR4';
    const n = checkNarrowPc(op, R4_DIGITS, R4_DEALT, 'xl', j, xl, r, beta, s, rot, mask, d);
    if (!allBelow2p31(r)) throw new MpcError('E_BAD_ARGUMENT', `${op}: every r must be < 2^31`);
    const rw = new Uint32Array(r.buffer, r.byteOffset, 2 * n);
    for (let e = 0; e < n; e++) {
      const be = beta[e]!, v = be === 0 ? rw[2 * e]! : rw[2 * e]! + 1; // t = r + 1 <= 2^31
      const o = e * R4_DEALT, ro = rot[e]! & 15;
      // Share of L_i[u] for u = -1..3: 0, the dealt share, j (the public 1 is P1's).
      const L = (i: number, u: number): number => (u < 0 ? 0 : u >= 3 ? j : xl[o + 16 * u + i]!);
      let suffix = 0; // share of sum_{k>i} [x_k != v_k]
      for (let i = R4_DIGITS - 1; i >= 0; i--) {
        const vi = (v >>> (2 * i)) & 3;
        // beta = 0: [x_i <= v_i]; beta = 1: [x_i >= v_i] = 1 - [x_i <= v_i - 1].
        const head = be === 0 ? L(i, vi) : j - L(i, vi - 1);
        const c = mod(head + suffix);
        suffix += j - (L(i, vi) - L(i, vi - 1)); // [x_i != v_i] = 1 - [x_i = v_i]
        const k = e * R4_DIGITS + ((i + ro) & 15);
        const val = (s[e * R4_DIGITS + i]! * c) % P;
        d[k] = mod(j === 0 ? val + mask[k]! : val - mask[k]!);
      }
    }
  },

  zeroTest16(d0, d1, out) { zeroTestRows('zeroTest16', R4_DIGITS, d0, d1, out); },
};
