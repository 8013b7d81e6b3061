// See ops.h. u64 arithmetic wraps mod 2^64; Z_{2^64-1} and Z_67 arithmetic is
// written to match reference.ts for every u64 / u8 input, not only reduced ones.
#include "ops.h"

#include <cstring>

#include "gemm.h"  // SimdLevel, activeSimd()

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace securenn {
namespace {
constexpr uint64_t M64 = ~0ull;
constexpr int P = 67;

inline int modp(int v) {
  const int r = v % P;
  return r < 0 ? r + P : r;
}

}  // namespace

void add(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}
void sub(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] - b[i];
}
void mul(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}
void mulScalar(const uint64_t* a, uint64_t s, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] * s;
}
void addScalar(const uint64_t* a, uint64_t s, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] + s;
}

namespace {
// Party 1 divides its share read as the negative number a - 2^64:
// 2^64 - floor((2^64 - a) / d) mod 2^64. For a != 0, 2^64 - a == -a (u64);
// for a == 0, floor(2^64 / d) == floor((2^64 - d) / d) + 1, which wraps to 0
// for d == 1 exactly as 2^64 - 2^64 == 0 does.
inline uint64_t div1(uint64_t a, uint64_t d) {
  const uint64_t q = a != 0 ? (0 - a) / d : (0 - d) / d + 1;
  return 0 - q;
}
}  // namespace

void divShare(const uint64_t* a, const uint32_t* d, size_t dn, int party, uint64_t* out, size_t n) {
  if (dn == 1) {
    const uint64_t dv = d[0];
    if ((dv & (dv - 1)) == 0) {
      const unsigned f = static_cast<unsigned>(__builtin_ctzll(dv));
      if (party == 0) {
        for (size_t i = 0; i < n; i++) out[i] = a[i] >> f;
      } else if (f == 0) {
        for (size_t i = 0; i < n; i++) out[i] = a[i];  // 2^64 - (2^64 - a) == a mod 2^64
      } else {
        // a != 0: -((-a) >> f); a == 0: -(2^(64-f)).
        for (size_t i = 0; i < n; i++) out[i] = a[i] != 0 ? 0 - ((0 - a[i]) >> f) : 0 - (1ull << (64 - f));
      }
      return;
    }
    if (party == 0)
      for (size_t i = 0; i < n; i++) out[i] = a[i] / dv;
    else
      for (size_t i = 0; i < n; i++) out[i] = div1(a[i], dv);
    return;
  }
  if (party == 0)
    for (size_t i = 0; i < n; i++) out[i] = a[i] / d[i];
  else
    for (size_t i = 0; i < n; i++) out[i] = div1(a[i], d[i]);
}

void sar(const uint64_t* a, unsigned f, uint64_t* out, size_t n) {
  if (f > 63) f = 63;  // shifting further only repeats the sign bit
  for (size_t i = 0; i < n; i++) out[i] = static_cast<uint64_t>(static_cast<int64_t>(a[i]) >> f);
}

void wrap(const uint64_t* a, const uint64_t* b, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = static_cast<uint8_t>(a[i] + b[i] < a[i]);
}

void addOdd(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    // a + b = carry * 2^64 + s == s + carry (mod 2^64 - 1); with a carry s <= 2^64 - 2.
    uint64_t s = a[i] + b[i];
    s += static_cast<uint64_t>(s < a[i]);
    out[i] = s == M64 ? 0 : s;
  }
}

void subOdd(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const uint64_t x = a[i] == M64 ? 0 : a[i], y = b[i] == M64 ? 0 : b[i];
    out[i] = x >= y ? x - y : x - y - 1;  // x - y + (2^64 - 1) mod 2^64
  }
}

void reduceOdd(const uint64_t* a, uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] == M64 ? 0 : a[i];
}

void im2col(const uint64_t* x, const Im2colShape& s, uint64_t* out) {
  const int64_t C = s.C, rowLen = s.kw * C;
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t oy = 0; oy < s.outH; oy++)
      for (int64_t ox = 0; ox < s.outW; ox++)
        for (int64_t ky = 0; ky < s.kh; ky++) {
          const int64_t y = oy * s.sh + ky - s.padTop;
          if (y < 0 || y >= s.H) {
            std::memset(out, 0, static_cast<size_t>(rowLen) * 8);
            out += rowLen;
            continue;
          }
          // Window columns kx in [kx0, kx1) fall inside the image.
          const int64_t x0 = ox * s.sw - s.padLeft;
          int64_t kx0 = x0 < 0 ? -x0 : 0, kx1 = s.W - x0;
          if (kx0 > s.kw) kx0 = s.kw;
          if (kx1 > s.kw) kx1 = s.kw;
          if (kx1 < kx0) kx1 = kx0;
          if (kx0 > 0) std::memset(out, 0, static_cast<size_t>(kx0 * C) * 8);
          if (kx1 > kx0)
            std::memcpy(out + kx0 * C, x + ((n * s.H + y) * s.W + x0 + kx0) * C, static_cast<size_t>((kx1 - kx0) * C) * 8);
          if (kx1 < s.kw) std::memset(out + kx1 * C, 0, static_cast<size_t>((s.kw - kx1) * C) * 8);
          out += rowLen;
        }
}

