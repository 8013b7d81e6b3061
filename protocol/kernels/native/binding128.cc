// N-API entry points of the Z_2^128 kernels (ring128.h: gemm128, mul128,
// mulScalar128, add128, sub128): Vec128 word arrays
// (Uint32Array, 4 little-endian words per element) checked with the argument
// table of binding-args.h, in the order of every other kernel (types and
// ranges, then lengths, then overlaps); then the rule particular to these
// arrays, a whole number of 4-word elements.
#include <new>
#include <string>

#include "binding-args.h"
#include "ring128.h"

namespace securenn {
namespace {

using namespace napiargs;

constexpr int64_t kMaxDim = static_cast<int64_t>(1) << 40;

// Sizes follow from m, k, n (4 words per element), so they are checked below, not in the table.
constexpr ArgSpec kGemm128[] = {arr("A", K::U32), arr("B", K::U32), integer("m", 0, kMaxDim), integer("k", 0, kMaxDim), integer("n", 0, kMaxDim), arr("out", K::U32)};
constexpr Disjoint kGemm128Disjoint[] = {{5, 0}, {5, 1}};
// mul128, add128, sub128: three arrays of one length.
constexpr ArgSpec kBinary128[] = {arr("a", K::U32), sized("b", K::U32, 0, 1), sized("out", K::U32, 0, 1)};
constexpr ArgSpec kMulScalar128[] = {arr("a", K::U32), fixed("s", K::U32, 4), sized("out", K::U32, 0, 1)};
// signedSum128: acc has 4 words per coefficient (k, int8 bytes); x is read at rows `stride` elements apart.
constexpr ArgSpec kSignedSum128[] = {sized("acc", K::U32, 2, 4), arr("x", K::U32), arr("k", K::U8), integer("len", 1, kMaxDim), integer("stride", 0, kMaxDim)};
constexpr Disjoint kSignedSum128Disjoint[] = {{0, 1}, {0, 2}};
// blockComb128: out has 4 words per pattern byte; coef holds int8 bytes, width per pattern; src 3 words per monomial
// (checked below: its length follows from an integer argument).
constexpr ArgSpec kBlockComb128[] = {sized("out", K::U32, 3, 4), arr("x0", K::U32), arr("x1", K::U32), arr("pat", K::U8), arr("coef", K::U8),
                                     integer("width", 1, 16), arr("src", K::U32), integer("len", 1, kMaxDim), fixed("one", K::U32, 4)};
constexpr Disjoint kBlockComb128Disjoint[] = {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 6}, {0, 8}};

bool wholeElements(Call& c, const char* name, size_t words) {
  if (!c.ok) return false;
  if (words % 4 != 0) return c.fail("E_SHAPE", std::string("expected ") + name + ".length to be a multiple of 4 (4 words per element), got " + std::to_string(words));
  return true;
}

template <void (*F)(const uint32_t*, const uint32_t*, uint32_t*, size_t)>
napi_value binary128(napi_env env, napi_callback_info info, const char* name) {
  const Signature s = sig(name, kBinary128);
  CHECKED_ARGS(s);
  if (!wholeElements(c, "a", x.len[0])) return nullptr;
  F(x.u32(0), x.u32(1), x.u32(2), x.len[0] / 4);
  return nullptr;
}

}  // namespace

napi_value Gemm128(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("gemm128", kGemm128, kGemm128Disjoint));
  const int64_t m = x.i[2], k = x.i[3], n = x.i[4];
  size_t mk = 0, kn = 0, mn = 0;
  mulSize(c, "4*m*k", 4 * m, k, mk) && mulSize(c, "4*k*n", 4 * k, n, kn) && mulSize(c, "4*m*n", 4 * m, n, mn) &&
      sameLen(c, "A (4*m*k)", x.len[0], mk) && sameLen(c, "B (4*k*n)", x.len[1], kn) && sameLen(c, "out (4*m*n)", x.len[5], mn);
  if (!c.ok) return nullptr;
  try {
    gemm128(x.u32(0), x.u32(1), x.u32(5), static_cast<size_t>(m), static_cast<size_t>(k), static_cast<size_t>(n));
  } catch (const std::bad_alloc&) {
    c.fail("E_NATIVE", "out of memory for packing buffers");
  }
  return nullptr;
}

