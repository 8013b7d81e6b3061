/*
 * C interface between the CUDA kernels (kernels.cu) and the N-API wrapper
 * (binding.c). Every function returns NULL on success or a message naming
 * the CUDA call that failed. Host pointers are plain (pageable) memory owned
 * by JavaScript; device memory comes from a pool of cudaMalloc'd buffers that
 * grow as needed and are kept between calls (never managed memory).
 *
 * Semantics are those of RingKernels (protocol/kernels/types.ts):
 * Z_2^64 arithmetic is mod 2^64 with exact 64-bit integer operations, the
 * Z_p arithmetic is mod 67.
 */
#ifndef SECURENN_CUDA_KERNELS_H
#define SECURENN_CUDA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int count;             /* devices visible; 0 when none or on error */
  int device;            /* device used (0) */
  char name[256];
  int major, minor;      /* compute capability */
  int sms;               /* multiprocessors */
  size_t total_mem;      /* bytes */
  int runtime_version, driver_version;
  char error[512];       /* why count is 0, or "" */
} scu_info;

/* Milliseconds spent in the phases of the last completed call (CUDA events). */
typedef struct {
  double h2d_ms, kernel_ms, d2h_ms;
  double bytes_h2d, bytes_d2h;
  double bytes_staged;   /* of those, the bytes copied through the pinned staging slots (staging.h) */
} scu_timing;

/* Probes the devices once (later calls return the cached answer). */
void scu_query(scu_info *info);

/* op: 0 add, 1 sub, 2 mul (out = a op b elementwise mod 2^64). */
const char *scu_elementwise(int op, const uint64_t *a, const uint64_t *b, uint64_t *out, size_t n);

/* out[m x n] = A[m x k] . B[k x n] mod 2^64. */
const char *scu_gemm(const uint64_t *A, const uint64_t *B, uint64_t *out, size_t m, size_t k, size_t n);

/* out[e*64+i] = (bit_i(x[e]) - r[e*64+i]) mod 67. */
const char *scu_bitsharezp(const uint64_t *x, const uint8_t *r, uint8_t *out, size_t n);

/*
 * PrivateCompare steps 2-6 for n elements. u may be NULL. *flags is set to a
 * nonzero mask when the GPU result must not be used (bit 0: a perm entry
 * > 63; bit 1: u missing for an element with beta = 1, r = 2^64-1; bit 2: a
 * perm group is not a permutation, so some d entries keep their old
 * contents); d is then left untouched and the caller recomputes on the CPU.
 */
const char *scu_private_compare(int j, const uint8_t *xb, const uint64_t *r, const uint8_t *beta, const uint8_t *s,
                                const uint8_t *u, const uint8_t *perm, uint8_t *d, size_t n, int *flags);

/* out[e] = 1 iff some (d0 + d1) mod 67 == 0 in group e of 64. */
const char *scu_zero_test(const uint8_t *d0, const uint8_t *d1, uint8_t *out, size_t n);

/*
 * The 32-bit comparison ring (kernels-narrow.cu; per-element logic in
 * zp-rows.h, semantics those of RingKernels' functions of the same names).
 * Every r must be below 2^31 for the two PrivateCompares (checked by the caller).
 */
const char *scu_bitsharezp32(const uint64_t *x, const uint8_t *r, uint8_t *out, size_t n);          /* r, out: 32 n */
const char *scu_zero_test32(const uint8_t *d0, const uint8_t *d1, uint8_t *out, size_t n);         /* d0, d1: 32 n */
const char *scu_private_compare32(int j, const uint8_t *xb, const uint64_t *r, const uint8_t *beta, const uint8_t *s,
                                  const uint8_t *rot, const uint8_t *mask, uint8_t *d, size_t n);  /* xb, s, mask, d: 32 n */
const char *scu_digitsharezp16(const uint64_t *x, const uint8_t *r, uint8_t *out, size_t n);       /* r, out: 48 n */
const char *scu_zero_test16(const uint8_t *d0, const uint8_t *d1, uint8_t *out, size_t n);         /* d0, d1: 16 n */
const char *scu_private_compare_r4(int j, const uint8_t *xl, const uint64_t *r, const uint8_t *beta, const uint8_t *s,
                                   const uint8_t *rot, const uint8_t *mask, uint8_t *d, size_t n); /* xl: 48 n; s, mask, d: 16 n */

/*
 * The ops of ring-elems.h (kernels-elems.cu; semantics those of RingKernels'
 * functions of the same names). The caller has checked the arguments: every
 * divisor >= 1 and dn = 1 or n; sar's f as given (> 63 shifts as 63);
 * geometry = {N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW}
 * (dm = 1 for im2col), every size below 2^31, nx = N H W C, nw = kh kw C dm,
 * n the output's length.
 */
const char *scu_mul_scalar(const uint64_t *a, uint64_t s, uint64_t *out, size_t n);
const char *scu_add_scalar(const uint64_t *a, uint64_t s, uint64_t *out, size_t n);
const char *scu_sar(const uint64_t *a, uint64_t f, uint64_t *out, size_t n);
const char *scu_div_share(const uint64_t *a, const uint32_t *d, size_t dn, int party, uint64_t *out, size_t n);
const char *scu_mask_zp(uint8_t *d, const uint8_t *mask, int subtract, size_t n);  /* d in place */
const char *scu_im2col(const uint64_t *x, size_t nx, const int64_t *geometry, uint64_t *out, size_t n);
const char *scu_depthwise(const uint64_t *x, size_t nx, const uint64_t *w, size_t nw, const int64_t *geometry, uint64_t *out, size_t n);
/* out[m x n] = im2col(x)[m x k] . B[k x n] mod 2^64 (m = N outH outW, k = kh kw C), the im2col matrix built
 * on the device (kernels-gemm.cu): x and B are copied in, out back; geometry as above. */
const char *scu_im2col_gemm(const uint64_t *x, size_t nx, const int64_t *geometry, const uint64_t *B, size_t n, uint64_t *out);

/*
 * Device-resident GEMM timing: fills A, B on the device with a hash of the
 * index, runs the GEMM kernel (tile shape `variant`, -1: by shape) `reps` times and reports the median
 * milliseconds of one run (CUDA events) and a checksum of the result.
 */
const char *scu_bench_gemm(size_t m, size_t k, size_t n, int variant, int reps, double *ms, uint64_t *checksum, uint64_t *probe, uint64_t *probe_want);

/* GEMM tile shape for later calls: -1 picks by shape (default), 0..3 force one. */
const char *scu_set_gemm_variant(int v);

void scu_last_timing(scu_timing *t);

/* Frees the device buffer pool (and the pinned staging slots, allocated again when needed). */
const char *scu_release(void);

/* Copies of at least 1 MiB through two pinned (cudaMallocHost) slots of 4 MiB (on = 1, the default), or
 * every copy from / to pageable memory (on = 0). scu_staging_state: 1 slots allocated, 0 not tried yet,
 * -1 pageable only (switched off, or cudaMallocHost failed: the fallback). */
const char *scu_set_staging(int on);
int scu_staging_state(void);

#ifdef __cplusplus
}
#endif

#endif
