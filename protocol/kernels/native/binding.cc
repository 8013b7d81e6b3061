// N-API binding of the SecureNN ring kernels (plain C API, node_api.h).
// Every function takes TypedArrays and works on their memory in place (no
// copies). Arguments are checked here against the argument table of
// binding-args.h (the Z_2^128 kernels: binding128.cc); a misuse throws a JS Error whose `code`
// is one of the registry codes of protocol/errors.ts (E_DTYPE, E_SHAPE,
// E_BAD_ARGUMENT, E_NATIVE), which native.ts turns into an MpcError.
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "binding-args.h"
#include "gemm.h"
#include "ops.h"
#include "prg.h"

namespace {

using securenn::SimdLevel;
using namespace securenn::napiargs;

// ---- Z_2^64 / Z_{2^64-1} elementwise ----
typedef void (*BinOp)(const uint64_t*, const uint64_t*, uint64_t*, size_t);

constexpr ArgSpec kBinary[] = {arr("a", K::U64), sized("b", K::U64, 0, 1), sized("out", K::U64, 0, 1)};

template <BinOp F>
napi_value binary(napi_env env, napi_callback_info info, const char* name) {
  const Signature s = sig(name, kBinary);
  CHECKED_ARGS(s);
  F(x.u64(0), x.u64(1), x.u64(2), x.len[0]);
  return nullptr;
}

napi_value Add(napi_env env, napi_callback_info info) { return binary<securenn::add>(env, info, "add"); }
napi_value Sub(napi_env env, napi_callback_info info) { return binary<securenn::sub>(env, info, "sub"); }
napi_value Mul(napi_env env, napi_callback_info info) { return binary<securenn::mul>(env, info, "mul"); }
napi_value AddOdd(napi_env env, napi_callback_info info) { return binary<securenn::addOdd>(env, info, "addOdd"); }
napi_value SubOdd(napi_env env, napi_callback_info info) { return binary<securenn::subOdd>(env, info, "subOdd"); }

typedef void (*ScalarOp)(const uint64_t*, uint64_t, uint64_t*, size_t);
constexpr ArgSpec kScalar[] = {arr("a", K::U64), bigint("s"), sized("out", K::U64, 0, 1)};

template <ScalarOp F>
napi_value scalar(napi_env env, napi_callback_info info, const char* name) {
  const Signature s = sig(name, kScalar);
  CHECKED_ARGS(s);
  F(x.u64(0), x.big[1], x.u64(2), x.len[0]);
  return nullptr;
}
napi_value MulScalar(napi_env env, napi_callback_info info) { return scalar<securenn::mulScalar>(env, info, "mulScalar"); }
napi_value AddScalar(napi_env env, napi_callback_info info) { return scalar<securenn::addScalar>(env, info, "addScalar"); }

constexpr ArgSpec kDivShare[] = {arr("a", K::U64), arr("d", K::U32), integer("party", 0, 1), sized("out", K::U64, 0, 1)};

napi_value DivShare(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("divShare", kDivShare));
  const size_t n = x.len[0], nd = x.len[1];
  const uint32_t* d = x.u32(1);
  if (nd != 1 && nd != n) {
    c.fail("E_SHAPE", "expected d of length 1 or " + std::to_string(n) + ", got " + std::to_string(nd));
    return nullptr;
  }
  for (size_t i = 0; i < nd; i++)
    if (d[i] == 0) {
      c.fail("E_BAD_ARGUMENT", "divisor 0");
      return nullptr;
    }
  securenn::divShare(x.u64(0), d, nd, static_cast<int>(x.i[2]), x.u64(3), n);
  return nullptr;
}

constexpr ArgSpec kSar[] = {arr("a", K::U64), integer("f", 0, int64_t{1} << 53), sized("out", K::U64, 0, 1)};

napi_value Sar(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("sar", kSar));
  const int64_t f = x.i[1];
  securenn::sar(x.u64(0), f > 63 ? 63u : static_cast<unsigned>(f), x.u64(2), x.len[0]);
  return nullptr;
}