// Depthwise convolution: per output pixel, a multiply-accumulate over its taps inside the image, contiguous over the
// C*dm output channels (the compiler vectorises the dm = 1 loop).
void depthwise(const uint64_t* x, const uint64_t* w, const DepthwiseShape& s, uint64_t* out) {
  const int64_t C = s.C, dm = s.dm, Co = C * dm;
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t oy = 0; oy < s.outH; oy++)
      for (int64_t ox = 0; ox < s.outW; ox++, out += Co) {
        std::memset(out, 0, static_cast<size_t>(Co) * 8);
        for (int64_t ky = 0; ky < s.kh; ky++) {
          const int64_t y = oy * s.sh + ky - s.padTop;
          if (y < 0 || y >= s.H) continue;
          for (int64_t kx = 0; kx < s.kw; kx++) {
            const int64_t xx = ox * s.sw + kx - s.padLeft;
            if (xx < 0 || xx >= s.W) continue;
            const uint64_t* __restrict xr = x + ((n * s.H + y) * s.W + xx) * C;
            const uint64_t* __restrict wr = w + (ky * s.kw + kx) * Co;
            uint64_t* __restrict o = out;
            if (dm == 1) {
              for (int64_t c = 0; c < C; c++) o[c] += xr[c] * wr[c];
            } else {
              for (int64_t c = 0; c < C; c++)
                for (int64_t m = 0; m < dm; m++) o[c * dm + m] += xr[c] * wr[c * dm + m];
            }
          }
        }
      }
}

