// x86 micro-kernels of the u64 GEMM (see gemm-kernels.h): AVX2 and AVX-512.
// Each is compiled for its ISA with __attribute__((target(...))) and only
// called when cpuid reports it (gemm.cc), so the file builds for any x86-64.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <cstdint>

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
__attribute__((target("avx2"))) inline __m256i bcast(u64 v) { return _mm256_set1_epi64x(static_cast<long long>(v)); }

// Where a kernel finds A: a packed panel (value (r, t) at pa[t * MR + r], the panel ending with rho) or the rows
// in place (value (r, t) at a[r * lda + t], rho passed apart; gemm-kernels.h KernelDirectFn).
template <bool Direct, size_t MR>
struct ASrc {
  const u64* p;
  size_t lda;
  u64* rho;
  inline u64 at(size_t r, size_t t) const { return Direct ? p[r * lda + t] : p[t * MR + r]; }
  inline void step(size_t t) { p += Direct ? t : t * MR; }
  inline const u64* rhoPtr() const { return Direct ? rho : p; }  // packed: after the last step, p is at rho
};

// Winograd MR x 4NV kernel (see gemm-kernels.h): per pair of k steps, row and
// 4-column vector, u = a0 + b1 and v = a1 + b0 (vpaddq), one emulated product
// u * v (vpmuludq; vpshufd + vpmulld) for 2 MACs per lane; then minus rho[r]
// and gamma. Per 8 MACs: 7 vector instructions, 2 of them multiplies (on Intel
// vpmulld is 2 uops: 8 uops, 3 multiply uops) instead of 10 (6) for the plain
// product; on AMD Zen 4/5 (4 vector pipes, 2 multiplying) the 7 instructions
// bound it to 4.57 MACs per cycle. No AVX2 form with fewer than 7 was found
// (BENCHMARKS.md, "AVX2 GEMM: 2x8 micro-kernel"): the cross products need v
// (or u) with its halves swapped, and v = a1 + b0 carries from its low half
// into its high one, so the swap cannot be packed ahead. Registers: 2 * MR * NV
// accumulators + 2 NV of B + u, v, rot(v). 2 x 8 (NV = 2; 15 ymm) ran 1.10x
// the 4 x 4 one alone on AMD Zen 5 (the same 7 vector instructions per 8 MACs;
// GCC's pair loop dispatches 42 instead of 46 per 32 MACs, 4 broadcasts of A
// instead of 8); 3 x 8 spills; 4 x 4 stays for n <= 4.
template <bool Direct, bool MakeRho, size_t MR, size_t NV>
__attribute__((target("avx2"))) inline void avx2Wino(size_t kc, ASrc<Direct, MR> a, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  constexpr size_t NR = 4 * NV;
  __m256i lo[MR][NV], x[MR][NV];
  u64 rs[MR];  // MakeRho: the row terms, summed on the integer unit beside the vector work
  for (size_t r = 0; r < MR; r++) {
    rs[r] = 0;
    for (size_t w = 0; w < NV; w++) lo[r][w] = x[r][w] = _mm256_setzero_si256();
  }
  for (size_t j = 0; j < kc / 2; j++) {
    __m256i b0[NV], b1[NV];
    for (size_t w = 0; w < NV; w++) {
      b0[w] = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb + 4 * w));
      b1[w] = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb + NR + 4 * w));
    }
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; r++) {
      const u64 a0 = a.at(r, 0), a1 = a.at(r, 1);
      if (MakeRho) {
        rs[r] += a0 * a1;
        // The first column panel reads this row panel from memory (the im2col products stream A once); the next
        // row panel is read right after it: fetch its row r + MR at the same step now. Integer address: past the
        // last panel it points outside A, where a prefetch does nothing.
        if (Direct) _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(&a.p[r * a.lda]) + MR * a.lda * sizeof(u64)), _MM_HINT_T0);
      }
      const __m256i A0 = bcast(a0), A1 = bcast(a1);
      for (size_t w = 0; w < NV; w++) {
        const __m256i u = _mm256_add_epi64(A0, b1[w]);
        const __m256i v = _mm256_add_epi64(A1, b0[w]);
        lo[r][w] = _mm256_add_epi64(lo[r][w], _mm256_mul_epu32(u, v));
        x[r][w] = _mm256_add_epi32(x[r][w], _mm256_mullo_epi32(u, _mm256_shuffle_epi32(v, 0xB1)));
      }
    }
    a.step(2);
    pb += 2 * NR;
  }
  if (kc & 1) {  // odd last step of the last block: a plain rank-1 update
    for (size_t w = 0; w < NV; w++) {
      const __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb + 4 * w));
      const __m256i s = _mm256_shuffle_epi32(b, 0xB1);
      for (size_t r = 0; r < MR; r++) {
        const __m256i av = bcast(a.at(r, 0));
        lo[r][w] = _mm256_add_epi64(lo[r][w], _mm256_mul_epu32(av, b));
        x[r][w] = _mm256_add_epi32(x[r][w], _mm256_mullo_epi32(av, s));
      }
    }
    a.step(1);
    pb += NR;
  }
  // pb -> gamma[NR]
  const u64* rho = a.rhoPtr();
  if (MakeRho)
    for (size_t r = 0; r < MR; r++) a.rho[r] = rs[r];
  __m256i gamma[NV];
  for (size_t w = 0; w < NV; w++) gamma[w] = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb + 4 * w));
  if (mr == MR && nr == NR) {  // a full tile: added to C in place
    for (size_t r = 0; r < MR; r++)
      for (size_t w = 0; w < NV; w++) {
        __m256i* cp = reinterpret_cast<__m256i*>(c + r * ldc + 4 * w);
        const __m256i t = _mm256_sub_epi64(_mm256_sub_epi64(foldCross(lo[r][w], x[r][w]), bcast(rho[r])), gamma[w]);
        _mm256_storeu_si256(cp, _mm256_add_epi64(_mm256_loadu_si256(cp), t));
      }
    return;
  }
  alignas(32) u64 tmp[MR * NR];
  for (size_t r = 0; r < MR; r++)
    for (size_t w = 0; w < NV; w++) {
      const __m256i t = _mm256_sub_epi64(_mm256_sub_epi64(foldCross(lo[r][w], x[r][w]), bcast(rho[r])), gamma[w]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + NR * r + 4 * w), t);
    }
  addTile(c, ldc, tmp, NR, mr, nr);
}
template <size_t MR, size_t NV>
__attribute__((target("avx2"))) void kernelAvx2Wino(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  avx2Wino<false, false, MR, NV>(kc, {pa, 0, nullptr}, pb, c, ldc, mr, nr);
}
template <size_t MR, size_t NV>
__attribute__((target("avx2"))) void directAvx2Wino(size_t kc, const u64* a, size_t lda, u64* rho, bool makeRho, const u64* pb, u64* c, size_t ldc, size_t nr) {
  if (makeRho) avx2Wino<true, true, MR, NV>(kc, {a, lda, rho}, pb, c, ldc, MR, nr);
  else avx2Wino<true, false, MR, NV>(kc, {a, lda, rho}, pb, c, ldc, MR, nr);
}

