/**
 * Bit slicing of Z_2^128 share vectors: the low ell bits of n elements as ell
 * packed planes (bshare.ts layout: plane p holds bit p of every element, 32
 * elements per u32 lane, lanesOf(n) lanes per plane, padding bits 0). Used by
 * the split step of A2B (a2b.ts step 1) and the truncation mask's split
 * (trunc-mask.ts step 4). Local, no message, no randomness.
 *
 * Per block of 32 elements and 32-bit word of their shares, one 32 x 32 bit
 * matrix transpose (rows = the elements' words, columns = bit positions):
 * five passes that swap the off-diagonal sub-blocks of size 16, 8, 4, 2, 1
 * (Warren, Hacker's Delight, 2nd ed., §7-3, "Transposing a Bit Matrix").
 * About 90 word operations per 32 x 32 bits instead of 1,024 single-bit
 * tests; the same bits as reading each bit alone (`planes.test.ts` checks
 * both against each other on random and edge vectors).
 */
import { lanesOf } from './bshare.js';

const MASKS = [0x0000ffff, 0x00ff00ff, 0x0f0f0f0f, 0x33333333, 0x55555555];

/** In place: m[i] bit j := m[j] bit i, for the 32 words m[0..31] (column c = bit c, LSB first). */
export function transpose32(m: Int32Array): void {
  for (let k = 0, s = 16; s > 0; k++, s >>>= 1) {
    const mask = MASKS[k]!;
    for (let j = 0; j < 32; j = (j + s + 1) & ~s) {
      const t = ((m[j]! >>> s) ^ m[j + s]!) & mask;
      m[j + s]! ^= t;
      m[j]! ^= t << s;
    }
  }
}

/** ell bit planes of the low ell bits (ell <= 128) of the n elements of v (a Vec128 share vector: 4 little-endian u32 words per element). */
export function bitPlanes(v: Uint32Array, n: number, ell: number): Uint32Array {
  const L = lanesOf(n), out = new Uint32Array(L * ell), m = new Int32Array(32);
  const words = Math.ceil(ell / 32);
  for (let lane = 0; 32 * lane < n; lane++) {
    const e0 = 32 * lane, rows = Math.min(32, n - e0);
    for (let w = 0; w < words; w++) {
      for (let j = 0; j < rows; j++) m[j] = v[4 * (e0 + j) + w]!;
      m.fill(0, rows);
      transpose32(m);
      const p0 = 32 * w, planes = Math.min(32, ell - p0);
      for (let p = 0; p < planes; p++) out[L * (p0 + p) + lane] = m[p]!;
    }
  }
  return out;
}

/**
 * Bits [from, from + k) of one packed plane v as a plane of k bits (bshare.ts layout, padding bits 0): word shifts,
 * 32 bits per step, instead of one bit at a time (maxpool-bin.ts sliceDaBits: each level's daBits).
 */
export function bitRange(v: Uint32Array, from: number, k: number): Uint32Array {
  const out = new Uint32Array(lanesOf(k));
  const w0 = from >>> 5, sh = from & 31, full = k >>> 5;
  const word = (j: number): number => {
    const lo = v[w0 + j] ?? 0;
    return sh === 0 ? lo : (lo >>> sh) | ((v[w0 + j + 1] ?? 0) << (32 - sh));
  };
  for (let j = 0; j < full; j++) out[j] = word(j);
  if (k & 31) out[full] = word(full) & ((1 << (k & 31)) - 1);
  return out;
}
