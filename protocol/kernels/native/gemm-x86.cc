// x86 micro-kernels of the u64 GEMM (see gemm-kernels.h): AVX2 and AVX-512.
// Each is compiled for its ISA with __attribute__((target(...))) and only
// called when cpuid reports it (gemm.cc), so the file builds for any x86-64.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "gemm-kernels.h"

namespace securenn {
namespace gemmk {
namespace {

// ---- AVX2 ----
// AVX2 has no 64 x 64 -> 64 multiply. In 32-bit halves,
//   a * b mod 2^64 = alo*blo + ((alo*bhi + ahi*blo) mod 2^32) << 32:
// vpmuludq gives alo*blo (64 bits) per lane; vpmulld of [alo, ahi] with b
// rotated by 32 bits ([bhi, blo]) gives both cross products mod 2^32 in the two
// halves of a lane. The cross products are summed in 32-bit lanes (vpaddd) and
// folded once per tile: (x_lo + x_hi) << 32 == (x << 32) + (x & 0xFFFFFFFF00000000).
__attribute__((target("avx2"))) inline __m256i foldCross(__m256i lo, __m256i x) {
  const __m256i hiMask = _mm256_set1_epi64x(static_cast<long long>(0xFFFFFFFF00000000ull));
  return _mm256_add_epi64(lo, _mm256_add_epi64(_mm256_slli_epi64(x, 32), _mm256_and_si256(x, hiMask)));
}
__attribute__((target("avx2"))) inline __m256i bcast(const u64* p) { return _mm256_set1_epi64x(static_cast<long long>(*p)); }

// Winograd MR x 4 kernel (see gemm-kernels.h): per pair of k steps and row,
// u = a0 + b1 and v = a1 + b0 (vpaddq), one emulated product u * v
// (vpmuludq; vpshufd + vpmulld) for 2 MACs per lane; then minus rho[r] and
// gamma. Per 8 MACs: 8 vector ALU uops (3 of them multiply uops) instead of 10
// (6) for the plain product. 2*MR accumulators + b0, b1 + u, v, rot(v): MR = 4
// leaves room in the 16 ymm registers (MR = 6 spilled; MR = 4, 5 and 6 measured
// alike, within the noise of the shared machine).
template <size_t MR>
__attribute__((target("avx2"))) void kernelAvx2Wino(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  __m256i lo[MR], x[MR];
  for (size_t r = 0; r < MR; r++) lo[r] = x[r] = _mm256_setzero_si256();
  for (size_t j = 0; j < kc / 2; j++) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb + 4));
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; r++) {
      const __m256i u = _mm256_add_epi64(bcast(pa + r), b1);
      const __m256i v = _mm256_add_epi64(bcast(pa + MR + r), b0);
      lo[r] = _mm256_add_epi64(lo[r], _mm256_mul_epu32(u, v));
      x[r] = _mm256_add_epi32(x[r], _mm256_mullo_epi32(u, _mm256_shuffle_epi32(v, 0xB1)));
    }
    pa += 2 * MR;
    pb += 8;
  }
  if (kc & 1) {  // odd last step of the last block: a plain rank-1 update
    const __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb));
    const __m256i s = _mm256_shuffle_epi32(b, 0xB1);
    for (size_t r = 0; r < MR; r++) {
      const __m256i a = bcast(pa + r);
      lo[r] = _mm256_add_epi64(lo[r], _mm256_mul_epu32(a, b));
      x[r] = _mm256_add_epi32(x[r], _mm256_mullo_epi32(a, s));
    }
    pa += MR;
    pb += 4;
  }
  // pa -> rho[MR], pb -> gamma[4]
  const __m256i gamma = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb));
  alignas(32) u64 tmp[MR * 4];
  for (size_t r = 0; r < MR; r++) {
    const __m256i sum = foldCross(lo[r], x[r]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 4 * r), _mm256_sub_epi64(_mm256_sub_epi64(sum, bcast(pa + r)), gamma));
  }
  addTile(c, ldc, tmp, 4, mr, nr);
}

