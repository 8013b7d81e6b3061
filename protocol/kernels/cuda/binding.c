/*
 * N-API wrapper of the CUDA kernels (kernels.cu): plain C against node_api.h,
 * no npm dependencies. Loaded by runtime/cuda-addon.ts; protocol/kernels/cuda/index.ts checks
 * argument types and lengths before calling in and delegates to the CPU
 * kernels when they do not fit; this layer re-checks what it needs for memory
 * safety (types, lengths, from one table of argument specs per function) and
 * throws a plain Error with a code (E_DTYPE, E_BAD_ARGUMENT, E_NATIVE) when a
 * check or a CUDA call fails.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernels.h"

#define NAPI_CALL(env, call)                                           \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error((env), "E_NATIVE", "cuda addon: " #call " failed"); \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, "E_NATIVE", msg);
  return NULL;
}

/* Reads a typed array of the given element type; returns 0 and throws on mismatch. */
static int get_array(napi_env env, napi_value v, napi_typedarray_type want, const char *what, void **data, size_t *len) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) {
    char msg[128];
    snprintf(msg, sizeof msg, "cuda addon: %s must be a typed array", what);
    napi_throw_type_error(env, "E_DTYPE", msg);
    return 0;
  }
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) != napi_ok || t != want) {
    char msg[128];
    snprintf(msg, sizeof msg, "cuda addon: %s has the wrong element type", what);
    napi_throw_type_error(env, "E_DTYPE", msg);
    return 0;
  }
  return 1;
}

static int get_size(napi_env env, napi_value v, const char *what, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0 || d != (double)(uint64_t)d) {
    char msg[128];
    snprintf(msg, sizeof msg, "cuda addon: %s must be a non-negative integer", what);
    napi_throw_range_error(env, "E_BAD_ARGUMENT", msg);
    return 0;
  }
  *out = (size_t)(uint64_t)d;
  return 1;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

static void set(napi_env env, napi_value obj, const char *key, napi_value v) { napi_set_named_property(env, obj, key, v); }

