// Host check of staging.h's copy plan (device.cu's pinned staging) with a
// simulated copy engine, no GPU: asynchronous copies are queued and complete
// in stream order, some at random points (a fixed-seed generator) and the
// rest when waited for. The check fails on a host write into a slot that a
// queued copy still reads, a host read of a slot whose copy has not
// completed, or wrong bytes at the destination. It runs copies of many sizes
// (empty, one byte, around the chunk size, many chunks) both ways and
// interleaved as the kernels issue them (uploads, then downloads reusing the
// slots), small uploads packed into the slots between large copies as
// device.cu issues them, the same with an event record failing at each
// point in turn (the error path), then makes sure the simulator catches a
// plan that skips the waits.
//
//   staging-check    prints "ok <copies>" and exits 0, or the first fault and exits 1
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "staging.h"

namespace {

struct Copy {
  uint8_t *dst;
  const uint8_t *src;
  size_t n;
  int event;  // slot whose event follows it, or -1
};

struct SimEngine {
  int busy[scu_stage::SLOTS] = {0, 0};
  size_t chunk;
  std::vector<uint8_t> slots[scu_stage::SLOTS];
  std::deque<Copy> queue;
  unsigned long long rng = 0x9e3779b97f4a7c15ull;
  std::string fault;
  long records = 0, fail_record_at = -1;  // the record() call that fails (its event is not queued), or none
  explicit SimEngine(size_t c) : chunk(c) {
    for (auto &s : slots) s.resize(c);
  }
  uint8_t *slot(int s) { return slots[s].data(); }
  size_t slot_bytes() const { return chunk; }
  static bool overlap(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) { return an && bn && a < b + bn && b < a + an; }
  void run_one() {
    Copy c = queue.front();
    queue.pop_front();
    if (c.n) std::memcpy(c.dst, c.src, c.n);
  }
  // Now and then the oldest queued copy completes while the host works (the DMA runs beside it); the rest wait for wait().
  void progress() {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    if ((rng >> 62) == 0 && !queue.empty()) run_one();
  }
  void host_copy(void *dst, const void *src, size_t n) {
    // Only slot bytes are ever both host-written and DMA-read (or DMA-written and host-read).
    for (const Copy &c : queue) {
      if (overlap(static_cast<uint8_t *>(dst), n, c.src, c.n) && fault.empty()) fault = "host wrote slot bytes a queued copy still reads";
      if (overlap(static_cast<const uint8_t *>(src), n, c.dst, c.n) && fault.empty()) fault = "host read slot bytes before the copy into them completed";
    }
    std::memcpy(dst, src, n);
    progress();
  }
  const char *async_copy(void *dst, const void *src, size_t n, int) {
    queue.push_back({static_cast<uint8_t *>(dst), static_cast<const uint8_t *>(src), n, -1});
    progress();
    return nullptr;
  }
  const char *record(int s) {
    if (records++ == fail_record_at) return "injected: record failed";
    queue.push_back({nullptr, nullptr, 0, s});
    return nullptr;
  }
  const char *sync() {
    drain();
    return nullptr;
  }
  const char *wait(int s) {
    // Complete the queue up to the last event recorded for slot s.
    size_t last = queue.size();
    for (size_t i = 0; i < queue.size(); i++)
      if (queue[i].event == s) last = i;
    if (last == queue.size()) return nullptr;  // already completed
    for (size_t i = 0; i <= last; i++) run_one();
    return nullptr;
  }
  void drain() {
    while (!queue.empty()) run_one();
  }
};

// A plan that reuses slots without waiting (what the check must catch).
const char *unsafe_h2d(SimEngine &e, void *dst, const void *src, size_t bytes) {
  for (size_t off = 0, i = 0; off < bytes; off += e.chunk, i++) {
    const int s = int(i % scu_stage::SLOTS);
    const size_t n = bytes - off < e.chunk ? bytes - off : e.chunk;
    e.host_copy(e.slot(s), static_cast<const uint8_t *>(src) + off, n);
    e.async_copy(static_cast<uint8_t *>(dst) + off, e.slot(s), n, 1);
  }
  return nullptr;
}

std::vector<uint8_t> pattern(size_t n, unsigned seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; i++) v[i] = uint8_t((i * 131 + seed * 7 + (i >> 8)) & 0xff);
  return v;
}

}  // namespace

