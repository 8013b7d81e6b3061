// See gemm.h. Everything here is u64 arithmetic, which wraps mod 2^64 by the
// C++ rules, so any order of accumulation gives the same bits.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SECURENN_X86 1
#endif

namespace securenn {
namespace {

using u64 = uint64_t;

typedef void (*KernelFn)(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr);

struct KernelSpec {
  size_t MR, NR;
  bool swapB;  // B panel holds [b | rot32(b)] per k step (AVX2 kernel)
  size_t KC, MC, NC;
  KernelFn fn;
};

struct Buf {
  u64* p = nullptr;
  explicit Buf(size_t n) {
    size_t bytes = ((n * sizeof(u64) + 63) / 64) * 64;
    p = static_cast<u64*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
    if (!p) throw std::bad_alloc();
  }
  ~Buf() { std::free(p); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
};

inline void addTile(u64* c, size_t ldc, const u64* tmp, size_t NR, size_t mr, size_t nr) {
  for (size_t r = 0; r < mr; r++)
    for (size_t j = 0; j < nr; j++) c[r * ldc + j] += tmp[r * NR + j];
}

// ---- portable scalar micro-kernel: 4 x 4 ----
constexpr size_t S_MR = 4, S_NR = 4;
void kernelScalar(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  u64 acc[S_MR][S_NR] = {};
  for (size_t t = 0; t < kc; t++) {
    for (size_t r = 0; r < S_MR; r++) {
      const u64 a = pa[r];
      for (size_t j = 0; j < S_NR; j++) acc[r][j] += a * pb[j];
    }
    pa += S_MR;
    pb += S_NR;
  }
  addTile(c, ldc, &acc[0][0], S_NR, mr, nr);
}

#ifdef SECURENN_X86
// ---- AVX2 micro-kernel: 4 x 8 ----
// a * b mod 2^64 = alo*blo + ((alo*bhi + ahi*blo) mod 2^32) << 32.
// vpmuludq gives alo*blo (64-bit) per lane; with B pre-rotated by 32 bits
// (lanes [bhi, blo]) and A broadcast (lanes [alo, ahi]), one vpmulld gives both
// cross products mod 2^32 in the two 32-bit halves. They are accumulated
// separately and folded once at the end.
constexpr size_t A2_MR = 4, A2_NR = 8;
__attribute__((target("avx2"))) void kernelAvx2(size_t kc, const u64* pa, const u64* pb, u64* c, size_t ldc, size_t mr, size_t nr) {
  __m256i lo[A2_MR][2], x[A2_MR][2];
  for (size_t r = 0; r < A2_MR; r++)
    for (size_t v = 0; v < 2; v++) lo[r][v] = x[r][v] = _mm256_setzero_si256();
  for (size_t t = 0; t < kc; t++) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb + 4));
    const __m256i s0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb + 8));
    const __m256i s1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(pb + 12));
#pragma GCC unroll 4
    for (size_t r = 0; r < A2_MR; r++) {
      const __m256i a = _mm256_set1_epi64x(static_cast<long long>(pa[r]));
      lo[r][0] = _mm256_add_epi64(lo[r][0], _mm256_mul_epu32(a, b0));
      lo[r][1] = _mm256_add_epi64(lo[r][1], _mm256_mul_epu32(a, b1));
      x[r][0] = _mm256_add_epi32(x[r][0], _mm256_mullo_epi32(a, s0));
      x[r][1] = _mm256_add_epi32(x[r][1], _mm256_mullo_epi32(a, s1));
    }
    pa += A2_MR;
    pb += 2 * A2_NR;
  }
  alignas(32) u64 tmp[A2_MR * A2_NR];
  const __m256i hiMask = _mm256_set1_epi64x(static_cast<long long>(0xFFFFFFFF00000000ull));
  for (size_t r = 0; r < A2_MR; r++)
    for (size_t v = 0; v < 2; v++) {
      // (x_lo + x_hi) << 32 == (x << 32) + (x & 0xFFFFFFFF00000000) mod 2^64
      const __m256i cross = _mm256_add_epi64(_mm256_slli_epi64(x[r][v], 32), _mm256_and_si256(x[r][v], hiMask));
      _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + r * A2_NR + 4 * v), _mm256_add_epi64(lo[r][v], cross));
    }
  if (mr == A2_MR && nr == A2_NR) {
    for (size_t r = 0; r < A2_MR; r++)
      for (size_t v = 0; v < 2; v++) {
        __m256i* cp = reinterpret_cast<__m256i*>(c + r * ldc + 4 * v);
        _mm256_storeu_si256(cp, _mm256_add_epi64(_mm256_loadu_si256(cp), _mm256_load_si256(reinterpret_cast<const __m256i*>(tmp + r * A2_NR + 4 * v))));
      }
  } else {
    addTile(c, ldc, tmp, A2_NR, mr, nr);
  }
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
#endif