// ---- Z_p kernels ----
// bitShareZp and zeroTest are compiled three times (baseline, AVX2, AVX-512BW)
// and picked at run time like the GEMM kernels; the bodies are written as byte loops that the
// compiler vectorises. All three give the same bytes.
namespace {

#define SECURENN_INLINE inline __attribute__((always_inline))

// out[i] = bit i of v (0 or 1), i = 0 the least significant.
SECURENN_INLINE void spreadBits(uint64_t v, uint8_t* out) {
  for (int b = 0; b < 8; b++) {
    // Byte j of x keeps bit j of the source byte; +0x7f carries it to bit 7 of that byte.
    uint64_t x = (((v >> (8 * b)) & 0xff) * 0x0101010101010101ull) & 0x8040201008040201ull;
    x = ((x + 0x7f7f7f7f7f7f7f7full) >> 7) & 0x0101010101010101ull;
    std::memcpy(out + 8 * b, &x, 8);
  }
}

// Byte mod 67.
SECURENN_INLINE uint8_t mod67(uint8_t q) {
  q = q >= 134 ? static_cast<uint8_t>(q - 134) : q;
  return q >= 67 ? static_cast<uint8_t>(q - 67) : q;
}

// Rows of W = 64 positions (or 32: the narrow rows of values below 2^31).
template <int W>
SECURENN_INLINE void bitShareRows(const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out) {
  for (size_t e = 0; e < n; e++) {
    alignas(64) uint8_t bits[64];
    spreadBits(x[e], bits);
    const uint8_t* re = r + e * W;
    uint8_t* oe = out + e * W;
    for (int i = 0; i < W; i++) {
      const uint8_t q = mod67(re[i]), b = bits[i];
      oe[i] = b >= q ? static_cast<uint8_t>(b - q) : static_cast<uint8_t>(b + 67 - q);  // (b - r) mod p
    }
  }
}

template <int W>
SECURENN_INLINE void zeroTestRows(const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n) {
  for (size_t e = 0; e < n; e++) {
    const uint8_t* a = d0 + e * W;
    const uint8_t* b = d1 + e * W;
    uint8_t z = 0;
    for (int i = 0; i < W; i++) {
      const uint8_t s = static_cast<uint8_t>(mod67(a[i]) + mod67(b[i]));  // in [0, 132]
      z |= static_cast<uint8_t>((s == 0) | (s == 67));
    }
    out[e] = z;
  }
}

SECURENN_INLINE void bitShareZpBody(const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out) { bitShareRows<64>(x, n, r, out); }
SECURENN_INLINE void zeroTestBody(const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n) { zeroTestRows<64>(d0, d1, out, n); }

// One element of PrivateCompare, beta != 1 or r != 2^64-1 (v = r for beta = 0,
// r + 1 otherwise). The suffix sums are kept unreduced (|sum| <= 64 * 256)
// and shifted by 256 p before the one reduction, so every step is plain
// integer arithmetic; the values equal the reference's reduced ones mod p.
template <int J, bool BETA0>
SECURENN_INLINE void pcElement(const uint8_t* x, uint64_t v, const uint8_t* s, const uint8_t* perm, uint8_t* d) {
  alignas(64) uint8_t bits[64];
  spreadBits(v, bits);
  alignas(64) int16_t w[64];
  for (int i = 0; i < 64; i++) w[i] = static_cast<int16_t>(x[i] + J * bits[i] - 2 * bits[i] * x[i]);
  alignas(64) int16_t suffix[64];  // sum_{k>i} w_k
  int acc = 0;
  for (int i = 63; i >= 0; i--) {
    suffix[i] = static_cast<int16_t>(acc);
    acc += w[i];
  }
  alignas(64) uint8_t val[64];
  for (int i = 0; i < 64; i++) {
    const int t = BETA0 ? J * bits[i] - x[i] : x[i] - J * bits[i];
    const uint16_t c = static_cast<uint16_t>(static_cast<uint16_t>(t + J + suffix[i] + P * 256) % P);
    val[i] = static_cast<uint8_t>(static_cast<uint16_t>(s[i] * c) % P);
  }
  for (int i = 0; i < 64; i++) d[perm[i]] = val[i];
}

// beta = 1, r = 2^64-1: c_i = (1-j)(u_i + 1) - j u_i (i != 0), c_0 = (-1)^j u_0.
template <int J>
void pcSpecial(const uint8_t* s, const uint8_t* u, const uint8_t* perm, uint8_t* d) {
  for (int i = 0; i < 64; i++) {
    const int c = J == 0 ? (i != 0 ? modp(u[i] + 1) : modp(u[i])) : modp(-static_cast<int>(u[i]));
    d[perm[i]] = static_cast<uint8_t>((s[i] * c) % P);
  }
}

SECURENN_INLINE void privateCompareBody(int j, const uint8_t* xb, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* u, const uint8_t* perm, uint8_t* d) {
  for (size_t e = 0; e < n; e++) {
    const size_t o = e * 64;
    const uint8_t be = beta[e];
    if (be == 1 && r[e] == M64) {
      if (j == 0) pcSpecial<0>(s + o, u + o, perm + o, d + o);
      else pcSpecial<1>(s + o, u + o, perm + o, d + o);
      continue;
    }
    const uint64_t v = be == 0 ? r[e] : r[e] + 1;  // t = r + 1 for beta != 0
    if (j == 0) {
      if (be == 0) pcElement<0, true>(xb + o, v, s + o, perm + o, d + o);
      else pcElement<0, false>(xb + o, v, s + o, perm + o, d + o);
    } else {
      if (be == 0) pcElement<1, true>(xb + o, v, s + o, perm + o, d + o);
      else pcElement<1, false>(xb + o, v, s + o, perm + o, d + o);
    }
  }
}

// ---- Narrow rows (32 positions, values < 2^31; see private-compare.ts) ----

SECURENN_INLINE void spreadBits32(uint32_t v, uint8_t* out) {
  for (int b = 0; b < 4; b++) {
    uint64_t x = (((v >> (8 * b)) & 0xff) * 0x0101010101010101ull) & 0x8040201008040201ull;
    x = ((x + 0x7f7f7f7f7f7f7f7full) >> 7) & 0x0101010101010101ull;
    std::memcpy(out + 8 * b, &x, 8);
  }
}

SECURENN_INLINE void bitShareZp32Body(const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out) { bitShareRows<32>(x, n, r, out); }
SECURENN_INLINE void zeroTest32Body(const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n) { zeroTestRows<32>(d0, d1, out, n); }

// One narrow element: the values s_i c_i^j of pcElement for positions 0..31
// (v < 2^32, x_i = 0 above), rotated (position i goes to (i + rot) mod 32) and
// re-randomised with the zero-sharing mask (P0 adds it, P1 subtracts it).
template <int J, bool BETA0>
SECURENN_INLINE void pc32Element(const uint8_t* x, uint32_t v, const uint8_t* s, unsigned rot, const uint8_t* mask, uint8_t* d) {
  alignas(32) uint8_t bits[32];
  spreadBits32(v, bits);
  alignas(64) int16_t w[32];
  for (int i = 0; i < 32; i++) w[i] = static_cast<int16_t>(x[i] + J * bits[i] - 2 * bits[i] * x[i]);
  alignas(64) int16_t suffix[32];
  int acc = 0;
  for (int i = 31; i >= 0; i--) {
    suffix[i] = static_cast<int16_t>(acc);
    acc += w[i];
  }
  alignas(64) uint8_t val[64];  // val twice, so a rotation is one 32-byte copy
  for (int i = 0; i < 32; i++) {
    const int t = BETA0 ? J * bits[i] - x[i] : x[i] - J * bits[i];
    const uint16_t c = static_cast<uint16_t>(static_cast<uint16_t>(t + J + suffix[i] + P * 256) % P);
    val[i] = static_cast<uint8_t>(static_cast<uint16_t>(s[i] * c) % P);
  }
  std::memcpy(val + 32, val, 32);
  const uint8_t* rv = val + 32 - rot;  // d[k] = val[(k - rot) mod 32]
  for (int k = 0; k < 32; k++) {
    const int m = J == 0 ? rv[k] + mask[k] : rv[k] - mask[k];
    d[k] = static_cast<uint8_t>(J == 0 ? (m >= P ? m - P : m) : (m < 0 ? m + P : m));
  }
}

SECURENN_INLINE void privateCompare32Body(int j, const uint8_t* xb, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* rot, const uint8_t* mask, uint8_t* d) {
  for (size_t e = 0; e < n; e++) {
    const size_t o = e * 32;
    const uint8_t be = beta[e];
    const uint32_t v = static_cast<uint32_t>(be == 0 ? r[e] : r[e] + 1);  // r < 2^31: t = r + 1 fits
    const unsigned ro = rot[e] & 31u;
    if (j == 0) {
      if (be == 0) pc32Element<0, true>(xb + o, v, s + o, ro, mask + o, d + o);
      else pc32Element<0, false>(xb + o, v, s + o, ro, mask + o, d + o);
    } else {
      if (be == 0) pc32Element<1, true>(xb + o, v, s + o, ro, mask + o, d + o);
      else pc32Element<1, false>(xb + o, v, s + o, ro, mask + o, d + o);
    }
  }
}

// ---- Radix-4 rows (16 digits of 2 bits; semantics and oracle: kernels/radix4.ts) ----

// Bytes d of 16 digits of 2 bits: digit i of lo16 in byte i & 7 of the word (i < 8).
SECURENN_INLINE uint64_t spreadDigits8(uint32_t lo16) {
  uint64_t t = lo16 & 0xffffu;
  t = (t | (t << 24)) & 0x000000ff000000ffull;
  t = (t | (t << 12)) & 0x000f000f000f000full;
  return (t | (t << 6)) & 0x0303030303030303ull;
}

SECURENN_INLINE void digitShareZp16Body(const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out) {
  for (size_t e = 0; e < n; e++) {
    const uint32_t lo = static_cast<uint32_t>(x[e]);
    const uint8_t* re = r + e * 48;
    uint8_t* oe = out + e * 48;
#if defined(__SSE2__)
    // SSE2 (every x86-64), byte for byte the scalar loop below, all in unsigned bytes: digits D; per u,
    // b = [D <= u] = [min(D, u) = D]; q = r mod p as min(r, r - 134) then min(q, q - 67) (the wrapped
    // difference is larger exactly when no subtraction is due); (b - q) mod p = min(t, t + 67) for t = b - q
    // (t in {0, 1} when b >= q, else t = b - q + 256 and t + 67 wraps to b - q + 67).
    const __m128i D = _mm_set_epi64x(static_cast<long long>(spreadDigits8(lo >> 16)), static_cast<long long>(spreadDigits8(lo)));
    const __m128i one = _mm_set1_epi8(1), c134 = _mm_set1_epi8(static_cast<char>(134)), c67 = _mm_set1_epi8(67);
    for (int u = 0; u < 3; u++) {
      const __m128i b = _mm_and_si128(_mm_cmpeq_epi8(_mm_min_epu8(D, _mm_set1_epi8(static_cast<char>(u))), D), one);
      const __m128i rv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(re + 16 * u));
      __m128i q = _mm_min_epu8(rv, _mm_sub_epi8(rv, c134));
      q = _mm_min_epu8(q, _mm_sub_epi8(q, c67));
      const __m128i t = _mm_sub_epi8(b, q);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(oe + 16 * u), _mm_min_epu8(t, _mm_add_epi8(t, c67)));
    }
#else
    for (int i = 0; i < 16; i++) {
      const unsigned xi = (lo >> (2 * i)) & 3u;
      for (int u = 0; u < 3; u++) {
        const uint8_t q = mod67(re[16 * u + i]), b = static_cast<uint8_t>(xi <= static_cast<unsigned>(u));
        oe[16 * u + i] = b >= q ? static_cast<uint8_t>(b - q) : static_cast<uint8_t>(b + 67 - q);
      }
    }
#endif
  }
}