// AVX-512 tiles: C[0:mr, 0:nr] += acc, RV 8-lane vectors per row.
template <size_t MR, size_t RV>
__attribute__((target("avx512f,avx512dq"))) inline void storeTile512(__m512i (&acc)[MR][RV], u64* c, size_t ldc, size_t mr, size_t nr) {
  if (mr == MR && nr == 8 * RV) {
    for (size_t r = 0; r < MR; r++)
      for (size_t v = 0; v < RV; v++) {
        u64* cp = c + r * ldc + 8 * v;
        _mm512_storeu_si512(cp, _mm512_add_epi64(_mm512_loadu_si512(cp), acc[r][v]));
      }
  } else {
    alignas(64) u64 tmp[MR * 8 * RV];
    for (size_t r = 0; r < MR; r++)
      for (size_t v = 0; v < RV; v++) _mm512_store_si512(tmp + r * 8 * RV + 8 * v, acc[r][v]);
    addTile(c, ldc, tmp, 8 * RV, mr, nr);
  }
}
__attribute__((target("avx512f,avx512dq"))) inline __m512i bcast512(u64 v) { return _mm512_set1_epi64(static_cast<long long>(v)); }

// ---- AVX-512 (F + DQ) plain micro-kernels, vpmullq: MR x (8 RV); 8 x 16, and 16 x 8 for narrow B (n <= 8) ----
template <bool Direct, size_t MR, size_t RV>
__attribute__((target("avx512f,avx512dq"))) inline void avx512Plain(size_t kc, ASrc<Direct, MR> a, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  __m512i acc[MR][RV];
  for (size_t r = 0; r < MR; r++)
    for (size_t v = 0; v < RV; v++) acc[r][v] = _mm512_setzero_si512();
  for (size_t t = 0; t < kc; t++) {
    __m512i b[RV];
    for (size_t v = 0; v < RV; v++) b[v] = _mm512_load_si512(pb + 8 * v);
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; r++) {
      const __m512i av = bcast512(a.at(r, 0));
      for (size_t v = 0; v < RV; v++) acc[r][v] = _mm512_add_epi64(acc[r][v], _mm512_mullo_epi64(av, b[v]));
    }
    a.step(1);
    pb += 8 * RV;
  }
  storeTile512<MR, RV>(acc, c, ldc, mr, nr);
}

template <size_t MR, size_t RV>
__attribute__((target("avx512f,avx512dq"))) void kernelAvx512(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  avx512Plain<false, MR, RV>(kc, {pa, 0, nullptr}, pb, c, ldc, mr, nr);
}
template <size_t MR, size_t RV>
__attribute__((target("avx512f,avx512dq"))) void directAvx512(size_t kc, const u64* a, size_t lda, u64*, bool, const u64* pb, u64* c, size_t ldc, size_t nr) {
  avx512Plain<true, MR, RV>(kc, {a, lda, nullptr}, pb, c, ldc, MR, nr);
}
}  // namespace

// Blocking: KC 128-384, MC 48-192, NC 256-1024 measured alike (within the noise).
const KernelSpec kAvx2{2, 8, true, 256, 96, 512, kernelAvx2Wino<2, 2>, directAvx2Wino<2, 2>, 512};
const KernelSpec kAvx2Narrow{4, 4, true, 256, 96, 4, kernelAvx2Wino<4, 1>, directAvx2Wino<4, 1>};
const KernelSpec kAvx512{8, 16, false, 192, 128, 1024, kernelAvx512<8, 2>, directAvx512<8, 2>};
const KernelSpec kAvx512Narrow{16, 8, false, 256, 128, 8, kernelAvx512<16, 1>, directAvx512<16, 1>};

__attribute__((target("avx2"))) void smallMAvx2(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) { smallMBody(A, B, C, m, k, n); }
__attribute__((target("avx512f,avx512dq"))) void smallMAvx512(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) { smallMBody(A, B, C, m, k, n); }

}  // namespace gemmk
}  // namespace securenn
#endif