const KernelSpec kScalar{S_MR, S_NR, false, 256, 64, 1024, kernelScalar};
#ifdef SECURENN_X86
const KernelSpec kAvx2{A2_MR, A2_NR, true, 256, 96, 512, kernelAvx2};
const KernelSpec kAvx512{A5_MR, A5_NR, false, 192, 128, 1024, kernelAvx512};
const KernelSpec kAvx512Narrow{A5N_MR, A5N_NR, false, 256, 128, 8, kernelAvx512Narrow};
#endif


// ---- few rows (m small, e.g. a dense layer on one image): no packing ----
// C[i, :] += A[i, t] * B[t, :], a column block of C at a time, streaming B once
// per row. The same loop is compiled for each ISA and auto-vectorised.
constexpr size_t kSmallMCols = 512;
inline __attribute__((always_inline)) void smallMBody(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) {
  for (size_t j0 = 0; j0 < n; j0 += kSmallMCols) {
    const size_t jn = std::min(kSmallMCols, n - j0);
    for (size_t i = 0; i < m; i++) {
      u64* __restrict c = C + i * n + j0;
      const u64* a = A + i * k;
      for (size_t t = 0; t < k; t++) {
        const u64 av = a[t];
        const u64* __restrict b = B + t * n + j0;
        for (size_t j = 0; j < jn; j++) c[j] += av * b[j];
      }
    }
  }
}
void smallMScalar(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) { smallMBody(A, B, C, m, k, n); }
#ifdef SECURENN_X86
__attribute__((target("avx2"))) void smallMAvx2(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) { smallMBody(A, B, C, m, k, n); }
__attribute__((target("avx512f,avx512dq"))) void smallMAvx512(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) { smallMBody(A, B, C, m, k, n); }
#endif

// Packs rows [i0, i0+mc) x cols [p0, p0+kc) of A (leading dim lda) into MR-row
// panels: pa[panel][t][r]; rows past the end are zero.
void packA(const KernelSpec& ks, const u64* A, size_t lda, size_t i0, size_t mc, size_t p0, size_t kc, u64* pa) {
  const size_t MR = ks.MR;
  for (size_t ir = 0; ir < mc; ir += MR) {
    u64* dst = pa + (ir / MR) * kc * MR;
    for (size_t r = 0; r < MR; r++) {
      if (ir + r < mc) {
        const u64* src = A + (i0 + ir + r) * lda + p0;
        for (size_t t = 0; t < kc; t++) dst[t * MR + r] = src[t];
      } else {
        for (size_t t = 0; t < kc; t++) dst[t * MR + r] = 0;
      }
    }
  }
}

// Packs rows [p0, p0+kc) x cols [j0, j0+nc) of B (leading dim ldb) into
// NR-column panels pb[panel][t][...]; columns past the end are zero.
void packB(const KernelSpec& ks, const u64* B, size_t ldb, size_t p0, size_t kc, size_t j0, size_t nc, u64* pb) {
  const size_t NR = ks.NR, W = ks.swapB ? 2 * NR : NR;
  for (size_t jr = 0; jr < nc; jr += NR) {
    u64* dst = pb + (jr / NR) * kc * W;
    const size_t w = std::min(NR, nc - jr);
    for (size_t t = 0; t < kc; t++) {
      const u64* src = B + (p0 + t) * ldb + j0 + jr;
      u64* d = dst + t * W;
      size_t j = 0;
      for (; j < w; j++) d[j] = src[j];
      for (; j < NR; j++) d[j] = 0;
      if (ks.swapB)
        for (j = 0; j < NR; j++) d[NR + j] = (d[j] >> 32) | (d[j] << 32);
    }
  }
}