// One element: L(i, u) is party J's share of [x_i <= u] (0 for u < 0, J for u >= 3).
// Branch-free and without division: the digit's two shares picked by loads,
// the suffix sums unreduced (|c_i| < 4100 for any input bytes), then mod p as
// v - 67 floor(v / 67) with floor(v / 67) = (v * 62602) >> 22 (exact for
// 0 <= v < 10^5); the rotation as one copy from a doubled row.
SECURENN_INLINE int modP(int v) {  // 0 <= v < 10^5
  const uint32_t u = static_cast<uint32_t>(v);
  return static_cast<int>(u - ((u * 62602u) >> 22) * 67u);
}
template <int J, bool BETA0>
SECURENN_INLINE void pcR4Element(const uint8_t* xl, uint32_t v, const uint8_t* s, unsigned rot, const uint8_t* mask, uint8_t* d) {
  // row i = {L(i,-1), L(i,0), L(i,1), L(i,2), L(i,3)} = {0, l0, l1, l2, J}: at = row[v_i + 1], below = row[v_i] (loads, no branches).
  alignas(64) uint8_t rows[16 * 8];
  for (int i = 0; i < 16; i++) {
    rows[8 * i] = 0;
    rows[8 * i + 1] = xl[i];
    rows[8 * i + 2] = xl[16 + i];
    rows[8 * i + 3] = xl[32 + i];
    rows[8 * i + 4] = static_cast<uint8_t>(J);
  }
  alignas(64) int32_t at[16], below[16], c[16];
  for (int i = 0; i < 16; i++) {
    const unsigned vi = (v >> (2 * i)) & 3u;
    at[i] = rows[8 * i + vi + 1];
    below[i] = rows[8 * i + vi];
  }
  int suffix = 0;
  for (int i = 15; i >= 0; i--) {
    c[i] = (BETA0 ? at[i] : J - below[i]) + suffix;
    suffix += J - at[i] + below[i];
  }
  alignas(64) uint8_t val[32];  // twice, so the rotation is one 16-byte copy
  for (int i = 0; i < 16; i++) val[i] = static_cast<uint8_t>(modP(static_cast<int>(s[i]) * modP(c[i] + 67 * 62)));
  std::memcpy(val + 16, val, 16);
  const uint8_t* rv = val + 16 - rot;  // d[k] = val[(k - rot) mod 16]
  for (int k = 0; k < 16; k++) d[k] = static_cast<uint8_t>(modP(J == 0 ? rv[k] + mask[k] : rv[k] - mask[k] + 4 * 67));
}

SECURENN_INLINE void privateCompareR4Body(int j, const uint8_t* xl, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* rot, const uint8_t* mask, uint8_t* d) {
  for (size_t e = 0; e < n; e++) {
    const uint8_t be = beta[e];
    const uint32_t v = static_cast<uint32_t>(be == 0 ? r[e] : r[e] + 1);  // r < 2^31: t = r + 1 fits
    const unsigned ro = rot[e] & 15u;
    const uint8_t* x = xl + e * 48;
    const size_t o = e * 16;
    if (j == 0) {
      if (be == 0) pcR4Element<0, true>(x, v, s + o, ro, mask + o, d + o);
      else pcR4Element<0, false>(x, v, s + o, ro, mask + o, d + o);
    } else {
      if (be == 0) pcR4Element<1, true>(x, v, s + o, ro, mask + o, d + o);
      else pcR4Element<1, false>(x, v, s + o, ro, mask + o, d + o);
    }
  }
}

SECURENN_INLINE void zeroTest16Body(const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n) { zeroTestRows<16>(d0, d1, out, n); }

