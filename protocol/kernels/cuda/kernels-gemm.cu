// GEMM mod 2^64 for RingKernels.gemm (protocol/kernels/types.ts), and its
// device-resident benchmark (scu_bench_gemm). Moved out of kernels.cu.
//
// Exactness: everything is integer arithmetic. A product mod 2^64 is split
// into 32-bit halves, a * b = al*bl + ((al*bh + ah*bl) mod 2^32) * 2^32
// (mod 2^64), so a GEMM accumulates sum al*bl in a 64-bit register (one
// IMAD.WIDE.U32 per term, wrapping mod 2^64) and sum (al*bh + ah*bl) in a
// 32-bit register (two IMADs, wrapping mod 2^32), and combines them once at
// the end: the result is the exact sum mod 2^64 for any k.
#include "device.h"
#include "ring-elems.h"

#include <algorithm>
#include <vector>

using namespace scu;

// ---------------------------------------------------------------------------
// GEMM mod 2^64: block tile BM x BN, k step BK, each thread owns TM x TN
// outputs (rows ty*TM + i, columns tx + (BN/TN)*j). Tiles go global -> shared
// with cp.async (zero-filled outside the matrix), double-buffered so the next
// tile loads while this one is multiplied. A few tile shapes are compiled;
// gemm_variant picks one per call (narrow ones for small n, e.g. Cout = 16).

#define BK 8

// c + a * b with a 64-bit result: one IMAD.WIDE.U32 (wraps mod 2^64).
__device__ __forceinline__ u64 mad_wide(u32 a, u32 b, u64 c) {
  u64 r;
  asm("mad.wide.u32 %0, %1, %2, %3;" : "=l"(r) : "r"(a), "r"(b), "l"(c));
  return r;
}

