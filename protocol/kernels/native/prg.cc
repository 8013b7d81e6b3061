// AES-128-CTR keystream with AES-NI, byte-identical to OpenSSL's
// "aes-128-ctr" with an all-zero IV (a 128-bit big-endian block counter
// starting at 0), which is what protocol/correlated/prg.ts uses through
// node:crypto. Compiled for the portable baseline with the AES-NI code in
// functions carrying __attribute__((target("aes"))), used only when cpuid
// reports AES-NI; otherwise aesAvailable() is false and prg.ts stays on
// node:crypto. Same bytes either way.
#include "prg.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SECURENN_HAVE_AESNI 1
#endif

namespace securenn {

#ifdef SECURENN_HAVE_AESNI
namespace {

__attribute__((target("aes,sse2"))) inline __m128i expandStep(__m128i key, __m128i gen) {
  gen = _mm_shuffle_epi32(gen, 0xff);
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, gen);
}

__attribute__((target("aes,sse2"))) void expandKey(const uint8_t* key, __m128i* rk) {
  rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
#define SECURENN_EXP(i, rcon) rk[i] = expandStep(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rcon))
  SECURENN_EXP(1, 0x01); SECURENN_EXP(2, 0x02); SECURENN_EXP(3, 0x04); SECURENN_EXP(4, 0x08); SECURENN_EXP(5, 0x10);
  SECURENN_EXP(6, 0x20); SECURENN_EXP(7, 0x40); SECURENN_EXP(8, 0x80); SECURENN_EXP(9, 0x1b); SECURENN_EXP(10, 0x36);
#undef SECURENN_EXP
}

__attribute__((target("aes,sse2"))) inline __m128i counterBlock(uint64_t b) {
  // Bytes 0..7: high half of the counter (0 for fewer than 2^64 blocks); bytes 8..15: big-endian b.
  return _mm_set_epi64x(static_cast<long long>(__builtin_bswap64(b)), 0);
}

// Keystream blocks [block, block + nblocks) into out (16 * nblocks bytes).
__attribute__((target("aes,sse2"))) void ctrBlocks(const __m128i* rk, uint64_t block, uint8_t* out, size_t nblocks) {
  size_t i = 0;
  for (; i + 8 <= nblocks; i += 8) {
    __m128i x[8];
    for (int t = 0; t < 8; t++) x[t] = _mm_xor_si128(counterBlock(block + i + t), rk[0]);
    for (int r = 1; r < 10; r++)
      for (int t = 0; t < 8; t++) x[t] = _mm_aesenc_si128(x[t], rk[r]);
    for (int t = 0; t < 8; t++) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * (i + t)), _mm_aesenclast_si128(x[t], rk[10]));
  }
  for (; i < nblocks; i++) {
    __m128i x = _mm_xor_si128(counterBlock(block + i), rk[0]);
    for (int r = 1; r < 10; r++) x = _mm_aesenc_si128(x, rk[r]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), _mm_aesenclast_si128(x, rk[10]));
  }
}

__attribute__((target("aes,sse2"))) void keystreamImpl(const uint8_t* key, uint64_t offset, uint8_t* out, size_t len) {
  __m128i rk[11];
  expandKey(key, rk);
  uint64_t block = offset / 16;
  size_t skip = static_cast<size_t>(offset % 16), done = 0;
  alignas(16) uint8_t tmp[16];
  if (skip != 0 && len > 0) {
    ctrBlocks(rk, block++, tmp, 1);
    const size_t take = len < 16 - skip ? len : 16 - skip;
    std::memcpy(out, tmp + skip, take);
    done = take;
  }
  const size_t whole = (len - done) / 16;
  ctrBlocks(rk, block, out + done, whole);
  block += whole;
  done += 16 * whole;
  if (done < len) {
    ctrBlocks(rk, block, tmp, 1);
    std::memcpy(out + done, tmp, len - done);
  }
}

}  // namespace

bool aesAvailable() {
  static const bool ok = __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse2");
  return ok;
}

void aesCtrKeystream(const uint8_t* key, uint64_t offset, uint8_t* out, size_t len) { keystreamImpl(key, offset, out, len); }
#else
bool aesAvailable() { return false; }
void aesCtrKeystream(const uint8_t*, uint64_t, uint8_t*, size_t) {}
#endif

uint64_t aesCtrRejectSample(const uint8_t* key, uint64_t offset, const uint8_t* table, uint8_t* out, size_t n) {
  // Same consumption pattern as Prg.rejectBytes in prg.ts: each round draws
  // ceil((n - filled) * 1.32) + 16 bytes, scans them until out is full and
  // drops the rest.
  size_t filled = 0;
  static thread_local uint8_t* buf = nullptr;
  static thread_local size_t cap = 0;
  while (filled < n) {
    const double missing = static_cast<double>(n - filled);
    size_t want = static_cast<size_t>(missing * 1.32);
    if (static_cast<double>(want) < missing * 1.32) want++;  // ceil
    want += 16;
    if (want > cap) {
      delete[] buf;
      cap = want;
      buf = new uint8_t[cap];
    }
    aesCtrKeystream(key, offset, buf, want);
    offset += want;
    for (size_t i = 0; i < want && filled < n; i++) {
      const uint8_t v = table[buf[i]];
      out[filled] = v;
      filled += (v != 255);
    }
  }
  return offset;
}

}  // namespace securenn
