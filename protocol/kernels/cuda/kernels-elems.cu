// CUDA kernels for the ops issue 27's audit found on the CPU of a GPU party
// (RingKernels, protocol/kernels/types.ts): mulScalar, addScalar, divShare,
// sar (the local truncations, the piecewise cubics' scalar steps), maskZp
// (the 64-bit ring's mask step), im2col (conv2d, conv2d_transpose's
// sub-convolutions) and depthwise. Each __global__ kernel is a grid-stride
// loop, one output element per thread, over the per-element function of
// ring-elems.h, which a host program checks against the CPU kernels without a
// GPU (ring-elems-check.cc, ring-elems.test.ts). Host side: copy in, one
// launch, copy out (device.h's pool, stream and staged copies), as kernels.cu.
#include "device.h"
#include "ring-elems.h"

using namespace scu;
using namespace scu_elems;

#define ELEM_THREADS 256

#define GRID_STRIDE(i, n) for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < (n); i += size_t(gridDim.x) * blockDim.x)

// op: 0 mulScalar, 1 addScalar, 2 sar (s = the shift).
__global__ void scalar_kernel(int op, const u64 *__restrict__ a, u64 s, u64 *__restrict__ out, size_t n) {
  GRID_STRIDE(i, n) out[i] = op == 0 ? mul_scalar(a[i], s) : op == 1 ? add_scalar(a[i], s) : sar(a[i], s);
}

// shift >= 0: broadcast divisor 2^shift; else d has dn = 1 (broadcast) or n entries.
__global__ void div_share_kernel(const u64 *__restrict__ a, const u32 *__restrict__ d, size_t dn, int shift, int party, u64 *__restrict__ out, size_t n) {
  GRID_STRIDE(i, n) out[i] = shift >= 0 ? div_share_pow2(a[i], unsigned(shift), party) : div_share(a[i], d[dn == 1 ? 0 : i], party);
}

__global__ void mask_zp_kernel(u8 *__restrict__ d, const u8 *__restrict__ mask, int subtract, size_t n) {
  GRID_STRIDE(i, n) d[i] = mask_zp(d[i], mask[i], subtract);
}

__global__ void im2col_kernel(const uint64_t *__restrict__ x, Window s, uint64_t *__restrict__ out, size_t n) {
  GRID_STRIDE(i, n) out[i] = im2col_at(x, s, int64_t(i));
}

__global__ void depthwise_kernel(const uint64_t *__restrict__ x, const uint64_t *__restrict__ w, Window s, uint64_t *__restrict__ out, size_t n) {
  GRID_STRIDE(i, n) out[i] = depthwise_at(x, w, s, int64_t(i));
}

// ---------------------------------------------------------------------------
// Host side

static const char *scalar_op(int op, const uint64_t *a, uint64_t s, uint64_t *out, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  TRY(reserve({{SLOT_A, n * 8}, {SLOT_C, n * 8}}));
  u64 *da = buf<u64>(SLOT_A), *dc = buf<u64>(SLOT_C);
  mark(0);
  TRY(h2d(da, a, n * 8));
  mark(1);
  scalar_kernel<<<blocks_for(n, ELEM_THREADS), ELEM_THREADS, 0, g_stream>>>(op, da, s, dc, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(out, dc, n * 8));
  mark(3);
  return finish(n * 8.0, n * 8.0);
}

extern "C" const char *scu_mul_scalar(const uint64_t *a, uint64_t s, uint64_t *out, size_t n) { return scalar_op(0, a, s, out, n); }
extern "C" const char *scu_add_scalar(const uint64_t *a, uint64_t s, uint64_t *out, size_t n) { return scalar_op(1, a, s, out, n); }
extern "C" const char *scu_sar(const uint64_t *a, uint64_t f, uint64_t *out, size_t n) { return scalar_op(2, a, f, out, n); }

extern "C" const char *scu_div_share(const uint64_t *a, const uint32_t *d, size_t dn, int party, uint64_t *out, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  const int shift = dn == 1 ? pow2_shift(d[0]) : -1;
  TRY(reserve({{SLOT_A, n * 8}, {SLOT_B, dn * 4}, {SLOT_C, n * 8}}));
  u64 *da = buf<u64>(SLOT_A), *dc = buf<u64>(SLOT_C);
  u32 *dd = buf<u32>(SLOT_B);
  mark(0);
  TRY(h2d(da, a, n * 8));
  TRY(h2d(dd, d, dn * 4));
  mark(1);
  div_share_kernel<<<blocks_for(n, ELEM_THREADS), ELEM_THREADS, 0, g_stream>>>(da, dd, dn, shift, party, dc, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(out, dc, n * 8));
  mark(3);
  return finish(n * 8.0 + dn * 4.0, n * 8.0);
}

extern "C" const char *scu_mask_zp(uint8_t *d, const uint8_t *mask, int subtract, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  TRY(reserve({{SLOT_A, n}, {SLOT_B, n}}));
  u8 *dd = buf<u8>(SLOT_A), *dm = buf<u8>(SLOT_B);
  mark(0);
  TRY(h2d(dd, d, n));
  TRY(h2d(dm, mask, n));
  mark(1);
  mask_zp_kernel<<<blocks_for(n, ELEM_THREADS), ELEM_THREADS, 0, g_stream>>>(dd, dm, subtract, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(d, dd, n));
  mark(3);
  return finish(n * 2.0, double(n));
}

static Window window_of(const int64_t *g) { return Window{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12]}; }

extern "C" const char *scu_im2col(const uint64_t *x, size_t nx, const int64_t *geometry, uint64_t *out, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  TRY(reserve({{SLOT_A, nx * 8}, {SLOT_C, n * 8}}));
  uint64_t *dx = buf<uint64_t>(SLOT_A), *dc = buf<uint64_t>(SLOT_C);
  mark(0);
  TRY(h2d(dx, x, nx * 8));
  mark(1);
  im2col_kernel<<<blocks_for(n, ELEM_THREADS), ELEM_THREADS, 0, g_stream>>>(dx, window_of(geometry), dc, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(out, dc, n * 8));
  mark(3);
  return finish(nx * 8.0, n * 8.0);
}

extern "C" const char *scu_depthwise(const uint64_t *x, size_t nx, const uint64_t *w, size_t nw, const int64_t *geometry, uint64_t *out, size_t n) {
  TRY(ensure_ready());
  if (n == 0) return nullptr;
  TRY(reserve({{SLOT_A, nx * 8}, {SLOT_B, nw * 8}, {SLOT_C, n * 8}}));
  uint64_t *dx = buf<uint64_t>(SLOT_A), *dw = buf<uint64_t>(SLOT_B), *dc = buf<uint64_t>(SLOT_C);
  mark(0);
  TRY(h2d(dx, x, nx * 8));
  TRY(h2d(dw, w, nw * 8));
  mark(1);
  depthwise_kernel<<<blocks_for(n, ELEM_THREADS), ELEM_THREADS, 0, g_stream>>>(dx, dw, window_of(geometry), dc, n);
  CU(cudaGetLastError());
  mark(2);
  TRY(d2h(out, dc, n * 8));
  mark(3);
  return finish((nx + nw) * 8.0, n * 8.0);
}
