// CUDA kernels for the share arithmetic of RingKernels (protocol/kernels/types.ts):
// elementwise ops over Z_2^64 and the 64-position Z_p (p = 67) kernels of
// PrivateCompare. The GEMM is in kernels-gemm.cu, the 32-bit comparison ring's
// kernels in kernels-narrow.cu, the device pool in device.cu; built by
// scripts/build-cuda.mjs into build-cuda/securenn_cuda.node together with the
// N-API wrapper binding.c.
//
// Exactness: everything is integer arithmetic (u64 wraps mod 2^64; Z_p values
// reduced exactly).
//
// Host side: synchronous calls on one stream; device memory from a pool of
// cudaMalloc'd buffers kept between calls (grown on demand, freed on
// scu_release or when an allocation fails and must be retried).
#include "device.h"

using namespace scu;

#define P 67

// ---------------------------------------------------------------------------
// Elementwise Z_2^64

__global__ void ew_kernel(int op, const u64 *__restrict__ a, const u64 *__restrict__ b, u64 *__restrict__ out, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    u64 x = a[i], y = b[i];
    out[i] = op == 0 ? x + y : op == 1 ? x - y : x * y;  // u64 arithmetic wraps mod 2^64
  }
}

extern "C" const char *scu_elementwise(int op, const uint64_t *a, const uint64_t *b, uint64_t *out, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  size_t bytes = n * 8;
  TRY(reserve({{SLOT_A, bytes}, {SLOT_B, bytes}, {SLOT_C, bytes}}));
  u64 *da = buf<u64>(SLOT_A), *db = buf<u64>(SLOT_B), *dc = buf<u64>(SLOT_C);
  mark(0);
  TRY(h2d(da, a, bytes));
  TRY(h2d(db, b, bytes));
  mark(1);
  ew_kernel<<<blocks_for(n, 256), 256, 0, g_stream>>>(op, da, db, dc, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(out, dc, bytes));
  mark(3);
  return finish(2.0 * bytes, bytes);
}

// ---------------------------------------------------------------------------
// Z_p kernels (p = 67)

__device__ __forceinline__ int modp(int v) { return ((v % P) + P) % P; }

// One thread per element: 64 output bytes, written as four 16-byte stores.
__global__ void bitshare_kernel(const u64 *__restrict__ x, const uint4 *__restrict__ r, uint4 *__restrict__ out, size_t n) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) {
    u64 v = x[e];
#pragma unroll
    for (int q = 0; q < 4; q++) {
      uint4 rr = r[e * 4 + q];
      u32 rw[4] = {rr.x, rr.y, rr.z, rr.w};
      u32 ow[4];
#pragma unroll
      for (int w = 0; w < 4; w++) {
        u32 o = 0;
#pragma unroll
        for (int b = 0; b < 4; b++) {
          int i = q * 16 + w * 4 + b;
          int bit = int((v >> i) & 1ull);
          int ri = int((rw[w] >> (8 * b)) & 0xffu);
          o |= u32(modp(bit - ri)) << (8 * b);
        }
        ow[w] = o;
      }
      out[e * 4 + q] = make_uint4(ow[0], ow[1], ow[2], ow[3]);
    }
  }
}

extern "C" const char *scu_bitsharezp(const uint64_t *x, const uint8_t *r, uint8_t *out, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  TRY(reserve({{SLOT_A, n * 8}, {SLOT_B, n * 64}, {SLOT_C, n * 64}}));
  u64 *dx = buf<u64>(SLOT_A);
  uint4 *dr = buf<uint4>(SLOT_B), *dout = buf<uint4>(SLOT_C);
  mark(0);
  TRY(h2d(dx, x, n * 8));
  TRY(h2d(dr, r, n * 64));
  mark(1);
  bitshare_kernel<<<blocks_for(n, 128), 128, 0, g_stream>>>(dx, dr, dout, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(out, dout, n * 64));
  mark(3);
  return finish(n * 72.0, n * 64.0);
}

__device__ __forceinline__ u32 byte_of(const u32 (&w)[16], int i) { return (w[i >> 2] >> (8 * (i & 3))) & 0xffu; }

__device__ __forceinline__ void load64(const u8 *p, u32 (&w)[16]) {
  const uint4 *q = reinterpret_cast<const uint4 *>(p);
#pragma unroll
  for (int t = 0; t < 4; t++) {
    uint4 v = q[t];
    w[4 * t] = v.x; w[4 * t + 1] = v.y; w[4 * t + 2] = v.z; w[4 * t + 3] = v.w;
  }
}

#define PC_THREADS 128

