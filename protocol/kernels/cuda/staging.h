/*
 * Copies between JavaScript's pageable memory and the device through pinned
 * (cudaMallocHost) staging buffers, in chunks, so that the host's memcpy of
 * one chunk overlaps the DMA of the previous one (issue 27 item 2: the H100
 * run copied pageable memory at 7-16 GB/s, bench/CUDA-RESULTS.md). device.cu's
 * h2d / d2h use it for copies of at least STAGE_MIN bytes when the pinned
 * buffers could be allocated (smaller uploads are packed into a slot:
 * packed_h2d below), and copy directly from pageable memory otherwise (the
 * fallback, and what every copy did before).
 *
 * The plan is written once over an Engine, so that a host program
 * (staging-check.cc, run by staging.test.ts) drives it with a simulated copy
 * engine (queued asynchronous copies that complete in stream order, at random
 * points) and checks, without a GPU, that the bytes arrive and that no slot
 * is written by the host while a queued copy still reads it, nor read by the
 * host before the copy into it completed. Engine:
 *   uint8_t *slot(int s); size_t slot_bytes();
 *   void host_copy(void *dst, const void *src, size_t n);
 *   const char *async_copy(void *dst, const void *src, size_t n, int to_device);  // on the stream
 *   const char *record(int s);   // an event after the copies issued so far
 *   const char *wait(int s);     // until slot s's last recorded event completed
 *   const char *sync();          // until every queued copy completed
 * and a busy[SLOTS] array: slot s has a recorded event not yet waited for.
 * A copy that was queued but whose event could not be recorded is covered
 * by no busy flag: queue_copy then waits for the whole stream before it
 * returns the error, so no later host write into the slot races it.
 */
#ifndef SECURENN_CUDA_STAGING_H
#define SECURENN_CUDA_STAGING_H

#include <stddef.h>
#include <stdint.h>

namespace scu_stage {

enum { SLOTS = 2 };

#define SCU_STAGE_TRY(expr)    \
  do {                         \
    const char *m_ = (expr);   \
    if (m_) return m_;         \
  } while (0)

/* Waits for slot s when a queued copy still uses it. */
template <class E>
inline const char *settle(E &e, int s) {
  if (!e.busy[s]) return nullptr;
  SCU_STAGE_TRY(e.wait(s));
  e.busy[s] = 0;
  return nullptr;
}

/* Queues one copy from / into slot s and the slot's event after it; on an error after the copy was queued, waits for the stream. */
template <class E>
inline const char *queue_copy(E &e, int s, void *dst, const void *src, size_t n, int to_device) {
  SCU_STAGE_TRY(e.async_copy(dst, src, n, to_device));
  if (const char *m = e.record(s)) {
    e.sync();  // the copy may still use the slot and no event says when it is done (a failed sync: the stream is dead)
    return m;
  }
  e.busy[s] = 1;
  return nullptr;
}

/* Host src -> device dst: chunk i goes through slot i % SLOTS; the DMAs stay queued when it returns. */
template <class E>
inline const char *staged_h2d(E &e, void *dst, const void *src, size_t bytes) {
  const size_t chunk = e.slot_bytes();
  for (size_t off = 0, i = 0; off < bytes; off += chunk, i++) {
    const int s = int(i % SLOTS);
    const size_t n = bytes - off < chunk ? bytes - off : chunk;
    SCU_STAGE_TRY(settle(e, s));
    e.host_copy(e.slot(s), static_cast<const uint8_t *>(src) + off, n);
    SCU_STAGE_TRY(queue_copy(e, s, static_cast<uint8_t *>(dst) + off, e.slot(s), n, 1));
  }
  return nullptr;
}

/* Device src -> host dst: the DMA of chunk i is queued before chunk i - 1 is copied out; every byte is in dst when it returns. */
template <class E>
inline const char *staged_d2h(E &e, void *dst, const void *src, size_t bytes) {
  const size_t chunk = e.slot_bytes();
  size_t prev_off = 0, prev_n = 0;
  int prev = -1;
  for (size_t off = 0, i = 0; off < bytes; off += chunk, i++) {
    const int s = int(i % SLOTS);
    const size_t n = bytes - off < chunk ? bytes - off : chunk;
    SCU_STAGE_TRY(settle(e, s));
    SCU_STAGE_TRY(queue_copy(e, s, e.slot(s), static_cast<const uint8_t *>(src) + off, n, 0));
    if (prev >= 0) {
      SCU_STAGE_TRY(settle(e, prev));
      e.host_copy(static_cast<uint8_t *>(dst) + prev_off, e.slot(prev), prev_n);
    }
    prev = s;
    prev_off = off;
    prev_n = n;
  }
  if (prev >= 0) {
    SCU_STAGE_TRY(settle(e, prev));
    e.host_copy(static_cast<uint8_t *>(dst) + prev_off, e.slot(prev), prev_n);
  }
  return nullptr;
}

/*
 * Small uploads (below the staged size) packed one after another into the
 * current slot, each an asynchronous DMA from pinned memory instead of a
 * synchronous copy from pageable memory: the several small arguments of one
 * call (PrivateCompare's six) and the calls after it share the slot until it
 * is full, then the other slot (waited for first) takes over. A large staged
 * upload reuses the slots from their start without waiting for the packed
 * DMAs to finish reading further on, so it resets the packer (reset_packer):
 * the next small upload waits for the slot before writing into it. (A large
 * download waits for each slot before its DMA writes there: staged_d2h.)
 */
struct Packer {
  int slot = 0;
  size_t fill = 0;
};

inline void reset_packer(Packer &p) {
  p.slot = 0;
  p.fill = 0;
}

/* Host src -> device dst for bytes <= slot_bytes(). */
template <class E>
inline const char *packed_h2d(E &e, Packer &p, void *dst, const void *src, size_t bytes) {
  if (p.fill + bytes > e.slot_bytes()) {
    p.slot = (p.slot + 1) % SLOTS;
    p.fill = 0;
  }
  if (p.fill == 0) SCU_STAGE_TRY(settle(e, p.slot));  // the copies that last used this slot are done
  uint8_t *at = e.slot(p.slot) + p.fill;
  e.host_copy(at, src, bytes);
  SCU_STAGE_TRY(queue_copy(e, p.slot, dst, at, bytes, 1));
  p.fill += bytes;
  return nullptr;
}

/* An upload as device.cu makes it: staged in chunks from `large` bytes (the packer starts over), else packed. */
template <class E>
inline const char *upload(E &e, Packer &p, void *dst, const void *src, size_t bytes, size_t large) {
  if (bytes >= large) {
    reset_packer(p);
    return staged_h2d(e, dst, src, bytes);
  }
  return bytes ? packed_h2d(e, p, dst, src, bytes) : nullptr;
}

}  // namespace scu_stage

#endif
