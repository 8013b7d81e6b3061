// AES-128-CTR keystream with AES-NI, byte-identical to OpenSSL's
// "aes-128-ctr" with an all-zero IV (a 128-bit big-endian block counter
// starting at 0), which is what protocol/correlated/prg.ts uses through
// node:crypto. Compiled for the portable baseline with the AES-NI code in
// functions carrying __attribute__((target("aes"))), used only when cpuid
// reports AES-NI; otherwise aesAvailable() is false and prg.ts stays on
// node:crypto. Same bytes either way.
#include "prg.h"

#include <cstring>

#include "gemm.h"  // SimdLevel, activeSimd()

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

// VAES (AVX-512): four blocks per register, four registers in flight (16
// blocks, 256 bytes per step); the same keystream as ctrBlocks.
__attribute__((target("aes,vaes,avx512f,sse4.1"))) void ctrBlocksVaes(const __m128i* rk, uint64_t block, uint8_t* out, size_t nblocks) {
  __m512i k[11];
  for (int r = 0; r < 11; r++) {
    const long long lo = _mm_cvtsi128_si64(rk[r]), hi = _mm_extract_epi64(rk[r], 1);
    k[r] = _mm512_set_epi64(hi, lo, hi, lo, hi, lo, hi, lo);
  }
  size_t i = 0;
  for (; i + 16 <= nblocks; i += 16) {
    __m512i x[4];
    for (int t = 0; t < 4; t++) {
      const uint64_t b = block + i + 4 * t;
      x[t] = _mm512_set_epi64(static_cast<long long>(__builtin_bswap64(b + 3)), 0, static_cast<long long>(__builtin_bswap64(b + 2)), 0,
                              static_cast<long long>(__builtin_bswap64(b + 1)), 0, static_cast<long long>(__builtin_bswap64(b)), 0);
      x[t] = _mm512_xor_si512(x[t], k[0]);
    }
    for (int r = 1; r < 10; r++)
      for (int t = 0; t < 4; t++) x[t] = _mm512_aesenc_epi128(x[t], k[r]);
    for (int t = 0; t < 4; t++) _mm512_storeu_si512(out + 16 * (i + 4 * t), _mm512_aesenclast_epi128(x[t], k[10]));
  }
  ctrBlocks(rk, block + i, out + 16 * i, nblocks - i);
}

bool haveVaes() {
  static const bool ok = __builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx512f");
  return ok;
}

__attribute__((target("aes,sse2"))) void ctrBlocksBest(const __m128i* rk, uint64_t block, uint8_t* out, size_t nblocks) {
  if (nblocks >= 16 && activeSimd() == SimdLevel::Avx512 && haveVaes()) ctrBlocksVaes(rk, block, out, nblocks);
  else ctrBlocks(rk, block, out, nblocks);
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
  ctrBlocksBest(rk, block, out + done, whole);
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

namespace {

// The scan of rejectSample: table lookups of raw bytes in order, accepted
// values appended to out until it holds n. Returns the new fill count.
size_t scanScalar(const uint8_t* buf, size_t len, const uint8_t* table, uint8_t* out, size_t filled, size_t n) {
  for (size_t i = 0; i < len && filled < n; i++) {
    const uint8_t v = table[buf[i]];
    out[filled] = v;
    filled += (v != 255);
  }
  return filled;
}

#ifdef SECURENN_HAVE_AESNI
// AVX-512 VBMI/VBMI2: 64 bytes at a time, the 256-entry table as two
// 128-byte vpermi2b lookups picked by bit 7, accepted bytes packed with
// vpcompressb (in a register, then one store). Blocks run only while 64
// more values fit, so the output and the bytes consumed equal scanScalar's.
__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2"))) size_t scanAvx512(const uint8_t* buf, size_t len, const uint8_t* table, uint8_t* out,
                                                                                    size_t filled, size_t n) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  const __m512i reject = _mm512_set1_epi8(static_cast<char>(0xff));
  size_t i = 0;
  for (; i + 64 <= len && filled + 64 <= n; i += 64) {
    const __m512i v = _mm512_loadu_si512(buf + i);
    const __m512i lo = _mm512_permutex2var_epi8(t0, v, t1), hi = _mm512_permutex2var_epi8(t2, v, t3);
    const __m512i val = _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi);
    const __mmask64 ok = _mm512_cmpneq_epi8_mask(val, reject);
    _mm512_storeu_si512(out + filled, _mm512_maskz_compress_epi8(ok, val));
    filled += static_cast<size_t>(__builtin_popcountll(ok));
  }
  return scanScalar(buf + i, len - i, table, out, filled, n);
}

bool haveAvx512Scan() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi") &&
                         __builtin_cpu_supports("avx512vbmi2");
  return ok;
}
#endif

size_t scan(const uint8_t* buf, size_t len, const uint8_t* table, uint8_t* out, size_t filled, size_t n) {
#ifdef SECURENN_HAVE_AESNI
  if (activeSimd() == SimdLevel::Avx512 && haveAvx512Scan()) return scanAvx512(buf, len, table, out, filled, n);
#endif
  return scanScalar(buf, len, table, out, filled, n);
}

}  // namespace

uint64_t aesCtrRejectSample(const uint8_t* key, uint64_t offset, const uint8_t* table, uint8_t* out, size_t n) {
  // Same consumption pattern as Prg.rejectBytes in prg.ts: each round draws
  // ceil((n - filled) * 1.32) + 16 bytes, scans them until out is full and
  // drops the rest. The round's bytes are made and scanned a cache-sized
  // block at a time (the scan reads them in order and stops once out is
  // full), so a large n does not write and read back a keystream buffer of
  // 1.32 n bytes; the bytes consumed and the output are the same.
  constexpr size_t kBlock = 64 * 1024;
  static thread_local uint8_t buf[kBlock];
  size_t filled = 0;
  while (filled < n) {
    const double missing = static_cast<double>(n - filled);
    size_t want = static_cast<size_t>(missing * 1.32);
    if (static_cast<double>(want) < missing * 1.32) want++;  // ceil
    want += 16;
    for (size_t at = 0; at < want && filled < n; at += kBlock) {
      const size_t len = want - at < kBlock ? want - at : kBlock;
      aesCtrKeystream(key, offset + at, buf, len);
      filled = scan(buf, len, table, out, filled, n);
    }
    offset += want;
  }
  return offset;
}

}  // namespace securenn