// C[r0:r1, c0:c1] = A[r0:r1, :] . B[:, c0:c1]; C's block must already be zero.
void gemmRange(const KernelSpec& ks, const u64* A, const u64* B, u64* C, size_t k, size_t n, size_t r0, size_t r1, size_t c0, size_t c1) {
  if (r1 <= r0 || c1 <= c0 || k == 0) return;
  const size_t MR = ks.MR, NR = ks.NR, W = ks.swapB ? 2 * NR : NR;
  const size_t KC = std::min(ks.KC, k);
  const size_t MC = std::min(ks.MC, ((r1 - r0 + MR - 1) / MR) * MR);
  const size_t NC = std::min(ks.NC, ((c1 - c0 + NR - 1) / NR) * NR);
  Buf pa(MC * KC);
  Buf pb((NC / NR + 1) * KC * W);
  for (size_t jc = c0; jc < c1; jc += NC) {
    const size_t nc = std::min(NC, c1 - jc);
    for (size_t pc = 0; pc < k; pc += KC) {
      const size_t kc = std::min(KC, k - pc);
      packB(ks, B, n, pc, kc, jc, nc, pb.p);
      for (size_t ic = r0; ic < r1; ic += MC) {
        const size_t mc = std::min(MC, r1 - ic);
        packA(ks, A, k, ic, mc, pc, kc, pa.p);
        for (size_t jr = 0; jr < nc; jr += NR) {
          const u64* bp = pb.p + (jr / NR) * kc * W;
          const size_t nr = std::min(NR, nc - jr);
          for (size_t ir = 0; ir < mc; ir += MR)
            ks.fn(kc, pa.p + (ir / MR) * kc * MR, bp, C + (ic + ir) * n + jc + jr, n, std::min(MR, mc - ir), nr);
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
#endif
  return SimdLevel::Scalar;
}

std::atomic<int> gSimdCap{static_cast<int>(SimdLevel::Avx512)};
// Default: 2 threads (or 1 on a one-core machine); MPC_KERNEL_THREADS / configure() change it.
std::atomic<int> gMaxThreads{std::thread::hardware_concurrency() == 1 ? 1 : 2};

const KernelSpec& pickKernel(size_t n) {
#ifdef SECURENN_X86
  switch (activeSimd()) {
    case SimdLevel::Avx512: return (n <= A5N_NR) ? kAvx512Narrow : kAvx512;
    case SimdLevel::Avx2: return kAvx2;
    default: break;
  }
#endif
  return kScalar;
}

// Below this many multiply-adds one thread is faster than starting another.
constexpr double kThreadMinMacs = 1 << 22;
constexpr int kMaxThreads = 64;
// Up to this many rows of C, skip packing (see smallMBody).
constexpr size_t kSmallM = 4;

}  // namespace

SimdLevel detectSimd() {
  static const SimdLevel level = detectOnce();
  return level;
}

const char* simdName(SimdLevel s) {
  switch (s) {
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Avx2: return "avx2";
    default: return "scalar";
  }
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

void gemm(const uint64_t* A, const uint64_t* B, uint64_t* C, size_t m, size_t k, size_t n) {
  if (m == 0 || n == 0) return;
  std::memset(C, 0, m * n * sizeof(u64));
  if (k == 0) return;
  if (m <= kSmallM) {
#ifdef SECURENN_X86
    switch (activeSimd()) {
      case SimdLevel::Avx512: smallMAvx512(A, B, C, m, k, n); return;
      case SimdLevel::Avx2: smallMAvx2(A, B, C, m, k, n); return;
      default: break;
    }
#endif
    smallMScalar(A, B, C, m, k, n);
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
  size_t parts = static_cast<size_t>(std::min<double>(maxThreads(), macs / kThreadMinMacs));
  parts = std::max<size_t>(1, std::min(parts, tiles));
  if (parts == 1) {
    gemmRange(ks, A, B, C, k, n, 0, m, 0, n);
    return;
  }
  auto band = [&](size_t p) {
    const size_t lo = std::min(extent, (tiles * p / parts) * tile), hi = std::min(extent, (tiles * (p + 1) / parts) * tile);
    if (splitRows) gemmRange(ks, A, B, C, k, n, lo, hi, 0, n);
    else gemmRange(ks, A, B, C, k, n, 0, m, lo, hi);
  };
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