constexpr ArgSpec kWrap[] = {arr("a", K::U64), sized("b", K::U64, 0, 1), sized("out", K::U8, 0, 1)};

napi_value Wrap(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("wrap", kWrap));
  securenn::wrap(x.u64(0), x.u64(1), x.u8(2), x.len[0]);
  return nullptr;
}

constexpr ArgSpec kReduceOdd[] = {arr("a", K::U64), sized("out", K::U64, 0, 1)};

napi_value ReduceOdd(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("reduceOdd", kReduceOdd));
  securenn::reduceOdd(x.u64(0), x.u64(1), x.len[0]);
  return nullptr;
}

// ---- linear algebra ----
constexpr int64_t kMaxDim = static_cast<int64_t>(1) << 40;

// Lengths follow from the integer arguments (m*k, k*n, m*n), so they are checked below, not in the table.
constexpr ArgSpec kGemm[] = {arr("A", K::U64), arr("B", K::U64), integer("m", 0, kMaxDim), integer("k", 0, kMaxDim), integer("n", 0, kMaxDim), arr("out", K::U64)};
constexpr Disjoint kGemmDisjoint[] = {{5, 0}, {5, 1}};

napi_value Gemm(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("gemm", kGemm, kGemmDisjoint));
  const int64_t m = x.i[2], k = x.i[3], n = x.i[4];
  size_t mk = 0, kn = 0, mn = 0;
  mulSize(c, "m*k", m, k, mk) && mulSize(c, "k*n", k, n, kn) && mulSize(c, "m*n", m, n, mn) && sameLen(c, "A (m*k)", x.len[0], mk) &&
      sameLen(c, "B (k*n)", x.len[1], kn) && sameLen(c, "out (m*n)", x.len[5], mn);
  if (!c.ok) return nullptr;
  try {
    securenn::gemm(x.u64(0), x.u64(1), x.u64(5), static_cast<size_t>(m), static_cast<size_t>(k), static_cast<size_t>(n));
  } catch (const std::bad_alloc&) {
    c.fail("E_NATIVE", "out of memory for packing buffers");
  }
  return nullptr;
}

constexpr ArgSpec kIm2col[] = {
    arr("x", K::U64),           integer("N", 0, kMaxDim),  integer("H", 0, kMaxDim),  integer("W", 0, kMaxDim),
    integer("C", 0, kMaxDim),   integer("kh", 0, kMaxDim), integer("kw", 0, kMaxDim), integer("sh", 1, kMaxDim),
    integer("sw", 1, kMaxDim),  integer("padTop", -kMaxDim, kMaxDim), integer("padLeft", -kMaxDim, kMaxDim),
    integer("outH", 0, kMaxDim), integer("outW", 0, kMaxDim), arr("out", K::U64)};
constexpr Disjoint kIm2colDisjoint[] = {{13, 0}};

napi_value Im2col(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("im2col", kIm2col, kIm2colDisjoint));
  const securenn::Im2colShape s{x.i[1], x.i[2], x.i[3], x.i[4], x.i[5], x.i[6], x.i[7], x.i[8], x.i[9], x.i[10], x.i[11], x.i[12]};
  size_t xl = 0, ol = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0;
  mulSize(c, "N*H", s.N, s.H, t1) && mulSize(c, "N*H*W", t1, s.W, t2) && mulSize(c, "N*H*W*C", t2, s.C, xl) &&
      mulSize(c, "N*outH", s.N, s.outH, t3) && mulSize(c, "N*outH*outW", t3, s.outW, t4) && mulSize(c, "N*outH*outW*kh", t4, s.kh, t5) &&
      mulSize(c, "N*outH*outW*kh*kw", t5, s.kw, t1) && mulSize(c, "N*outH*outW*kh*kw*C", t1, s.C, ol) &&
      mulSize(c, "(outH+kh)*sh", s.outH + s.kh, s.sh, t1) && mulSize(c, "(outW+kw)*sw", s.outW + s.kw, s.sw, t2) &&
      sameLen(c, "x (N*H*W*C)", x.len[0], xl) && sameLen(c, "out (N*outH*outW*kh*kw*C)", x.len[13], ol);
  if (!c.ok) return nullptr;
  securenn::im2col(x.u64(0), s, x.u64(13));
  return nullptr;
}

