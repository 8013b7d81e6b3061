/*
 * Per-element logic of the CUDA kernels for the ops issue 27's audit found on
 * the CPU of a GPU party (bench/CUDA-RESULTS.md, "Audit"): the scalar ops and
 * the local truncations of every product (mulScalar, addScalar, divShare,
 * sar; the smooth activations' piecewise cubics and the exact truncation use
 * them too), the 64-bit ring's mask step (maskZp), and the windowed kernels of
 * the convolutions (im2col: conv2d and conv2d_transpose's sub-convolutions;
 * depthwise). Written once for the host and the device, as zp-rows.h: under
 * nvcc every function is __host__ __device__, under a plain C++ compiler an
 * ordinary inline function, so a host program (ring-elems-check.cc, run by
 * ring-elems.test.ts) checks this exact arithmetic against the ts and native
 * kernels without a GPU. kernels-elems.cu's __global__ kernels are
 * grid-stride loops, one output element per thread, over these functions.
 *
 * Semantics: RingKernels (protocol/kernels/types.ts), byte for byte those of
 * kernels/native/ops.cc for every input the CUDA set routes here (index.ts
 * checks the arguments first: divisors >= 1, sizes below 2^31, lengths).
 */
#ifndef SECURENN_CUDA_RING_ELEMS_H
#define SECURENN_CUDA_RING_ELEMS_H

#include <stdint.h>

#if defined(__CUDACC__)
#define SCE_HD __host__ __device__ __forceinline__
#else
#define SCE_HD inline
#endif

namespace scu_elems {

/* a * s and a + s mod 2^64. */
SCE_HD uint64_t mul_scalar(uint64_t a, uint64_t s) { return a * s; }
SCE_HD uint64_t add_scalar(uint64_t a, uint64_t s) { return a + s; }

/*
 * divShare for one element: party 0 floor(a / d); party 1 divides its share
 * read as the negative number a - 2^64: 2^64 - floor((2^64 - a) / d) mod 2^64.
 * For a != 0, 2^64 - a is -a as a u64; for a == 0, floor(2^64 / d) =
 * floor((2^64 - d) / d) + 1, which wraps to 0 for d == 1 as 2^64 - 2^64 does.
 * d >= 1 (checked by the caller).
 */
SCE_HD uint64_t div_share(uint64_t a, uint64_t d, int party) {
  if (party == 0) return a / d;
  const uint64_t q = a != 0 ? (0 - a) / d : (0 - d) / d + 1;
  return 0 - q;
}

/*
 * divShare by a broadcast power of two 2^f (f = 0..31): the same value as
 * div_share(a, 2^f, party) by shifts (party 1: -((-a) >> f); a == 0:
 * -(2^(64-f)); f == 0: a).
 */
SCE_HD uint64_t div_share_pow2(uint64_t a, unsigned f, int party) {
  if (party == 0) return a >> f;
  if (f == 0) return a;
  return a != 0 ? 0 - ((0 - a) >> f) : 0 - (uint64_t(1) << (64 - f));
}

/* f when d = 2^f (the broadcast divisor takes div_share_pow2, as the CPU kernels do), else -1. */
SCE_HD int pow2_shift(uint32_t d) {
  if (d == 0 || (d & (d - 1)) != 0) return -1;
  int f = 0;
  while ((d >> f) != 1u) f++;
  return f;
}

/* Arithmetic shift right by f (two's complement); f > 63 shifts as 63. */
SCE_HD uint64_t sar(uint64_t a, uint64_t f) { return uint64_t(int64_t(a) >> (f > 63 ? 63 : unsigned(f))); }

/*
 * maskZp for one byte: (d + m) mod p or (d - m) mod p with one conditional
 * correction, exactly as the CPU kernels (a byte outside [0, p-1] gives the
 * same byte everywhere).
 */
SCE_HD uint8_t mask_zp(uint8_t d, uint8_t m, int subtract) {
  if (subtract) {
    const int v = int(d) - int(m);
    return uint8_t(v < 0 ? v + 67 : v);
  }
  const int v = int(d) + int(m);
  return uint8_t(v >= 67 ? v - 67 : v);
}

/* The geometry of a windowed kernel (im2col, depthwise): NHWC input, kh x kw window, strides, padding, output size. */
struct Window {
  int64_t N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW;
};

/*
 * im2col output element i: rows (n, oy, ox), columns (ky, kx, c); 0 where the
 * window reaches outside the image (padding, negative padding included).
 */
SCE_HD uint64_t im2col_at(const uint64_t *x, const Window &s, int64_t i) {
  const int64_t cols = s.kh * s.kw * s.C;
  const int64_t row = i / cols, col = i - row * cols;
  const int64_t c = col % s.C, kx = (col / s.C) % s.kw, ky = col / (s.C * s.kw);
  const int64_t ox = row % s.outW, oy = (row / s.outW) % s.outH, n = row / (s.outW * s.outH);
  const int64_t y = oy * s.sh + ky - s.padTop, xx = ox * s.sw + kx - s.padLeft;
  if (y < 0 || y >= s.H || xx < 0 || xx >= s.W) return 0;
  return x[((n * s.H + y) * s.W + xx) * s.C + c];
}

/*
 * depthwise output element i = ((n, oy, ox), c * dm + m): the sum mod 2^64
 * over the taps (ky, kx) inside the image of x[n, y, x, c] * w[(ky kw + kx) C dm + c dm + m].
 */
SCE_HD uint64_t depthwise_at(const uint64_t *x, const uint64_t *w, const Window &s, int64_t i) {
  const int64_t Co = s.C * s.dm;
  const int64_t pix = i / Co, co = i - pix * Co, c = co / s.dm;
  const int64_t ox = pix % s.outW, oy = (pix / s.outW) % s.outH, n = pix / (s.outW * s.outH);
  uint64_t acc = 0;
  for (int64_t ky = 0; ky < s.kh; ky++) {
    const int64_t y = oy * s.sh + ky - s.padTop;
    if (y < 0 || y >= s.H) continue;
    for (int64_t kx = 0; kx < s.kw; kx++) {
      const int64_t xx = ox * s.sw + kx - s.padLeft;
      if (xx < 0 || xx >= s.W) continue;
      acc += x[((n * s.H + y) * s.W + xx) * s.C + c] * w[(ky * s.kw + kx) * Co + co];
    }
  }
  return acc;
}

}  // namespace scu_elems

#endif
