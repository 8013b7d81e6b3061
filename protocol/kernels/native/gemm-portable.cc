// Portable micro-kernel of the u64 GEMM (see gemm-kernels.h), for CPUs with
// neither AVX2 nor NEON and for the forced scalar path. Plain C++ on u64, which
// wraps mod 2^64.
#include "gemm-kernels.h"

namespace securenn {
namespace gemmk {
namespace {

// Winograd MR x NR: per pair of k steps one multiply per tile element
// ((a0 + b1)(a1 + b0)), then minus rho[r] and gamma[j] (see gemm-kernels.h).
// On the Xeon of BENCHMARKS.md 1.3-1.5x the plain 4 x 4 kernel (one multiply
// per MAC) it replaces; on arm64 it is the fallback when NEON is capped off.
template <size_t MR, size_t NR>
void kernelScalarWino(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  u64 acc[MR][NR] = {};
  for (size_t p = 0; p < kc / 2; p++) {
    for (size_t r = 0; r < MR; r++) {
      const u64 a0 = pa[r], a1 = pa[MR + r];
      for (size_t j = 0; j < NR; j++) acc[r][j] += (a0 + pb[NR + j]) * (a1 + pb[j]);
    }
    pa += 2 * MR;
    pb += 2 * NR;
  }
  if (kc & 1) {
    for (size_t r = 0; r < MR; r++)
      for (size_t j = 0; j < NR; j++) acc[r][j] += pa[r] * pb[j];
    pa += MR;
    pb += NR;
  }
  for (size_t r = 0; r < MR; r++)
    for (size_t j = 0; j < NR; j++) acc[r][j] -= pa[r] + pb[j];
  addTile(c, ldc, &acc[0][0], NR, mr, nr);
}

}  // namespace

const KernelSpec kScalar{4, 4, true, 256, 64, 1024, kernelScalarWino<4, 4>};

void smallMScalar(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) { smallMBody(A, B, C, m, k, n); }

}  // namespace gemmk
}  // namespace securenn
