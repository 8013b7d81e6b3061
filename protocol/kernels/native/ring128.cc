// See ring128.h. Portable C++ on unsigned __int128 for every SIMD level: the
// compiler vectorises none of it (a 128 x 128 -> 128 product is one `mul`
// and two `imul` on x86-64, `mul`/`umulh` + two `madd` on arm64, plus the
// carries), so MPC_KERNEL_SIMD changes nothing here; only the thread count
// (MPC_KERNEL_THREADS, configure()) applies, through gemm.cc's band split.
// add128 / sub128 are `add` + `adc` (`adds` + `adc` on arm64) per element.
//
// gemm128 (more than kSmallM rows; fewer: one plain loop, below) is blocked like the u64 GEMM (gemm.cc): a KC x NC block of B and an
// MC x KC block of A are packed (as unsigned __int128, so the micro-kernel
// reads aligned values), and an MR x NR register tile sums Winograd's inner
// product (gemm-kernels.h), which holds in any commutative ring, Z_2^128
// included:
//   a0*b0 + a1*b1 = (a0 + b1)(a1 + b0) - a0*a1 - b0*b1,
// so one 128-bit product per pair of k steps and tile element, with the row
// term rho = sum a0*a1 packed after each A panel and the column term
// gamma = sum b0*b1 after each B panel. On the Xeon of BENCHMARKS.md a 2 x 2
// Winograd tile ran 1.5x the plain one (one product per MAC) and the best of
// the tiles tried (1x4, 2x2, 2x3, 2x4, 3x2, 4x4).
#include "ring128.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "gemm.h"  // bandCount, runBands

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "Vec128 words are little-endian; one unsigned __int128 per element needs a little-endian CPU");

