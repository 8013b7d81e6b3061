// x86 instruction-throughput probe behind the GEMM kernels' bounds (BENCHMARKS.md, "CPU GEMM kernels on AMD EPYC
// (Zen 4), per instruction set"). Build and run with bench/isa-probe.sh (one CPU, thread CPU time).
//  - clock: a chain of dependent 64-bit adds (one per cycle on any x86 core since the P6), so cycles = adds;
//  - per instruction: 12 independent chains of it, instructions retired per cycle;
//  - the AVX2 tile kernel's mix per 16 MACs (2 vpmuludq, 2 vpmulld, 2 vpshufd, 8 vpaddq), ideal 3.5 cycles on 4 pipes;
//  - the micro-kernels alone on packed panels in L1/L2 (24 A panels against one B panel), MACs per cycle: AVX2 2x8
//    (n > 4) and 4x4 (n <= 4), AVX-512 8x16.
// Only the clock line is a property of the core; every ratio depends on the load the other CPUs put on the
// shared caches, memory and power budget: run it beside the bench it explains.
#if defined(__x86_64__)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <initializer_list>

#include "../protocol/kernels/native/gemm-kernels.h"

namespace {
using securenn::gemmk::KernelSpec;
using securenn::gemmk::u64;
double cpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}
constexpr long N = 20000000;
__attribute__((noinline)) uint64_t chain() {
  uint64_t x = 1;
  for (long i = 0; i < N * 5; i++) asm volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
  return x;
}
#define R12(ins, r, s)                                                                                                  \
  ins " %%" r "15, %%" s "0, %%" s "0\n\t" ins " %%" r "15, %%" s "1, %%" s "1\n\t" ins " %%" r "15, %%" s "2, %%" s \
      "2\n\t" ins " %%" r "15, %%" s "3, %%" s "3\n\t" ins " %%" r "15, %%" s "4, %%" s "4\n\t" ins " %%" r "15, %%" s \
      "5, %%" s "5\n\t" ins " %%" r "15, %%" s "6, %%" s "6\n\t" ins " %%" r "15, %%" s "7, %%" s "7\n\t" ins " %%" r  \
      "15, %%" s "8, %%" s "8\n\t" ins " %%" r "15, %%" s "9, %%" s "9\n\t" ins " %%" r "15, %%" s "10, %%" s          \
      "10\n\t" ins " %%" r "15, %%" s "11, %%" s "11\n\t"
#define CLOB "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13"
#define PROBE(name, body) \
  __attribute__((noinline)) void name() { for (long i = 0; i < N; i++) asm volatile(body ::: CLOB); }
PROBE(pMulld, R12("vpmulld", "ymm", "ymm"))
PROBE(pMuludq, R12("vpmuludq", "ymm", "ymm"))
PROBE(pAddq, R12("vpaddq", "ymm", "ymm"))
PROBE(pMullqY, R12("vpmullq", "ymm", "ymm"))
PROBE(pMullqZ, R12("vpmullq", "zmm", "zmm"))
PROBE(pAddqZ, R12("vpaddq", "zmm", "zmm"))
PROBE(pShufd, "vpshufd $0xb1, %%ymm15, %%ymm0\n\tvpshufd $0xb1, %%ymm15, %%ymm1\n\tvpshufd $0xb1, %%ymm15, %%ymm2\n\t"
              "vpshufd $0xb1, %%ymm15, %%ymm3\n\tvpshufd $0xb1, %%ymm15, %%ymm4\n\tvpshufd $0xb1, %%ymm15, %%ymm5\n\t"
              "vpshufd $0xb1, %%ymm15, %%ymm6\n\tvpshufd $0xb1, %%ymm15, %%ymm7\n\tvpshufd $0xb1, %%ymm15, %%ymm8\n\t"
              "vpshufd $0xb1, %%ymm15, %%ymm9\n\tvpshufd $0xb1, %%ymm15, %%ymm10\n\tvpshufd $0xb1, %%ymm15, %%ymm11\n\t")
