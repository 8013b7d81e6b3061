// The N-API argument table of the kernels addon (binding.cc, binding128.cc):
// a call's arguments read and checked against one row of ArgSpecs, failing
// with a JS Error whose `code` is a registry code (E_DTYPE, E_SHAPE,
// E_BAD_ARGUMENT, E_NATIVE; protocol/errors.ts) and whose message names the
// argument, never a value.
#pragma once
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

namespace securenn {
namespace napiargs {

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

// ---- the argument table ----
// Every function's arguments are described by one row of ArgSpecs: the kind
// (element type of a TypedArray, an integer with its range, a bigint, a
// boolean), the length an array must have (a constant, or a multiple of
// another argument's length), and which arrays the output must not overlap.
// check() applies a table in one order for every function: types and ranges
// (left to right), then lengths, then overlaps. What is particular to one
// function (gemm's and im2col's sizes, perm entries < 64, r < 2^31, divisors
// != 0) stays next to its call.

enum class Kind : uint8_t { U64, U32, U8, OptU8, Int, BigU64, Bool };

struct ArgSpec {
  const char* name;
  Kind kind;
  // Int: an integer in [lo, hi]; when hiLenOf >= 0 the upper bound is that argument's length.
  int64_t lo = 0, hi = 0;
  int hiLenOf = -1;
  // Arrays: the length must be per * (length of argument lenOf); lenOf = kFixed: exactly per.
  int lenOf = -1;
  size_t per = 1;
  // How a wrong length is named in the message; default "<name> (<per>*<of>.length)" when per > 1, else the name.
  const char* label = nullptr;
};

constexpr int kFixed = -2;

constexpr ArgSpec arr(const char* name, Kind k) { return ArgSpec{name, k}; }
constexpr ArgSpec sized(const char* name, Kind k, int of, size_t per, const char* label = nullptr) { return ArgSpec{name, k, 0, 0, -1, of, per, label}; }
constexpr ArgSpec fixed(const char* name, Kind k, size_t n) { return ArgSpec{name, k, 0, 0, -1, kFixed, n, name}; }
constexpr ArgSpec integer(const char* name, int64_t lo, int64_t hi) { return ArgSpec{name, Kind::Int, lo, hi}; }
constexpr ArgSpec upToLen(const char* name, int of) { return ArgSpec{name, Kind::Int, 0, 0, of}; }
constexpr ArgSpec bigint(const char* name) { return ArgSpec{name, Kind::BigU64}; }
constexpr ArgSpec flag(const char* name) { return ArgSpec{name, Kind::Bool}; }

struct Disjoint { int a, b; };

struct Signature {
  const char* op;
  const ArgSpec* args;
  size_t n;
  const Disjoint* disjoint = nullptr;
  size_t nDisjoint = 0;
};

template <size_t N>
constexpr Signature sig(const char* op, const ArgSpec (&a)[N]) { return Signature{op, a, N}; }
template <size_t N, size_t M>
constexpr Signature sig(const char* op, const ArgSpec (&a)[N], const Disjoint (&d)[M]) { return Signature{op, a, N, d, M}; }

inline const char* arrayTypeName(napi_typedarray_type t) {
  switch (t) {
    case napi_uint8_array: return "Uint8Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

inline napi_typedarray_type arrayType(Kind k) {
  switch (k) {
    case Kind::U64: return napi_biguint64_array;
    case Kind::U32: return napi_uint32_array;
    default: return napi_uint8_array;
  }
}

inline bool isArray(Kind k) { return k == Kind::U64 || k == Kind::U32 || k == Kind::U8 || k == Kind::OptU8; }

inline size_t elementSize(Kind k) { return k == Kind::U64 ? 8 : k == Kind::U32 ? 4 : 1; }

// The checked arguments of one call. Only `present` is cleared (this runs on every kernel call); an entry is read
// only after check() has set it.
struct Args {
  void* data[kMaxArgs];
  size_t len[kMaxArgs];
  int64_t i[kMaxArgs];
  uint64_t big[kMaxArgs];
  bool flag[kMaxArgs];
  bool present[kMaxArgs] = {};  // arrays: false for an absent OptU8 (null / undefined)

  uint64_t* u64(int k) const { return static_cast<uint64_t*>(data[k]); }
  uint32_t* u32(int k) const { return static_cast<uint32_t*>(data[k]); }
  uint8_t* u8(int k) const { return static_cast<uint8_t*>(data[k]); }
};

inline bool getArray(Call& c, size_t i, const ArgSpec& a, Args& out) {
  const napi_typedarray_type want = arrayType(a.kind);
  if (a.kind == Kind::OptU8) {
    napi_valuetype vt;
    napi_typeof(c.env, c.argv[i], &vt);
    if (vt == napi_null || vt == napi_undefined) return true;
  }
  bool is = false;
  napi_is_typedarray(c.env, c.argv[i], &is);
  if (!is) return c.fail("E_DTYPE", std::string("expected ") + a.name + " to be a " + arrayTypeName(want));
  napi_typedarray_type t;
  size_t len = 0, off = 0;
  void* data = nullptr;
  napi_value ab;
  if (napi_get_typedarray_info(c.env, c.argv[i], &t, &len, &data, &ab, &off) != napi_ok) return c.fail("E_NATIVE", std::string("could not read ") + a.name);
  if (t != want) return c.fail("E_DTYPE", std::string("expected ") + a.name + " to be a " + arrayTypeName(want));
  if (len > 0 && data == nullptr) return c.fail("E_BAD_ARGUMENT", std::string(a.name) + " is detached");
  out.data[i] = data;
  out.len[i] = len;
  out.present[i] = true;
  return true;
}

inline bool getInt(Call& c, size_t i, const char* name, int64_t lo, int64_t hi, int64_t& out) {
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

inline bool getBigU64(Call& c, size_t i, const char* name, uint64_t& out) {
  napi_valuetype vt;
  napi_typeof(c.env, c.argv[i], &vt);
  if (vt != napi_bigint) return c.fail("E_BAD_ARGUMENT", std::string("expected ") + name + " to be a bigint");
  bool lossless = false;
  napi_get_value_bigint_uint64(c.env, c.argv[i], &out, &lossless);  // low 64 bits, i.e. mod 2^64
  return true;
}

inline bool sameLen(Call& c, const char* name, size_t got, size_t want) {
  if (!c.ok) return false;
  if (got != want) return c.fail("E_SHAPE", std::string("expected ") + name + " of length " + std::to_string(want) + ", got " + std::to_string(got));
  return true;
}

inline bool mulSize(Call& c, const char* what, size_t a, size_t b, size_t& out) {
  if (!c.ok) return false;
  if (__builtin_mul_overflow(a, b, &out) || out > (static_cast<size_t>(1) << 53)) return c.fail("E_SHAPE", std::string(what) + " is too large");
  return true;
}

inline bool overlaps(const Args& x, int a, const Signature& s, int b) {
  if (!x.present[a] || !x.present[b] || x.len[a] == 0 || x.len[b] == 0) return false;
  const uint8_t* a0 = static_cast<const uint8_t*>(x.data[a]);
  const uint8_t* b0 = static_cast<const uint8_t*>(x.data[b]);
  const uint8_t* a1 = a0 + x.len[a] * elementSize(s.args[a].kind);
  const uint8_t* b1 = b0 + x.len[b] * elementSize(s.args[b].kind);
  return a0 < b1 && b0 < a1;
}

// Applies a signature to the call's arguments; false (with the error thrown) on the first problem.
inline bool check(Call& c, const Signature& s, Args& x) {
  if (!c.ok) return false;
  for (size_t i = 0; i < s.n && c.ok; i++) {
    const ArgSpec& a = s.args[i];
    if (isArray(a.kind)) getArray(c, i, a, x);
    else if (a.kind == Kind::Int) getInt(c, i, a.name, a.lo, a.hiLenOf >= 0 ? static_cast<int64_t>(x.len[a.hiLenOf]) : a.hi, x.i[i]);
    else if (a.kind == Kind::BigU64) getBigU64(c, i, a.name, x.big[i]);
    else napi_get_value_bool(c.env, c.argv[i], &x.flag[i]);  // anything not a boolean reads as false
  }
  for (size_t i = 0; i < s.n && c.ok; i++) {
    const ArgSpec& a = s.args[i];
    if (!isArray(a.kind) || a.lenOf == -1 || !x.present[i]) continue;
    // Messages are built only on failure: this runs on every kernel call.
    size_t want = a.per;
    if (a.lenOf != kFixed) {
      const size_t base = x.len[a.lenOf];
      if (__builtin_mul_overflow(base, a.per, &want) || want > (static_cast<size_t>(1) << 53))
        return c.fail("E_SHAPE", std::to_string(a.per) + "*" + s.args[a.lenOf].name + ".length is too large");
    }
    if (x.len[i] != want) {
      const std::string label = a.label ? a.label : a.per > 1 && a.lenOf != kFixed ? std::string(a.name) + " (" + std::to_string(a.per) + "*" + s.args[a.lenOf].name + ".length)" : a.name;
      return sameLen(c, label.c_str(), x.len[i], want);
    }
  }
  for (size_t k = 0; k < s.nDisjoint && c.ok; k++) {
    const Disjoint& d = s.disjoint[k];
    if (overlaps(x, d.a, s, d.b)) c.fail("E_BAD_ARGUMENT", std::string(s.args[d.a].name) + " must not overlap " + s.args[d.b].name);
  }
  return c.ok;
}

// Reads and checks the arguments of `s` (at least s.n of them must be given).
#define CHECKED_ARGS(s)                 \
  Call c(env, info, (s).op, (s).n);     \
  Args x;                               \
  if (!check(c, (s), x)) return nullptr

using K = Kind;

}  // namespace napiargs

// Entry points defined in binding128.cc (Z_2^128 kernels), registered by binding.cc.
napi_value Gemm128(napi_env env, napi_callback_info info);
napi_value Mul128(napi_env env, napi_callback_info info);
napi_value MulScalar128(napi_env env, napi_callback_info info);
napi_value Add128(napi_env env, napi_callback_info info);
napi_value Sub128(napi_env env, napi_callback_info info);
napi_value SignedSum128(napi_env env, napi_callback_info info);
napi_value BlockComb128(napi_env env, napi_callback_info info);

}  // namespace securenn