namespace securenn {
namespace {

using u128 = unsigned __int128;

inline u128 load(const uint32_t* p) {
  u128 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(uint32_t* p, u128 v) { std::memcpy(p, &v, sizeof v); }

constexpr size_t MR = 2, NR = 2;
// KC even (only the last k block may have an odd step). A packed B block is KC x NC x 16 bytes = 1 MiB (half the
// L2 of the Xeon above), an A block 64 KiB.
constexpr size_t KC = 256, MC = 16, NC = 256;

struct Buf {
  u128* p = nullptr;
  explicit Buf(size_t n) {
    const size_t bytes = ((n * sizeof(u128) + 63) / 64) * 64;
    p = static_cast<u128*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
    if (!p) throw std::bad_alloc();
  }
  ~Buf() { std::free(p); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
};

constexpr size_t aPanel(size_t kc) { return kc * MR + MR; }
constexpr size_t bPanel(size_t kc) { return kc * NR + NR; }

// Rows [i0, i0+mc) x cols [p0, p0+kc) of A (k words-elements per row) into MR-row panels pa[panel][t][r], then
// rho[r] = sum over the pairs (t, t+1) of A[r][t] * A[r][t+1]; rows past the end are zero.
void packA(const uint32_t* A, size_t k, size_t i0, size_t mc, size_t p0, size_t kc, u128* pa) {
  for (size_t ir = 0; ir < mc; ir += MR) {
    u128* dst = pa + (ir / MR) * aPanel(kc);
    for (size_t r = 0; r < MR; r++) {
      u128 rho = 0;
      if (ir + r < mc) {
        const uint32_t* src = A + 4 * ((i0 + ir + r) * k + p0);
        for (size_t t = 0; t < kc; t++) dst[t * MR + r] = load(src + 4 * t);
        for (size_t t = 0; t + 1 < kc; t += 2) rho += dst[t * MR + r] * dst[(t + 1) * MR + r];
      } else {
        for (size_t t = 0; t < kc; t++) dst[t * MR + r] = 0;
      }
      dst[kc * MR + r] = rho;
    }
  }
}

// Rows [p0, p0+kc) x cols [j0, j0+nc) of B (n elements per row) into NR-column panels pb[panel][t][j], then
// gamma[j] = sum over the pairs (t, t+1) of B[t][j] * B[t+1][j]; columns past the end are zero.
void packB(const uint32_t* B, size_t n, size_t p0, size_t kc, size_t j0, size_t nc, u128* pb) {
  for (size_t jr = 0; jr < nc; jr += NR) {
    u128* dst = pb + (jr / NR) * bPanel(kc);
    const size_t w = std::min(NR, nc - jr);
    for (size_t t = 0; t < kc; t++) {
      const uint32_t* src = B + 4 * ((p0 + t) * n + j0 + jr);
      size_t j = 0;
      for (; j < w; j++) dst[t * NR + j] = load(src + 4 * j);
      for (; j < NR; j++) dst[t * NR + j] = 0;
    }
    u128* gamma = dst + kc * NR;
    for (size_t j = 0; j < NR; j++) gamma[j] = 0;
    for (size_t t = 0; t + 1 < kc; t += 2)
      for (size_t j = 0; j < NR; j++) gamma[j] += dst[t * NR + j] * dst[(t + 1) * NR + j];
  }
}

// C[0:mr, 0:nr] += the MR x NR tile of (packed A panel) . (packed B panel) over kc steps (ldc in elements).
void kernel(size_t kc, const u128* pa, const u128* pb, uint32_t* c, size_t ldc, size_t mr, size_t nr) {
  u128 acc[MR][NR] = {};
  for (size_t p = 0; p < kc / 2; p++) {
    for (size_t r = 0; r < MR; r++) {
      const u128 a0 = pa[r], a1 = pa[MR + r];
      for (size_t j = 0; j < NR; j++) acc[r][j] += (a0 + pb[NR + j]) * (a1 + pb[j]);
    }
    pa += 2 * MR;
    pb += 2 * NR;
  }
  if (kc & 1) {
    for (size_t r = 0; r < MR; r++)
      for (size_t j = 0; j < NR; j++) acc[r][j] += pa[r] * pb[j];
    pa += MR;
    pb += NR;
  }
  // pa and pb now point at rho and gamma.
  for (size_t r = 0; r < mr; r++)
    for (size_t j = 0; j < nr; j++) {
      uint32_t* q = c + 4 * (r * ldc + j);
      store(q, load(q) + acc[r][j] - pa[r] - pb[j]);
    }
}

// C[r0:r1, c0:c1] += A[r0:r1, :] . B[:, c0:c1].
void gemmRange(const uint32_t* A, const uint32_t* B, uint32_t* C, size_t k, size_t n, size_t r0, size_t r1, size_t c0, size_t c1) {
  if (r1 <= r0 || c1 <= c0 || k == 0) return;
  const size_t kcMax = std::min(KC, k);
  const size_t mcMax = std::min(MC, ((r1 - r0 + MR - 1) / MR) * MR);
  const size_t ncMax = std::min(NC, ((c1 - c0 + NR - 1) / NR) * NR);
  Buf pa((mcMax / MR) * aPanel(kcMax));
  Buf pb((ncMax / NR) * bPanel(kcMax));
  for (size_t jc = c0; jc < c1; jc += ncMax) {
    const size_t nc = std::min(ncMax, c1 - jc);
    for (size_t pc = 0; pc < k; pc += kcMax) {
      const size_t kc = std::min(kcMax, k - pc);
      packB(B, n, pc, kc, jc, nc, pb.p);
      for (size_t ic = r0; ic < r1; ic += mcMax) {
        const size_t mc = std::min(mcMax, r1 - ic);
        packA(A, k, ic, mc, pc, kc, pa.p);
        for (size_t jr = 0; jr < nc; jr += NR)
          for (size_t ir = 0; ir < mc; ir += MR)
            kernel(kc, pa.p + (ir / MR) * aPanel(kc), pb.p + (jr / NR) * bPanel(kc), C + 4 * ((ic + ir) * n + jc + jr), n,
                   std::min(MR, mc - ir), std::min(NR, nc - jr));
      }
    }
  }
}

// Few rows of C (m <= kSmallM): no packing (packing B and its Winograd column terms cost about as much as the
// product when each B element meets only m rows); C[i, :] = sum_t A[i, t] * B[t, :], one product per MAC, summed
// in a block of kSmallMCols column accumulators, on one thread. On the Xeon of BENCHMARKS.md it ran 2-5x the
// packed path for m = 1 or 2 (the MAC check's 1 x K x c, a dense layer of one image) and the two met near m = 8.
constexpr size_t kSmallM = 6, kSmallMCols = 128;

void smallM(const uint32_t* A, const uint32_t* B, uint32_t* C, size_t m, size_t k, size_t n) {
  u128 acc[kSmallMCols];
  for (size_t j0 = 0; j0 < n; j0 += kSmallMCols) {
    const size_t jn = std::min(kSmallMCols, n - j0);
    for (size_t i = 0; i < m; i++) {
      for (size_t j = 0; j < jn; j++) acc[j] = 0;
      for (size_t t = 0; t < k; t++) {
        const u128 a = load(A + 4 * (i * k + t));
        const uint32_t* b = B + 4 * (t * n + j0);
        for (size_t j = 0; j < jn; j++) acc[j] += a * load(b + 4 * j);
      }
      for (size_t j = 0; j < jn; j++) store(C + 4 * (i * n + j0 + j), acc[j]);
    }
  }
}

// A 128-bit product costs about six u64 multiply-adds of the u64 GEMM; the thread split counts it so.
constexpr double kMacWeight = 6;

}  // namespace

void gemm128(const uint32_t* A, const uint32_t* B, uint32_t* C, size_t m, size_t k, size_t n) {
  if (m == 0 || n == 0) return;
  std::memset(C, 0, m * n * 16);
  if (k == 0) return;
  if (m <= kSmallM) {
    smallM(A, B, C, m, k, n);
    return;
  }
  // Disjoint bands of C (rows if m >= n, else columns, on tile boundaries), as gemm.cc splits the u64 GEMM.
  const bool splitRows = m >= n;
  const size_t tile = splitRows ? MR : NR, extent = splitRows ? m : n;
  const size_t tiles = (extent + tile - 1) / tile;
  const size_t parts = bandCount(kMacWeight * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n), tiles);
  auto band = [&](size_t p) {
    const size_t lo = std::min(extent, (tiles * p / parts) * tile), hi = std::min(extent, (tiles * (p + 1) / parts) * tile);
    if (splitRows) gemmRange(A, B, C, k, n, lo, hi, 0, n);
    else gemmRange(A, B, C, k, n, 0, m, lo, hi);
  };
  if (parts == 1) band(0);
  else runBands(parts, band);
}

void mul128(const uint32_t* a, const uint32_t* b, uint32_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) store(out + 4 * i, load(a + 4 * i) * load(b + 4 * i));
}

void mulScalar128(const uint32_t* a, const uint32_t* s, uint32_t* out, size_t n) {
  const u128 sv = load(s);
  for (size_t i = 0; i < n; i++) store(out + 4 * i, sv * load(a + 4 * i));
}

void add128(const uint32_t* a, const uint32_t* b, uint32_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) store(out + 4 * i, load(a + 4 * i) + load(b + 4 * i));
}

