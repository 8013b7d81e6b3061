// Host build of ring-elems.h, the per-element logic of kernels-elems.cu, so
// that its arithmetic is checked against the CPU kernels on machines without
// a GPU (ring-elems.test.ts compiles this file with g++, and with nvcc -x cu
// where nvcc exists, and compares the bytes). It calls the same functions the
// __global__ kernels call, element after element, with the same choice of
// function per call (pow2_shift: a broadcast power-of-two divisor shifts, as in
// kernels-elems.cu and the CPU kernels); the
// launch configuration and the copies are a device run's to check
// (bench/cuda-check.ts).
//
//   ring-elems-check mulScalar|addScalar N S     a (8N)            -> out (8N)
//   ring-elems-check divShare N PARTY DN         a (8N) d (4 DN)   -> out (8N)
//   ring-elems-check sar N F                     a (8N)            -> out (8N)
//   ring-elems-check maskZp N SUB                d (N) mask (N)    -> d (N)
//   ring-elems-check im2col|depthwise N H W C DM KH KW SH SW PADTOP PADLEFT OUTH OUTW
//                                                x (8 NHWC) [w (8 KH KW C DM)] -> out
// Exit 2 on a malformed call.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ring-elems.h"

using namespace scu_elems;

static int usage(const char *msg) {
  std::fprintf(stderr, "ring-elems-check: %s\n", msg);
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 3) return usage("expected OP and sizes");
  const std::string op = argv[1];
  std::vector<long long> v;
  for (int i = 2; i < argc; i++) v.push_back(std::strtoll(argv[i], nullptr, 10));
  std::vector<uint8_t> in;
  uint8_t chunk[1 << 16];
  for (size_t got; (got = std::fread(chunk, 1, sizeof chunk, stdin)) > 0;) in.insert(in.end(), chunk, chunk + got);
  auto u64 = [&](size_t byte_at, size_t e) {
    uint64_t x;
    std::memcpy(&x, in.data() + byte_at + 8 * e, 8);
    return x;
  };
  std::vector<uint8_t> out;
  auto put64 = [&](size_t e, uint64_t x) { std::memcpy(out.data() + 8 * e, &x, 8); };
  if (op == "mulScalar" || op == "addScalar" || op == "sar") {
    if (v.size() != 2) return usage("expected OP N S|F");
    const size_t n = size_t(v[0]);
    if (in.size() != 8 * n) return usage("input length");
    const uint64_t s = op == "sar" ? uint64_t(v[1]) : std::strtoull(argv[3], nullptr, 10);
    out.resize(8 * n);
    for (size_t e = 0; e < n; e++) put64(e, op == "mulScalar" ? mul_scalar(u64(0, e), s) : op == "addScalar" ? add_scalar(u64(0, e), s) : sar(u64(0, e), s));
  } else if (op == "divShare") {
    if (v.size() != 3) return usage("expected divShare N PARTY DN");
    const size_t n = size_t(v[0]), dn = size_t(v[2]);
    const int party = int(v[1]);
    if (in.size() != 8 * n + 4 * dn || (dn != 1 && dn != n)) return usage("input length");
    std::vector<uint32_t> d(dn);
    std::memcpy(d.data(), in.data() + 8 * n, 4 * dn);
    out.resize(8 * n);
    const int f = dn == 1 ? pow2_shift(d[0]) : -1;
    for (size_t e = 0; e < n; e++) put64(e, f >= 0 ? div_share_pow2(u64(0, e), unsigned(f), party) : div_share(u64(0, e), d[dn == 1 ? 0 : e], party));
  } else if (op == "maskZp") {
    if (v.size() != 2) return usage("expected maskZp N SUB");
    const size_t n = size_t(v[0]);
    if (in.size() != 2 * n) return usage("input length");
    out.resize(n);
    for (size_t e = 0; e < n; e++) out[e] = mask_zp(in[e], in[n + e], int(v[1]));
  } else if (op == "im2col" || op == "depthwise") {
    if (v.size() != 13) return usage("expected 13 sizes");
    const Window s{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]};
    const size_t nx = size_t(s.N * s.H * s.W * s.C), nw = op == "depthwise" ? size_t(s.kh * s.kw * s.C * s.dm) : 0;
    if (in.size() != 8 * (nx + nw)) return usage("input length");
    std::vector<uint64_t> x(nx), w(nw + 1);
    std::memcpy(x.data(), in.data(), 8 * nx);
    std::memcpy(w.data(), in.data() + 8 * nx, 8 * nw);
    const size_t n = size_t(op == "im2col" ? s.N * s.outH * s.outW * s.kh * s.kw * s.C : s.N * s.outH * s.outW * s.C * s.dm);
    out.resize(8 * n);
    for (size_t e = 0; e < n; e++) put64(e, op == "im2col" ? im2col_at(x.data(), s, int64_t(e)) : depthwise_at(x.data(), w.data(), s, int64_t(e)));
  } else {
    return usage("unknown OP");
  }
  if (!out.empty() && std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) return usage("write failed");
  return 0;
}
