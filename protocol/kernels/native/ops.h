// Elementwise, im2col and Z_p kernels (semantics: protocol/kernels/types.ts).
// Callers (binding.cc) have checked lengths, types and argument ranges.
#pragma once
#include <cstddef>
#include <cstdint>

namespace securenn {

void add(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void sub(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void mul(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void mulScalar(const uint64_t* a, uint64_t s, uint64_t* out, size_t n);
void addScalar(const uint64_t* a, uint64_t s, uint64_t* out, size_t n);
// d has dn = 1 (broadcast) or n entries, none zero.
void divShare(const uint64_t* a, const uint32_t* d, size_t dn, int party, uint64_t* out, size_t n);
void sar(const uint64_t* a, unsigned f, uint64_t* out, size_t n);
void wrap(const uint64_t* a, const uint64_t* b, uint8_t* out, size_t n);
void addOdd(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void subOdd(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
void reduceOdd(const uint64_t* a, uint64_t* out, size_t n);

struct Im2colShape {
  int64_t N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW;
};
void im2col(const uint64_t* x, const Im2colShape& s, uint64_t* out);

struct DepthwiseShape {
  int64_t N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW;
};
// out[(n, oy, ox), c*dm + m] = sum over taps inside the image of x[n, y, x, c] * w[(ky*kw + kx)*C*dm + c*dm + m].
void depthwise(const uint64_t* x, const uint64_t* w, const DepthwiseShape& s, uint64_t* out);

void bitShareZp(const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out);
// perm entries must be < 64; u may be null only if no element is special.
void privateCompare(int j, const uint8_t* xb, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* u, const uint8_t* perm, uint8_t* d);
void zeroTest(const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n);
// Narrow rows of 32 positions (values < 2^31): bit shares of bits 0..31; the
// zero test over groups of 32; PrivateCompare steps 1-6 with the rotation
// d[(i + rot) mod 32] and the zero-sharing mask fused in (every r < 2^31).
void bitShareZp32(const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out);
void zeroTest32(const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n);
void privateCompare32(int j, const uint8_t* xb, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* rot, const uint8_t* mask, uint8_t* d);
// Radix-4 rows (16 digits of 2 bits, values < 2^31; semantics: kernels/radix4.ts):
// shares of the prefix indicators [digit_i <= u], u = 0..2 (48 per element); the
// d values of the radix-4 PrivateCompare (16 per element, every r < 2^31); the
// zero test over groups of 16.
void digitShareZp16(const uint64_t* x, size_t n, const uint8_t* r, uint8_t* out);
void privateCompareR4(int j, const uint8_t* xl, const uint64_t* r, size_t n, const uint8_t* beta, const uint8_t* s, const uint8_t* rot, const uint8_t* mask, uint8_t* d);
void zeroTest16(const uint8_t* d0, const uint8_t* d1, uint8_t* out, size_t n);
// d[i] = (d[i] + mask[i]) mod 67, or (d[i] - mask[i]) mod 67 when subtract; inputs in [0, 66].
void maskZp(uint8_t* d, const uint8_t* mask, size_t n, bool subtract);
// Consumes raw bytes in order, appending table[b] to out (from index filled) unless it is 255,
// until out is full; returns the new fill count.
size_t rejectSample(const uint8_t* raw, size_t rawLen, const uint8_t* table, uint8_t* out, size_t outLen, size_t filled);

}  // namespace securenn
