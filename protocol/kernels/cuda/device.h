/*
 * The device side shared by the CUDA kernel files (kernels-gemm.cu: GEMM;
 * kernels.cu: elementwise, 64-position Z_p kernels; kernels-narrow.cu: the 32-position and
 * radix-4 Z_p kernels): error messages, the one stream and its timing events,
 * and the pool of cudaMalloc'd buffers (one slot per argument position, grown
 * on demand and kept between calls). Implemented in device.cu. Internal to
 * the addon; binding.c sees only kernels.h.
 */
#ifndef SECURENN_CUDA_DEVICE_H
#define SECURENN_CUDA_DEVICE_H

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdio>
#include <initializer_list>

#include "kernels.h"

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

namespace scu {

/* The message of the last failure on this thread (what the entry points return). */
extern thread_local char g_err[640];
extern scu_info g_info;
extern cudaStream_t g_stream;
extern cudaEvent_t g_ev[4];
extern scu_timing g_timing;

enum { SLOT_A, SLOT_B, SLOT_C, SLOT_D, SLOT_E, SLOT_F, SLOT_G, SLOT_FLAGS, NSLOTS };
extern void *g_buf[NSLOTS];

struct Need {
  int slot;
  size_t bytes;
};

/* Probes the device and creates the stream and events once; NULL or a message. */
const char *ensure_ready();
/* Makes every listed slot at least its size (see device.cu); NULL or a message. Take pointers (buf) only after it succeeds. */
const char *reserve(std::initializer_list<Need> needs);
void pool_free_all();
template <typename T>
inline T *buf(int slot) { return static_cast<T *>(g_buf[slot]); }

/* Phase timing: mark(0) before uploads, mark(1) after, mark(2) after the kernels, mark(3) after the downloads; finish() waits and records g_timing. */
void mark(int i);
const char *finish(double up, double down);
const char *h2d(void *dst, const void *src, size_t bytes);
const char *d2h(void *dst, const void *src, size_t bytes);
/* Grid size for a grid-stride loop over n items. */
unsigned blocks_for(size_t n, unsigned threads);

}  // namespace scu

#define CU(call)                                                                                      \
  do {                                                                                                \
    cudaError_t e_ = (call);                                                                          \
    if (e_ != cudaSuccess) {                                                                          \
      snprintf(scu::g_err, sizeof scu::g_err, "cuda: %s failed: %s (%s:%d)", #call, cudaGetErrorString(e_), \
               __FILE__, __LINE__);                                                                   \
      return scu::g_err;                                                                                   \
    }                                                                                                 \
  } while (0)

#define TRY(expr)                     \
  do {                                \
    const char *m_ = (expr);          \
    if (m_) return m_;                \
  } while (0)

#endif
