/*
 * Per-element logic of the CUDA kernels on the 32-bit comparison ring
 * (kernels-narrow.cu): one element's row of Z_p (p = 67) values, written once
 * for the host and the device. Under nvcc every function is
 * __host__ __device__; under a plain C++ compiler it is an ordinary inline
 * function, so a host program (zp-rows-check.cc, run by zp-rows.test.ts)
 * checks this exact arithmetic against the CPU kernels without a GPU.
 *
 * Semantics (RingKernels, protocol/kernels/types.ts), byte for byte those of
 * the ts and native kernels for ANY input bytes, not only values in Z_p:
 *  - bitshare_row<W>: out[i] = (bit_i(x) - r[i]) mod p, i < W (W = 32: bitShareZp32);
 *  - zero_test_row<W>: 1 iff some (d0[i] + d1[i]) mod p == 0 (zeroTest32, zeroTest16);
 *  - pc32_row: PrivateCompare (SecureNN Alg. 3) steps 2-6 on 32 positions with
 *    the rotation and the zero-sharing mask fused in (privateCompare32);
 *  - digitshare16_row / pcr4_row: the radix-4 PrivateCompare's dealt prefix
 *    indicators and d values (digitShareZp16, privateCompareR4; kernels/radix4.ts).
 * Preconditions checked by the caller (protocol/kernels/cuda/index.ts): r < 2^31
 * for pc32_row and pcr4_row (only its low 32 bits are read here).
 */
#ifndef SECURENN_CUDA_ZP_ROWS_H
#define SECURENN_CUDA_ZP_ROWS_H

#include <stdint.h>

#if defined(__CUDACC__)
#define SCU_HD __host__ __device__ __forceinline__
#else
#define SCU_HD inline
#endif

namespace scu_rows {

enum { ZP = 67 };

/* v mod p in [0, p-1] for any int v. */
SCU_HD int modp(int v) { return ((v % ZP) + ZP) % ZP; }

/* out[i] = (bit_i(x) - r[i]) mod p for i < W. */
template <int W>
SCU_HD void bitshare_row(uint64_t x, const uint8_t *r, uint8_t *out) {
  for (int i = 0; i < W; i++) out[i] = uint8_t(modp(int((x >> i) & 1u) - int(r[i])));
}

/* 1 iff some (d0[i] + d1[i]) mod p == 0, i < W. */
template <int W>
SCU_HD uint8_t zero_test_row(const uint8_t *d0, const uint8_t *d1) {
  int z = 0;
  for (int i = 0; i < W; i++) z |= (int(d0[i]) + int(d1[i])) % ZP == 0;
  return uint8_t(z);
}

/*
 * PrivateCompare (SecureNN Alg. 3) for party j on one element of the narrow
 * ring: x = shares of bits x[0..31] (i = 0 the least significant), public r,
 * common bit beta, s in Z_p^*, rotation rot (low 5 bits), zero-sharing mask.
 * With t = r + 1 (beta != 0) and v = r (beta = 0) or t:
 *   step 3/4: w_i = x_i + j v_i - 2 v_i x_i;
 *   step 3 (beta = 0): c_i = j v_i - x_i + j + sum_{k>i} w_k;
 *   step 4 (beta = 1): c_i = -j v_i + x_i + j + sum_{k>i} w_k;
 *   step 6: d_i = s_i c_i, sent rotated: d[(i + rot) mod 32] = d_i + mask (j = 0) or d_i - mask (j = 1).
 * (Step 5, r = 2^64-1, cannot occur: r < 2^31.) The suffix sum stays
 * unreduced (|sum| <= 32 * 255) and 256 p makes the one reduction's operand
 * non-negative, as in the ts and native kernels; the mask is added with one
 * conditional subtraction exactly as there (a mask byte >= p gives the same
 * byte everywhere).
 */
SCU_HD void pc32_row(int j, const uint8_t *x, uint64_t r, uint8_t beta, const uint8_t *s, uint8_t rot, const uint8_t *mask, uint8_t *d) {
  const uint32_t v = beta == 0 ? uint32_t(r) : uint32_t(r) + 1u;  // t = r + 1 <= 2^31
  const int sign = beta == 0 ? -1 : 1;
  const int ro = rot & 31;
  int suffix = 0;  // sum_{k>i} w_k
  for (int i = 31; i >= 0; i--) {
    const int vi = int((v >> i) & 1u), xi = x[i];
    const int c = (sign * (xi - j * vi) + j + suffix + 256 * ZP) % ZP;
    suffix += xi + j * vi - 2 * vi * xi;
    const int k = (i + ro) & 31;
    const int val = (int(s[i]) * c) % ZP;
    const int m = j == 0 ? val + mask[k] : val - mask[k];
    d[k] = uint8_t(j == 0 ? (m >= ZP ? m - ZP : m) : (m < 0 ? m + ZP : m));
  }
}

/* out[16 u + i] = ([digit_i(x) <= u] - r[16 u + i]) mod p, u = 0, 1, 2, digit i = bits 2i, 2i+1 of x. */
SCU_HD void digitshare16_row(uint64_t x, const uint8_t *r, uint8_t *out) {
  const uint32_t lo = uint32_t(x);
  for (int i = 0; i < 16; i++) {
    const int xi = int((lo >> (2 * i)) & 3u);
    for (int u = 0; u < 3; u++) out[16 * u + i] = uint8_t(modp((xi <= u ? 1 : 0) - int(r[16 * u + i])));
  }
}

/*
 * Radix-4 PrivateCompare for party j on one element (kernels/radix4.ts):
 * xl = dealt shares of L_i[u] = [x_i <= u] (entry 16 u + i, u = 0, 1, 2;
 * L_i[-1] = 0 and L_i[3] = 1 public, P1 holding the public 1s). With
 * v = r (beta = 0) or r + 1 and its digits v_i:
 *   c_i = [x_i <= v_i] (beta = 0) or [x_i >= v_i] = 1 - L_i[v_i - 1] (beta = 1), plus sum_{k>i} [x_k != v_k],
 *   [x_k != v_k] = 1 - (L_k[v_k] - L_k[v_k - 1]);
 *   d[(i + rot) mod 16] = s_i c_i + mask (j = 0) or - mask (j = 1), mod p.
 */
SCU_HD int r4_share(int j, const uint8_t *xl, int i, int u) { return u < 0 ? 0 : u >= 3 ? j : int(xl[16 * u + i]); }

SCU_HD void pcr4_row(int j, const uint8_t *xl, uint64_t r, uint8_t beta, const uint8_t *s, uint8_t rot, const uint8_t *mask, uint8_t *d) {
  const uint32_t v = beta == 0 ? uint32_t(r) : uint32_t(r) + 1u;  // t = r + 1 <= 2^31
  const int ro = rot & 15;
  int suffix = 0;  // share of sum_{k>i} [x_k != v_k]
  for (int i = 15; i >= 0; i--) {
    const int vi = int((v >> (2 * i)) & 3u);
    const int at = r4_share(j, xl, i, vi), below = r4_share(j, xl, i, vi - 1);
    const int head = beta == 0 ? at : j - below;
    const int c = modp(head + suffix);
    suffix += j - (at - below);
    const int k = (i + ro) & 15;
    const int val = (int(s[i]) * c) % ZP;
    d[k] = uint8_t(modp(j == 0 ? val + mask[k] : val - mask[k]));
  }
}

}  // namespace scu_rows

#endif
