// The device side shared by the kernel files (device.h): error messages, the
// device probe, the stream and its events, the buffer pool and the phase
// timing. Moved out of kernels.cu unchanged.
#include "device.h"

#include <cstring>

#include "staging.h"

extern "C" void scu_query(scu_info *info) {
  static bool probed = false;
  if (!probed) {
    probed = true;
    memset(&scu::g_info, 0, sizeof scu::g_info);
    cudaRuntimeGetVersion(&scu::g_info.runtime_version);
    cudaDriverGetVersion(&scu::g_info.driver_version);
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      snprintf(scu::g_info.error, sizeof scu::g_info.error, "cudaGetDeviceCount: %s", cudaGetErrorString(e));
      cudaGetLastError();
      n = 0;
    } else if (n == 0) {
      snprintf(scu::g_info.error, sizeof scu::g_info.error, "no CUDA device");
    }
    if (n > 0) {
      cudaDeviceProp prop;
      e = cudaSetDevice(0);
      if (e == cudaSuccess) e = cudaGetDeviceProperties(&prop, 0);
      if (e == cudaSuccess) e = cudaFree(0);  // create the context now
      if (e != cudaSuccess) {
        snprintf(scu::g_info.error, sizeof scu::g_info.error, "device 0: %s", cudaGetErrorString(e));
        cudaGetLastError();
        n = 0;
      } else {
        snprintf(scu::g_info.name, sizeof scu::g_info.name, "%s", prop.name);
        scu::g_info.major = prop.major;
        scu::g_info.minor = prop.minor;
        scu::g_info.sms = prop.multiProcessorCount;
        scu::g_info.total_mem = prop.totalGlobalMem;
      }
    }
    scu::g_info.count = n;
  }
  *info = scu::g_info;
}

namespace scu {

// ---------------------------------------------------------------------------
// Errors

thread_local char g_err[640];

// ---------------------------------------------------------------------------
// Device probe

scu_info g_info;

// ---------------------------------------------------------------------------
// Device buffer pool: one slot per argument position, grown on demand.

void *g_buf[NSLOTS];
static size_t g_cap[NSLOTS];
cudaStream_t g_stream;
cudaEvent_t g_ev[4];
static bool g_ready = false;
scu_timing g_timing;
static double g_staged_bytes = 0;  // bytes of the current call copied through the staging slots

const char *ensure_ready() {
  if (g_ready) return nullptr;
  scu_info info;
  scu_query(&info);
  if (info.count == 0) {
    snprintf(g_err, sizeof g_err, "cuda: no device (%s)", info.error);
    return g_err;
  }
  CU(cudaSetDevice(0));
  CU(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking));
  for (int i = 0; i < 4; i++) CU(cudaEventCreate(&g_ev[i]));
  g_ready = true;
  return nullptr;
}

void pool_free_all() {
  for (int i = 0; i < NSLOTS; i++) {
    if (g_buf[i]) cudaFree(g_buf[i]);
    g_buf[i] = nullptr;
    g_cap[i] = 0;
  }
}

// Makes every listed slot at least its size. When an allocation fails, the
// whole cache is given back and the listed slots are allocated again at their
// exact sizes, so no pointer taken before a failure is ever used after it:
// callers take pointers (buf) only after reserve succeeds.
const char *reserve(std::initializer_list<Need> needs) {
  for (int attempt = 0; attempt < 2; attempt++) {
    bool ok = true;
    cudaError_t e = cudaSuccess;
    size_t failed = 0;
    for (const Need &nd : needs) {
      size_t bytes = nd.bytes ? nd.bytes : 1;
      if (g_cap[nd.slot] >= bytes) continue;
      if (g_buf[nd.slot]) cudaFree(g_buf[nd.slot]);
      g_buf[nd.slot] = nullptr;
      g_cap[nd.slot] = 0;
      // 2 MiB granules on the first try, exact sizes on the retry.
      size_t want = attempt == 0 ? (bytes + (size_t(1) << 21) - 1) & ~((size_t(1) << 21) - 1) : bytes;
      void *p = nullptr;
      e = cudaMalloc(&p, want);
      if (e != cudaSuccess) {
        cudaGetLastError();
        ok = false;
        failed = bytes;
        break;
      }
      g_buf[nd.slot] = p;
      g_cap[nd.slot] = want;
    }
    if (ok) return nullptr;
    cudaStreamSynchronize(g_stream);
    pool_free_all();
    if (attempt == 1) {
      snprintf(g_err, sizeof g_err, "cuda: cudaMalloc(%zu bytes) failed: %s", failed, cudaGetErrorString(e));
      return g_err;
    }
  }
  return nullptr;
}