#define SECURENN_VARIANTS(NAME, BODY, PARAMS, ARGS)                                   \
  void NAME##Base PARAMS { BODY ARGS; }                                               \
  SECURENN_X86_ONLY(__attribute__((target("avx2"))) void NAME##Avx2 PARAMS { BODY ARGS; }) \
  SECURENN_X86_ONLY(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void NAME##Avx512 PARAMS { BODY ARGS; })

#if defined(__x86_64__) || defined(__i386__)
#define SECURENN_X86_ONLY(...) __VA_ARGS__
#else
#define SECURENN_X86_ONLY(...)
#endif

SECURENN_VARIANTS(bitShareZpK, bitShareZpBody, (const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out), (x, n, r, out))
SECURENN_VARIANTS(zeroTestK, zeroTestBody, (const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n), (d0, d1, out, n))
SECURENN_VARIANTS(bitShareZp32K, bitShareZp32Body, (const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out), (x, n, r, out))
SECURENN_VARIANTS(digitShareZp16K, digitShareZp16Body, (const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out), (x, n, r, out))
SECURENN_VARIANTS(zeroTest16K, zeroTest16Body, (const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n), (d0, d1, out, n))
void privateCompareR4KBase(int j, const uint8_t* xl, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* rot, const uint8_t* mask, uint8_t* d) {
  privateCompareR4Body(j, xl, r, n, beta, s, rot, mask, d);
}
// GCC 12 flags the AVX-512 intrinsics' own undefined pass-through operands below (a known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
SECURENN_X86_ONLY(
__attribute__((target("avx2"))) void privateCompareR4KAvx2(int j, const uint8_t* xl, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* rot, const uint8_t* mask, uint8_t* d) {
  privateCompareR4Body(j, xl, r, n, beta, s, rot, mask, d);
}

// AVX-512: one element's 16 digits in the 16 32-bit lanes of a register; the
// same values as pcR4Element (selects for at/below, suffix sums by four
// shifted adds, mod p by the multiply-shift, the rotation as a lane permutation).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512i modPAvx512(__m512i v) {  // 0 <= v < 10^5
  const __m512i q = _mm512_srli_epi32(_mm512_mullo_epi32(v, _mm512_set1_epi32(62602)), 22);
  return _mm512_sub_epi32(v, _mm512_mullo_epi32(q, _mm512_set1_epi32(67)));
}
template <int J, bool BETA0>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline void pcR4ElementAvx512(const uint8_t* xl, uint32_t v, const uint8_t* s, unsigned rot, const uint8_t* mask, uint8_t* d,
                                                                                          const __m512i* shiftIdx, const __m512i iota, const __m512i shifts) {
  const __m512i vi = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32(static_cast<int>(v)), shifts), _mm512_set1_epi32(3));
  const __m512i l0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xl)));
  const __m512i l1 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xl + 16)));
  const __m512i l2 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xl + 32)));
  const __m512i jv = _mm512_set1_epi32(J);
  const __mmask16 is0 = _mm512_cmpeq_epi32_mask(vi, _mm512_setzero_si512()), is1 = _mm512_cmpeq_epi32_mask(vi, _mm512_set1_epi32(1)),
                  is2 = _mm512_cmpeq_epi32_mask(vi, _mm512_set1_epi32(2));
  // at = {l0, l1, l2, J}[v_i], below = {0, l0, l1, l2}[v_i].
  __m512i at = _mm512_mask_mov_epi32(jv, is2, l2);
  at = _mm512_mask_mov_epi32(at, is1, l1);
  at = _mm512_mask_mov_epi32(at, is0, l0);
  __m512i below = _mm512_mask_mov_epi32(l2, is2, l1);
  below = _mm512_mask_mov_epi32(below, is1, l0);
  below = _mm512_maskz_mov_epi32(static_cast<__mmask16>(~is0), below);
  const __m512i head = BETA0 ? at : _mm512_sub_epi32(jv, below);
  const __m512i ne = _mm512_add_epi32(_mm512_sub_epi32(jv, at), below);
  // Inclusive suffix sums over higher lanes, then exclusive = inclusive - ne.
  __m512i S = ne;
  for (int t = 0; t < 4; t++) {
    const __mmask16 valid = static_cast<__mmask16>(0xffffu >> (1u << t));
    S = _mm512_add_epi32(S, _mm512_maskz_permutexvar_epi32(valid, shiftIdx[t], S));
  }
  const __m512i suffix = _mm512_sub_epi32(S, ne);
  const __m512i c = modPAvx512(_mm512_add_epi32(_mm512_add_epi32(head, suffix), _mm512_set1_epi32(67 * 62)));
  const __m512i sv = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
  const __m512i val = modPAvx512(_mm512_mullo_epi32(sv, c));
  // d[k] = val[(k - rot) mod 16].
  const __m512i idx = _mm512_and_si512(_mm512_sub_epi32(iota, _mm512_set1_epi32(static_cast<int>(rot))), _mm512_set1_epi32(15));
  const __m512i rv = _mm512_permutexvar_epi32(idx, val);
  const __m512i mv = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(mask)));
  const __m512i out = modPAvx512(J == 0 ? _mm512_add_epi32(rv, mv) : _mm512_add_epi32(_mm512_sub_epi32(rv, mv), _mm512_set1_epi32(4 * 67)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm512_cvtepi32_epi8(out));
}