static napi_value str(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* info(): { count, name, major, minor, sms, totalMem, runtimeVersion, driverVersion, error } */
static napi_value Info(napi_env env, napi_callback_info cb) {
  (void)cb;
  scu_info info;
  scu_query(&info);
  napi_value o;
  NAPI_CALL(env, napi_create_object(env, &o));
  set(env, o, "count", num(env, info.count));
  set(env, o, "name", str(env, info.name));
  set(env, o, "major", num(env, info.major));
  set(env, o, "minor", num(env, info.minor));
  set(env, o, "sms", num(env, info.sms));
  set(env, o, "totalMem", num(env, (double)info.total_mem));
  set(env, o, "runtimeVersion", num(env, info.runtime_version));
  set(env, o, "driverVersion", num(env, info.driver_version));
  set(env, o, "error", str(env, info.error));
  return o;
}

/* ---- the argument table ----
 * Every entry point's arguments are one row of arg_specs: a typed array of
 * 64-bit words or bytes (optionally null), or a non-negative integer (size),
 * with the length an array must have as a multiple of another argument's
 * length. check_args() applies a row: the argument count, then types left to
 * right, then lengths (one message per function); what is particular to one
 * function (gemm's sizes, j in {0, 1}) stays next to its call. */
typedef enum { ARG_U64, ARG_U8, ARG_OPT_U8, ARG_SIZE, ARG_U32, ARG_INT, ARG_BIGINT, ARG_BOOL } arg_kind;

typedef struct {
  const char *name;
  arg_kind kind;
  int len_of;   /* arrays: length == per * length of argument len_of; -1: no rule */
  size_t per;
} arg_spec;

#define MAX_ARGS 16

typedef struct {
  const char *usage;     /* "expected (...)" when the count is wrong */
  const char *len_msg;   /* when a length rule fails */
  const arg_spec *args;
  size_t n;
} signature;

typedef struct {
  void *data[MAX_ARGS];
  size_t len[MAX_ARGS];
  size_t size[MAX_ARGS];
  int64_t i64[MAX_ARGS];   /* ARG_INT: a signed integer; ARG_BIGINT: the value mod 2^64; ARG_BOOL: 0 or 1 */
  int present[MAX_ARGS];
} args_t;

/* ARG_INT: an integer in [-2^40, 2^40]; ARG_BIGINT: a BigInt, taken mod 2^64; ARG_BOOL: a boolean. Returns 0 with the error thrown. */
static int get_scalar(napi_env env, napi_value v, const arg_spec *p, int64_t *out) {
  char msg[128];
  if (p->kind == ARG_BIGINT) {
    uint64_t u;
    bool lossless;
    if (napi_get_value_bigint_uint64(env, v, &u, &lossless) != napi_ok) {
      snprintf(msg, sizeof msg, "cuda addon: %s must be a bigint", p->name);
      napi_throw_type_error(env, "E_BAD_ARGUMENT", msg);
      return 0;
    }
    *out = (int64_t)u;
    return 1;
  }
  if (p->kind == ARG_BOOL) {
    bool b;
    if (napi_get_value_bool(env, v, &b) != napi_ok) {
      snprintf(msg, sizeof msg, "cuda addon: %s must be a boolean", p->name);
      napi_throw_type_error(env, "E_BAD_ARGUMENT", msg);
      return 0;
    }
    *out = b ? 1 : 0;
    return 1;
  }
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= -1099511627776.0 && d <= 1099511627776.0) || d != (double)(int64_t)d) {
    snprintf(msg, sizeof msg, "cuda addon: %s must be an integer in [-2^40, 2^40]", p->name);
    napi_throw_range_error(env, "E_BAD_ARGUMENT", msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

/* Reads and checks the arguments of one call; returns 0 with the error thrown. */
static int check_args(napi_env env, napi_callback_info cb, const signature *s, args_t *a) {
  size_t argc = MAX_ARGS;
  napi_value argv[MAX_ARGS];
  if (napi_get_cb_info(env, cb, &argc, argv, NULL, NULL) != napi_ok) {
    throw_msg(env, "cuda addon: napi_get_cb_info failed");
    return 0;
  }
  if (argc != s->n) {
    char msg[160];
    snprintf(msg, sizeof msg, "cuda addon: expected %s", s->usage);
    throw_msg(env, msg);
    return 0;
  }
  for (size_t i = 0; i < s->n; i++) {
    const arg_spec *p = &s->args[i];
    a->present[i] = 0;
    if (p->kind == ARG_SIZE) {
      if (!get_size(env, argv[i], p->name, &a->size[i])) return 0;
      continue;
    }
    if (p->kind == ARG_INT || p->kind == ARG_BIGINT || p->kind == ARG_BOOL) {
      if (!get_scalar(env, argv[i], p, &a->i64[i])) return 0;
      continue;
    }
    if (p->kind == ARG_OPT_U8) {
      napi_valuetype t;
      if (napi_typeof(env, argv[i], &t) != napi_ok) { throw_msg(env, "cuda addon: napi_typeof failed"); return 0; }
      if (t == napi_null || t == napi_undefined) { a->data[i] = NULL; a->len[i] = 0; continue; }
    }
    if (!get_array(env, argv[i], p->kind == ARG_U64 ? napi_biguint64_array : p->kind == ARG_U32 ? napi_uint32_array : napi_uint8_array, p->name, &a->data[i], &a->len[i])) return 0;
    a->present[i] = 1;
  }
  for (size_t i = 0; i < s->n; i++) {
    const arg_spec *p = &s->args[i];
    if (p->len_of < 0 || !a->present[i]) continue;
    const size_t base = a->len[p->len_of];
    if ((p->per && base > SIZE_MAX / p->per) || a->len[i] != p->per * base) {
      char msg[160];
      snprintf(msg, sizeof msg, "cuda addon: %s", s->len_msg);
      throw_msg(env, msg);
      return 0;
    }
  }
  return 1;
}

#define SIG(usage, len_msg, specs) {usage, len_msg, specs, sizeof specs / sizeof specs[0]}

static const arg_spec ELEMENTWISE[] = {{"a", ARG_U64, -1, 0}, {"b", ARG_U64, 0, 1}, {"out", ARG_U64, 0, 1}};
static const signature ELEMENTWISE_SIG = SIG("(a, b, out)", "a, b and out must have one length", ELEMENTWISE);

static napi_value Elementwise(napi_env env, napi_callback_info cb, int op) {
  args_t x;
  if (!check_args(env, cb, &ELEMENTWISE_SIG, &x)) return NULL;
  const char *err = scu_elementwise(op, (const uint64_t *)x.data[0], (const uint64_t *)x.data[1], (uint64_t *)x.data[2], x.len[0]);
  if (err) return throw_msg(env, err);
  return undefined(env);
}
static napi_value Add(napi_env env, napi_callback_info cb) { return Elementwise(env, cb, 0); }
static napi_value Sub(napi_env env, napi_callback_info cb) { return Elementwise(env, cb, 1); }
static napi_value Mul(napi_env env, napi_callback_info cb) { return Elementwise(env, cb, 2); }

/* gemm(A, B, m, k, n, out): lengths follow from the sizes, checked below. */
static const arg_spec GEMM[] = {{"A", ARG_U64, -1, 0}, {"B", ARG_U64, -1, 0}, {"m", ARG_SIZE, -1, 0}, {"k", ARG_SIZE, -1, 0}, {"n", ARG_SIZE, -1, 0}, {"out", ARG_U64, -1, 0}};
static const signature GEMM_SIG = SIG("(A, B, m, k, n, out)", "", GEMM);

static napi_value Gemm(napi_env env, napi_callback_info cb) {
  args_t x;
  if (!check_args(env, cb, &GEMM_SIG, &x)) return NULL;
  const size_t m = x.size[2], k = x.size[3], n = x.size[4];
  if (m > (1ull << 40) || k > (1ull << 40) || n > (1ull << 40)) return throw_msg(env, "cuda addon: gemm dimension too large");
  if ((k && m > SIZE_MAX / k) || (n && k > SIZE_MAX / n) || (n && m > SIZE_MAX / n)) return throw_msg(env, "cuda addon: gemm size overflows");
  if (x.len[0] != m * k || x.len[1] != k * n || x.len[5] != m * n) return throw_msg(env, "cuda addon: gemm lengths do not match m, k, n");
  const char *err = scu_gemm((const uint64_t *)x.data[0], (const uint64_t *)x.data[1], (uint64_t *)x.data[5], m, k, n);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* bitShareZp(x, r, out) */
static const arg_spec BITSHARE[] = {{"x", ARG_U64, -1, 0}, {"r", ARG_U8, 0, 64}, {"out", ARG_U8, 0, 64}};
static const signature BITSHARE_SIG = SIG("(x, r, out)", "r and out must have 64 * x.length entries", BITSHARE);

static napi_value BitShareZp(napi_env env, napi_callback_info cb) {
  args_t x;
  if (!check_args(env, cb, &BITSHARE_SIG, &x)) return NULL;
  const char *err = scu_bitsharezp((const uint64_t *)x.data[0], (const uint8_t *)x.data[1], (uint8_t *)x.data[2], x.len[0]);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* privateCompare(j, xb, r, beta, s, u | null, perm, d) -> flags (0: d written) */
static const arg_spec PRIVATE_COMPARE[] = {{"j", ARG_SIZE, -1, 0},     {"xb", ARG_U8, 2, 64},   {"r", ARG_U64, -1, 0},   {"beta", ARG_U8, 2, 1},
                                           {"s", ARG_U8, 2, 64},       {"u", ARG_OPT_U8, 2, 64}, {"perm", ARG_U8, 2, 64}, {"d", ARG_U8, 2, 64}};
static const signature PRIVATE_COMPARE_SIG = SIG("(j, xb, r, beta, s, u, perm, d)", "privateCompare lengths do not match r.length", PRIVATE_COMPARE);

static napi_value PrivateCompare(napi_env env, napi_callback_info cb) {
  args_t x;
  if (!check_args(env, cb, &PRIVATE_COMPARE_SIG, &x)) return NULL;
  if (x.size[0] > 1) return throw_msg(env, "cuda addon: j must be 0 or 1");
  int flags = 0;
  const char *err = scu_private_compare((int)x.size[0], (const uint8_t *)x.data[1], (const uint64_t *)x.data[2], (const uint8_t *)x.data[3], (const uint8_t *)x.data[4],
                                        (const uint8_t *)x.data[5], (const uint8_t *)x.data[6], (uint8_t *)x.data[7], x.len[2], &flags);
  if (err) return throw_msg(env, err);
  return num(env, flags);
}

/* zeroTest(d0, d1, out) */
static const arg_spec ZERO_TEST[] = {{"d0", ARG_U8, 2, 64}, {"d1", ARG_U8, 2, 64}, {"out", ARG_U8, -1, 0}};
static const signature ZERO_TEST_SIG = SIG("(d0, d1, out)", "d0 and d1 must have 64 * out.length entries", ZERO_TEST);

static napi_value ZeroTest(napi_env env, napi_callback_info cb) {
  args_t x;
  if (!check_args(env, cb, &ZERO_TEST_SIG, &x)) return NULL;
  const char *err = scu_zero_test((const uint8_t *)x.data[0], (const uint8_t *)x.data[1], (uint8_t *)x.data[2], x.len[2]);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* The 32-bit comparison ring: bitShareZp32 / digitShareZp16 (x, r, out), zeroTest32 / zeroTest16 (d0, d1, out),
 * privateCompare32 / privateCompareR4 (j, x, r, beta, s, rot, mask, d): W values per element sent, X dealt. */
#define ROWS_SIGS(NAME, X, W)                                                                                                                  \
  static const arg_spec NAME##_SHARE[] = {{"x", ARG_U64, -1, 0}, {"r", ARG_U8, 0, X}, {"out", ARG_U8, 0, X}};                                  \
  static const signature NAME##_SHARE_SIG = SIG("(x, r, out)", "r and out must have " #X " * x.length entries", NAME##_SHARE);              \
  static const arg_spec NAME##_ZT[] = {{"d0", ARG_U8, 2, W}, {"d1", ARG_U8, 2, W}, {"out", ARG_U8, -1, 0}};                                    \
  static const signature NAME##_ZT_SIG = SIG("(d0, d1, out)", "d0 and d1 must have " #W " * out.length entries", NAME##_ZT);                \
  static const arg_spec NAME##_PC[] = {{"j", ARG_SIZE, -1, 0}, {"x", ARG_U8, 2, X},   {"r", ARG_U64, -1, 0}, {"beta", ARG_U8, 2, 1},          \
                                       {"s", ARG_U8, 2, W},    {"rot", ARG_U8, 2, 1}, {"mask", ARG_U8, 2, W}, {"d", ARG_U8, 2, W}};            \
  static const signature NAME##_PC_SIG = SIG("(j, x, r, beta, s, rot, mask, d)", "lengths do not match r.length", NAME##_PC);
ROWS_SIGS(NARROW, 32, 32)
ROWS_SIGS(RADIX4, 48, 16)

typedef const char *(*share_fn)(const uint64_t *, const uint8_t *, uint8_t *, size_t);
typedef const char *(*zt_fn)(const uint8_t *, const uint8_t *, uint8_t *, size_t);
typedef const char *(*pc_fn)(int, const uint8_t *, const uint64_t *, const uint8_t *, const uint8_t *, const uint8_t *, const uint8_t *, uint8_t *, size_t);

static napi_value ShareRows(napi_env env, napi_callback_info cb, const signature *sig, share_fn fn) {
  args_t x;
  if (!check_args(env, cb, sig, &x)) return NULL;
  const char *err = fn((const uint64_t *)x.data[0], (const uint8_t *)x.data[1], (uint8_t *)x.data[2], x.len[0]);
  if (err) return throw_msg(env, err);
  return undefined(env);
}
static napi_value ZeroTestRows(napi_env env, napi_callback_info cb, const signature *sig, zt_fn fn) {
  args_t x;
  if (!check_args(env, cb, sig, &x)) return NULL;
  const char *err = fn((const uint8_t *)x.data[0], (const uint8_t *)x.data[1], (uint8_t *)x.data[2], x.len[2]);
  if (err) return throw_msg(env, err);
  return undefined(env);
}
static napi_value PcRows(napi_env env, napi_callback_info cb, const signature *sig, pc_fn fn) {
  args_t x;
  if (!check_args(env, cb, sig, &x)) return NULL;
  if (x.size[0] > 1) return throw_msg(env, "cuda addon: j must be 0 or 1");
  const char *err = fn((int)x.size[0], (const uint8_t *)x.data[1], (const uint64_t *)x.data[2], (const uint8_t *)x.data[3], (const uint8_t *)x.data[4],
                       (const uint8_t *)x.data[5], (const uint8_t *)x.data[6], (uint8_t *)x.data[7], x.len[2]);
  if (err) return throw_msg(env, err);
  return undefined(env);
}
static napi_value BitShareZp32(napi_env env, napi_callback_info cb) { return ShareRows(env, cb, &NARROW_SHARE_SIG, scu_bitsharezp32); }
static napi_value ZeroTest32(napi_env env, napi_callback_info cb) { return ZeroTestRows(env, cb, &NARROW_ZT_SIG, scu_zero_test32); }
static napi_value PrivateCompare32(napi_env env, napi_callback_info cb) { return PcRows(env, cb, &NARROW_PC_SIG, scu_private_compare32); }
static napi_value DigitShareZp16(napi_env env, napi_callback_info cb) { return ShareRows(env, cb, &RADIX4_SHARE_SIG, scu_digitsharezp16); }
static napi_value ZeroTest16(napi_env env, napi_callback_info cb) { return ZeroTestRows(env, cb, &RADIX4_ZT_SIG, scu_zero_test16); }
static napi_value PrivateCompareR4(napi_env env, napi_callback_info cb) { return PcRows(env, cb, &RADIX4_PC_SIG, scu_private_compare_r4); }

/* ---- the ops of ring-elems.h (kernels-elems.cu) ---- */

/* mulScalar / addScalar (a, s, out): s a BigInt (mod 2^64, as the CPU kernels take it) */
static const arg_spec SCALAR[] = {{"a", ARG_U64, -1, 0}, {"s", ARG_BIGINT, -1, 0}, {"out", ARG_U64, 0, 1}};
static const signature SCALAR_SIG = SIG("(a, s, out)", "a and out must have one length", SCALAR);
typedef const char *(*scalar_fn)(const uint64_t *, uint64_t, uint64_t *, size_t);

static napi_value ScalarOp(napi_env env, napi_callback_info cb, scalar_fn fn) {
  args_t x;
  if (!check_args(env, cb, &SCALAR_SIG, &x)) return NULL;
  const char *err = fn((const uint64_t *)x.data[0], (uint64_t)x.i64[1], (uint64_t *)x.data[2], x.len[0]);
  if (err) return throw_msg(env, err);
  return undefined(env);
}
static napi_value MulScalar(napi_env env, napi_callback_info cb) { return ScalarOp(env, cb, scu_mul_scalar); }
static napi_value AddScalar(napi_env env, napi_callback_info cb) { return ScalarOp(env, cb, scu_add_scalar); }

/* sar(a, f, out): f a non-negative integer (> 63 shifts as 63) */
static const arg_spec SAR[] = {{"a", ARG_U64, -1, 0}, {"f", ARG_SIZE, -1, 0}, {"out", ARG_U64, 0, 1}};
static const signature SAR_SIG = SIG("(a, f, out)", "a and out must have one length", SAR);

static napi_value Sar(napi_env env, napi_callback_info cb) {
  args_t x;
  if (!check_args(env, cb, &SAR_SIG, &x)) return NULL;
  const char *err = scu_sar((const uint64_t *)x.data[0], (uint64_t)x.size[1], (uint64_t *)x.data[2], x.len[0]);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* divShare(a, d, party, out): d a Uint32Array of length 1 or a.length, no divisor 0 */
static const arg_spec DIV_SHARE[] = {{"a", ARG_U64, -1, 0}, {"d", ARG_U32, -1, 0}, {"party", ARG_SIZE, -1, 0}, {"out", ARG_U64, 0, 1}};
static const signature DIV_SHARE_SIG = SIG("(a, d, party, out)", "a and out must have one length", DIV_SHARE);

static napi_value DivShare(napi_env env, napi_callback_info cb) {
  args_t x;
  if (!check_args(env, cb, &DIV_SHARE_SIG, &x)) return NULL;
  if (x.size[2] > 1) return throw_msg(env, "cuda addon: party must be 0 or 1");
  const size_t n = x.len[0], dn = x.len[1];
  if (dn != 1 && dn != n) return throw_msg(env, "cuda addon: d must have length 1 or a.length");
  const uint32_t *d = (const uint32_t *)x.data[1];
  for (size_t i = 0; i < dn; i++)
    if (d[i] == 0) return throw_msg(env, "cuda addon: divShare: divisor 0");
  const char *err = scu_div_share((const uint64_t *)x.data[0], d, dn, (int)x.size[2], (uint64_t *)x.data[3], n);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* maskZp(d, mask, subtract): d in place */
static const arg_spec MASK_ZP[] = {{"d", ARG_U8, -1, 0}, {"mask", ARG_U8, 0, 1}, {"subtract", ARG_BOOL, -1, 0}};
static const signature MASK_ZP_SIG = SIG("(d, mask, subtract)", "d and mask must have one length", MASK_ZP);

static napi_value MaskZp(napi_env env, napi_callback_info cb) {
  args_t x;
  if (!check_args(env, cb, &MASK_ZP_SIG, &x)) return NULL;
  const char *err = scu_mask_zp((uint8_t *)x.data[0], (const uint8_t *)x.data[1], (int)x.i64[2], x.len[0]);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* The windowed kernels' geometry: every size below 2^31, strides >= 1, |padding| below 2^31; g gets
 * {N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW}. Returns 0 with the error thrown. */
#define WIN_LIMIT 2147483647.0
static int window_geometry(napi_env env, const args_t *x, const int *at, int64_t *g) {
  for (int i = 0; i < 13; i++) {
    const int64_t v = (i == 9 || i == 10) ? x->i64[at[i]] : (at[i] < 0 ? 1 : (int64_t)x->size[at[i]]);
    if ((double)v > WIN_LIMIT || (double)v < -WIN_LIMIT || ((i == 7 || i == 8) && v < 1)) {
      throw_msg(env, "cuda addon: window sizes must be below 2^31 and strides at least 1");
      return 0;
    }
    g[i] = v;
  }
  return 1;
}
/* a * b * ... as a size, or 0 with overflow set. */
static size_t product(const int64_t *v, int k, int *overflow) {
  size_t p = 1;
  for (int i = 0; i < k; i++) {
    if (v[i] && p > SIZE_MAX / (size_t)v[i]) { *overflow = 1; return 0; }
    p *= (size_t)v[i];
  }
  return p;
}

/* im2col(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, out) */
static const arg_spec IM2COL[] = {{"x", ARG_U64, -1, 0}, {"N", ARG_SIZE, -1, 0}, {"H", ARG_SIZE, -1, 0}, {"W", ARG_SIZE, -1, 0}, {"C", ARG_SIZE, -1, 0},
                                  {"kh", ARG_SIZE, -1, 0}, {"kw", ARG_SIZE, -1, 0}, {"sh", ARG_SIZE, -1, 0}, {"sw", ARG_SIZE, -1, 0},
                                  {"padTop", ARG_INT, -1, 0}, {"padLeft", ARG_INT, -1, 0}, {"outH", ARG_SIZE, -1, 0}, {"outW", ARG_SIZE, -1, 0}, {"out", ARG_U64, -1, 0}};
static const signature IM2COL_SIG = SIG("(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, out)", "", IM2COL);

static napi_value Im2col(napi_env env, napi_callback_info cb) {
  args_t x;
  if (!check_args(env, cb, &IM2COL_SIG, &x)) return NULL;
  static const int at[13] = {1, 2, 3, 4, -1, 5, 6, 7, 8, 9, 10, 11, 12};
  int64_t g[13];
  if (!window_geometry(env, &x, at, g)) return NULL;
  int of = 0;
  const int64_t xs[4] = {g[0], g[1], g[2], g[3]}, os[6] = {g[0], g[11], g[12], g[5], g[6], g[3]};
  const size_t nx = product(xs, 4, &of), n = product(os, 6, &of);
  if (of || x.len[0] != nx || x.len[13] != n) return throw_msg(env, "cuda addon: im2col lengths do not match the geometry");
  const char *err = scu_im2col((const uint64_t *)x.data[0], nx, g, (uint64_t *)x.data[13], n);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* depthwise(x, w, N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW, out) */
static const arg_spec DEPTHWISE[] = {{"x", ARG_U64, -1, 0}, {"w", ARG_U64, -1, 0}, {"N", ARG_SIZE, -1, 0}, {"H", ARG_SIZE, -1, 0}, {"W", ARG_SIZE, -1, 0},
                                     {"C", ARG_SIZE, -1, 0}, {"dm", ARG_SIZE, -1, 0}, {"kh", ARG_SIZE, -1, 0}, {"kw", ARG_SIZE, -1, 0}, {"sh", ARG_SIZE, -1, 0},
                                     {"sw", ARG_SIZE, -1, 0}, {"padTop", ARG_INT, -1, 0}, {"padLeft", ARG_INT, -1, 0}, {"outH", ARG_SIZE, -1, 0},
                                     {"outW", ARG_SIZE, -1, 0}, {"out", ARG_U64, -1, 0}};
static const signature DEPTHWISE_SIG = SIG("(x, w, N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW, out)", "", DEPTHWISE);

static napi_value Depthwise(napi_env env, napi_callback_info cb) {
  args_t x;
  if (!check_args(env, cb, &DEPTHWISE_SIG, &x)) return NULL;
  static const int at[13] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  int64_t g[13];
  if (!window_geometry(env, &x, at, g)) return NULL;
  int of = 0;
  const int64_t xs[4] = {g[0], g[1], g[2], g[3]}, ws[4] = {g[5], g[6], g[3], g[4]}, os[5] = {g[0], g[11], g[12], g[3], g[4]};
  const size_t nx = product(xs, 4, &of), nw = product(ws, 4, &of), n = product(os, 5, &of);
  if (of || x.len[0] != nx || x.len[1] != nw || x.len[15] != n) return throw_msg(env, "cuda addon: depthwise lengths do not match the geometry");
  const char *err = scu_depthwise((const uint64_t *)x.data[0], nx, (const uint64_t *)x.data[1], nw, g, (uint64_t *)x.data[15], n);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* im2colGemm(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, B, n, out): out = im2col(x) . B */
static const arg_spec IM2COL_GEMM[] = {{"x", ARG_U64, -1, 0}, {"N", ARG_SIZE, -1, 0}, {"H", ARG_SIZE, -1, 0}, {"W", ARG_SIZE, -1, 0}, {"C", ARG_SIZE, -1, 0},
                                       {"kh", ARG_SIZE, -1, 0}, {"kw", ARG_SIZE, -1, 0}, {"sh", ARG_SIZE, -1, 0}, {"sw", ARG_SIZE, -1, 0},
                                       {"padTop", ARG_INT, -1, 0}, {"padLeft", ARG_INT, -1, 0}, {"outH", ARG_SIZE, -1, 0}, {"outW", ARG_SIZE, -1, 0},
                                       {"B", ARG_U64, -1, 0}, {"n", ARG_SIZE, -1, 0}, {"out", ARG_U64, -1, 0}};
static const signature IM2COL_GEMM_SIG = SIG("(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, B, n, out)", "", IM2COL_GEMM);

static napi_value Im2colGemm(napi_env env, napi_callback_info cb) {
  args_t x;
  if (!check_args(env, cb, &IM2COL_GEMM_SIG, &x)) return NULL;
  static const int at[13] = {1, 2, 3, 4, -1, 5, 6, 7, 8, 9, 10, 11, 12};
  int64_t g[13];
  if (!window_geometry(env, &x, at, g)) return NULL;
  if ((double)x.size[14] > WIN_LIMIT) return throw_msg(env, "cuda addon: window sizes must be below 2^31 and strides at least 1");
  int of = 0;
  const int64_t xs[4] = {g[0], g[1], g[2], g[3]}, ks[4] = {g[5], g[6], g[3], (int64_t)x.size[14]}, os[4] = {g[0], g[11], g[12], (int64_t)x.size[14]};
  const size_t nx = product(xs, 4, &of), nb = product(ks, 4, &of), n = product(os, 4, &of);
  if (of || x.len[0] != nx || x.len[13] != nb || x.len[15] != n) return throw_msg(env, "cuda addon: im2colGemm lengths do not match the geometry");
  const char *err = scu_im2col_gemm((const uint64_t *)x.data[0], nx, g, (const uint64_t *)x.data[13], x.size[14], (uint64_t *)x.data[15]);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* benchGemm(m, k, n, variant, reps) -> { ms, checksum (bigint), probe (bigint), probeWant (bigint) }; variant -1: by shape */
static napi_value BenchGemm(napi_env env, napi_callback_info cb) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_CALL(env, napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  if (argc != 5) return throw_msg(env, "cuda addon: expected (m, k, n, variant, reps)");
  size_t m, k, n, reps;
  int32_t variant;
  if (!get_size(env, argv[0], "m", &m) || !get_size(env, argv[1], "k", &k) || !get_size(env, argv[2], "n", &n) || !get_size(env, argv[4], "reps", &reps)) return NULL;
  NAPI_CALL(env, napi_get_value_int32(env, argv[3], &variant));
  if (reps > 100000) return throw_msg(env, "cuda addon: reps too large");
  double ms = 0;
  uint64_t checksum = 0, probe = 0, want = 0;
  const char *err = scu_bench_gemm(m, k, n, variant, (int)reps, &ms, &checksum, &probe, &want);
  if (err) return throw_msg(env, err);
  napi_value o, v;
  NAPI_CALL(env, napi_create_object(env, &o));
  set(env, o, "ms", num(env, ms));
  NAPI_CALL(env, napi_create_bigint_uint64(env, checksum, &v));
  set(env, o, "checksum", v);
  NAPI_CALL(env, napi_create_bigint_uint64(env, probe, &v));
  set(env, o, "probe", v);
  NAPI_CALL(env, napi_create_bigint_uint64(env, want, &v));
  set(env, o, "probeWant", v);
  return o;
}

/* lastTiming() -> { h2dMs, kernelMs, d2hMs, bytesH2d, bytesD2h, bytesStaged } of the last GPU call */
static napi_value LastTiming(napi_env env, napi_callback_info cb) {
  (void)cb;
  scu_timing t;
  scu_last_timing(&t);
  napi_value o;
  NAPI_CALL(env, napi_create_object(env, &o));
  set(env, o, "h2dMs", num(env, t.h2d_ms));
  set(env, o, "kernelMs", num(env, t.kernel_ms));
  set(env, o, "d2hMs", num(env, t.d2h_ms));
  set(env, o, "bytesH2d", num(env, t.bytes_h2d));
  set(env, o, "bytesD2h", num(env, t.bytes_d2h));
  set(env, o, "bytesStaged", num(env, t.bytes_staged));
  return o;
}

/* setStaging(on): large copies through pinned staging slots (true, the default) or pageable only; returns the state
 * (1 slots allocated, 0 not tried yet, -1 pageable only). */
static napi_value SetStaging(napi_env env, napi_callback_info cb) {
  size_t argc = 1;
  napi_value argv[1];
  bool on;
  NAPI_CALL(env, napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) return throw_msg(env, "cuda addon: expected (on: boolean)");
  const char *err = scu_set_staging(on ? 1 : 0);
  if (err) return throw_msg(env, err);
  return num(env, scu_staging_state());
}

/* setGemmVariant(v): -1 picks the tile shape by n; 0..3 force one (benchmarks). */
static napi_value SetGemmVariant(napi_env env, napi_callback_info cb) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t v;
  NAPI_CALL(env, napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  if (argc != 1) return throw_msg(env, "cuda addon: expected (variant)");
  NAPI_CALL(env, napi_get_value_int32(env, argv[0], &v));
  const char *err = scu_set_gemm_variant(v);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

static napi_value Release(napi_env env, napi_callback_info cb) {
  (void)cb;
  const char *err = scu_release();
  if (err) return throw_msg(env, err);
  return undefined(env);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"info", NULL, Info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"add", NULL, Add, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sub", NULL, Sub, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mul", NULL, Mul, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gemm", NULL, Gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bitShareZp", NULL, BitShareZp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"privateCompare", NULL, PrivateCompare, NULL, NULL, NULL, napi_enumerable, NULL},
      {"zeroTest", NULL, ZeroTest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bitShareZp32", NULL, BitShareZp32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"zeroTest32", NULL, ZeroTest32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"privateCompare32", NULL, PrivateCompare32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digitShareZp16", NULL, DigitShareZp16, NULL, NULL, NULL, napi_enumerable, NULL},
      {"zeroTest16", NULL, ZeroTest16, NULL, NULL, NULL, napi_enumerable, NULL},
      {"privateCompareR4", NULL, PrivateCompareR4, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mulScalar", NULL, MulScalar, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addScalar", NULL, AddScalar, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sar", NULL, Sar, NULL, NULL, NULL, napi_enumerable, NULL},
      {"divShare", NULL, DivShare, NULL, NULL, NULL, napi_enumerable, NULL},
      {"maskZp", NULL, MaskZp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"im2col", NULL, Im2col, NULL, NULL, NULL, napi_enumerable, NULL},
      {"depthwise", NULL, Depthwise, NULL, NULL, NULL, napi_enumerable, NULL},
      {"im2colGemm", NULL, Im2colGemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"benchGemm", NULL, BenchGemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lastTiming", NULL, LastTiming, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setGemmVariant", NULL, SetGemmVariant, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setStaging", NULL, SetStaging, NULL, NULL, NULL, napi_enumerable, NULL},
      {"release", NULL, Release, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
