// See gemm.h. Everything here is u64 arithmetic, which wraps mod 2^64 by the
// C++ rules, so any order of accumulation gives the same bits.
#include "gemm.h"

#include "gemm-kernels.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define SECURENN_X86 1
#endif

namespace securenn {
namespace {

using gemmk::KernelSpec;
using u64 = uint64_t;

// The packing buffers of the calling thread, kept between calls (grow only; at most MC x KC and NC x KC values of
// one kernel: up to about 2.4 MiB per thread that calls gemm, the AVX2 2x8 kernel's with its 512 k block): a fresh
// allocation of this size is a new mapping each call, paid again in page faults and zeroing on its first touch.
struct Scratch {
  u64* p = nullptr;
  size_t cap = 0;
  ~Scratch() { std::free(p); }
  u64* get(size_t n) {
    if (n > cap) {
      std::free(p);
      cap = 0;
      p = static_cast<u64*>(std::aligned_alloc(64, ((n * sizeof(u64) + 63) / 64) * 64));
      if (!p) throw std::bad_alloc();
      cap = n;
    }
    return p;
  }
};
thread_local Scratch tlsPackA, tlsPackB, tlsRho;

// u64 values in one packed panel (a Winograd panel ends with its MR rho / NR gamma values).
size_t aPanel(const KernelSpec& ks, size_t kc) { return kc * ks.MR + (ks.winograd ? ks.MR : 0); }
size_t bPanel(const KernelSpec& ks, size_t kc) { return kc * ks.NR + (ks.winograd ? ks.NR : 0); }

// Packs rows [i0, i0+mc) x cols [p0, p0+kc) of A (leading dim lda) into MR-row
// panels: pa[panel][t][r], then (Winograd) rho[r] = sum_j A[r][2j] * A[r][2j+1]
// over the pairs of this block; rows past the end are zero.
void packA(const KernelSpec& ks, const u64* A, size_t lda, size_t i0, size_t mc, size_t p0, size_t kc, u64* pa) {
  const size_t MR = ks.MR;
  for (size_t ir = 0; ir < mc; ir += MR) {
    u64* dst = pa + (ir / MR) * aPanel(ks, kc);
    if (ir + MR <= mc && MR <= 16) {
      // A full panel: the MR rows are read side by side (MR streams, each prefetched ahead), the panel written in order.
      const u64* src[16];
      for (size_t r = 0; r < MR; r++) src[r] = A + (i0 + ir + r) * lda + p0;
      for (size_t t = 0; t < kc; t++) {
        if ((t & 7) == 0)
          for (size_t r = 0; r < MR; r++) __builtin_prefetch(src[r] + t + 64);
        for (size_t r = 0; r < MR; r++) dst[t * MR + r] = src[r][t];
      }
      if (ks.winograd) {
        for (size_t r = 0; r < MR; r++) {
          u64 rho = 0;
          for (size_t t = 0; t + 1 < kc; t += 2) rho += src[r][t] * src[r][t + 1];
          dst[kc * MR + r] = rho;
        }
      }
      continue;
    }
    for (size_t r = 0; r < MR; r++) {
      if (ir + r < mc) {
        const u64* src = A + (i0 + ir + r) * lda + p0;
        for (size_t t = 0; t < kc; t++) dst[t * MR + r] = src[t];
        if (ks.winograd) {
          u64 rho = 0;
          for (size_t t = 0; t + 1 < kc; t += 2) rho += src[t] * src[t + 1];
          dst[kc * MR + r] = rho;
        }
      } else {
        for (size_t t = 0; t < kc; t++) dst[t * MR + r] = 0;
        if (ks.winograd) dst[kc * MR + r] = 0;
      }
    }
  }
}

// Packs rows [p0, p0+kc) x cols [j0, j0+nc) of B (leading dim ldb) into
// NR-column panels pb[panel][t][j], then (Winograd) gamma[j] =
// sum_p B[2p][j] * B[2p+1][j] over the pairs of this block; columns past the
// end are zero. B is read row by row, in order (each row's nc values are
// contiguous): read panel by panel, one short piece per row ldb values apart,
// the copy waited on memory (10 % of an AVX2 product of 256x1024x256, perf);
// the row terms of a pair of rows are summed while both rows are in L1.
void packB(const KernelSpec& ks, const u64* B, size_t ldb, size_t p0, size_t kc, size_t j0, size_t nc, u64* pb) {
  const size_t NR = ks.NR, stride = bPanel(ks, kc);
  if (ks.winograd)
    for (size_t jr = 0; jr < nc; jr += NR)
      for (size_t j = 0; j < NR; j++) pb[(jr / NR) * stride + kc * NR + j] = 0;
  for (size_t t = 0; t < kc; t++) {
    const u64* src = B + (p0 + t) * ldb + j0;
    u64* d = pb + t * NR;
    for (size_t jr = 0; jr < nc; jr += NR, d += stride) {
      const size_t w = std::min(NR, nc - jr);
      size_t j = 0;
      for (; j < w; j++) d[j] = src[jr + j];
      for (; j < NR; j++) d[j] = 0;
    }
    if (ks.winograd && (t & 1)) {  // the pair (t - 1, t); an odd last row of the block has none
      const u64* prev = src - ldb;
      u64* gamma = pb + kc * NR;
      for (size_t jr = 0; jr < nc; jr += NR, gamma += stride) {
        const size_t w = std::min(NR, nc - jr);
        for (size_t j = 0; j < w; j++) gamma[j] += prev[jr + j] * src[jr + j];
      }
    }
  }
}

// L1 data cache size in bytes as the C library reports it (0 where it does not), read once.
size_t l1dReported() {
  static const size_t bytes = [] {
#ifdef _SC_LEVEL1_DCACHE_SIZE
    const long v = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    return v > 0 ? static_cast<size_t>(v) : size_t{0};
#else
    return size_t{0};
#endif
  }();
  return bytes;
}
std::atomic<size_t> gL1dSet{0};  // setL1dBytes (the equality driver); 0: as reported
size_t l1dBytes() {
  const size_t set = gL1dSet.load();
  return set ? set : l1dReported();
}

// The k block of a kernel: KCWideL1 where the L1 data cache holds 48 KiB or more (AMD Zen 5, Intel since Ice Lake:
// the AVX2 2x8 kernel's B panel, KCWideL1 x 8 values, is 32 KiB), else KC (32 KiB caches: a 16 KiB panel).
size_t kcFor(const KernelSpec& ks) { return ks.KCWideL1 && l1dBytes() >= 48 * 1024 ? ks.KCWideL1 : ks.KC; }

// C[r0:r1, c0:c1] = A[r0:r1, :] . B[:, c0:c1]; C's block must already be zero.
// KC is even, so only the last k block of a Winograd kernel has an odd step.
void gemmRange(const KernelSpec& ks, const u64* A, const u64* B, u64* C, size_t k, size_t n, size_t r0, size_t r1, size_t c0, size_t c1) {
  if (r1 <= r0 || c1 <= c0 || k == 0) return;
  const size_t MR = ks.MR, NR = ks.NR;
  const size_t KC = std::min(kcFor(ks), k);
  const size_t MC = std::min(ks.MC, ((r1 - r0 + MR - 1) / MR) * MR);
  const size_t NC = std::min(ks.NC, ((c1 - c0 + NR - 1) / NR) * NR);
  u64* const pa = tlsPackA.get(((MC + MR - 1) / MR) * aPanel(ks, KC));
  u64* const pb = tlsPackB.get((NC / NR + 1) * bPanel(ks, KC));
  u64* const rho = ks.direct && ks.winograd ? tlsRho.get(MC) : nullptr;
  for (size_t jc = c0; jc < c1; jc += NC) {
    const size_t nc = std::min(NC, c1 - jc);
    for (size_t pc = 0; pc < k; pc += KC) {
      const size_t kc = std::min(KC, k - pc);
      packB(ks, B, n, pc, kc, jc, nc, pb);
      for (size_t ic = r0; ic < r1; ic += MC) {
        const size_t mc = std::min(MC, r1 - ic);
        // Direct kernels read the full MR-row panels of A in place; only a last partial panel is packed.
        const size_t full = ks.direct ? (mc / MR) * MR : 0;
        if (full < mc) packA(ks, A, k, ic + full, mc - full, pc, kc, pa);
        for (size_t jr = 0; jr < nc; jr += NR) {
          const u64* bp = pb + (jr / NR) * bPanel(ks, kc);
          const size_t nr = std::min(NR, nc - jr);
          size_t ir = 0;
          for (; ir < full; ir += MR) ks.direct(kc, A + (ic + ir) * k + pc, k, rho ? rho + ir : nullptr, jr == 0, bp, C + (ic + ir) * n + jc + jr, n, nr);
          for (; ir < mc; ir += MR)
            ks.fn(kc, pa + ((ir - full) / MR) * aPanel(ks, kc), bp, C + (ic + ir) * n + jc + jr, n, std::min(MR, mc - ir), nr);
        }
      }
    }
  }
}

SimdLevel detectOnce() {
#ifdef SECURENN_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) return SimdLevel::Avx512;
  if (__builtin_cpu_supports("avx2")) return SimdLevel::Avx2;
#elif defined(__aarch64__)
  return SimdLevel::Neon;  // Advanced SIMD is part of every ARMv8-A core
#endif
  return SimdLevel::Scalar;
}

std::atomic<int> gSimdCap{static_cast<int>(SimdLevel::Avx512)};
// Default: 2 threads (or 1 on a one-core machine); MPC_KERNEL_THREADS / configure() change it.
std::atomic<int> gMaxThreads{std::thread::hardware_concurrency() == 1 ? 1 : 2};

const KernelSpec& pickKernel(size_t n) {
#ifdef SECURENN_X86
  switch (activeSimd()) {
    case SimdLevel::Avx512: return (n <= gemmk::kAvx512Narrow.NR) ? gemmk::kAvx512Narrow : gemmk::kAvx512;
    case SimdLevel::Avx2: return (n <= gemmk::kAvx2Narrow.NR) ? gemmk::kAvx2Narrow : gemmk::kAvx2;
    default: break;
  }
#elif defined(__aarch64__)
  if (activeSimd() == SimdLevel::Neon) return gemmk::kNeon;
#endif
  (void)n;
  return gemmk::kScalar;
}

// Below this many multiply-adds one thread is faster than starting another.
constexpr double kThreadMinMacs = 1 << 22;
constexpr int kMaxThreads = 64;
// Up to this many rows of C, skip packing (see smallMScalar).
constexpr size_t kSmallM = 4;

}  // namespace

SimdLevel detectSimd() {
  static const SimdLevel level = detectOnce();
  return level;
}

const char* simdName(SimdLevel s) {
  if (s == SimdLevel::Scalar) return "scalar";
#ifdef SECURENN_X86
  return s == SimdLevel::Avx512 ? "avx512" : "avx2";
#else
  return "neon";
#endif
}

SimdLevel setSimdCap(SimdLevel cap) {
  gSimdCap.store(static_cast<int>(cap));
  return activeSimd();
}

SimdLevel activeSimd() {
  return static_cast<SimdLevel>(std::min(gSimdCap.load(), static_cast<int>(detectSimd())));
}

int setMaxThreads(int n) {
  gMaxThreads.store(std::max(1, std::min(n, kMaxThreads)));
  return gMaxThreads.load();
}

int maxThreads() { return gMaxThreads.load(); }

size_t setL1dBytes(size_t bytes) {
  gL1dSet.store(bytes);
  return l1dBytes();
}

void gemm(const uint64_t* A, const uint64_t* B, uint64_t* C, size_t m, size_t k, size_t n) {
  if (m == 0 || n == 0) return;
  std::memset(C, 0, m * n * sizeof(u64));
  if (k == 0) return;
  if (m <= kSmallM) {
#ifdef SECURENN_X86
    switch (activeSimd()) {
      case SimdLevel::Avx512: gemmk::smallMAvx512(A, B, C, m, k, n); return;
      case SimdLevel::Avx2: gemmk::smallMAvx2(A, B, C, m, k, n); return;
      default: break;
    }
#endif
    // arm64: no 64-bit vector multiply to auto-vectorise with, so NEON uses this loop too.
    gemmk::smallMScalar(A, B, C, m, k, n);
    return;
  }
  const KernelSpec& ks = pickKernel(n);
  // Split C into up to maxThreads() disjoint bands (rows if m >= n, else
  // columns, on micro-tile boundaries), each worth at least kThreadMinMacs;
  // every band packs its own panels, so the bits never depend on the split.
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const bool splitRows = m >= n;
  const size_t tile = splitRows ? ks.MR : ks.NR, extent = splitRows ? m : n;
  const size_t tiles = (extent + tile - 1) / tile;
  const size_t parts = bandCount(macs, tiles);
  if (parts == 1) {
    gemmRange(ks, A, B, C, k, n, 0, m, 0, n);
    return;
  }
  runBands(parts, [&](size_t p) {
    const size_t lo = std::min(extent, (tiles * p / parts) * tile), hi = std::min(extent, (tiles * (p + 1) / parts) * tile);
    if (splitRows) gemmRange(ks, A, B, C, k, n, lo, hi, 0, n);
    else gemmRange(ks, A, B, C, k, n, 0, m, lo, hi);
  });
}

size_t bandCount(double work, size_t tiles) {
  size_t parts = static_cast<size_t>(std::min<double>(maxThreads(), work / kThreadMinMacs));
  return std::max<size_t>(1, std::min(parts, tiles));
}

void runBands(size_t parts, const std::function<void(size_t)>& band) {
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  workers.reserve(parts - 1);
  for (size_t p = 1; p < parts; p++) {
    try {
      workers.emplace_back([&, p] {
        try {
          band(p);
        } catch (...) {
          failed.store(true);
        }
      });
    } catch (const std::system_error&) {
      // Could not start another thread: run the remaining bands here.
      for (size_t q = p; q < parts; q++) {
        try {
          band(q);
        } catch (...) {
          failed.store(true);
        }
      }
      break;
    }
  }
  try {
    band(0);
  } catch (...) {
    failed.store(true);
  }
  for (auto& w : workers) w.join();
  if (failed.load()) throw std::bad_alloc();
}

}  // namespace securenn