constexpr ArgSpec kDepthwise[] = {
    arr("x", K::U64),           arr("w", K::U64),          integer("N", 0, kMaxDim),  integer("H", 0, kMaxDim),
    integer("W", 0, kMaxDim),   integer("C", 0, kMaxDim),  integer("dm", 0, kMaxDim), integer("kh", 0, kMaxDim),
    integer("kw", 0, kMaxDim),  integer("sh", 1, kMaxDim), integer("sw", 1, kMaxDim), integer("padTop", -kMaxDim, kMaxDim),
    integer("padLeft", -kMaxDim, kMaxDim), integer("outH", 0, kMaxDim), integer("outW", 0, kMaxDim), arr("out", K::U64)};
constexpr Disjoint kDepthwiseDisjoint[] = {{15, 0}, {15, 1}};

napi_value Depthwise(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("depthwise", kDepthwise, kDepthwiseDisjoint));
  const securenn::DepthwiseShape s{x.i[2], x.i[3], x.i[4], x.i[5], x.i[6], x.i[7], x.i[8], x.i[9], x.i[10], x.i[11], x.i[12], x.i[13], x.i[14]};
  size_t xl = 0, wl = 0, ol = 0, t1 = 0, t2 = 0, t3 = 0;
  mulSize(c, "N*H", s.N, s.H, t1) && mulSize(c, "N*H*W", t1, s.W, t2) && mulSize(c, "N*H*W*C", t2, s.C, xl) &&
      mulSize(c, "kh*kw", s.kh, s.kw, t1) && mulSize(c, "kh*kw*C", t1, s.C, t2) && mulSize(c, "kh*kw*C*dm", t2, s.dm, wl) &&
      mulSize(c, "N*outH", s.N, s.outH, t1) && mulSize(c, "N*outH*outW", t1, s.outW, t2) && mulSize(c, "N*outH*outW*C", t2, s.C, t3) &&
      mulSize(c, "N*outH*outW*C*dm", t3, s.dm, ol) &&
      mulSize(c, "(outH+kh)*sh", s.outH + s.kh, s.sh, t1) && mulSize(c, "(outW+kw)*sw", s.outW + s.kw, s.sw, t2) &&
      sameLen(c, "x (N*H*W*C)", x.len[0], xl) && sameLen(c, "w (kh*kw*C*dm)", x.len[1], wl) && sameLen(c, "out (N*outH*outW*C*dm)", x.len[15], ol);
  if (!c.ok) return nullptr;
  securenn::depthwise(x.u64(0), x.u64(1), s, x.u64(15));
  return nullptr;
}

// ---- Z_p ----
// bitShareZp / digitShareZp16 / zeroTest over rows of W positions (64, or 32 for the narrow kernels; 48 dealt shares
// per element for radix 4). Tables per row width, built at compile time.
template <int W>
struct RowSpecs {
  static constexpr ArgSpec share[] = {arr("x", K::U64), sized("r", K::U8, 0, W), sized("out", K::U8, 0, W)};
  static constexpr ArgSpec zero[] = {sized("d0", K::U8, 2, W), sized("d1", K::U8, 2, W), arr("out", K::U8)};
};

template <int W, void (*F)(const uint64_t*, size_t, const uint8_t*, uint8_t*)>
napi_value BitShareRows(napi_env env, napi_callback_info info, const char* op) {
  CHECKED_ARGS(sig(op, RowSpecs<W>::share));
  F(x.u64(0), x.len[0], x.u8(1), x.u8(2));
  return nullptr;
}

