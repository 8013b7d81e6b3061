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

}  // namespace securenn
