// Micro-kernels of the u64 GEMM (gemm.cc does the blocking, packing, dispatch
// and threads). A kernel adds an MR x NR tile of the product of a packed A
// panel (kc steps of MR values) and a packed B panel (kc steps of NR values)
// into C, keeping only mr x nr of it.
//
// Two ways to sum a tile:
//  - plain: C += sum_t a_t * b_t, one 64 x 64 -> 64 product per MAC;
//  - Winograd's inner product (S. Winograd, "A new algorithm for inner
//    product", IEEE Trans. Computers C-17, 1968): over a commutative ring,
//      a0*b0 + a1*b1 = (a0 + b1)(a1 + b0) - a0*a1 - b0*b1,
//    so per pair of k steps one product for the tile element plus a row term
//    rho = sum a0*a1 (packed after the A panel) and a column term
//    gamma = sum b0*b1 (packed after the B panel), each computed once per
//    panel. It halves the products where a product costs more than an add
//    (AVX2 and NEON have no 64-bit vector multiply). Exact in Z_2^64: nothing
//    is approximated, only the order of the wrapping sums changes.
#pragma once
#include <cstddef>
#include <cstdint>

namespace securenn {
namespace gemmk {

using u64 = uint64_t;

typedef void (*KernelFn)(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr);
// The same tile with A read in place (no packed A panel): row r of the tile at a + r * lda, MR full rows; rho[r]
// the row terms of a Winograd kernel (unused otherwise). For kernels that broadcast A: a packed A panel only
// reorders values they load one at a time, and packing A weighs most in a product whose n is small (each A value
// serves n MACs), mostly waiting on memory outside the compute loop (BENCHMARKS.md, "CPU GEMM kernels on AMD EPYC").
// With makeRho (the first column panel of a block) a Winograd kernel also sums rho itself and writes it there, so
// A is read from memory once, inside the compute loop, not in a pass of its own before it.
typedef void (*KernelDirectFn)(size_t kc, const u64* a, size_t lda, u64* rho, bool makeRho, const u64* pb, u64* c, size_t ldc, size_t nr);

struct KernelSpec {
  size_t MR, NR;
  bool winograd;  // panels end with rho (MR values) / gamma (NR values); kc of every block but the last is even
  size_t KC, MC, NC;
  KernelFn fn;
  KernelDirectFn direct = nullptr;  // when set: full row panels read A in place (gemm.cc), the last partial one is packed
  size_t KCWideL1 = 0;  // when set: KC on a CPU whose L1 data cache holds at least 48 KiB (gemm.cc kcFor)
};

// C[0:mr, 0:nr] += tmp[0:mr, 0:nr] (tmp has NR columns).
inline void addTile(u64* c, size_t ldc, const u64* tmp, size_t NR, size_t mr, size_t nr) {
  for (size_t r = 0; r < mr; r++)
    for (size_t j = 0; j < nr; j++) c[r * ldc + j] += tmp[r * NR + j];
}

// Few rows of C (m <= 4): C[i, :] += A[i, t] * B[t, :], no packing; one loop, inlined into
// smallMScalar and into each ISA's entry point (target attributes), where the compiler vectorises it.
constexpr size_t kSmallMCols = 512;
inline __attribute__((always_inline)) void smallMBody(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) {
  for (size_t j0 = 0; j0 < n; j0 += kSmallMCols) {
    const size_t jn = (n - j0) < kSmallMCols ? (n - j0) : kSmallMCols;
    for (size_t i = 0; i < m; i++) {
      u64* __restrict cr = C + i * n + j0;
      const u64* a = A + i * k;
      for (size_t t = 0; t < k; t++) {
        const u64 av = a[t];
        const u64* __restrict b = B + t * n + j0;
        for (size_t j = 0; j < jn; j++) cr[j] += av * b[j];
      }
    }
  }
}

void smallMScalar(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n);

extern const KernelSpec kScalar;
#if defined(__x86_64__) || defined(__i386__)
extern const KernelSpec kAvx2, kAvx2Narrow, kAvx512, kAvx512Narrow;
void smallMAvx2(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n);
void smallMAvx512(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n);
#endif
#if defined(__aarch64__)
extern const KernelSpec kNeon;
#endif

}  // namespace gemmk
}  // namespace securenn