template <int W, void (*F)(const uint8_t*, const uint8_t*, uint8_t*, size_t)>
napi_value ZeroTestRows(napi_env env, napi_callback_info info, const char* op) {
  CHECKED_ARGS(sig(op, RowSpecs<W>::zero));
  F(x.u8(0), x.u8(1), x.u8(2), x.len[2]);
  return nullptr;
}

napi_value BitShareZp(napi_env env, napi_callback_info info) { return BitShareRows<64, securenn::bitShareZp>(env, info, "bitShareZp"); }
napi_value BitShareZp32(napi_env env, napi_callback_info info) { return BitShareRows<32, securenn::bitShareZp32>(env, info, "bitShareZp32"); }
napi_value ZeroTest(napi_env env, napi_callback_info info) { return ZeroTestRows<64, securenn::zeroTest>(env, info, "zeroTest"); }
napi_value ZeroTest32(napi_env env, napi_callback_info info) { return ZeroTestRows<32, securenn::zeroTest32>(env, info, "zeroTest32"); }

napi_value DigitShareZp16(napi_env env, napi_callback_info info) { return BitShareRows<48, securenn::digitShareZp16>(env, info, "digitShareZp16"); }
napi_value ZeroTest16(napi_env env, napi_callback_info info) { return ZeroTestRows<16, securenn::zeroTest16>(env, info, "zeroTest16"); }

constexpr ArgSpec kPrivateCompare[] = {
    integer("j", 0, 1), sized("xb", K::U8, 2, 64), arr("r", K::U64), sized("beta", K::U8, 2, 1, "beta (r.length)"),
    sized("s", K::U8, 2, 64), sized("u", K::OptU8, 2, 64), sized("perm", K::U8, 2, 64),
    sized("d", K::U8, 2, 64)};
constexpr Disjoint kPrivateCompareDisjoint[] = {{7, 1}, {7, 4}, {7, 5}, {7, 6}};

napi_value PrivateCompare(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("privateCompare", kPrivateCompare, kPrivateCompareDisjoint));
  const size_t n = x.len[2], n64 = 64 * n;
  const uint64_t* r = x.u64(2);
  const uint8_t *beta = x.u8(3), *u = x.present[5] ? x.u8(5) : nullptr, *perm = x.u8(6);
  uint8_t bad = 0;
  for (size_t i = 0; i < n64; i++) bad |= perm[i];
  if (bad & 0xC0) {
    c.fail("E_BAD_ARGUMENT", "perm entries must be in [0, 63]");
    return nullptr;
  }
  if (u == nullptr)
    for (size_t e = 0; e < n; e++)
      if (beta[e] == 1 && r[e] == ~0ull) {
        c.fail("E_BAD_ARGUMENT", "u required when beta = 1 and r = 2^64-1");
        return nullptr;
      }
  securenn::privateCompare(static_cast<int>(x.i[0]), x.u8(1), r, n, beta, x.u8(4), u, perm, x.u8(7));
  return nullptr;
}

constexpr ArgSpec kMaskZp[] = {arr("d", K::U8), sized("mask", K::U8, 0, 1, "mask (d.length)"), flag("subtract")};

napi_value MaskZp(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("maskZp", kMaskZp));
  securenn::maskZp(x.u8(0), x.u8(1), x.len[0], x.flag[2]);
  return nullptr;
}

constexpr ArgSpec kRejectSample[] = {arr("raw", K::U8), fixed("table", K::U8, 256), arr("out", K::U8), upToLen("filled", 2)};

napi_value RejectSample(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("rejectSample", kRejectSample));
  const size_t got = securenn::rejectSample(x.u8(0), x.len[0], x.u8(1), x.u8(2), x.len[2], static_cast<size_t>(x.i[3]));
  napi_value result;
  napi_create_double(env, static_cast<double>(got), &result);
  return result;
}