void sub128(const uint32_t* a, const uint32_t* b, uint32_t* out, size_t n) {
  for (size_t i = 0; i < n; i++) store(out + 4 * i, load(a + 4 * i) - load(b + 4 * i));
}

// Only the sign of k is read: no product, and no branch on it (the signs of BitLT's coefficients follow the public
// bits, so a branch would mispredict about every other element): with the masks neg = -(k < 0), nz = -(k != 0),
// ((v XOR neg) - neg) AND nz is v, -v or 0, then one 128-bit add (add/adc).
void signedSum128(uint32_t* acc, const uint32_t* x, const int8_t* k, size_t rows, size_t len, size_t stride) {
  for (size_t r = 0; r < rows; r++) {
    uint32_t* a = acc + 4 * r * len;
    const uint32_t* xr = x + 4 * r * stride;
    const int8_t* kr = k + r * len;
    for (size_t i = 0; i < len; i++) {
      const int8_t c = kr[i];
      const u128 neg = -static_cast<u128>(c < 0), nz = -static_cast<u128>(c != 0);
      const u128 v = ((load(xr + 4 * i) ^ neg) - neg) & nz;
      store(a + 4 * i, load(a + 4 * i) + v);
    }
  }
}

// Per element o = r len + i: the pattern p = pat[o] picks row p of coef (width signed coefficients, monomial 0 the
// constant); the sum runs over p's non-zero coefficients only (lists made once per call), each term one masked
// 128-bit add as in signedSum128.
void blockComb128(uint32_t* out, const uint32_t* x0, const uint32_t* x1, const uint8_t* pat, const int8_t* coef, size_t patterns,
                  size_t width, const uint32_t* src, size_t rows, size_t len, const uint32_t* one) {
  constexpr size_t kMaxWidth = 16;
  uint8_t count[256] = {};
  uint8_t term[256][kMaxWidth];
  u128 neg[256][kMaxWidth], base[256];
  const u128 c1 = load(one);
  for (size_t p = 0; p < patterns; p++) {
    const int8_t* cp = coef + p * width;
    base[p] = cp[0] > 0 ? c1 : cp[0] < 0 ? -c1 : 0;
    for (size_t S = 1; S < width; S++)
      if (cp[S] != 0) { term[p][count[p]] = static_cast<uint8_t>(S); neg[p][count[p]++] = -static_cast<u128>(cp[S] < 0); }
  }
  const uint32_t* row[kMaxWidth] = {};
  for (size_t r = 0; r < rows; r++) {
    for (size_t S = 1; S < width; S++) row[S] = (src[3 * S] ? x1 : x0) + 4 * (static_cast<size_t>(src[3 * S + 1]) + r * src[3 * S + 2]);
    for (size_t i = 0; i < len; i++) {
      const size_t o = r * len + i, p = pat[o];
      u128 acc = base[p];
      for (size_t q = 0; q < count[p]; q++) {
        const u128 m = neg[p][q];
        acc += (load(row[term[p][q]] + 4 * i) ^ m) - m;
      }
      store(out + 4 * o, acc);
    }
  }
}

}  // namespace securenn