// AVX-512BW: two elements per register, one element's 16 digits in each half of the 32 16-bit lanes. Same
// values as pcR4Element for any input bytes: every intermediate fits 16 bits (c_i + 67 * 62 in [89, 8249],
// s_i c_i < 2^15, the masked sum in [13, 334]), and mod p is the same multiply-shift, floor(v / 67) =
// (v * 62602) >> 22 = mulhi(v, 62602) >> 6; beta and the rotation may differ between the halves (blends).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512i modP16Avx512(__m512i v) {  // 0 <= v < 2^16
  const __m512i q = _mm512_srli_epi16(_mm512_mulhi_epu16(v, _mm512_set1_epi16(static_cast<short>(62602))), 6);
  return _mm512_sub_epi16(v, _mm512_mullo_epi16(q, _mm512_set1_epi16(67)));
}
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512i pairBytes16(const uint8_t* a, const uint8_t* b) {  // 16 bytes of a, then of b, as 16-bit lanes
  const __m256i ab = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))), _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1);
  return _mm512_cvtepu8_epi16(ab);
}
template <int J>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline void pcR4PairAvx512(const uint8_t* xl, uint32_t v0, uint32_t v1, bool beta0, bool beta1, const uint8_t* s, unsigned rot0,
                                                                                       unsigned rot1, const uint8_t* mask, uint8_t* d, const __m512i* shiftIdx, const __mmask32* shiftOk,
                                                                                       const __m512i iota, const __m512i shifts) {
  // Lane i of half h: bits 16 (i / 8) .. of v_h, shifted by 2 (i mod 8): digit i of v_h.
  const uint64_t a0 = (v0 & 0xffffu) * 0x0001000100010001ull, b0 = (v0 >> 16) * 0x0001000100010001ull;
  const uint64_t a1 = (v1 & 0xffffu) * 0x0001000100010001ull, b1 = (v1 >> 16) * 0x0001000100010001ull;
  const __m512i vw = _mm512_set_epi64(static_cast<long long>(b1), static_cast<long long>(b1), static_cast<long long>(a1), static_cast<long long>(a1),
                                      static_cast<long long>(b0), static_cast<long long>(b0), static_cast<long long>(a0), static_cast<long long>(a0));
  const __m512i vi = _mm512_and_si512(_mm512_srlv_epi16(vw, shifts), _mm512_set1_epi16(3));
  const __m512i l0 = pairBytes16(xl, xl + 48), l1 = pairBytes16(xl + 16, xl + 64), l2 = pairBytes16(xl + 32, xl + 80);
  const __m512i jv = _mm512_set1_epi16(J);
  const __mmask32 is0 = _mm512_cmpeq_epi16_mask(vi, _mm512_setzero_si512()), is1 = _mm512_cmpeq_epi16_mask(vi, _mm512_set1_epi16(1)),
                  is2 = _mm512_cmpeq_epi16_mask(vi, _mm512_set1_epi16(2));
  __m512i at = _mm512_mask_mov_epi16(jv, is2, l2);
  at = _mm512_mask_mov_epi16(at, is1, l1);
  at = _mm512_mask_mov_epi16(at, is0, l0);
  __m512i below = _mm512_mask_mov_epi16(l2, is2, l1);
  below = _mm512_mask_mov_epi16(below, is1, l0);
  below = _mm512_maskz_mov_epi16(static_cast<__mmask32>(~is0), below);
  // head = at (beta = 0) or J - below (beta = 1), per half.
  const __mmask32 bm = static_cast<__mmask32>((beta0 ? 0x0000ffffu : 0u) | (beta1 ? 0xffff0000u : 0u));
  const __m512i head = _mm512_mask_sub_epi16(at, bm, jv, below);
  const __m512i ne = _mm512_add_epi16(_mm512_sub_epi16(jv, at), below);
  // Inclusive suffix sums over the higher lanes of the same half, then exclusive = inclusive - ne.
  __m512i S = ne;
  for (int t = 0; t < 4; t++) S = _mm512_add_epi16(S, _mm512_maskz_permutexvar_epi16(shiftOk[t], shiftIdx[t], S));
  const __m512i c = modP16Avx512(_mm512_add_epi16(_mm512_add_epi16(head, _mm512_sub_epi16(S, ne)), _mm512_set1_epi16(67 * 62)));
  const __m512i sv = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)));
  const __m512i val = modP16Avx512(_mm512_mullo_epi16(sv, c));
  // d[k] = val[(k - rot) mod 16] within each half.
  const __m512i rv16 = _mm512_mask_blend_epi16(0xffff0000u, _mm512_set1_epi16(static_cast<short>(rot0)), _mm512_set1_epi16(static_cast<short>(rot1)));
  const __m512i idx = _mm512_or_si512(_mm512_and_si512(_mm512_sub_epi16(iota, rv16), _mm512_set1_epi16(15)), _mm512_and_si512(iota, _mm512_set1_epi16(16)));
  const __m512i rv = _mm512_permutexvar_epi16(idx, val);
  const __m512i mv = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(mask)));
  const __m512i out = modP16Avx512(J == 0 ? _mm512_add_epi16(rv, mv) : _mm512_add_epi16(_mm512_sub_epi16(rv, mv), _mm512_set1_epi16(4 * 67)));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), _mm512_cvtepi16_epi8(out));
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void privateCompareR4KAvx512(int j, const uint8_t* xl, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s,
                                                                                         const uint8_t* rot, const uint8_t* mask, uint8_t* d) {
  alignas(64) int32_t lanes[16], sh[16];
  for (int i = 0; i < 16; i++) { lanes[i] = i; sh[i] = 2 * i; }
  const __m512i iota = _mm512_load_si512(lanes), shifts = _mm512_load_si512(sh);
  __m512i shiftIdx[4];
  for (int t = 0; t < 4; t++) {
    alignas(64) int32_t ix[16];
    for (int i = 0; i < 16; i++) ix[i] = (i + (1 << t)) & 15;
    shiftIdx[t] = _mm512_load_si512(ix);
  }
  // Pairs of elements first (pcR4PairAvx512), the odd last one below.
  alignas(64) int16_t lanes16[32], sh16[32], pix[4][32];
  __m512i pairIdx[4];
  __mmask32 pairOk[4];
  for (int i = 0; i < 32; i++) { lanes16[i] = static_cast<int16_t>(i); sh16[i] = static_cast<int16_t>(2 * (i % 8)); }
  for (int t = 0; t < 4; t++) {
    uint32_t ok = 0;
    for (int i = 0; i < 32; i++) {
      const bool in = (i % 16) + (1 << t) < 16;
      pix[t][i] = static_cast<int16_t>(in ? i + (1 << t) : i);
      ok |= (in ? 1u : 0u) << i;
    }
    pairIdx[t] = _mm512_load_si512(pix[t]);
    pairOk[t] = static_cast<__mmask32>(ok);
  }
  const __m512i iota16 = _mm512_load_si512(lanes16), shifts16 = _mm512_load_si512(sh16);
  size_t e = 0;
  for (; e + 2 <= n; e += 2) {
    const uint32_t v0 = static_cast<uint32_t>(beta[e] == 0 ? r[e] : r[e] + 1), v1 = static_cast<uint32_t>(beta[e + 1] == 0 ? r[e + 1] : r[e + 1] + 1);
    const size_t o = e * 16;
    if (j == 0) pcR4PairAvx512<0>(xl + e * 48, v0, v1, beta[e] != 0, beta[e + 1] != 0, s + o, rot[e] & 15u, rot[e + 1] & 15u, mask + o, d + o, pairIdx, pairOk, iota16, shifts16);
    else pcR4PairAvx512<1>(xl + e * 48, v0, v1, beta[e] != 0, beta[e + 1] != 0, s + o, rot[e] & 15u, rot[e + 1] & 15u, mask + o, d + o, pairIdx, pairOk, iota16, shifts16);
  }
  for (; e < n; e++) {
    const uint8_t be = beta[e];
    const uint32_t v = static_cast<uint32_t>(be == 0 ? r[e] : r[e] + 1);
    const unsigned ro = rot[e] & 15u;
    const uint8_t* x = xl + e * 48;
    const size_t o = e * 16;
    if (j == 0) {
      if (be == 0) pcR4ElementAvx512<0, true>(x, v, s + o, ro, mask + o, d + o, shiftIdx, iota, shifts);
      else pcR4ElementAvx512<0, false>(x, v, s + o, ro, mask + o, d + o, shiftIdx, iota, shifts);
    } else {
      if (be == 0) pcR4ElementAvx512<1, true>(x, v, s + o, ro, mask + o, d + o, shiftIdx, iota, shifts);
      else pcR4ElementAvx512<1, false>(x, v, s + o, ro, mask + o, d + o, shiftIdx, iota, shifts);
    }
  }
}
)
#pragma GCC diagnostic pop
SECURENN_VARIANTS(zeroTest32K, zeroTest32Body, (const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n), (d0, d1, out, n))
void privateCompare32KBase(int j, const uint8_t* xb, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* rot, const uint8_t* mask, uint8_t* d) {
  privateCompare32Body(j, xb, r, n, beta, s, rot, mask, d);
}
SECURENN_X86_ONLY(
__attribute__((target("avx2"))) void privateCompare32KAvx2(int j, const uint8_t* xb, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* rot, const uint8_t* mask, uint8_t* d) {
  privateCompare32Body(j, xb, r, n, beta, s, rot, mask, d);
}

// AVX-512BW: one element's 32 positions in the 32 16-bit lanes of a register.
// Same values as pc32Element: w_i = bit_i ? J - x_i : x_i; the suffix sums by
// five shifted adds; c_i = (t_i + J + suffix_i + 256 p) mod p and s_i c_i mod
// p with the quotient by 67 as mulhi(v, 62603) >> 6 (exact for v < 2^15; here
// v < 20000); the rotation as a lane permutation; the mask added or
// subtracted mod p; packed back to bytes.
template <int J, bool BETA0>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline void pc32ElementAvx512(const uint8_t* x, uint32_t v, const uint8_t* s, unsigned rot, const uint8_t* mask, uint8_t* d,
                                                                                         const __m512i* shiftIdx, const __m512i iota) {
  const __m512i p = _mm512_set1_epi16(P), magic = _mm512_set1_epi16(static_cast<short>(62603));
  const __mmask32 bits = static_cast<__mmask32>(v);
  const __m512i xv = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
  const __m512i jv = _mm512_set1_epi16(J);
  // w_i = x_i + J b_i - 2 b_i x_i.
  const __m512i w = _mm512_mask_sub_epi16(xv, bits, jv, xv);
  // Inclusive suffix sums S_i = sum_{k >= i} w_k, then suffix_i = S_i - w_i.
  __m512i S = w;
  for (int t = 0; t < 5; t++) {
    const __mmask32 valid = static_cast<__mmask32>(0xffffffffu >> (1u << t));
    S = _mm512_add_epi16(S, _mm512_maskz_permutexvar_epi16(valid, shiftIdx[t], S));
  }
  const __m512i suffix = _mm512_sub_epi16(S, w);
  // t_i = J b_i - x_i (beta = 0) or x_i - J b_i.
  const __m512i jb = _mm512_maskz_mov_epi16(bits, jv);
  const __m512i tv = BETA0 ? _mm512_sub_epi16(jb, xv) : _mm512_sub_epi16(xv, jb);
  __m512i c = _mm512_add_epi16(_mm512_add_epi16(tv, suffix), _mm512_set1_epi16(static_cast<short>(J + P * 256)));
  c = _mm512_sub_epi16(c, _mm512_mullo_epi16(_mm512_srli_epi16(_mm512_mulhi_epu16(c, magic), 6), p));
  __m512i val = _mm512_mullo_epi16(_mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s))), c);
  val = _mm512_sub_epi16(val, _mm512_mullo_epi16(_mm512_srli_epi16(_mm512_mulhi_epu16(val, magic), 6), p));
  // d[k] = val[(k - rot) mod 32].
  const __m512i idx = _mm512_and_si512(_mm512_sub_epi16(iota, _mm512_set1_epi16(static_cast<short>(rot))), _mm512_set1_epi16(31));
  __m512i out = _mm512_permutexvar_epi16(idx, val);
  const __m512i m = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(mask)));
  if (J == 0) {
    out = _mm512_add_epi16(out, m);
    out = _mm512_mask_sub_epi16(out, _mm512_cmpge_epi16_mask(out, p), out, p);
  } else {
    out = _mm512_sub_epi16(out, m);
    out = _mm512_mask_add_epi16(out, _mm512_cmplt_epi16_mask(out, _mm512_setzero_si512()), out, p);
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), _mm512_mask_cvtepi16_epi8(_mm256_setzero_si256(), static_cast<__mmask32>(~0u), out));
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) void privateCompare32KAvx512(int j, const uint8_t* xb, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s,
                                                                                        const uint8_t* rot, const uint8_t* mask, uint8_t* d) {
  alignas(64) int16_t lanes[32];
  for (int i = 0; i < 32; i++) lanes[i] = static_cast<int16_t>(i);
  const __m512i iota = _mm512_load_si512(lanes);
  __m512i shiftIdx[5];
  for (int t = 0; t < 5; t++) {
    alignas(64) int16_t ix[32];
    for (int i = 0; i < 32; i++) ix[i] = static_cast<int16_t>((i + (1 << t)) & 31);
    shiftIdx[t] = _mm512_load_si512(ix);
  }
  for (size_t e = 0; e < n; e++) {
    const size_t o = e * 32;
    const uint8_t be = beta[e];
    const uint32_t v = static_cast<uint32_t>(be == 0 ? r[e] : r[e] + 1);
    const unsigned ro = rot[e] & 31u;
    if (j == 0) {
      if (be == 0) pc32ElementAvx512<0, true>(xb + o, v, s + o, ro, mask + o, d + o, shiftIdx, iota);
      else pc32ElementAvx512<0, false>(xb + o, v, s + o, ro, mask + o, d + o, shiftIdx, iota);
    } else {
      if (be == 0) pc32ElementAvx512<1, true>(xb + o, v, s + o, ro, mask + o, d + o, shiftIdx, iota);
      else pc32ElementAvx512<1, false>(xb + o, v, s + o, ro, mask + o, d + o, shiftIdx, iota);
    }
  }
}
)