// 8-byte async copy global -> shared; copies nothing and zero-fills when !pred.
__device__ __forceinline__ void cp_async8(void *smem, const void *gmem, bool pred) {
  unsigned s = unsigned(__cvta_generic_to_shared(smem));
  int bytes = pred ? 8 : 0;
  asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

template <int BM, int BN, int TM, int TN, int MINB, int KU>
__global__ void __launch_bounds__((BM / TM) * (BN / TN), MINB)
gemm_kernel(const u64 *__restrict__ A, const u64 *__restrict__ B, u64 *__restrict__ C, size_t m, size_t k, size_t n, size_t colBase) {
  constexpr int THREADS = (BM / TM) * (BN / TN);
  constexpr int CX = BN / TN;  // threads across the columns
  constexpr int A_PER = BM * BK / THREADS, B_PER = BK * BN / THREADS;
  static_assert(A_PER * THREADS == BM * BK && B_PER * THREADS == BK * BN, "tile loads must divide evenly");
  __shared__ u64 As[2][BK][BM + 1];  // A tiles, transposed; +1 spreads the transposing stores over banks
  __shared__ u64 Bs[2][BK][BN];
  const int tid = threadIdx.x;
  const int tx = tid % CX, ty = tid / CX;
  const size_t row0 = size_t(blockIdx.x) * BM;
  const size_t col0 = colBase + size_t(blockIdx.y) * BN;

  // This thread's share of each tile.
  const u64 *aSrc[A_PER];
  bool aRow[A_PER];
#pragma unroll
  for (int q = 0; q < A_PER; q++) {
    int idx = tid + q * THREADS;
    size_t gr = row0 + idx / BK;
    aRow[q] = gr < m;
    aSrc[q] = A + (aRow[q] ? gr : 0) * k + idx % BK;
  }
  const u64 *bSrc[B_PER];
  bool bCol[B_PER];
#pragma unroll
  for (int q = 0; q < B_PER; q++) {
    int idx = tid + q * THREADS;
    size_t gc = col0 + idx % BN;
    bCol[q] = gc < n;
    bSrc[q] = B + size_t(idx / BN) * n + (bCol[q] ? gc : 0);
  }
  auto issue = [&](size_t t, int buf) {
    size_t k0 = t * BK;
#pragma unroll
    for (int q = 0; q < A_PER; q++) {
      int idx = tid + q * THREADS;
      bool ok = aRow[q] && k0 + idx % BK < k;
      cp_async8(&As[buf][idx % BK][idx / BK], ok ? aSrc[q] + k0 : A, ok);
    }
#pragma unroll
    for (int q = 0; q < B_PER; q++) {
      int idx = tid + q * THREADS;
      bool ok = bCol[q] && k0 + idx / BN < k;
      cp_async8(&Bs[buf][idx / BN][idx % BN], ok ? bSrc[q] + k0 * n : B, ok);
    }
    cp_async_commit();
  };

  u64 acc[TM][TN];
  u32 cross[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; i++)
#pragma unroll
    for (int j = 0; j < TN; j++) { acc[i][j] = 0; cross[i][j] = 0; }

  const size_t tiles = (k + BK - 1) / BK;
  if (tiles > 0) issue(0, 0);
  for (size_t t = 0; t < tiles; t++) {
    const int buf = int(t & 1);
    if (t + 1 < tiles) {
      issue(t + 1, buf ^ 1);
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
#pragma unroll KU
    for (int kk = 0; kk < BK; kk++) {
      u32 al[TM], ah[TM], bl[TN], bh[TN];
#pragma unroll
      for (int i = 0; i < TM; i++) { u64 v = As[buf][kk][ty * TM + i]; al[i] = u32(v); ah[i] = u32(v >> 32); }
#pragma unroll
      for (int j = 0; j < TN; j++) { u64 v = Bs[buf][kk][tx + CX * j]; bl[j] = u32(v); bh[j] = u32(v >> 32); }
#pragma unroll
      for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++) {
          acc[i][j] = mad_wide(al[i], bl[j], acc[i][j]);  // wraps mod 2^64
          cross[i][j] += al[i] * bh[j];                   // wraps mod 2^32: only its low 32 bits matter
          cross[i][j] += ah[i] * bl[j];
        }
    }
    __syncthreads();  // the next iteration's copies overwrite this buffer
  }

#pragma unroll
  for (int i = 0; i < TM; i++) {
    size_t gr = row0 + ty * TM + i;
    if (gr >= m) continue;
#pragma unroll
    for (int j = 0; j < TN; j++) {
      size_t gc = col0 + tx + CX * j;
      if (gc < n) C[gr * n + gc] = acc[i][j] + (u64(cross[i][j]) << 32);
    }
  }
}

// Tile shapes {BM, BN, TM, TN}, blocks per SM asked of the register
// allocator, and how far the k loop of a tile is unrolled; 256 threads each.
#define GEMM_VARIANTS 4
static const int kVariantBN[GEMM_VARIANTS] = {64, 64, 32, 64};
static const char *const kVariantName[GEMM_VARIANTS] = {"128x64/8x4/1blk/ku1", "64x64/4x4/2blk/ku8", "64x32/4x2/2blk/ku8", "64x64/4x4/1blk/ku8"};
static int g_gemm_variant = -1;  // -1: by shape

// Measured on an H100 (bench/CUDA-RESULTS.md): 64x64 tiles run at ~3.1 TMAC/s
// once the grid has a few blocks per SM; below ~1.5 blocks per SM (small m,
// e.g. VGG16's deep layers) or for n <= 32 the 64x32 tiles keep more SMs busy.
static int pick_variant(size_t m, size_t n) {
  if (g_gemm_variant >= 0) return g_gemm_variant;
  if (n <= 32) return 2;
  size_t blocks64 = ((m + 63) / 64) * ((n + 63) / 64);
  return blocks64 * 2 < size_t(3 * (g_info.sms > 0 ? g_info.sms : 132)) ? 2 : 1;
}

template <int BM, int BN, int TM, int TN, int MINB, int KU>
static void launch_one(const u64 *dA, const u64 *dB, u64 *dC, size_t m, size_t k, size_t n, size_t c0, size_t cols) {
  dim3 grid(unsigned((m + BM - 1) / BM), unsigned((cols + BN - 1) / BN));
  gemm_kernel<BM, BN, TM, TN, MINB, KU><<<grid, (BM / TM) * (BN / TN), 0, g_stream>>>(dA, dB, dC, m, k, n, c0);
}

static const char *launch_gemm(const u64 *dA, const u64 *dB, u64 *dC, size_t m, size_t k, size_t n, int v = -1) {
  if (v < 0) v = pick_variant(m, n);
  const size_t maxCols = size_t(65535) * kVariantBN[v];
  for (size_t c0 = 0; c0 < n; c0 += maxCols) {
    size_t cols = std::min(maxCols, n - c0);
    switch (v) {
      case 0: launch_one<128, 64, 8, 4, 1, 1>(dA, dB, dC, m, k, n, c0, cols); break;
      case 1: launch_one<64, 64, 4, 4, 2, 8>(dA, dB, dC, m, k, n, c0, cols); break;
      case 2: launch_one<64, 32, 4, 2, 2, 8>(dA, dB, dC, m, k, n, c0, cols); break;
      default: launch_one<64, 64, 4, 4, 1, 8>(dA, dB, dC, m, k, n, c0, cols); break;
    }
    CU(cudaGetLastError());
  }
  return nullptr;
}

extern "C" const char *scu_gemm_variant_name(int v) { return v >= 0 && v < GEMM_VARIANTS ? kVariantName[v] : "by shape"; }

extern "C" const char *scu_set_gemm_variant(int v) {
  if (v < -1 || v >= GEMM_VARIANTS) {
    snprintf(g_err, sizeof g_err, "gemm variant must be in [-1, %d]", GEMM_VARIANTS - 1);
    return g_err;
  }
  g_gemm_variant = v;
  return nullptr;
}

extern "C" const char *scu_gemm(const uint64_t *A, const uint64_t *B, uint64_t *out, size_t m, size_t k, size_t n) {
  TRY(ensure_ready());
  if (m == 0 || n == 0) return nullptr;
  if (k == 0) {
    memset(out, 0, m * n * 8);
    return nullptr;
  }
  // B stays resident; A and out go through in row blocks of at most ~1 GiB each.
  size_t rowBytes = (k + n) * 8;
  size_t rowsPer = std::max<size_t>(128, ((size_t(1) << 30) / rowBytes) / 128 * 128);
  rowsPer = std::min(rowsPer, m);
  TRY(reserve({{SLOT_A, rowsPer * k * 8}, {SLOT_B, k * n * 8}, {SLOT_C, rowsPer * n * 8}}));
  u64 *dA = buf<u64>(SLOT_A), *dB = buf<u64>(SLOT_B), *dC = buf<u64>(SLOT_C);
  double kernelMs = 0, h2dMs = 0, d2hMs = 0;
  bool first = true;
  for (size_t r0 = 0; r0 < m; r0 += rowsPer) {
    size_t rows = std::min(rowsPer, m - r0);
    mark(0);
    if (first) TRY(h2d(dB, B, k * n * 8));
    TRY(h2d(dA, A + r0 * k, rows * k * 8));
    mark(1);
    TRY(launch_gemm(dA, dB, dC, rows, k, n));
    mark(2);
    TRY(d2h(out + r0 * n, dC, rows * n * 8));
    mark(3);
    TRY(finish(0, 0));
    h2dMs += g_timing.h2d_ms;
    kernelMs += g_timing.kernel_ms;
    d2hMs += g_timing.d2h_ms;
    first = false;
  }
  g_timing.h2d_ms = h2dMs;
  g_timing.kernel_ms = kernelMs;
  g_timing.d2h_ms = d2hMs;
  g_timing.bytes_h2d = double(m * k + k * n) * 8;
  g_timing.bytes_d2h = double(m * n) * 8;
  return nullptr;
}

// ---------------------------------------------------------------------------
// im2col + GEMM with the im2col matrix built on the device (issue 27 item 2):
// x (NHWC) and B are copied in once, each row block of the im2col matrix is
// built by ring-elems.h's im2col_at into the device buffer the GEMM reads, and
// only out comes back: the kh*kw-times larger matrix never crosses PCIe.

__global__ void im2col_rows_kernel(const uint64_t *__restrict__ x, scu_elems::Window s, uint64_t *__restrict__ out, size_t base, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) out[i] = scu_elems::im2col_at(x, s, int64_t(base + i));
}

