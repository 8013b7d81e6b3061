/*
 * N-API wrapper of the CUDA kernels (kernels.cu): plain C against node_api.h,
 * no npm dependencies. Loaded by protocol/kernels/cuda/index.ts, which checks
 * argument types and lengths before calling in and delegates to the CPU
 * kernels when they do not fit; this layer re-checks what it needs for memory
 * safety (types, lengths) and throws a plain Error with code E_NATIVE when a
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

static napi_value Elementwise(napi_env env, napi_callback_info cb, int op) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  if (argc != 3) return throw_msg(env, "cuda addon: expected (a, b, out)");
  void *a, *b, *out;
  size_t na, nb, no;
  if (!get_array(env, argv[0], napi_biguint64_array, "a", &a, &na)) return NULL;
  if (!get_array(env, argv[1], napi_biguint64_array, "b", &b, &nb)) return NULL;
  if (!get_array(env, argv[2], napi_biguint64_array, "out", &out, &no)) return NULL;
  if (nb != na || no != na) return throw_msg(env, "cuda addon: a, b and out must have one length");
  const char *err = scu_elementwise(op, (const uint64_t *)a, (const uint64_t *)b, (uint64_t *)out, na);
  if (err) return throw_msg(env, err);
  return undefined(env);
}
static napi_value Add(napi_env env, napi_callback_info cb) { return Elementwise(env, cb, 0); }
static napi_value Sub(napi_env env, napi_callback_info cb) { return Elementwise(env, cb, 1); }
static napi_value Mul(napi_env env, napi_callback_info cb) { return Elementwise(env, cb, 2); }

/* gemm(A, B, m, k, n, out) */
static napi_value Gemm(napi_env env, napi_callback_info cb) {
  size_t argc = 6;
  napi_value argv[6];
  NAPI_CALL(env, napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  if (argc != 6) return throw_msg(env, "cuda addon: expected (A, B, m, k, n, out)");
  void *A, *B, *out;
  size_t nA, nB, nO, m, k, n;
  if (!get_array(env, argv[0], napi_biguint64_array, "A", &A, &nA)) return NULL;
  if (!get_array(env, argv[1], napi_biguint64_array, "B", &B, &nB)) return NULL;
  if (!get_size(env, argv[2], "m", &m) || !get_size(env, argv[3], "k", &k) || !get_size(env, argv[4], "n", &n)) return NULL;
  if (!get_array(env, argv[5], napi_biguint64_array, "out", &out, &nO)) return NULL;
  if (m > (1ull << 40) || k > (1ull << 40) || n > (1ull << 40)) return throw_msg(env, "cuda addon: gemm dimension too large");
  if ((k && m > SIZE_MAX / k) || (n && k > SIZE_MAX / n) || (n && m > SIZE_MAX / n)) return throw_msg(env, "cuda addon: gemm size overflows");
  if (nA != m * k || nB != k * n || nO != m * n) return throw_msg(env, "cuda addon: gemm lengths do not match m, k, n");
  const char *err = scu_gemm((const uint64_t *)A, (const uint64_t *)B, (uint64_t *)out, m, k, n);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* bitShareZp(x, r, out) */
static napi_value BitShareZp(napi_env env, napi_callback_info cb) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  if (argc != 3) return throw_msg(env, "cuda addon: expected (x, r, out)");
  void *x, *r, *out;
  size_t nx, nr, no;
  if (!get_array(env, argv[0], napi_biguint64_array, "x", &x, &nx)) return NULL;
  if (!get_array(env, argv[1], napi_uint8_array, "r", &r, &nr)) return NULL;
  if (!get_array(env, argv[2], napi_uint8_array, "out", &out, &no)) return NULL;
  if (nr != 64 * nx || no != 64 * nx) return throw_msg(env, "cuda addon: r and out must have 64 * x.length entries");
  const char *err = scu_bitsharezp((const uint64_t *)x, (const uint8_t *)r, (uint8_t *)out, nx);
  if (err) return throw_msg(env, err);
  return undefined(env);
}

/* privateCompare(j, xb, r, beta, s, u | null, perm, d) -> flags (0: d written) */
static napi_value PrivateCompare(napi_env env, napi_callback_info cb) {
  size_t argc = 8;
  napi_value argv[8];
  NAPI_CALL(env, napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  if (argc != 8) return throw_msg(env, "cuda addon: expected (j, xb, r, beta, s, u, perm, d)");
  size_t j;
  if (!get_size(env, argv[0], "j", &j)) return NULL;
  if (j > 1) return throw_msg(env, "cuda addon: j must be 0 or 1");
  void *xb, *r, *beta, *s, *u = NULL, *perm, *d;
  size_t nxb, nr, nbeta, ns, nu = 0, nperm, nd;
  if (!get_array(env, argv[1], napi_uint8_array, "xb", &xb, &nxb)) return NULL;
  if (!get_array(env, argv[2], napi_biguint64_array, "r", &r, &nr)) return NULL;
  if (!get_array(env, argv[3], napi_uint8_array, "beta", &beta, &nbeta)) return NULL;
  if (!get_array(env, argv[4], napi_uint8_array, "s", &s, &ns)) return NULL;
  napi_valuetype ut;
  NAPI_CALL(env, napi_typeof(env, argv[5], &ut));
  if (ut != napi_null && ut != napi_undefined) {
    if (!get_array(env, argv[5], napi_uint8_array, "u", &u, &nu)) return NULL;
  }
  if (!get_array(env, argv[6], napi_uint8_array, "perm", &perm, &nperm)) return NULL;
  if (!get_array(env, argv[7], napi_uint8_array, "d", &d, &nd)) return NULL;
  size_t n = nr, n64 = 64 * nr;
  if (nxb != n64 || nbeta != n || ns != n64 || (u && nu != n64) || nperm != n64 || nd != n64)
    return throw_msg(env, "cuda addon: privateCompare lengths do not match r.length");
  int flags = 0;
  const char *err = scu_private_compare((int)j, (const uint8_t *)xb, (const uint64_t *)r, (const uint8_t *)beta, (const uint8_t *)s,
                                        (const uint8_t *)u, (const uint8_t *)perm, (uint8_t *)d, n, &flags);
  if (err) return throw_msg(env, err);
  return num(env, flags);
}

/* zeroTest(d0, d1, out) */
static napi_value ZeroTest(napi_env env, napi_callback_info cb) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  if (argc != 3) return throw_msg(env, "cuda addon: expected (d0, d1, out)");
  void *d0, *d1, *out;
  size_t n0, n1, no;
  if (!get_array(env, argv[0], napi_uint8_array, "d0", &d0, &n0)) return NULL;
  if (!get_array(env, argv[1], napi_uint8_array, "d1", &d1, &n1)) return NULL;
  if (!get_array(env, argv[2], napi_uint8_array, "out", &out, &no)) return NULL;
  if (n0 != 64 * no || n1 != 64 * no) return throw_msg(env, "cuda addon: d0 and d1 must have 64 * out.length entries");
  const char *err = scu_zero_test((const uint8_t *)d0, (const uint8_t *)d1, (uint8_t *)out, no);
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

/* lastTiming() -> { h2dMs, kernelMs, d2hMs, bytesH2d, bytesD2h } of the last GPU call */
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
  return o;
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
      {"benchGemm", NULL, BenchGemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lastTiming", NULL, LastTiming, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setGemmVariant", NULL, SetGemmVariant, NULL, NULL, NULL, napi_enumerable, NULL},
      {"release", NULL, Release, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