napi_value Mul128(napi_env env, napi_callback_info info) { return binary128<mul128>(env, info, "mul128"); }
napi_value Add128(napi_env env, napi_callback_info info) { return binary128<add128>(env, info, "add128"); }
napi_value Sub128(napi_env env, napi_callback_info info) { return binary128<sub128>(env, info, "sub128"); }

napi_value MulScalar128(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("mulScalar128", kMulScalar128));
  if (!wholeElements(c, "a", x.len[0])) return nullptr;
  mulScalar128(x.u32(0), x.u32(1), x.u32(2), x.len[0] / 4);
  return nullptr;
}

napi_value SignedSum128(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("signedSum128", kSignedSum128, kSignedSum128Disjoint));
  const size_t len = static_cast<size_t>(x.i[3]), stride = static_cast<size_t>(x.i[4]), kn = x.len[2];
  if (kn % len != 0) {
    c.fail("E_SHAPE", "expected k.length to be a multiple of len (" + std::to_string(len) + "), got " + std::to_string(kn));
    return nullptr;
  }
  const size_t rows = kn / len;
  size_t span = 0, words = 0;
  if (rows > 0 && mulSize(c, "(rows-1)*stride", rows - 1, stride, span) && mulSize(c, "4*((rows-1)*stride+len)", 4, span + len, words) && x.len[1] < words)
    c.fail("E_SHAPE", "expected x of at least " + std::to_string(words) + " words (" + std::to_string(rows) + " rows of " + std::to_string(len) + " elements, stride " + std::to_string(stride) + "), got " + std::to_string(x.len[1]));
  if (!c.ok) return nullptr;
  signedSum128(x.u32(0), x.u32(1), reinterpret_cast<const int8_t*>(x.u8(2)), rows, len, stride);
  return nullptr;
}

napi_value BlockComb128(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("blockComb128", kBlockComb128, kBlockComb128Disjoint));
  const size_t width = static_cast<size_t>(x.i[5]), len = static_cast<size_t>(x.i[7]), npat = x.len[3], ncoef = x.len[4];
  const uint8_t* pat = x.u8(3);
  const uint32_t* src = x.u32(6);
  if (!sameLen(c, "src (3*width)", x.len[6], 3 * width)) return nullptr;
  if (ncoef % width != 0 || ncoef / width > 256) {
    c.fail("E_SHAPE", "expected coef.length to be width (" + std::to_string(width) + ") times at most 256 patterns, got " + std::to_string(ncoef));
    return nullptr;
  }
  if (npat % len != 0) {
    c.fail("E_SHAPE", "expected pat.length to be a multiple of len (" + std::to_string(len) + "), got " + std::to_string(npat));
    return nullptr;
  }
  const size_t patterns = ncoef / width, rows = npat / len;
  for (size_t o = 0; o < npat; o++)
    if (pat[o] >= patterns) {
      c.fail("E_BAD_ARGUMENT", "expected every pattern below " + std::to_string(patterns) + ", got " + std::to_string(pat[o]) + " at " + std::to_string(o));
      return nullptr;
    }
  for (size_t S = 1; S < width && rows > 0; S++) {
    if (src[3 * S] > 1) return c.fail("E_BAD_ARGUMENT", "expected src[" + std::to_string(3 * S) + "] (the source of monomial " + std::to_string(S) + ") to be 0 or 1"), nullptr;
    size_t span = 0, words = 0;
    if (!mulSize(c, "(rows-1)*stride", rows - 1, src[3 * S + 2], span) || !mulSize(c, "4*(base+(rows-1)*stride+len)", 4, src[3 * S + 1] + span + len, words)) return nullptr;
    const size_t have = x.len[1 + src[3 * S]];
    if (have < words)
      return c.fail("E_SHAPE", "expected x" + std::to_string(src[3 * S]) + " of at least " + std::to_string(words) + " words for monomial " + std::to_string(S) + ", got " + std::to_string(have)), nullptr;
  }
  blockComb128(x.u32(0), x.u32(1), x.u32(2), pat, reinterpret_cast<const int8_t*>(x.u8(4)), patterns, width, src, rows, len, x.u32(8));
  return nullptr;
}

}  // namespace securenn