// ---- AVX-512 (F + DQ) micro-kernel: 8 x 16, vpmullq ----
constexpr size_t A5_MR = 8, A5_NR = 16;
__attribute__((target("avx512f,avx512dq"))) void kernelAvx512(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  __m512i acc[A5_MR][2];
  for (size_t r = 0; r < A5_MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  for (size_t t = 0; t < kc; t++) {
    const __m512i b0 = _mm512_load_si512(pb);
    const __m512i b1 = _mm512_load_si512(pb + 8);
#pragma GCC unroll 8
    for (size_t r = 0; r < A5_MR; r++) {
      const __m512i a = _mm512_set1_epi64(static_cast<long long>(pa[r]));
      acc[r][0] = _mm512_add_epi64(acc[r][0], _mm512_mullo_epi64(a, b0));
      acc[r][1] = _mm512_add_epi64(acc[r][1], _mm512_mullo_epi64(a, b1));
    }
    pa += A5_MR;
    pb += A5_NR;
  }
  if (mr == A5_MR && nr == A5_NR) {
    for (size_t r = 0; r < A5_MR; r++)
      for (size_t v = 0; v < 2; v++) {
        u64* cp = c + r * ldc + 8 * v;
        _mm512_storeu_si512(cp, _mm512_add_epi64(_mm512_loadu_si512(cp), acc[r][v]));
      }
  } else {
    alignas(64) u64 tmp[A5_MR * A5_NR];
    for (size_t r = 0; r < A5_MR; r++)
      for (size_t v = 0; v < 2; v++) _mm512_store_si512(tmp + r * A5_NR + 8 * v, acc[r][v]);
    addTile(c, ldc, tmp, A5_NR, mr, nr);
  }
}

// ---- AVX-512 micro-kernel for narrow B (n <= 8): 16 x 8 ----
constexpr size_t A5N_MR = 16, A5N_NR = 8;
__attribute__((target("avx512f,avx512dq"))) void kernelAvx512Narrow(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  __m512i acc[A5N_MR];
  for (size_t r = 0; r < A5N_MR; r++) acc[r] = _mm512_setzero_si512();
  for (size_t t = 0; t < kc; t++) {
    const __m512i b = _mm512_load_si512(pb);
#pragma GCC unroll 16
    for (size_t r = 0; r < A5N_MR; r++) acc[r] = _mm512_add_epi64(acc[r], _mm512_mullo_epi64(_mm512_set1_epi64(static_cast<long long>(pa[r])), b));
    pa += A5N_MR;
    pb += A5N_NR;
  }
  if (mr == A5N_MR && nr == A5N_NR) {
    for (size_t r = 0; r < A5N_MR; r++) {
      u64* cp = c + r * ldc;
      _mm512_storeu_si512(cp, _mm512_add_epi64(_mm512_loadu_si512(cp), acc[r]));
    }
  } else {
    alignas(64) u64 tmp[A5N_MR * A5N_NR];
    for (size_t r = 0; r < A5N_MR; r++) _mm512_store_si512(tmp + r * A5N_NR, acc[r]);
    addTile(c, ldc, tmp, A5N_NR, mr, nr);
  }
}


}  // namespace

// Blocking: KC 128-384, MC 48-192, NC 256-1024 measured alike (within the noise).
const KernelSpec kAvx2{4, 4, true, 256, 96, 512, kernelAvx2Wino<4>};
const KernelSpec kAvx512{A5_MR, A5_NR, false, 192, 128, 1024, kernelAvx512};
const KernelSpec kAvx512Narrow{A5N_MR, A5N_NR, false, 256, 128, 8, kernelAvx512Narrow};

__attribute__((target("avx2"))) void smallMAvx2(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) { smallMBody(A, B, C, m, k, n); }
__attribute__((target("avx512f,avx512dq"))) void smallMAvx512(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) { smallMBody(A, B, C, m, k, n); }

}  // namespace gemmk
}  // namespace securenn
#endif