#if defined(__x86_64__) || defined(__i386__)
#define SECURENN_DISPATCH(NAME, ARGS)                  \
  switch (activeSimd()) {                              \
    case SimdLevel::Avx512: NAME##Avx512 ARGS; return; \
    case SimdLevel::Avx2: NAME##Avx2 ARGS; return;     \
    default: NAME##Base ARGS; return;                  \
  }
#else
#define SECURENN_DISPATCH(NAME, ARGS) NAME##Base ARGS;
#endif

}  // namespace

void bitShareZp(const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out) { SECURENN_DISPATCH(bitShareZpK, (x, n, r, out)) }

// One build for every CPU: on the machines measured (Xeon, AVX-512) the
// baseline (SSE2-vectorised) build was the fastest; the per-byte scatter
// through perm bounds it, not the arithmetic.
void privateCompare(int j, const uint8_t* xb, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* u, const uint8_t* perm, uint8_t* d) {
  privateCompareBody(j, xb, r, n, beta, s, u, perm, d);
}

void zeroTest(const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n) { SECURENN_DISPATCH(zeroTestK, (d0, d1, out, n)) }

void bitShareZp32(const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out) { SECURENN_DISPATCH(bitShareZp32K, (x, n, r, out)) }
void zeroTest32(const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n) { SECURENN_DISPATCH(zeroTest32K, (d0, d1, out, n)) }
void privateCompare32(int j, const uint8_t* xb, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* rot, const uint8_t* mask, uint8_t* d) {
  SECURENN_DISPATCH(privateCompare32K, (j, xb, r, n, beta, s, rot, mask, d))
}

