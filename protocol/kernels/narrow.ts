/**
 * The narrow (32-position) Z_p kernels expressed through the 64-position
 * ones: rows widened with public padding, the wide kernel, rows cut back to
 * their first 32 positions, then the zero-sharing mask. This is the
 * definition the fused kernels (native, ts, and the CUDA set's own
 * 32-position kernels, cuda/kernels-narrow.cu) must match byte for byte on
 * Z_p inputs: the reference kernels use it as their oracle.
 *
 * Why padding gives the narrow result (private-compare.ts, "Width"): at
 * positions 32..63 the bits x_i and t_i are public zeros, so w_i = 0 there
 * and they add nothing to the suffix sums of positions 0..31.
 */
import type { RingKernels } from './types.js';

/** n rows of 32 bytes -> n rows of 64 (positions 32..63 = fill). */
export function widenRows(src: Uint8Array, n: number, fill: number): Uint8Array {
  const out = new Uint8Array(n * 64);
  if (fill !== 0) out.fill(fill);
  for (let e = 0; e < n; e++) out.set(src.subarray(e * 32, e * 32 + 32), e * 64);
  return out;
}

/** n rows of 64 bytes -> their first 32 bytes each. */
export function narrowRows(src: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n * 32);
  for (let e = 0; e < n; e++) out.set(src.subarray(e * 64, e * 64 + 32), e * 32);
  return out;
}

const LOW32 = 0xffffffffn;

/** Whether every value is below 2^31 (the narrow kernels' precondition on r). Word test, no BigInt. */
export function allBelow2p31(r: BigUint64Array): boolean {
  const w = new Uint32Array(r.buffer, r.byteOffset, 2 * r.length);
  let wide = 0;
  for (let e = 0; e < r.length; e++) wide |= w[2 * e + 1]! | (w[2 * e]! & 0x80000000);
  return wide === 0;
}

/** The 64-position permutation rows for narrow rotations: i -> (i + rot) mod 32 below 32, fixed above. */
export function narrowRotationPerms(rot: Uint8Array): Uint8Array {
  const perm = new Uint8Array(rot.length * 64);
  for (let e = 0; e < rot.length; e++) {
    const r = rot[e]! & 31, o = e * 64;
    for (let i = 0; i < 32; i++) perm[o + i] = (i + r) & 31;
    for (let i = 32; i < 64; i++) perm[o + i] = i;
  }
  return perm;
}

type Wide = Pick<RingKernels, 'bitShareZp' | 'privateCompare' | 'zeroTest' | 'maskZp'>;

/** The narrow kernels of RingKernels built from a set's wide ones. */
export function narrowViaWide(k: Wide): Pick<RingKernels, 'bitShareZp32' | 'privateCompare32' | 'zeroTest32'> {
  return {
    bitShareZp32(x, r, out) {
      const n = x.length;
      const low = new BigUint64Array(n);
      for (let e = 0; e < n; e++) low[e] = x[e]! & LOW32;
      const wide = new Uint8Array(n * 64);
      k.bitShareZp(low, widenRows(r, n, 0), wide);
      out.set(narrowRows(wide, n));
    },
    privateCompare32(j, xb, r, beta, s, rot, mask, d) {
      const n = r.length;
      const wide = new Uint8Array(n * 64);
      k.privateCompare(j, widenRows(xb, n, 0), r, beta, widenRows(s, n, 1), null, narrowRotationPerms(rot), wide);
      const sent = narrowRows(wide, n);
      k.maskZp(sent, mask, j === 1);
      d.set(sent);
    },
    zeroTest32(d0, d1, out) {
      const n = out.length;
      // Padding d^0 = 1, d^1 = 0 at positions 32..63: a nonzero sum.
      k.zeroTest(widenRows(d0, n, 1), widenRows(d1, n, 0), out);
    },
  };
}
