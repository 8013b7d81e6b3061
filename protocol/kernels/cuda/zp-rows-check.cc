// Host build of zp-rows.h, the per-element logic of the CUDA kernels on the
// 32-bit comparison ring (kernels-narrow.cu), so that its arithmetic is
// checked against the CPU kernels on machines without a GPU
// (zp-rows.test.ts compiles this file with g++, and with nvcc -x cu where
// nvcc exists, and compares the bytes). It runs the same per-element
// functions as the __global__ kernels, element after element; what it does
// not check is the launch configuration and the copies (a device run does:
// bench/cuda-check.ts).
//
//   zp-rows-check OP N J < inputs > output
//
// OP and the arrays on stdin, concatenated in this order (u64 little-endian):
//   bitShareZp32     x (8N) r (32N)                                    -> out (32N)
//   digitShareZp16   x (8N) r (48N)                                    -> out (48N)
//   zeroTest32       d0 (32N) d1 (32N)                                 -> out (N)
//   zeroTest16       d0 (16N) d1 (16N)                                 -> out (N)
//   privateCompare32 xb (32N) r (8N) beta (N) s (32N) rot (N) mask (32N) -> d (32N)
//   privateCompareR4 xl (48N) r (8N) beta (N) s (16N) rot (N) mask (16N) -> d (16N)
// J (0 or 1) is read by the PrivateCompares only. Exit 2 on a malformed call.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "zp-rows.h"

using namespace scu_rows;

static int usage(const char *msg) {
  std::fprintf(stderr, "zp-rows-check: %s\n", msg);
  return 2;
}

int main(int argc, char **argv) {
  if (argc != 4) return usage("expected OP N J");
  const std::string op = argv[1];
  const size_t n = std::strtoull(argv[2], nullptr, 10);
  const int j = std::atoi(argv[3]);
  if (j != 0 && j != 1) return usage("J must be 0 or 1");
  std::vector<uint8_t> in;
  uint8_t chunk[1 << 16];
  for (size_t got; (got = std::fread(chunk, 1, sizeof chunk, stdin)) > 0;) in.insert(in.end(), chunk, chunk + got);
  size_t at = 0;
  auto take = [&](size_t bytes) -> const uint8_t * {
    const uint8_t *p = in.data() + at;
    at += bytes;
    return p;
  };
  auto u64 = [](const uint8_t *p, size_t e) {
    uint64_t v;
    std::memcpy(&v, p + 8 * e, 8);
    return v;
  };
  std::vector<uint8_t> out;
  size_t want = 0;
  if (op == "bitShareZp32" || op == "digitShareZp16") {
    const size_t X = op == "bitShareZp32" ? 32 : 48;
    want = n * (8 + X);
    if (in.size() != want) return usage("input length");
    const uint8_t *x = take(8 * n), *r = take(X * n);
    out.resize(X * n);
    for (size_t e = 0; e < n; e++) {
      if (X == 32) bitshare_row<32>(u64(x, e), r + 32 * e, out.data() + 32 * e);
      else digitshare16_row(u64(x, e), r + 48 * e, out.data() + 48 * e);
    }
  } else if (op == "zeroTest32" || op == "zeroTest16") {
    const size_t W = op == "zeroTest32" ? 32 : 16;
    want = 2 * W * n;
    if (in.size() != want) return usage("input length");
    const uint8_t *d0 = take(W * n), *d1 = take(W * n);
    out.resize(n);
    for (size_t e = 0; e < n; e++) out[e] = W == 32 ? zero_test_row<32>(d0 + 32 * e, d1 + 32 * e) : zero_test_row<16>(d0 + 16 * e, d1 + 16 * e);
  } else if (op == "privateCompare32" || op == "privateCompareR4") {
    const bool narrow = op == "privateCompare32";
    const size_t W = narrow ? 32 : 16, X = narrow ? 32 : 48;
    want = n * (X + 8 + 1 + W + 1 + W);
    if (in.size() != want) return usage("input length");
    const uint8_t *x = take(X * n), *r = take(8 * n), *beta = take(n), *s = take(W * n), *rot = take(n), *mask = take(W * n);
    out.resize(W * n);
    for (size_t e = 0; e < n; e++) {
      if (narrow) pc32_row(j, x + X * e, u64(r, e), beta[e], s + W * e, rot[e], mask + W * e, out.data() + W * e);
      else pcr4_row(j, x + X * e, u64(r, e), beta[e], s + W * e, rot[e], mask + W * e, out.data() + W * e);
    }
  } else {
    return usage("unknown OP");
  }
  if (!out.empty() && std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) return usage("write failed");
  return 0;
}