void digitShareZp16(const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out) { SECURENN_DISPATCH(digitShareZp16K, (x, n, r, out)) }
void zeroTest16(const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n) { SECURENN_DISPATCH(zeroTest16K, (d0, d1, out, n)) }
void privateCompareR4(int j, const uint8_t* xl, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* rot, const uint8_t* mask, uint8_t* d) {
  SECURENN_DISPATCH(privateCompareR4K, (j, xl, r, n, beta, s, rot, mask, d))
}

void maskZp(uint8_t* d, const uint8_t* mask, size_t n, bool subtract) {
  if (subtract) {
    for (size_t i = 0; i < n; i++) {
      const int v = static_cast<int>(d[i]) - mask[i];
      d[i] = static_cast<uint8_t>(v < 0 ? v + P : v);
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      const int v = static_cast<int>(d[i]) + mask[i];
      d[i] = static_cast<uint8_t>(v >= P ? v - P : v);
    }
  }
}

size_t rejectSample(const uint8_t* raw, size_t rawLen, const uint8_t* table, uint8_t* out, size_t outLen, size_t filled) {
  // Branch-free: write every candidate, advance only on acceptance.
  size_t i = 0;
  for (; i < rawLen && filled < outLen; i++) {
    const uint8_t v = table[raw[i]];
    if (filled < outLen) out[filled] = v;
    filled += (v != 255);
  }
  return filled;
}

}  // namespace securenn