int main() {
  size_t copies = 0;
  for (size_t chunk : {1, 7, 64, 4096}) {
    SimEngine e(chunk);
    const size_t sizes[] = {0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 2 * chunk + 3, 5 * chunk + chunk / 2, 17 * chunk + 5, 1000};
    for (size_t n : sizes) {
      // As a kernel call issues them: two uploads, (the kernel), one download that reuses the slots, then the next call's upload.
      auto a = pattern(n, 1), b = pattern(n, 2), result = pattern(n, 3);
      std::vector<uint8_t> da(n), db(n), back(n), device_out = result;
      if (const char *m = scu_stage::staged_h2d(e, da.data(), a.data(), n)) return std::printf("engine error %s\n", m), 1;
      if (const char *m = scu_stage::staged_h2d(e, db.data(), b.data(), n)) return std::printf("engine error %s\n", m), 1;
      if (const char *m = scu_stage::staged_d2h(e, back.data(), device_out.data(), n)) return std::printf("engine error %s\n", m), 1;
      // Every download byte is on the host when staged_d2h returns (before draining the queue).
      if (back != result) return std::printf("fault: chunk %zu size %zu: download bytes differ on return\n", chunk, n), 1;
      auto c = pattern(n, 4);
      std::vector<uint8_t> dc(n);
      if (const char *m = scu_stage::staged_h2d(e, dc.data(), c.data(), n)) return std::printf("engine error %s\n", m), 1;
      e.drain();
      if (da != a || db != b || dc != c) return std::printf("fault: chunk %zu size %zu: upload bytes differ\n", chunk, n), 1;
      if (!e.fault.empty()) return std::printf("fault: chunk %zu size %zu: %s\n", chunk, n, e.fault.c_str()), 1;
      copies += 4;
    }
  }
  // As device.cu uses it: small uploads packed into the slots, large uploads (upload resets the packer) and
  // downloads staged, in a pseudo-random order of sizes.
  for (size_t chunk : {16, 64, 1000}) {
    SimEngine e(chunk);
    scu_stage::Packer p;
    const size_t large = chunk / 2 + 1;
    std::vector<std::vector<uint8_t>> srcs, dsts;
    unsigned long long r = 12345;
    for (int k = 0; k < 400; k++) {
      r = r * 6364136223846793005ull + 1442695040888963407ull;
      const unsigned kind = unsigned(r >> 60) % 4;
      const size_t n = kind == 0 ? large + size_t(r >> 40) % (3 * chunk) : size_t(r >> 40) % large;
      srcs.push_back(pattern(n, unsigned(k)));
      dsts.emplace_back(n);
      if (kind == 1 && n >= large) {
        if (const char *m = scu_stage::staged_d2h(e, dsts.back().data(), srcs.back().data(), n)) return std::printf("engine error %s\n", m), 1;
        if (dsts.back() != srcs.back()) return std::printf("fault: packed run, chunk %zu, copy %d: download bytes differ on return\n", chunk, k), 1;
      } else if (const char *m = scu_stage::upload(e, p, dsts.back().data(), srcs.back().data(), n, large)) {
        return std::printf("engine error %s\n", m), 1;
      }
      copies++;
    }
    e.drain();
    for (size_t k = 0; k < srcs.size(); k++)
      if (dsts[k] != srcs[k]) return std::printf("fault: packed run, chunk %zu, copy %zu: bytes differ\n", chunk, k), 1;
    if (!e.fault.empty()) return std::printf("fault: packed run, chunk %zu: %s\n", chunk, e.fault.c_str()), 1;
  }
  // Error paths: the k-th event record fails after its copy was queued (the call returns the error, later calls go on);
  // no later host write may race that copy. Every copy that returned without an error must still be intact.
  for (size_t chunk : {16, 64}) {
    for (long k = 0; k < 120; k++) {
      SimEngine e(chunk);
      e.fail_record_at = k;
      scu_stage::Packer p;
      const size_t large = chunk / 2 + 1;
      std::vector<std::vector<uint8_t>> srcs, dsts;
      std::vector<bool> ok;
      unsigned long long r = 777 + unsigned(k);
      for (int c = 0; c < 60; c++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        const unsigned kind = unsigned(r >> 60) % 4;
        const size_t n = kind == 0 ? large + size_t(r >> 40) % (3 * chunk) : size_t(r >> 40) % large;
        srcs.push_back(pattern(n, unsigned(c)));
        dsts.emplace_back(n);
        const char *m = kind == 1 && n >= large ? scu_stage::staged_d2h(e, dsts.back().data(), srcs.back().data(), n)
                                                : scu_stage::upload(e, p, dsts.back().data(), srcs.back().data(), n, large);
        ok.push_back(m == nullptr);
      }
      e.drain();
      for (size_t c = 0; c < srcs.size(); c++)
        if (ok[c] && dsts[c] != srcs[c]) return std::printf("fault: record failure %ld, chunk %zu, copy %zu: bytes differ\n", k, chunk, c), 1;
      if (!e.fault.empty()) return std::printf("fault: record failure %ld, chunk %zu: %s\n", k, chunk, e.fault.c_str()), 1;
    }
  }
  // The simulator must catch a plan without the waits.
  SimEngine bad(8);
  auto src = pattern(200, 5);
  std::vector<uint8_t> dst(200);
  unsafe_h2d(bad, dst.data(), src.data(), src.size());
  bad.drain();
  if (bad.fault.empty() && dst == src) return std::printf("fault: the simulator did not catch a plan that reuses slots without waiting\n"), 1;
  std::printf("ok %zu\n", copies);
  return 0;
}