extern "C" const char *scu_im2col_gemm(const uint64_t *x, size_t nx, const int64_t *g, const uint64_t *B, size_t n, uint64_t *out) {
  TRY(ensure_ready());
  const scu_elems::Window s{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12]};
  const size_t m = size_t(s.N * s.outH * s.outW), k = size_t(s.kh * s.kw * s.C);
  if (m == 0 || n == 0) return nullptr;
  if (k == 0) {
    memset(out, 0, m * n * 8);
    return nullptr;
  }
  size_t rowBytes = (k + n) * 8;
  size_t rowsPer = std::max<size_t>(128, ((size_t(1) << 30) / rowBytes) / 128 * 128);
  rowsPer = std::min(rowsPer, m);
  TRY(reserve({{SLOT_A, rowsPer * k * 8}, {SLOT_B, k * n * 8}, {SLOT_C, rowsPer * n * 8}, {SLOT_D, nx * 8}}));
  u64 *dA = buf<u64>(SLOT_A), *dB = buf<u64>(SLOT_B), *dC = buf<u64>(SLOT_C);
  uint64_t *dx = buf<uint64_t>(SLOT_D);
  double kernelMs = 0, h2dMs = 0, d2hMs = 0;
  for (size_t r0 = 0; r0 < m; r0 += rowsPer) {
    size_t rows = std::min(rowsPer, m - r0);
    mark(0);
    if (r0 == 0) {
      TRY(h2d(dx, x, nx * 8));
      TRY(h2d(dB, B, k * n * 8));
    }
    mark(1);
    im2col_rows_kernel<<<blocks_for(rows * k, 256), 256, 0, g_stream>>>(dx, s, reinterpret_cast<uint64_t *>(dA), r0 * k, rows * k);
    CU(cudaGetLastError());
    TRY(launch_gemm(dA, dB, dC, rows, k, n));
    mark(2);
    TRY(d2h(out + r0 * n, dC, rows * n * 8));
    mark(3);
    TRY(finish(0, 0));
    h2dMs += g_timing.h2d_ms;
    kernelMs += g_timing.kernel_ms;
    d2hMs += g_timing.d2h_ms;
  }
  g_timing.h2d_ms = h2dMs;
  g_timing.kernel_ms = kernelMs;
  g_timing.d2h_ms = d2hMs;
  g_timing.bytes_h2d = double(nx + k * n) * 8;
  g_timing.bytes_d2h = double(m * n) * 8;
  return nullptr;
}

