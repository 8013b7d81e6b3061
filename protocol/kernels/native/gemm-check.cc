// Standalone equality driver and micro-benchmark for the GEMM kernels, with no
// Node: it links gemm.cc, the micro-kernel files and ring128.cc (the Z_2^128
// kernels) exactly as the addon does, so it can be cross-compiled and run
// under qemu-user where Node cannot (scripts/check-arm64.sh). Not part of the
// addon (binding.gyp leaves it out).
//
//   g++ -O3 -std=c++17 -pthread gemm-check.cc gemm.cc gemm-portable.cc gemm-x86.cc gemm-arm.cc ring128.cc -o gemm-check
//   ./gemm-check            every SIMD level the CPU has x threads 1..3 (products
//                           that split into 2 and 3 bands included), against
//                           a naive u64 reference on random and edge inputs,
//                           under both k blocks (L1 data cache taken as 32
//                           and as 48 KiB, gemm.h setL1dBytes);
//                           prints "gemm-check: OK ..." and exits 0, else 1;
//                           then the same for the Z_2^128 kernels against a
//                           naive unsigned __int128 reference ("gemm-check:
//                           Z_2^128 OK ...").
//   ./gemm-check --bench    GMAC/s per SIMD level on one thread (thread CPU
//                           time, best of 5); --bench=avx2 (or another level
//                           name) benchmarks that level only.
//
// Test inputs come from a splitmix64 stream seeded from /dev/urandom
// (printed, and settable with --seed=N to replay a failure); they are test
// data only, never protocol randomness.
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "gemm.h"
#include "ring128.h"

using securenn::SimdLevel;
using u64 = uint64_t;

