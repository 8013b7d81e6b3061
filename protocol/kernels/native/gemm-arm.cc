// arm64 micro-kernel of the u64 GEMM (see gemm-kernels.h): NEON (Advanced
// SIMD, present on every ARMv8-A core). NEON has no 64 x 64 -> 64 multiply
// either, so as in the AVX2 kernel a product is taken in 32-bit halves,
//   u * v mod 2^64 = ulo*vlo + ((ulo*vhi + uhi*vlo) mod 2^32) << 32,
// umlal (vmlal_u32) accumulating ulo*vlo in 64 bits, and mla (vmlaq_u32) of u
// with v's halves swapped (rev64) accumulating both cross products in 32-bit
// lanes, folded once per tile. Winograd's pairing (gemm-kernels.h) halves the
// products. Checked under qemu-aarch64 by scripts/check-arm64.sh; its speed
// on real arm64 cores is not measured (GCC 12 keeps all but three of the 16
// accumulators in registers; the tile size is not tuned).
#if defined(__aarch64__)
#include <arm_neon.h>

#include "gemm-kernels.h"

namespace securenn {
namespace gemmk {
namespace {

constexpr size_t N_MR = 4, N_NR = 4;

// lo[0..1] += ulo*vlo (64 bits), x[0..1] += the cross products mod 2^32, for
// 4 columns held in two vectors each.
inline __attribute__((always_inline)) void mulAdd(uint64x2_t* lo, uint32x4_t* x, uint64x2_t u0, uint64x2_t u1, uint64x2_t v0, uint64x2_t v1) {
  const uint32x4_t uw0 = vreinterpretq_u32_u64(u0), uw1 = vreinterpretq_u32_u64(u1);
  const uint32x4_t vw0 = vreinterpretq_u32_u64(v0), vw1 = vreinterpretq_u32_u64(v1);
  const uint32x4_t ulo = vuzp1q_u32(uw0, uw1), vlo = vuzp1q_u32(vw0, vw1);  // low halves of columns 0..3
  lo[0] = vmlal_u32(lo[0], vget_low_u32(ulo), vget_low_u32(vlo));
  lo[1] = vmlal_high_u32(lo[1], ulo, vlo);
  x[0] = vmlaq_u32(x[0], uw0, vrev64q_u32(vw0));
  x[1] = vmlaq_u32(x[1], uw1, vrev64q_u32(vw1));
}

// lo + (x_lo + x_hi) << 32, with (x_lo + x_hi) << 32 == (x << 32) + (x & 0xFFFFFFFF00000000).
inline uint64x2_t fold(uint64x2_t lo, uint32x4_t x) {
  const uint64x2_t x64 = vreinterpretq_u64_u32(x);
  return vaddq_u64(lo, vaddq_u64(vshlq_n_u64(x64, 32), vandq_u64(x64, vdupq_n_u64(0xFFFFFFFF00000000ull))));
}

// Winograd 4 x 4: per pair of k steps and row,
// u = a0 + b1, v = a1 + b0, acc += u * v; then minus rho[r] and gamma.
void kernelNeon(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  uint64x2_t lo[N_MR][2];  // ulo*vlo, columns 0-1 and 2-3
  uint32x4_t x[N_MR][2];   // cross products mod 2^32, two per 64-bit lane
  for (size_t r = 0; r < N_MR; r++) {
    lo[r][0] = lo[r][1] = vdupq_n_u64(0);
    x[r][0] = x[r][1] = vdupq_n_u32(0);
  }
  for (size_t p = 0; p < kc / 2; p++) {
    const uint64x2_t b00 = vld1q_u64(pb), b01 = vld1q_u64(pb + 2), b10 = vld1q_u64(pb + 4), b11 = vld1q_u64(pb + 6);
#pragma GCC unroll 4
    for (size_t r = 0; r < N_MR; r++) {
      const uint64x2_t a0 = vdupq_n_u64(pa[r]), a1 = vdupq_n_u64(pa[N_MR + r]);
      mulAdd(lo[r], x[r], vaddq_u64(a0, b10), vaddq_u64(a0, b11), vaddq_u64(a1, b00), vaddq_u64(a1, b01));
    }
    pa += 2 * N_MR;
    pb += 2 * N_NR;
  }
  if (kc & 1) {  // odd last step of the last block: a plain rank-1 update
    const uint64x2_t b0 = vld1q_u64(pb), b1 = vld1q_u64(pb + 2);
    for (size_t r = 0; r < N_MR; r++) {
      const uint64x2_t a = vdupq_n_u64(pa[r]);
      mulAdd(lo[r], x[r], a, a, b0, b1);
    }
    pa += N_MR;
    pb += N_NR;
  }
  // pa -> rho[4], pb -> gamma[4]
  const uint64x2_t g0 = vld1q_u64(pb), g1 = vld1q_u64(pb + 2);
  u64 tmp[N_MR * N_NR];
  for (size_t r = 0; r < N_MR; r++) {
    const uint64x2_t rho = vdupq_n_u64(pa[r]);
    vst1q_u64(tmp + r * N_NR, vsubq_u64(vsubq_u64(fold(lo[r][0], x[r][0]), rho), g0));
    vst1q_u64(tmp + r * N_NR + 2, vsubq_u64(vsubq_u64(fold(lo[r][1], x[r][1]), rho), g1));
  }
  addTile(c, ldc, tmp, N_NR, mr, nr);
}

}  // namespace

const KernelSpec kNeon{N_MR, N_NR, true, 256, 96, 512, kernelNeon};

}  // namespace gemmk
}  // namespace securenn
#endif