// Device-resident timing of the GEMM kernel on hashed inputs.
__host__ __device__ static inline u64 mix64(u64 z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
__global__ void fill_hash(u64 *x, size_t n, u64 salt) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) x[i] = mix64(i ^ salt);
}
__global__ void xor_reduce(const u64 *x, size_t n, u64 *out) {
  u64 h = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) h ^= mix64(x[i] + i);
  for (int o = 16; o > 0; o >>= 1) h ^= __shfl_xor_sync(0xffffffffu, h, o);
  if ((threadIdx.x & 31) == 0) atomicXor(out, h);
}

extern "C" const char *scu_bench_gemm(size_t m, size_t k, size_t n, int variant, int reps, double *ms, uint64_t *checksum, uint64_t *probe, uint64_t *probe_want) {
  TRY(ensure_ready());
  if (m == 0 || n == 0 || k == 0 || reps < 1 || variant < -1 || variant >= GEMM_VARIANTS) {
    snprintf(g_err, sizeof g_err, "bench_gemm: need m, k, n, reps >= 1 and a variant in [-1, %d]", GEMM_VARIANTS - 1);
    return g_err;
  }
  TRY(reserve({{SLOT_A, m * k * 8}, {SLOT_B, k * n * 8}, {SLOT_C, m * n * 8}, {SLOT_FLAGS, 8}}));
  u64 *dA = buf<u64>(SLOT_A), *dB = buf<u64>(SLOT_B), *dC = buf<u64>(SLOT_C), *dH = buf<u64>(SLOT_FLAGS);
  const u64 saltA = 0x1234567ull, saltB = 0xabcdef0123ull;
  fill_hash<<<blocks_for(m * k, 256), 256, 0, g_stream>>>(dA, m * k, saltA);
  fill_hash<<<blocks_for(k * n, 256), 256, 0, g_stream>>>(dB, k * n, saltB);
  CU(cudaGetLastError());
  TRY(launch_gemm(dA, dB, dC, m, k, n, variant));  // warm-up
  std::vector<float> t(reps);
  for (int r = 0; r < reps; r++) {
    cudaEventRecord(g_ev[0], g_stream);
    TRY(launch_gemm(dA, dB, dC, m, k, n, variant));
    cudaEventRecord(g_ev[1], g_stream);
    CU(cudaEventSynchronize(g_ev[1]));
    CU(cudaEventElapsedTime(&t[r], g_ev[0], g_ev[1]));
  }
  std::sort(t.begin(), t.end());
  *ms = t[reps / 2];
  CU(cudaMemsetAsync(dH, 0, 8, g_stream));
  xor_reduce<<<blocks_for(m * n, 256), 256, 0, g_stream>>>(dC, m * n, dH);
  CU(cudaGetLastError());
  CU(cudaMemcpyAsync(checksum, dH, 8, cudaMemcpyDeviceToHost, g_stream));
  // One output checked on the host: the last row and column (exercises the edge tiles).
  size_t pi = m - 1, pj = n - 1;
  CU(cudaMemcpyAsync(probe, dC + pi * n + pj, 8, cudaMemcpyDeviceToHost, g_stream));
  CU(cudaStreamSynchronize(g_stream));
  u64 want = 0;
  for (size_t t2 = 0; t2 < k; t2++) want += mix64((pi * k + t2) ^ saltA) * mix64((t2 * n + pj) ^ saltB);
  *probe_want = want;
  return nullptr;
}