// 14 instructions: the AVX2 kernel's 7 per 8 MACs, twice
PROBE(pMix, "vpmuludq %%ymm15,%%ymm14,%%ymm0\n\tvpmulld %%ymm15,%%ymm14,%%ymm1\n\tvpshufd $0xb1,%%ymm15,%%ymm2\n\t"
            "vpaddq %%ymm15,%%ymm3,%%ymm3\n\tvpaddq %%ymm15,%%ymm4,%%ymm4\n\tvpaddq %%ymm15,%%ymm5,%%ymm5\n\t"
            "vpaddq %%ymm15,%%ymm6,%%ymm6\n\tvpmuludq %%ymm15,%%ymm14,%%ymm7\n\tvpmulld %%ymm15,%%ymm14,%%ymm8\n\t"
            "vpshufd $0xb1,%%ymm15,%%ymm9\n\tvpaddq %%ymm15,%%ymm10,%%ymm10\n\tvpaddq %%ymm15,%%ymm11,%%ymm11\n\t"
            "vpaddq %%ymm15,%%ymm12,%%ymm12\n\tvpaddq %%ymm15,%%ymm13,%%ymm13\n\t")

double kernelMacsPerSecond(const KernelSpec& k, size_t kc) {
  constexpr size_t panels = 24;
  const size_t apan = (kc + 1) * k.MR, bpan = (kc + 1) * k.NR;
  u64* pa = static_cast<u64*>(std::aligned_alloc(64, ((apan * panels * 8 + 63) / 64) * 64));
  u64* pb = static_cast<u64*>(std::aligned_alloc(64, ((bpan * 8 + 63) / 64) * 64));
  static u64 c[16 * 64 * 32];
  for (size_t i = 0; i < apan * panels; i++) pa[i] = i * 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < bpan; i++) pb[i] = i * 0xBF58476D1CE4E5B9ull;
  const size_t reps = 40000000 / (kc * k.MR * k.NR * panels) + 1;
  double best = 0;
  for (int round = 0; round < 5; round++) {
    const double t0 = cpuSeconds();
    for (size_t r = 0; r < reps; r++)
      for (size_t p = 0; p < panels; p++) k.fn(kc, pa + p * apan, pb, c + p * 16 * 32, 32, k.MR, k.NR);
    const double macs = static_cast<double>(reps * panels * kc * k.MR * k.NR) / (cpuSeconds() - t0);
    if (macs > best) best = macs;
  }
  std::free(pa);
  std::free(pb);
  return best;
}
}  // namespace

int main() {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (!__builtin_cpu_supports("avx2")) {
    std::printf("isa-probe: no AVX2 on this CPU\n");
    return 0;
  }
  double t0 = cpuSeconds();
  chain();
  const double ghz = 4.0 * N * 5 / (cpuSeconds() - t0) / 1e9;
  std::printf("clock %.2f GHz (dependent 64-bit adds, thread CPU time)\n", ghz);
  struct P {
    const char* name;
    void (*fn)();
    double per;
    bool zmm;
  } probes[] = {{"vpmulld ymm", pMulld, 12, false},  {"vpmuludq ymm", pMuludq, 12, false}, {"vpaddq ymm", pAddq, 12, false},
                {"vpshufd ymm", pShufd, 12, false},  {"vpmullq ymm", pMullqY, 12, true},   {"vpmullq zmm", pMullqZ, 12, true},
                {"vpaddq zmm", pAddqZ, 12, true}};
  for (const P& p : probes) {
    if (p.zmm && !avx512) continue;
    t0 = cpuSeconds();
    p.fn();
    std::printf("%-13s %.2f per cycle\n", p.name, p.per * N / (cpuSeconds() - t0) / 1e9 / ghz);
  }
  t0 = cpuSeconds();
  pMix();
  std::printf("AVX2 tile mix (2 vpmuludq + 2 vpmulld + 2 vpshufd + 8 vpaddq = 16 MACs): %.2f cycles, ideal 3.5 on 4 pipes\n",
              (cpuSeconds() - t0) * ghz * 1e9 / N);
  for (const KernelSpec* k : {&securenn::gemmk::kAvx2, &securenn::gemmk::kAvx2Narrow}) {
    const double a2 = kernelMacsPerSecond(*k, 256);
    std::printf("micro-kernel alone, AVX2 %zux%zu Winograd, kc 256: %.2f GMAC/s, %.2f MAC/cycle (bound 4.57: 7 instr per 8 MACs on 4 pipes)\n", k->MR, k->NR, a2 / 1e9, a2 / 1e9 / ghz);
  }
  if (avx512) {
    const double a5 = kernelMacsPerSecond(securenn::gemmk::kAvx512, 192);
    std::printf("micro-kernel alone, AVX-512 8x16 vpmullq, kc 192: %.2f GMAC/s, %.2f MAC/cycle\n", a5 / 1e9, a5 / 1e9 / ghz);
  }
  return 0;
}
#else
#include <cstdio>
int main() {
  std::printf("isa-probe: x86-64 only\n");
  return 0;
}
#endif