napi_value AesAvailable(napi_env env, napi_callback_info) {
  napi_value r;
  napi_get_boolean(env, securenn::aesAvailable(), &r);
  return r;
}

constexpr ArgSpec kPrgKeystream[] = {fixed("key", K::U8, 16), integer("offset", 0, int64_t{1} << 53), arr("out", K::U8)};

napi_value PrgKeystream(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("prgKeystream", kPrgKeystream));
  if (!securenn::aesAvailable()) { c.fail("E_NATIVE", "AES-NI is not available"); return nullptr; }
  securenn::aesCtrKeystream(x.u8(0), static_cast<uint64_t>(x.i[1]), x.u8(2), x.len[2]);
  return nullptr;
}

constexpr ArgSpec kPrgRejectSample[] = {fixed("key", K::U8, 16), integer("offset", 0, int64_t{1} << 53), fixed("table", K::U8, 256), arr("out", K::U8)};

napi_value PrgRejectSample(napi_env env, napi_callback_info info) {
  CHECKED_ARGS(sig("prgRejectSample", kPrgRejectSample));
  if (!securenn::aesAvailable()) { c.fail("E_NATIVE", "AES-NI is not available"); return nullptr; }
  const uint64_t next = securenn::aesCtrRejectSample(x.u8(0), static_cast<uint64_t>(x.i[1]), x.u8(2), x.u8(3), x.len[3]);
  napi_value r;
  napi_create_double(env, static_cast<double>(next), &r);
  return r;
}

// PrivateCompare rows on the 32-bit ring (privateCompare32, privateCompareR4): W values per element sent (d, s,
// mask), X dealt shares per element (xb / xl), one rot and beta each; every r < 2^31.
using NarrowPc = void (*)(int, const uint8_t*, const uint64_t*, size_t, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, uint8_t*);

constexpr ArgSpec kPc32[] = {
    integer("j", 0, 1), sized("xb", K::U8, 2, 32), arr("r", K::U64), sized("beta", K::U8, 2, 1, "beta (r.length)"),
    sized("s", K::U8, 2, 32), sized("rot", K::U8, 2, 1, "rot (r.length)"), sized("mask", K::U8, 2, 32),
    sized("d", K::U8, 2, 32)};
constexpr ArgSpec kPcR4[] = {
    integer("j", 0, 1), sized("xl", K::U8, 2, 48), arr("r", K::U64), sized("beta", K::U8, 2, 1, "beta (r.length)"),
    sized("s", K::U8, 2, 16), sized("rot", K::U8, 2, 1, "rot (r.length)"), sized("mask", K::U8, 2, 16),
    sized("d", K::U8, 2, 16)};
constexpr Disjoint kNarrowPcDisjoint[] = {{7, 1}, {7, 4}, {7, 6}};

template <NarrowPc F>
napi_value NarrowPcRows(napi_env env, napi_callback_info info, const Signature& s) {
  CHECKED_ARGS(s);
  const size_t n = x.len[2];
  const uint64_t* r = x.u64(2);
  uint64_t wide = 0;
  for (size_t e = 0; e < n; e++) wide |= r[e];
  if (wide >> 31) {
    c.fail("E_BAD_ARGUMENT", "every r must be < 2^31");
    return nullptr;
  }
  F(static_cast<int>(x.i[0]), x.u8(1), r, n, x.u8(3), x.u8(4), x.u8(5), x.u8(6), x.u8(7));
  return nullptr;
}

napi_value PrivateCompare32(napi_env env, napi_callback_info info) {
  return NarrowPcRows<securenn::privateCompare32>(env, info, sig("privateCompare32", kPc32, kNarrowPcDisjoint));
}
napi_value PrivateCompareR4(napi_env env, napi_callback_info info) {
  return NarrowPcRows<securenn::privateCompareR4>(env, info, sig("privateCompareR4", kPcR4, kNarrowPcDisjoint));
}

