// CUDA kernels on the 32-bit comparison ring (RingKernels, protocol/kernels/types.ts):
// bitShareZp32, privateCompare32, zeroTest32 (32 positions per element) and
// the radix-4 PrivateCompare's digitShareZp16, privateCompareR4, zeroTest16.
// Each __global__ kernel is a grid-stride loop, one element per thread, over
// the per-element function of zp-rows.h, which a host program checks against
// the CPU kernels without a GPU (zp-rows-check.cc, zp-rows.test.ts). The host
// side copies the arguments in, launches, copies the result out (device.h's
// pool and stream), as kernels.cu does for the 64-position kernels.
#include "device.h"
#include "zp-rows.h"

using namespace scu;
using namespace scu_rows;

#define ROW_THREADS 128

// ---------------------------------------------------------------------------
// Kernels: thin loops over zp-rows.h

__global__ void bitshare32_kernel(const u64 *__restrict__ x, const u8 *__restrict__ r, u8 *__restrict__ out, size_t n) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) bitshare_row<32>(x[e], r + e * 32, out + e * 32);
}

__global__ void digitshare16_kernel(const u64 *__restrict__ x, const u8 *__restrict__ r, u8 *__restrict__ out, size_t n) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) digitshare16_row(x[e], r + e * 48, out + e * 48);
}

template <int W>
__global__ void zero_test_rows_kernel(const u8 *__restrict__ d0, const u8 *__restrict__ d1, u8 *__restrict__ out, size_t n) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) out[e] = zero_test_row<W>(d0 + e * W, d1 + e * W);
}

// W values sent per element (32: privateCompare32, 16: privateCompareR4), X dealt per element (32, 48).
template <int W, int X>
__global__ void pc_rows_kernel(int j, const u8 *__restrict__ x, const u64 *__restrict__ r, const u8 *__restrict__ beta, const u8 *__restrict__ s,
                               const u8 *__restrict__ rot, const u8 *__restrict__ mask, u8 *__restrict__ d, size_t n) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) {
    if (W == 32) pc32_row(j, x + e * X, r[e], beta[e], s + e * W, rot[e], mask + e * W, d + e * W);
    else pcr4_row(j, x + e * X, r[e], beta[e], s + e * W, rot[e], mask + e * W, d + e * W);
  }
}

// ---------------------------------------------------------------------------
// Host side: copy in, one launch, copy out.

// x (n values) and r (n * X bytes) -> out (n * X bytes).
template <int X>
static const char *share_rows(const uint64_t *x, const uint8_t *r, uint8_t *out, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  TRY(reserve({{SLOT_A, n * 8}, {SLOT_B, n * X}, {SLOT_C, n * X}}));
  u64 *dx = buf<u64>(SLOT_A);
  u8 *dr = buf<u8>(SLOT_B), *dout = buf<u8>(SLOT_C);
  mark(0);
  TRY(h2d(dx, x, n * 8));
  TRY(h2d(dr, r, n * X));
  mark(1);
  if (X == 32) bitshare32_kernel<<<blocks_for(n, ROW_THREADS), ROW_THREADS, 0, g_stream>>>(dx, dr, dout, n);
  else digitshare16_kernel<<<blocks_for(n, ROW_THREADS), ROW_THREADS, 0, g_stream>>>(dx, dr, dout, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(out, dout, n * X));
  mark(3);
  return finish(n * (8.0 + X), n * double(X));
}

extern "C" const char *scu_bitsharezp32(const uint64_t *x, const uint8_t *r, uint8_t *out, size_t n) { return share_rows<32>(x, r, out, n); }
extern "C" const char *scu_digitsharezp16(const uint64_t *x, const uint8_t *r, uint8_t *out, size_t n) { return share_rows<48>(x, r, out, n); }

template <int W>
static const char *zero_test_rows(const uint8_t *d0, const uint8_t *d1, uint8_t *out, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  TRY(reserve({{SLOT_A, n * W}, {SLOT_B, n * W}, {SLOT_C, n}}));
  u8 *a = buf<u8>(SLOT_A), *b = buf<u8>(SLOT_B), *o = buf<u8>(SLOT_C);
  mark(0);
  TRY(h2d(a, d0, n * W));
  TRY(h2d(b, d1, n * W));
  mark(1);
  zero_test_rows_kernel<W><<<blocks_for(n, ROW_THREADS), ROW_THREADS, 0, g_stream>>>(a, b, o, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(out, o, n));
  mark(3);
  return finish(n * 2.0 * W, double(n));
}

extern "C" const char *scu_zero_test32(const uint8_t *d0, const uint8_t *d1, uint8_t *out, size_t n) { return zero_test_rows<32>(d0, d1, out, n); }
extern "C" const char *scu_zero_test16(const uint8_t *d0, const uint8_t *d1, uint8_t *out, size_t n) { return zero_test_rows<16>(d0, d1, out, n); }

template <int W, int X>
static const char *pc_rows(int j, const uint8_t *x, const uint64_t *r, const uint8_t *beta, const uint8_t *s, const uint8_t *rot, const uint8_t *mask, uint8_t *d, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  TRY(reserve({{SLOT_A, n * X}, {SLOT_B, n * 8}, {SLOT_C, n}, {SLOT_D, n * W}, {SLOT_E, n}, {SLOT_F, n * W}, {SLOT_G, n * W}}));
  u8 *dx = buf<u8>(SLOT_A), *dbeta = buf<u8>(SLOT_C), *ds = buf<u8>(SLOT_D), *drot = buf<u8>(SLOT_E), *dmask = buf<u8>(SLOT_F), *dd = buf<u8>(SLOT_G);
  u64 *dr = buf<u64>(SLOT_B);
  mark(0);
  TRY(h2d(dx, x, n * X));
  TRY(h2d(dr, r, n * 8));
  TRY(h2d(dbeta, beta, n));
  TRY(h2d(ds, s, n * W));
  TRY(h2d(drot, rot, n));
  TRY(h2d(dmask, mask, n * W));
  mark(1);
  pc_rows_kernel<W, X><<<blocks_for(n, ROW_THREADS), ROW_THREADS, 0, g_stream>>>(j, dx, dr, dbeta, ds, drot, dmask, dd, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(d, dd, n * W));
  mark(3);
  return finish(n * (X + 8.0 + 1 + W + 1 + W), n * double(W));
}

extern "C" const char *scu_private_compare32(int j, const uint8_t *xb, const uint64_t *r, const uint8_t *beta, const uint8_t *s, const uint8_t *rot, const uint8_t *mask, uint8_t *d, size_t n) {
  return pc_rows<32, 32>(j, xb, r, beta, s, rot, mask, d, n);
}
extern "C" const char *scu_private_compare_r4(int j, const uint8_t *xl, const uint64_t *r, const uint8_t *beta, const uint8_t *s, const uint8_t *rot, const uint8_t *mask, uint8_t *d, size_t n) {
  return pc_rows<16, 48>(j, xl, r, beta, s, rot, mask, d, n);
}