namespace {

u64 gState = 0;
size_t gL1 = 0;  // the L1 data cache size the k block is chosen by in this pass (main, setL1dBytes)
u64 next64() {
  u64 z = (gState += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

const u64 kEdges[] = {0, 1, 2, 3, 0xFFFF, 0x10000, 0xFFFFFFFFull, 1ull << 32, (1ull << 32) + 1, 0x123456789ABCDEF0ull,
                      (1ull << 63) - 1, 1ull << 63, (1ull << 63) + 1, ~0ull - 2, ~0ull - 1, ~0ull};
constexpr size_t kNumEdges = sizeof(kEdges) / sizeof(kEdges[0]);

enum class Fill { Random, Zero, AllOnes, Edges };

void fill(std::vector<u64>& v, Fill f, size_t salt) {
  for (size_t i = 0; i < v.size(); i++) {
    switch (f) {
      case Fill::Random: v[i] = next64(); break;
      case Fill::Zero: v[i] = 0; break;
      case Fill::AllOnes: v[i] = ~0ull; break;
      case Fill::Edges: v[i] = kEdges[(i * (2 * salt + 1) + salt) % kNumEdges]; break;
    }
  }
}

void reference(const u64* A, const u64* B, u64* C, size_t m, size_t k, size_t n) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      u64 s = 0;
      for (size_t t = 0; t < k; t++) s += A[i * k + t] * B[t * n + j];
      C[i * n + j] = s;
    }
}

std::vector<SimdLevel> levels() {
  std::vector<SimdLevel> out;
  for (int l = 0; l <= static_cast<int>(securenn::detectSimd()); l++) out.push_back(static_cast<SimdLevel>(l));
  return out;
}

struct Shape {
  size_t m, k, n;
};

// Odd shapes, shapes one off the tiles of every kernel (4x4, 2x8, 8x16, 16x8),
// k = 1, k past one or more cache blocks (KC = 192, 256 or 512) with an odd last
// block, k an exact number of blocks, m past MC (96-128) and n past NC (512-1024), the few-rows path
// (m <= 4, also past its 512-column blocks), narrow B (n <= 8), A read in place by full row panels (AVX2,
// AVX-512) beside a packed partial one, with the row terms summed again per
// column block, and empty ones.
const Shape kShapes[] = {{1, 1, 1}, {1, 5, 1}, {2, 3, 9}, {7, 13, 5}, {9, 1, 4}, {6, 1, 4}, {5, 1, 3}, {13, 1, 17},
                         {5, 17, 3}, {6, 8, 4}, {7, 9, 5}, {12, 8, 8}, {11, 7, 7}, {17, 33, 40}, {33, 65, 17},
                         {8, 16, 16}, {9, 17, 17}, {16, 31, 8}, {17, 5, 9}, {67, 5, 9}, {100, 40, 7}, {130, 257, 131},
                         {3, 70, 33}, {4, 9, 5}, {1, 70, 260}, {25, 600, 13}, {61, 1100, 23}, {97, 96, 100},
                         {100, 3, 1030}, {200, 515, 9}, {9, 261, 1030}, {200, 515, 20}, {203, 97, 36}, {40, 300, 8},
                         {5, 1024, 8}, {11, 1537, 9}, {6, 1025, 4}, {7, 515, 16}, {4, 1025, 2051}, {1, 3, 2049}, {3, 1001, 683}, {2, 1, 1027},
                         {0, 3, 4}, {3, 0, 4}, {3, 4, 0}};

int check(size_t* compared) {
  int failures = 0;
  for (const Shape& s : kShapes) {
    for (Fill fa : {Fill::Random, Fill::Zero, Fill::AllOnes, Fill::Edges}) {
      const Fill fb = fa == Fill::Zero ? Fill::Random : fa;
      std::vector<u64> A(s.m * s.k), B(s.k * s.n), want(s.m * s.n);
      fill(A, fa, 1);
      fill(B, fb, 2);
      reference(A.data(), B.data(), want.data(), s.m, s.k, s.n);
      for (SimdLevel l : levels()) {
        securenn::setSimdCap(l);
        for (int threads = 1; threads <= 3; threads++) {
          securenn::setMaxThreads(threads);
          std::vector<u64> got(s.m * s.n);
          for (auto& g : got) g = next64();  // gemm must overwrite C
          securenn::gemm(A.data(), B.data(), got.data(), s.m, s.k, s.n);
          ++*compared;
          for (size_t i = 0; i < got.size(); i++) {
            if (got[i] != want[i]) {
              if (failures++ < 20)
                std::printf("MISMATCH %s threads=%d L1D %zu KiB shape %zux%zux%zu fill %d: C[%zu] = %016llx, want %016llx\n",
                            securenn::simdName(l), threads, gL1 >> 10, s.m, s.k, s.n, static_cast<int>(fa), i,
                            static_cast<unsigned long long>(got[i]), static_cast<unsigned long long>(want[i]));
              break;
            }
          }
        }
      }
    }
  }
  return failures;
}

// Products large enough to split into bands on 2 and 3 threads (bandCount: one band per 2^22 multiply-adds; none of
// kShapes reaches 2 of them): rows (m >= n) and columns (m < n), bands ending inside a row panel of every kernel
// (301 rows: a packed partial panel beside A read in place in the last band), k past a k block with an odd last
// step, n past a column block (the Winograd row terms summed again per block, in each thread's own buffer). Each
// shape's band count on 2 and 3 threads is checked too, so a change of the threshold cannot make this check vacuous.
const Shape kThreadShapes[] = {{301, 161, 270}, {301, 261, 170}, {37, 341, 1030}};

int checkThreads(size_t* compared) {
  int failures = 0;
  for (const Shape& s : kThreadShapes) {
    const double macs = static_cast<double>(s.m) * static_cast<double>(s.k) * static_cast<double>(s.n);
    for (int threads = 2; threads <= 3; threads++) {
      securenn::setMaxThreads(threads);
      if (securenn::bandCount(macs, s.m) != static_cast<size_t>(threads)) {
        if (failures++ < 20) std::printf("NOT SPLIT: shape %zux%zux%zu gives %zu bands on %d threads\n", s.m, s.k, s.n, securenn::bandCount(macs, s.m), threads);
      }
    }
    for (Fill fa : {Fill::Random, Fill::Edges}) {
      std::vector<u64> A(s.m * s.k), B(s.k * s.n), want(s.m * s.n);
      fill(A, fa, 3);
      fill(B, fa, 4);
      reference(A.data(), B.data(), want.data(), s.m, s.k, s.n);
      for (SimdLevel l : levels()) {
        securenn::setSimdCap(l);
        for (int threads = 1; threads <= 3; threads++) {
          securenn::setMaxThreads(threads);
          std::vector<u64> got(s.m * s.n);
          for (auto& g : got) g = next64();
          securenn::gemm(A.data(), B.data(), got.data(), s.m, s.k, s.n);
          ++*compared;
          for (size_t i = 0; i < got.size(); i++) {
            if (got[i] != want[i]) {
              if (failures++ < 20)
                std::printf("MISMATCH %s threads=%d L1D %zu KiB shape %zux%zux%zu fill %d: C[%zu]\n", securenn::simdName(l), threads, gL1 >> 10, s.m, s.k, s.n, static_cast<int>(fa), i);
              break;
            }
          }
        }
      }
    }
  }
  return failures;
}

// ---- Z_2^128 (ring128.cc): 4 little-endian 32-bit words per element ----
using u128 = unsigned __int128;

u128 get128(const std::vector<uint32_t>& v, size_t e) {
  u128 x = 0;
  for (int w = 3; w >= 0; w--) x = (x << 32) | v[4 * e + w];
  return x;
}

// Words of random, zero, all-ones or edge elements (each 128-bit edge is a pair of the u64 edges: 2^64 - 1, 2^127, ...).
void fill128(std::vector<uint32_t>& v, Fill f, size_t salt) {
  std::vector<u64> h(v.size() / 2);
  fill(h, f, salt);
  if (!h.empty()) std::memcpy(v.data(), h.data(), h.size() * sizeof(u64));
}

// Few rows (m <= 6, unpacked) and more: shapes around the 2x2 tile, k odd and past the k block (256), m past the
// row block (16), n past the column block (256) and the few-rows loop's column block (128), and empty ones.
const Shape kShapes128[] = {{1, 1, 1}, {1, 7, 1}, {3, 5, 2}, {5, 1, 5}, {17, 9, 3}, {3, 257, 5}, {2, 513, 3}, {2, 3, 260},
                            {7, 5, 3}, {9, 259, 7}, {37, 4, 2}, {40, 300, 33}, {8, 40, 520}, {5, 40, 520}, {0, 3, 4}, {3, 0, 4}, {3, 4, 0}};

int check128(size_t* compared) {
  int failures = 0;
  auto report = [&](const char* what, const Shape& s, int level, int threads, size_t i) {
    if (failures++ < 20) std::printf("MISMATCH Z_2^128 %s level %d threads=%d shape %zux%zux%zu at %zu\n", what, level, threads, s.m, s.k, s.n, i);
  };
  for (const Shape& s : kShapes128) {
    for (Fill fa : {Fill::Random, Fill::AllOnes, Fill::Edges}) {
      std::vector<uint32_t> A(4 * s.m * s.k), B(4 * s.k * s.n), C(4 * s.m * s.n);
      fill128(A, fa, 1);
      fill128(B, fa, 2);
      std::vector<u128> want(s.m * s.n);
      for (size_t i = 0; i < s.m; i++)
        for (size_t j = 0; j < s.n; j++)
          for (size_t t = 0; t < s.k; t++) want[i * s.n + j] += get128(A, i * s.k + t) * get128(B, t * s.n + j);
      for (SimdLevel l : levels()) {
        securenn::setSimdCap(l);
        for (int threads = 1; threads <= 3; threads++) {
          securenn::setMaxThreads(threads);
          for (auto& w : C) w = static_cast<uint32_t>(next64());  // gemm128 must overwrite C
          securenn::gemm128(A.data(), B.data(), C.data(), s.m, s.k, s.n);
          ++*compared;
          for (size_t i = 0; i < want.size(); i++)
            if (get128(C, i) != want[i]) { report("gemm128", s, static_cast<int>(l), threads, i); break; }
        }
      }
      // Elementwise over the first min(|A|, |B|) elements.
      const size_t ne = std::min(s.m * s.k, s.k * s.n);
      std::vector<uint32_t> out(4 * ne), sc(B.begin(), B.begin() + (ne ? 4 : 0));
      securenn::mul128(A.data(), B.data(), out.data(), ne);
      for (size_t i = 0; i < ne; i++) if (get128(out, i) != get128(A, i) * get128(B, i)) { report("mul128", s, 0, 1, i); break; }
      if (ne) {
        securenn::mulScalar128(A.data(), sc.data(), out.data(), ne);
        for (size_t i = 0; i < ne; i++) if (get128(out, i) != get128(A, i) * get128(sc, 0)) { report("mulScalar128", s, 0, 1, i); break; }
      }
      securenn::add128(A.data(), B.data(), out.data(), ne);
      for (size_t i = 0; i < ne; i++) if (get128(out, i) != get128(A, i) + get128(B, i)) { report("add128", s, 0, 1, i); break; }
      securenn::sub128(A.data(), B.data(), out.data(), ne);
      for (size_t i = 0; i < ne; i++) if (get128(out, i) != get128(A, i) - get128(B, i)) { report("sub128", s, 0, 1, i); break; }
      *compared += 4;
    }
  }
  return failures;
}

// CPU time of this thread (one-thread gemm runs on the caller), so time spent
// descheduled on a loaded machine does not count.
double threadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double gmacs(size_t m, size_t k, size_t n) {
  std::vector<u64> A(m * k), B(k * n), C(m * n);
  fill(A, Fill::Random, 0);
  fill(B, Fill::Random, 0);
  const size_t reps = std::max<size_t>(1, static_cast<size_t>(2e7 / (static_cast<double>(m) * k * n + 1)));
  double best = 1e30;
  for (int round = 0; round < 6; round++) {  // the first one warms up
    const double t0 = threadSeconds();
    for (size_t r = 0; r < reps; r++) securenn::gemm(A.data(), B.data(), C.data(), m, k, n);
    const double s = (threadSeconds() - t0) / static_cast<double>(reps);
    if (round > 0 && s < best) best = s;
  }
  return static_cast<double>(m) * k * n / best / 1e9;
}

void bench(const char* only) {
  const Shape shapes[] = {{256, 1024, 256}, {4096, 288, 64}, {784, 144, 32}, {1, 1024, 128}};
  securenn::setMaxThreads(1);
  for (const Shape& s : shapes) {
    std::printf("gemm %zux%zux%zu:", s.m, s.k, s.n);
    for (SimdLevel l : levels()) {
      if (only && std::strcmp(only, securenn::simdName(l)) != 0) continue;
      securenn::setSimdCap(l);
      std::printf("  %s %.2f", securenn::simdName(l), gmacs(s.m, s.k, s.n));
    }
    std::printf("  GMAC/s (1 thread, thread CPU time, best of 5)\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool doBench = false;
  const char* only = nullptr;
  // The seed of the test data: 8 bytes of the OS's CSPRNG (the project uses no
  // other generator, test/secrets.test.ts), or --seed=N to replay a failure.
  u64 seed = 0;
  if (FILE* ur = std::fopen("/dev/urandom", "rb")) {
    if (std::fread(&seed, sizeof seed, 1, ur) != 1) seed = static_cast<u64>(std::time(nullptr));
    std::fclose(ur);
  } else {
    seed = static_cast<u64>(std::time(nullptr));
  }
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--bench") == 0) doBench = true;
    else if (std::strncmp(argv[i], "--bench=", 8) == 0) doBench = true, only = argv[i] + 8;
    else if (std::strncmp(argv[i], "--seed=", 7) == 0) seed = std::strtoull(argv[i] + 7, nullptr, 10);
    else {
      std::fprintf(stderr, "usage: gemm-check [--bench | --bench=LEVEL] [--seed=N]\n");
      return 2;
    }
  }
  gState = seed;
  std::printf("gemm-check: detected %s, seed %llu\n", securenn::simdName(securenn::detectSimd()), static_cast<unsigned long long>(seed));
  if (doBench) {
    bench(only);
    return 0;
  }
  // Every product under each k block a kernel can take (gemm.cc kcFor: the AVX2 2x8 kernel's 512 from a 48 KiB L1 data
  // cache, else 256), whatever this machine's cache is; then the size it reports again.
  size_t compared = 0;
  int failures = 0;
  for (size_t l1 : {size_t{32} << 10, size_t{48} << 10}) {
    gL1 = securenn::setL1dBytes(l1);
    failures += check(&compared) + checkThreads(&compared);
  }
  securenn::setL1dBytes(0);
  if (failures) {
    std::printf("gemm-check: FAILED (%d of %zu products differ from the reference)\n", failures, compared);
    return 1;
  }
  std::printf("gemm-check: OK (%zu products on levels scalar..%s equal the reference)\n", compared, securenn::simdName(securenn::detectSimd()));
  size_t compared128 = 0;
  const int failures128 = check128(&compared128);
  if (failures128) {
    std::printf("gemm-check: Z_2^128 FAILED (%d of %zu products differ from the reference)\n", failures128, compared128);
    return 1;
  }
  std::printf("gemm-check: Z_2^128 OK (%zu products on levels scalar..%s equal the reference)\n", compared128, securenn::simdName(securenn::detectSimd()));
  return 0;
}