// ---- configuration (tests and benchmarks) ----
napi_value makeInfo(napi_env env) {
  napi_value obj, simd, detected, threads;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, securenn::simdName(securenn::activeSimd()), NAPI_AUTO_LENGTH, &simd);
  napi_create_string_utf8(env, securenn::simdName(securenn::detectSimd()), NAPI_AUTO_LENGTH, &detected);
  napi_create_int32(env, securenn::maxThreads(), &threads);
  napi_set_named_property(env, obj, "simd", simd);
  napi_set_named_property(env, obj, "detectedSimd", detected);
  napi_set_named_property(env, obj, "threads", threads);
  return obj;
}

napi_value Info(napi_env env, napi_callback_info) { return makeInfo(env); }

// configure(simd: 'scalar' | 'avx2' | 'avx512' | 'neon' | null, threads: number | null)
napi_value Configure(napi_env env, napi_callback_info info) {
  Call c(env, info, "configure", 2);
  if (!c.ok) return nullptr;
  napi_valuetype vt;
  napi_typeof(env, c.argv[0], &vt);
  if (vt == napi_string) {
    char buf[16] = {0};
    size_t len = 0;
    napi_get_value_string_utf8(env, c.argv[0], buf, sizeof buf, &len);
    const std::string name(buf, len);
    if (name == "scalar") securenn::setSimdCap(SimdLevel::Scalar);
    else if (name == "avx2") securenn::setSimdCap(SimdLevel::Avx2);
    else if (name == "avx512") securenn::setSimdCap(SimdLevel::Avx512);
#ifdef __aarch64__
    else if (name == "neon") securenn::setSimdCap(SimdLevel::Neon);
#endif
    else {
      c.fail("E_BAD_ARGUMENT", "simd must be 'scalar', 'avx2', 'avx512' or (arm64) 'neon'");
      return nullptr;
    }
  } else if (vt != napi_null && vt != napi_undefined) {
    c.fail("E_BAD_ARGUMENT", "simd must be a string or null");
    return nullptr;
  }
  napi_typeof(env, c.argv[1], &vt);
  if (vt != napi_null && vt != napi_undefined) {
    int64_t t = 1;
    if (!getInt(c, 1, "threads", 1, 64, t)) return nullptr;
    securenn::setMaxThreads(static_cast<int>(t));
  }
  return makeInfo(env);
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
      {"add", nullptr, Add, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sub", nullptr, Sub, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"mul", nullptr, Mul, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"mulScalar", nullptr, MulScalar, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"addScalar", nullptr, AddScalar, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"divShare", nullptr, DivShare, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sar", nullptr, Sar, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"wrap", nullptr, Wrap, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"addOdd", nullptr, AddOdd, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"subOdd", nullptr, SubOdd, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"reduceOdd", nullptr, ReduceOdd, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gemm128", nullptr, securenn::Gemm128, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"mul128", nullptr, securenn::Mul128, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"mulScalar128", nullptr, securenn::MulScalar128, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"add128", nullptr, securenn::Add128, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sub128", nullptr, securenn::Sub128, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"signedSum128", nullptr, securenn::SignedSum128, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"blockComb128", nullptr, securenn::BlockComb128, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"im2col", nullptr, Im2col, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"depthwise", nullptr, Depthwise, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"bitShareZp", nullptr, BitShareZp, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"privateCompare", nullptr, PrivateCompare, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"zeroTest", nullptr, ZeroTest, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"bitShareZp32", nullptr, BitShareZp32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"privateCompare32", nullptr, PrivateCompare32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"zeroTest32", nullptr, ZeroTest32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"digitShareZp16", nullptr, DigitShareZp16, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"privateCompareR4", nullptr, PrivateCompareR4, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"zeroTest16", nullptr, ZeroTest16, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"maskZp", nullptr, MaskZp, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"aesAvailable", nullptr, AesAvailable, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"prgKeystream", nullptr, PrgKeystream, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"prgRejectSample", nullptr, PrgRejectSample, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"rejectSample", nullptr, RejectSample, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"configure", nullptr, Configure, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