// Phase timing with events on the stream: mark(0) before uploads, mark(1)
// after, mark(2) after the kernels, mark(3) after the downloads.
void mark(int i) {
  if (i == 0) g_staged_bytes = 0;
  cudaEventRecord(g_ev[i], g_stream);
}
const char *finish(double up, double down) {
  CU(cudaStreamSynchronize(g_stream));
  CU(cudaGetLastError());
  float a = 0, b = 0, c = 0;
  CU(cudaEventElapsedTime(&a, g_ev[0], g_ev[1]));
  CU(cudaEventElapsedTime(&b, g_ev[1], g_ev[2]));
  CU(cudaEventElapsedTime(&c, g_ev[2], g_ev[3]));
  g_timing.h2d_ms = a;
  g_timing.kernel_ms = b;
  g_timing.d2h_ms = c;
  g_timing.bytes_h2d = up;
  g_timing.bytes_d2h = down;
  g_timing.bytes_staged = g_staged_bytes;
  return nullptr;
}

// ---------------------------------------------------------------------------
// Copies: through two pinned staging slots (staging.h) for copies of at least
// STAGE_MIN bytes; smaller uploads packed into a slot (packed_h2d), smaller
// downloads directly to pageable memory (the call waits for them anyway); every
// copy directly when the pinned buffers cannot be allocated (or staging is
// switched off: scu_set_staging).

static const size_t STAGE_CHUNK = size_t(4) << 20;  // bytes per slot
static const size_t STAGE_MIN = size_t(1) << 20;

struct CudaEngine {
  int busy[scu_stage::SLOTS] = {0, 0};
  uint8_t *slots[scu_stage::SLOTS] = {nullptr, nullptr};
  cudaEvent_t ev[scu_stage::SLOTS];
  uint8_t *slot(int s) { return slots[s]; }
  size_t slot_bytes() const { return STAGE_CHUNK; }
  void host_copy(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }
  const char *async_copy(void *dst, const void *src, size_t n, int to_device) {
    CU(cudaMemcpyAsync(dst, src, n, to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost, g_stream));
    return nullptr;
  }
  const char *record(int s) {
    CU(cudaEventRecord(ev[s], g_stream));
    return nullptr;
  }
  const char *wait(int s) {
    CU(cudaEventSynchronize(ev[s]));
    return nullptr;
  }
  // Only after another error (staging.h queue_copy), whose message in g_err it leaves as it is.
  const char *sync() { return cudaStreamSynchronize(g_stream) == cudaSuccess ? nullptr : "cuda: cudaStreamSynchronize failed"; }
};
static CudaEngine g_stage;
static scu_stage::Packer g_packer;
static int g_stage_state = 0;  // 0: not tried yet, 1: pinned slots ready, -1: pageable copies only

static void stage_free() {
  for (int s = 0; s < scu_stage::SLOTS; s++) {
    if (g_stage.slots[s]) {
      cudaFreeHost(g_stage.slots[s]);
      cudaEventDestroy(g_stage.ev[s]);
    }
    g_stage.slots[s] = nullptr;
    g_stage.busy[s] = 0;
  }
  scu_stage::reset_packer(g_packer);
}

// Allocates the pinned slots once; on any failure the copies stay pageable (the fallback).
static bool stage_ready() {
  if (g_stage_state != 0) return g_stage_state > 0;
  g_stage_state = -1;
  for (int s = 0; s < scu_stage::SLOTS; s++) {
    void *p = nullptr;
    if (cudaMallocHost(&p, STAGE_CHUNK) != cudaSuccess) {
      cudaGetLastError();
      stage_free();
      return false;
    }
    g_stage.slots[s] = static_cast<uint8_t *>(p);
    if (cudaEventCreateWithFlags(&g_stage.ev[s], cudaEventDisableTiming) != cudaSuccess) {
      cudaGetLastError();
      cudaFreeHost(p);
      g_stage.slots[s] = nullptr;
      stage_free();
      return false;
    }
  }
  g_stage_state = 1;
  return true;
}

const char *h2d(void *dst, const void *src, size_t bytes) {
  if (bytes && stage_ready()) {
    g_staged_bytes += double(bytes);
    return scu_stage::upload(g_stage, g_packer, dst, src, bytes, STAGE_MIN);
  }
  if (bytes) CU(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, g_stream));
  return nullptr;
}
const char *d2h(void *dst, const void *src, size_t bytes) {
  if (bytes >= STAGE_MIN && stage_ready()) {
    g_staged_bytes += double(bytes);
    return scu_stage::staged_d2h(g_stage, dst, src, bytes);
  }
  if (bytes) CU(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, g_stream));
  return nullptr;
}

unsigned blocks_for(size_t n, unsigned threads) {
  size_t b = (n + threads - 1) / threads;
  size_t cap = size_t(1) << 20;  // grid-stride loops cover the rest
  return unsigned(b < cap ? (b ? b : 1) : cap);
}

}  // namespace scu

extern "C" const char *scu_release(void) {
  using namespace scu;
  if (!g_ready) return nullptr;
  CU(cudaStreamSynchronize(g_stream));
  pool_free_all();
  stage_free();
  if (g_stage_state > 0) g_stage_state = 0;  // allocated again by the next copy
  return nullptr;
}

extern "C" const char *scu_set_staging(int on) {
  using namespace scu;
  if (g_ready) CU(cudaStreamSynchronize(g_stream));
  stage_free();
  g_stage_state = on ? 0 : -1;
  return nullptr;
}

extern "C" int scu_staging_state(void) { return scu::g_stage_state; }
