// N-API binding of the SecureNN ring kernels (plain C API, node_api.h).
// Every function takes TypedArrays and works on their memory in place (no
// copies). Arguments are checked here; a misuse throws a JS Error whose `code`
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

#include "gemm.h"
#include "ops.h"
#include "prg.h"

namespace {

using securenn::SimdLevel;

constexpr size_t kMaxArgs = 16;

struct Call {
  napi_env env;
  const char* op;
  napi_value argv[kMaxArgs];
  size_t argc = kMaxArgs;
  bool ok = true;

  Call(napi_env e, napi_callback_info info, const char* name, size_t need) : env(e), op(name) {
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) {
      fail("E_NATIVE", "could not read the arguments");
      return;
    }
    if (argc < need) fail("E_BAD_ARGUMENT", "expected " + std::to_string(need) + " arguments, got " + std::to_string(argc));
  }

  bool fail(const char* code, const std::string& msg) {
    if (ok) {
      const std::string full = std::string(op) + ": " + msg;
      napi_throw_error(env, code, full.c_str());
      ok = false;
    }
    return false;
  }
};

const char* arrayTypeName(napi_typedarray_type t) {
  switch (t) {
    case napi_uint8_array: return "Uint8Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

template <typename T>
struct View {
  T* data = nullptr;
  size_t len = 0;
  const uint8_t* begin() const { return reinterpret_cast<const uint8_t*>(data); }
  const uint8_t* end() const { return begin() + len * sizeof(T); }
};

template <typename T>
napi_typedarray_type typeOf();
template <>
napi_typedarray_type typeOf<uint8_t>() { return napi_uint8_array; }
template <>
napi_typedarray_type typeOf<uint32_t>() { return napi_uint32_array; }
template <>
napi_typedarray_type typeOf<uint64_t>() { return napi_biguint64_array; }

template <typename T>
bool getArray(Call& c, size_t i, const char* name, View<T>& out) {
  if (!c.ok) return false;
  const napi_typedarray_type want = typeOf<T>();
  bool is = false;
  napi_is_typedarray(c.env, c.argv[i], &is);
  if (!is) return c.fail("E_DTYPE", std::string("expected ") + name + " to be a " + arrayTypeName(want));
  napi_typedarray_type t;
  size_t len = 0, off = 0;
  void* data = nullptr;
  napi_value ab;
  if (napi_get_typedarray_info(c.env, c.argv[i], &t, &len, &data, &ab, &off) != napi_ok) return c.fail("E_NATIVE", std::string("could not read ") + name);
  if (t != want) return c.fail("E_DTYPE", std::string("expected ") + name + " to be a " + arrayTypeName(want));
  out.data = static_cast<T*>(data);
  out.len = len;
  if (len > 0 && data == nullptr) return c.fail("E_BAD_ARGUMENT", std::string(name) + " is detached");
  return true;
}

// A Uint8Array, or null/undefined (returns a null view).
bool getOptionalU8(Call& c, size_t i, const char* name, View<uint8_t>& out) {
  if (!c.ok) return false;
  napi_valuetype vt;
  napi_typeof(c.env, c.argv[i], &vt);
  if (vt == napi_null || vt == napi_undefined) {
    out = View<uint8_t>();
    return true;
  }
  return getArray(c, i, name, out);
}

bool getInt(Call& c, size_t i, const char* name, int64_t lo, int64_t hi, int64_t& out) {
  if (!c.ok) return false;
  napi_valuetype vt;
  napi_typeof(c.env, c.argv[i], &vt);
  if (vt != napi_number) return c.fail("E_BAD_ARGUMENT", std::string("expected ") + name + " to be a number");
  double v = 0;
  napi_get_value_double(c.env, c.argv[i], &v);
  if (!std::isfinite(v) || std::floor(v) != v || v < static_cast<double>(lo) || v > static_cast<double>(hi))
    return c.fail("E_BAD_ARGUMENT", std::string("expected ") + name + " to be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  out = static_cast<int64_t>(v);
  return true;
}

bool getBigU64(Call& c, size_t i, const char* name, uint64_t& out) {
  if (!c.ok) return false;
  napi_valuetype vt;
  napi_typeof(c.env, c.argv[i], &vt);
  if (vt != napi_bigint) return c.fail("E_BAD_ARGUMENT", std::string("expected ") + name + " to be a bigint");
  bool lossless = false;
  napi_get_value_bigint_uint64(c.env, c.argv[i], &out, &lossless);  // low 64 bits, i.e. mod 2^64
  return true;
}

bool sameLen(Call& c, const char* name, size_t got, size_t want) {
  if (!c.ok) return false;
  if (got != want) return c.fail("E_SHAPE", std::string("expected ") + name + " of length " + std::to_string(want) + ", got " + std::to_string(got));
  return true;
}

template <typename T, typename U>
bool noOverlap(Call& c, const View<T>& a, const char* an, const View<U>& b, const char* bn) {
  if (!c.ok) return false;
  if (a.len == 0 || b.len == 0) return true;
  if (a.begin() < b.end() && b.begin() < a.end()) return c.fail("E_BAD_ARGUMENT", std::string(an) + " must not overlap " + bn);
  return true;
}

bool mulSize(Call& c, const char* what, size_t a, size_t b, size_t& out) {
  if (!c.ok) return false;
  if (__builtin_mul_overflow(a, b, &out) || out > (static_cast<size_t>(1) << 53)) return c.fail("E_SHAPE", std::string(what) + " is too large");
  return true;
}

// ---- Z_2^64 / Z_{2^64-1} elementwise ----
typedef void (*BinOp)(const uint64_t*, const uint64_t*, uint64_t*, size_t);

template <BinOp F>
napi_value binary(napi_env env, napi_callback_info info, const char* name) {
  Call c(env, info, name, 3);
  View<uint64_t> a, b, out;
  getArray(c, 0, "a", a) && getArray(c, 1, "b", b) && getArray(c, 2, "out", out) && sameLen(c, "b", b.len, a.len) && sameLen(c, "out", out.len, a.len);
  if (!c.ok) return nullptr;
  F(a.data, b.data, out.data, a.len);
  return nullptr;
}

napi_value Add(napi_env env, napi_callback_info info) { return binary<securenn::add>(env, info, "add"); }
napi_value Sub(napi_env env, napi_callback_info info) { return binary<securenn::sub>(env, info, "sub"); }
napi_value Mul(napi_env env, napi_callback_info info) { return binary<securenn::mul>(env, info, "mul"); }
napi_value AddOdd(napi_env env, napi_callback_info info) { return binary<securenn::addOdd>(env, info, "addOdd"); }
napi_value SubOdd(napi_env env, napi_callback_info info) { return binary<securenn::subOdd>(env, info, "subOdd"); }

typedef void (*ScalarOp)(const uint64_t*, uint64_t, uint64_t*, size_t);
template <ScalarOp F>
napi_value scalar(napi_env env, napi_callback_info info, const char* name) {
  Call c(env, info, name, 3);
  View<uint64_t> a, out;
  uint64_t s = 0;
  getArray(c, 0, "a", a) && getBigU64(c, 1, "s", s) && getArray(c, 2, "out", out) && sameLen(c, "out", out.len, a.len);
  if (!c.ok) return nullptr;
  F(a.data, s, out.data, a.len);
  return nullptr;
}
napi_value MulScalar(napi_env env, napi_callback_info info) { return scalar<securenn::mulScalar>(env, info, "mulScalar"); }
napi_value AddScalar(napi_env env, napi_callback_info info) { return scalar<securenn::addScalar>(env, info, "addScalar"); }

napi_value DivShare(napi_env env, napi_callback_info info) {
  Call c(env, info, "divShare", 4);
  View<uint64_t> a, out;
  View<uint32_t> d;
  int64_t party = 0;
  getArray(c, 0, "a", a) && getArray(c, 1, "d", d) && getInt(c, 2, "party", 0, 1, party) && getArray(c, 3, "out", out) && sameLen(c, "out", out.len, a.len);
  if (!c.ok) return nullptr;
  if (d.len != 1 && d.len != a.len) {
    c.fail("E_SHAPE", "expected d of length 1 or " + std::to_string(a.len) + ", got " + std::to_string(d.len));
    return nullptr;
  }
  for (size_t i = 0; i < d.len; i++)
    if (d.data[i] == 0) {
      c.fail("E_BAD_ARGUMENT", "divisor 0");
      return nullptr;
    }
  securenn::divShare(a.data, d.data, d.len, static_cast<int>(party), out.data, a.len);
  return nullptr;
}

napi_value Sar(napi_env env, napi_callback_info info) {
  Call c(env, info, "sar", 3);
  View<uint64_t> a, out;
  int64_t f = 0;
  getArray(c, 0, "a", a) && getInt(c, 1, "f", 0, static_cast<int64_t>(1) << 53, f) && getArray(c, 2, "out", out) && sameLen(c, "out", out.len, a.len);
  if (!c.ok) return nullptr;
  securenn::sar(a.data, f > 63 ? 63u : static_cast<unsigned>(f), out.data, a.len);
  return nullptr;
}

napi_value Wrap(napi_env env, napi_callback_info info) {
  Call c(env, info, "wrap", 3);
  View<uint64_t> a, b;
  View<uint8_t> out;
  getArray(c, 0, "a", a) && getArray(c, 1, "b", b) && getArray(c, 2, "out", out) && sameLen(c, "b", b.len, a.len) && sameLen(c, "out", out.len, a.len);
  if (!c.ok) return nullptr;
  securenn::wrap(a.data, b.data, out.data, a.len);
  return nullptr;
}

napi_value ReduceOdd(napi_env env, napi_callback_info info) {
  Call c(env, info, "reduceOdd", 2);
  View<uint64_t> a, out;
  getArray(c, 0, "a", a) && getArray(c, 1, "out", out) && sameLen(c, "out", out.len, a.len);
  if (!c.ok) return nullptr;
  securenn::reduceOdd(a.data, out.data, a.len);
  return nullptr;
}

// ---- linear algebra ----
constexpr int64_t kMaxDim = static_cast<int64_t>(1) << 40;

napi_value Gemm(napi_env env, napi_callback_info info) {
  Call c(env, info, "gemm", 6);
  View<uint64_t> A, B, out;
  int64_t m = 0, k = 0, n = 0;
  size_t mk = 0, kn = 0, mn = 0;
  getArray(c, 0, "A", A) && getArray(c, 1, "B", B) && getInt(c, 2, "m", 0, kMaxDim, m) && getInt(c, 3, "k", 0, kMaxDim, k) && getInt(c, 4, "n", 0, kMaxDim, n) &&
      getArray(c, 5, "out", out) && mulSize(c, "m*k", m, k, mk) && mulSize(c, "k*n", k, n, kn) && mulSize(c, "m*n", m, n, mn) &&
      sameLen(c, "A (m*k)", A.len, mk) && sameLen(c, "B (k*n)", B.len, kn) && sameLen(c, "out (m*n)", out.len, mn) &&
      noOverlap(c, out, "out", A, "A") && noOverlap(c, out, "out", B, "B");
  if (!c.ok) return nullptr;
  try {
    securenn::gemm(A.data, B.data, out.data, static_cast<size_t>(m), static_cast<size_t>(k), static_cast<size_t>(n));
  } catch (const std::bad_alloc&) {
    c.fail("E_NATIVE", "out of memory for packing buffers");
  }
  return nullptr;
}

napi_value Im2col(napi_env env, napi_callback_info info) {
  Call c(env, info, "im2col", 14);
  View<uint64_t> x, out;
  securenn::Im2colShape s{};
  int64_t* dims[] = {&s.N, &s.H, &s.W, &s.C, &s.kh, &s.kw, &s.sh, &s.sw, &s.padTop, &s.padLeft, &s.outH, &s.outW};
  const char* names[] = {"N", "H", "W", "C", "kh", "kw", "sh", "sw", "padTop", "padLeft", "outH", "outW"};
  getArray(c, 0, "x", x) && getArray(c, 13, "out", out);
  for (int i = 0; i < 12; i++) {
    const bool isStride = i == 6 || i == 7, isPad = i == 8 || i == 9;
    getInt(c, static_cast<size_t>(i + 1), names[i], isPad ? -kMaxDim : isStride ? 1 : 0, kMaxDim, *dims[i]);
  }
  size_t xl = 0, ol = 0;
  if (c.ok) {
    size_t t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0;
    mulSize(c, "N*H", s.N, s.H, t1) && mulSize(c, "N*H*W", t1, s.W, t2) && mulSize(c, "N*H*W*C", t2, s.C, xl) &&
        mulSize(c, "N*outH", s.N, s.outH, t3) && mulSize(c, "N*outH*outW", t3, s.outW, t4) && mulSize(c, "N*outH*outW*kh", t4, s.kh, t5) &&
        mulSize(c, "N*outH*outW*kh*kw", t5, s.kw, t1) && mulSize(c, "N*outH*outW*kh*kw*C", t1, s.C, ol) &&
        mulSize(c, "(outH+kh)*sh", s.outH + s.kh, s.sh, t1) && mulSize(c, "(outW+kw)*sw", s.outW + s.kw, s.sw, t2) &&
        sameLen(c, "x (N*H*W*C)", x.len, xl) && sameLen(c, "out (N*outH*outW*kh*kw*C)", out.len, ol) && noOverlap(c, out, "out", x, "x");
  }
  if (!c.ok) return nullptr;
  securenn::im2col(x.data, s, out.data);
  return nullptr;
}

// ---- Z_p ----
// bitShareZp / zeroTest over rows of W positions (64, or 32 for the narrow kernels).
template <int W, void (*F)(const uint64_t*, size_t, const uint8_t*, uint8_t*)>
napi_value BitShareRows(napi_env env, napi_callback_info info, const char* op) {
  Call c(env, info, op, 3);
  View<uint64_t> x;
  View<uint8_t> r, out;
  size_t len = 0;
  const std::string w = std::to_string(W);
  getArray(c, 0, "x", x) && getArray(c, 1, "r", r) && getArray(c, 2, "out", out) && mulSize(c, (w + "*x.length").c_str(), x.len, W, len) &&
      sameLen(c, ("r (" + w + "*x.length)").c_str(), r.len, len) && sameLen(c, ("out (" + w + "*x.length)").c_str(), out.len, len);
  if (!c.ok) return nullptr;
  F(x.data, x.len, r.data, out.data);
  return nullptr;
}

template <int W, void (*F)(const uint8_t*, const uint8_t*, uint8_t*, size_t)>
napi_value ZeroTestRows(napi_env env, napi_callback_info info, const char* op) {
  Call c(env, info, op, 3);
  View<uint8_t> d0, d1, out;
  size_t len = 0;
  const std::string w = std::to_string(W);
  getArray(c, 0, "d0", d0) && getArray(c, 1, "d1", d1) && getArray(c, 2, "out", out) && mulSize(c, (w + "*out.length").c_str(), out.len, W, len) &&
      sameLen(c, ("d0 (" + w + "*out.length)").c_str(), d0.len, len) && sameLen(c, ("d1 (" + w + "*out.length)").c_str(), d1.len, len);
  if (!c.ok) return nullptr;
  F(d0.data, d1.data, out.data, out.len);
  return nullptr;
}

napi_value BitShareZp(napi_env env, napi_callback_info info) { return BitShareRows<64, securenn::bitShareZp>(env, info, "bitShareZp"); }
napi_value BitShareZp32(napi_env env, napi_callback_info info) { return BitShareRows<32, securenn::bitShareZp32>(env, info, "bitShareZp32"); }
napi_value ZeroTest(napi_env env, napi_callback_info info) { return ZeroTestRows<64, securenn::zeroTest>(env, info, "zeroTest"); }
napi_value ZeroTest32(napi_env env, napi_callback_info info) { return ZeroTestRows<32, securenn::zeroTest32>(env, info, "zeroTest32"); }

napi_value DigitShareZp16(napi_env env, napi_callback_info info) { return BitShareRows<48, securenn::digitShareZp16>(env, info, "digitShareZp16"); }
napi_value ZeroTest16(napi_env env, napi_callback_info info) { return ZeroTestRows<16, securenn::zeroTest16>(env, info, "zeroTest16"); }

napi_value PrivateCompare(napi_env env, napi_callback_info info) {
  Call c(env, info, "privateCompare", 8);
  int64_t j = 0;
  View<uint64_t> r;
  View<uint8_t> xb, beta, s, u, perm, d;
  size_t n64 = 0;
  getInt(c, 0, "j", 0, 1, j) && getArray(c, 1, "xb", xb) && getArray(c, 2, "r", r) && getArray(c, 3, "beta", beta) && getArray(c, 4, "s", s) &&
      getOptionalU8(c, 5, "u", u) && getArray(c, 6, "perm", perm) && getArray(c, 7, "d", d) && mulSize(c, "64*r.length", r.len, 64, n64) &&
      sameLen(c, "xb (64*r.length)", xb.len, n64) && sameLen(c, "beta (r.length)", beta.len, r.len) && sameLen(c, "s (64*r.length)", s.len, n64) &&
      (u.data == nullptr || sameLen(c, "u (64*r.length)", u.len, n64)) && sameLen(c, "perm (64*r.length)", perm.len, n64) &&
      sameLen(c, "d (64*r.length)", d.len, n64) && noOverlap(c, d, "d", xb, "xb") && noOverlap(c, d, "d", s, "s") &&
      (u.data == nullptr || noOverlap(c, d, "d", u, "u")) && noOverlap(c, d, "d", perm, "perm");
  if (!c.ok) return nullptr;
  uint8_t bad = 0;
  for (size_t i = 0; i < n64; i++) bad |= perm.data[i];
  if (bad & 0xC0) {
    c.fail("E_BAD_ARGUMENT", "perm entries must be in [0, 63]");
    return nullptr;
  }
  if (u.data == nullptr)
    for (size_t e = 0; e < r.len; e++)
      if (beta.data[e] == 1 && r.data[e] == ~0ull) {
        c.fail("E_BAD_ARGUMENT", "u required when beta = 1 and r = 2^64-1");
        return nullptr;
      }
  securenn::privateCompare(static_cast<int>(j), xb.data, r.data, r.len, beta.data, s.data, u.data, perm.data, d.data);
  return nullptr;
}

napi_value MaskZp(napi_env env, napi_callback_info info) {
  Call c(env, info, "maskZp", 3);
  View<uint8_t> d, mask;
  bool sub = false;
  getArray(c, 0, "d", d) && getArray(c, 1, "mask", mask) && sameLen(c, "mask (d.length)", mask.len, d.len);
  if (!c.ok) return nullptr;
  napi_get_value_bool(env, c.argv[2], &sub);
  securenn::maskZp(d.data, mask.data, d.len, sub);
  return nullptr;
}

napi_value RejectSample(napi_env env, napi_callback_info info) {
  Call c(env, info, "rejectSample", 4);
  View<uint8_t> raw, table, out;
  int64_t filled = 0;
  getArray(c, 0, "raw", raw) && getArray(c, 1, "table", table) && sameLen(c, "table", table.len, 256) && getArray(c, 2, "out", out) &&
      getInt(c, 3, "filled", 0, static_cast<int64_t>(out.len), filled);
  if (!c.ok) return nullptr;
  const size_t got = securenn::rejectSample(raw.data, raw.len, table.data, out.data, out.len, static_cast<size_t>(filled));
  napi_value result;
  napi_create_double(env, static_cast<double>(got), &result);
  return result;
}

napi_value AesAvailable(napi_env env, napi_callback_info) {
  napi_value r;
  napi_get_boolean(env, securenn::aesAvailable(), &r);
  return r;
}

napi_value PrgKeystream(napi_env env, napi_callback_info info) {
  Call c(env, info, "prgKeystream", 3);
  View<uint8_t> key, out;
  int64_t offset = 0;
  getArray(c, 0, "key", key) && sameLen(c, "key", key.len, 16) && getInt(c, 1, "offset", 0, (int64_t{1} << 53), offset) && getArray(c, 2, "out", out);
  if (!c.ok) return nullptr;
  if (!securenn::aesAvailable()) { c.fail("E_NATIVE", "AES-NI is not available"); return nullptr; }
  securenn::aesCtrKeystream(key.data, static_cast<uint64_t>(offset), out.data, out.len);
  return nullptr;
}

napi_value PrgRejectSample(napi_env env, napi_callback_info info) {
  Call c(env, info, "prgRejectSample", 4);
  View<uint8_t> key, table, out;
  int64_t offset = 0;
  getArray(c, 0, "key", key) && sameLen(c, "key", key.len, 16) && getInt(c, 1, "offset", 0, (int64_t{1} << 53), offset) && getArray(c, 2, "table", table) &&
      sameLen(c, "table", table.len, 256) && getArray(c, 3, "out", out);
  if (!c.ok) return nullptr;
  if (!securenn::aesAvailable()) { c.fail("E_NATIVE", "AES-NI is not available"); return nullptr; }
  const uint64_t next = securenn::aesCtrRejectSample(key.data, static_cast<uint64_t>(offset), table.data, out.data, out.len);
  napi_value r;
  napi_create_double(env, static_cast<double>(next), &r);
  return r;
}

// PrivateCompare rows on the 32-bit ring (privateCompare32, privateCompareR4): W values per element sent (d, s,
// mask), X dealt shares per element (xb / xl), one rot and beta each; every r < 2^31.
using NarrowPc = void (*)(int, const uint8_t*, const uint64_t*, size_t, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, uint8_t*);
template <int W, int X, NarrowPc F>
napi_value NarrowPcRows(napi_env env, napi_callback_info info, const char* op, const char* xname) {
  Call c(env, info, op, 8);
  int64_t j = 0;
  View<uint64_t> r;
  View<uint8_t> x, beta, s, rot, mask, d;
  size_t nw = 0, nx = 0;
  const std::string w = std::to_string(W) + "*r.length", xw = std::to_string(X) + "*r.length", xn = std::string(xname) + " (" + xw + ")";
  getInt(c, 0, "j", 0, 1, j) && getArray(c, 1, xname, x) && getArray(c, 2, "r", r) && getArray(c, 3, "beta", beta) && getArray(c, 4, "s", s) &&
      getArray(c, 5, "rot", rot) && getArray(c, 6, "mask", mask) && getArray(c, 7, "d", d) && mulSize(c, w.c_str(), r.len, W, nw) && mulSize(c, xw.c_str(), r.len, X, nx) &&
      sameLen(c, xn.c_str(), x.len, nx) && sameLen(c, "beta (r.length)", beta.len, r.len) && sameLen(c, ("s (" + w + ")").c_str(), s.len, nw) &&
      sameLen(c, "rot (r.length)", rot.len, r.len) && sameLen(c, ("mask (" + w + ")").c_str(), mask.len, nw) && sameLen(c, ("d (" + w + ")").c_str(), d.len, nw) &&
      noOverlap(c, d, "d", x, xname) && noOverlap(c, d, "d", s, "s") && noOverlap(c, d, "d", mask, "mask");
  if (!c.ok) return nullptr;
  uint64_t wide = 0;
  for (size_t e = 0; e < r.len; e++) wide |= r.data[e];
  if (wide >> 31) {
    c.fail("E_BAD_ARGUMENT", "every r must be < 2^31");
    return nullptr;
  }
  F(static_cast<int>(j), x.data, r.data, r.len, beta.data, s.data, rot.data, mask.data, d.data);
  return nullptr;
}

napi_value PrivateCompare32(napi_env env, napi_callback_info info) { return NarrowPcRows<32, 32, securenn::privateCompare32>(env, info, "privateCompare32", "xb"); }
napi_value PrivateCompareR4(napi_env env, napi_callback_info info) { return NarrowPcRows<16, 48, securenn::privateCompareR4>(env, info, "privateCompareR4", "xl"); }

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
      {"im2col", nullptr, Im2col, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
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