// One thread per element; its 64 outputs are scattered by perm into a
// shared-memory row (17 words: the odd stride spreads threads over banks),
// then copied out in words.
__global__ void __launch_bounds__(PC_THREADS)
pc_kernel(int j, const u8 *__restrict__ xb, const u64 *__restrict__ r, const u8 *__restrict__ beta, const u8 *__restrict__ s,
          const u8 *__restrict__ u, const u8 *__restrict__ perm, u8 *__restrict__ d, size_t n, int *__restrict__ flags) {
  __shared__ u32 stage[PC_THREADS * 17];
  size_t e = blockIdx.x * size_t(PC_THREADS) + threadIdx.x;
  if (e >= n) return;  // no block-wide barriers below
  u8 *row = reinterpret_cast<u8 *>(stage + threadIdx.x * 17);
  const u64 re = r[e];
  const int be = beta[e];
  u32 X[16], S[16], Pm[16];
  load64(xb + e * 64, X);
  load64(s + e * 64, S);
  load64(perm + e * 64, Pm);
  u64 seen = 0;
  int bad = 0;
  const bool special = be == 1 && re == ~0ull;
  if (special) {
    if (!u) {
      atomicOr(flags, 2);
      return;
    }
    u32 U[16];
    load64(u + e * 64, U);
#pragma unroll
    for (int i = 63; i >= 0; i--) {
      int ui = int(byte_of(U, i));
      int c = j == 0 ? modp(ui + (i != 0 ? 1 : 0)) : modp(-ui);
      int p = int(byte_of(Pm, i));
      bad |= p;
      seen |= 1ull << (p & 63);
      row[p & 63] = u8((int(byte_of(S, i)) * c) % P);
    }
  } else {
    const u64 v64 = be == 0 ? re : re + 1;  // t = r + 1 mod 2^64
    const int sign = be == 0 ? -1 : 1;
    int suffix = 0;  // sum_{k>i} w_k mod p
#pragma unroll
    for (int i = 63; i >= 0; i--) {
      int v = int((v64 >> i) & 1ull);
      int xi = int(byte_of(X, i));
      int c = modp(sign * (xi - j * v) + j + suffix);
      suffix = modp(suffix + modp(xi + j * v - 2 * v * xi));
      int p = int(byte_of(Pm, i));
      bad |= p;
      seen |= 1ull << (p & 63);
      row[p & 63] = u8((int(byte_of(S, i)) * c) % P);
    }
  }
  if (bad & 0xc0) atomicOr(flags, 1);
  if (seen != ~0ull) atomicOr(flags, 4);
  u32 *dst = reinterpret_cast<u32 *>(d + e * 64);
  const u32 *src = stage + threadIdx.x * 17;
#pragma unroll
  for (int t = 0; t < 16; t++) dst[t] = src[t];
}

extern "C" const char *scu_private_compare(int j, const uint8_t *xb, const uint64_t *r, const uint8_t *beta, const uint8_t *s,
                                           const uint8_t *u, const uint8_t *perm, uint8_t *d, size_t n, int *flags) {
  *flags = 0;
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  TRY(reserve({{SLOT_A, n * 64}, {SLOT_B, n * 8}, {SLOT_C, n}, {SLOT_D, n * 64}, {SLOT_E, u ? n * 64 : 1}, {SLOT_F, n * 64}, {SLOT_G, n * 64}, {SLOT_FLAGS, 8}}));
  u8 *dxb = buf<u8>(SLOT_A), *dbeta = buf<u8>(SLOT_C), *ds = buf<u8>(SLOT_D), *du = u ? buf<u8>(SLOT_E) : nullptr;
  u8 *dperm = buf<u8>(SLOT_F), *dd = buf<u8>(SLOT_G);
  u64 *dr = buf<u64>(SLOT_B);
  int *dflags = buf<int>(SLOT_FLAGS);
  mark(0);
  CU(cudaMemsetAsync(dflags, 0, sizeof(int), g_stream));
  TRY(h2d(dxb, xb, n * 64));
  TRY(h2d(dr, r, n * 8));
  TRY(h2d(dbeta, beta, n));
  TRY(h2d(ds, s, n * 64));
  if (u) TRY(h2d(du, u, n * 64));
  TRY(h2d(dperm, perm, n * 64));
  mark(1);
  pc_kernel<<<unsigned((n + PC_THREADS - 1) / PC_THREADS), PC_THREADS, 0, g_stream>>>(j, dxb, dr, dbeta, ds, du, dperm, dd, n, dflags);
  CU(cudaGetLastError());
  mark(2);
  int hf = 0;
  CU(cudaMemcpyAsync(&hf, dflags, sizeof(int), cudaMemcpyDeviceToHost, g_stream));
  CU(cudaStreamSynchronize(g_stream));
  *flags = hf;
  if (hf == 0) TRY(d2h(d, dd, n * 64));
  mark(3);
  return finish(n * (u ? 265.0 : 201.0), n * 64.0);
}

// One thread per group of 64.
__global__ void zero_test_kernel(const uint4 *__restrict__ d0, const uint4 *__restrict__ d1, u8 *__restrict__ out, size_t n) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) {
    int z = 0;
#pragma unroll
    for (int q = 0; q < 4; q++) {
      uint4 a = d0[e * 4 + q], b = d1[e * 4 + q];
      u32 aw[4] = {a.x, a.y, a.z, a.w}, bw[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int w = 0; w < 4; w++)
#pragma unroll
        for (int t = 0; t < 4; t++) {
          u32 sum = ((aw[w] >> (8 * t)) & 0xffu) + ((bw[w] >> (8 * t)) & 0xffu);
          z |= (sum % P) == 0;
        }
    }
    out[e] = u8(z);
  }
}

extern "C" const char *scu_zero_test(const uint8_t *d0, const uint8_t *d1, uint8_t *out, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  TRY(reserve({{SLOT_A, n * 64}, {SLOT_B, n * 64}, {SLOT_C, n}}));
  uint4 *a = buf<uint4>(SLOT_A), *b = buf<uint4>(SLOT_B);
  u8 *o = buf<u8>(SLOT_C);
  mark(0);
  TRY(h2d(a, d0, n * 64));
  TRY(h2d(b, d1, n * 64));
  mark(1);
  zero_test_kernel<<<blocks_for(n, 256), 256, 0, g_stream>>>(a, b, o, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(out, o, n));
  mark(3);
  return finish(n * 128.0, double(n));
}

extern "C" void scu_last_timing(scu_timing *t) { *t = g_timing; }
