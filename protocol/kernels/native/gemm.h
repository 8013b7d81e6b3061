// GEMM over Z_2^64: C[m x n] = A[m x k] . B[k x n] mod 2^64 (row-major).
// Blocked in the BLIS style (pack a KC x NC block of B and an MC x KC block of
// A, then run an MR x NR register micro-kernel; micro-kernels in
// gemm-kernels.h). Picked at run time from what the CPU supports: on x86
// AVX-512 F/DQ/BW/VL (vpmullq, gemm-x86.cc), AVX2 (32-bit half products and
// Winograd's inner product, gemm-x86.cc) or portable scalar (gemm-portable.cc);
// on arm64 NEON (gemm-arm.cc) or portable scalar. All compute the exact same
// sum mod 2^64, so the result never depends on the path or the thread split.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

namespace securenn {

// Ordered levels; a cap keeps min(cap, detected). Level 1 is the
// architecture's baseline vector unit: AVX2 on x86, NEON (Advanced SIMD) on
// arm64 (so Avx2 and Neon share the value; only one exists per build).
enum class SimdLevel { Scalar = 0, Avx2 = 1, Neon = 1, Avx512 = 2 };

SimdLevel detectSimd();
const char* simdName(SimdLevel s);

// Caps the SIMD level used (for tests and benchmarks); the effective level is
// min(cap, detected). Returns the effective level.
SimdLevel setSimdCap(SimdLevel cap);
SimdLevel activeSimd();

// Maximum number of threads one gemm call may use (clamped to [1, 64]; default 2).
// Large products are split into bands of C, one per thread. Returns the new value.
int setMaxThreads(int n);
int maxThreads();

// A, B, C must not overlap. m, k, n may be 0.
void gemm(const uint64_t* A, const uint64_t* B, uint64_t* C, size_t m, size_t k, size_t n);

// Threads for a product of `work` multiply-adds whose output splits into `tiles` bands: at most maxThreads(), at
// least one, and one per 2^22 multiply-adds (below that one thread is faster than starting another).
size_t bandCount(double work, size_t tiles);

// The L1 data cache size the k block is chosen by (gemm.cc kcFor: the AVX2 2x8 kernel takes 512 from 48 KiB, else
// 256); 0 (the default) is what the C library reports. For the equality driver (gemm-check.cc), so that both k blocks
// a kernel can run with are checked on any machine. Returns the size in force.
size_t setL1dBytes(size_t bytes);

// Runs band(0) .. band(parts - 1), bands 1.. on threads of their own (here, in order, when a thread cannot start);
// the bands must write disjoint memory. Throws std::bad_alloc when any band threw.
void runBands(size_t parts, const std::function<void(size_t)>& band);

}  // namespace securenn
