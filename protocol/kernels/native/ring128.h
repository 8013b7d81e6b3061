// Z_2^128 kernels of the malicious mode (protocol/malicious/ring128.ts: values
// in Z_2^64, SPDZ_2k shares and MACs in Z_2^128). Element i of a vector is 4
// 32-bit words at w[4i .. 4i+3], least significant first (the Vec128 layout of
// ring128.ts), i.e. on a little-endian CPU one unsigned __int128 per 16 bytes.
// Word arrays are only 4-byte aligned (a Uint32Array's byteOffset), so every
// access goes through memcpy. All arithmetic is mod 2^128 (unsigned __int128
// wraps), so any order of accumulation gives the same bits.
#pragma once
#include <cstddef>
#include <cstdint>

namespace securenn {

// C[m x n] = A[m x k] . B[k x n] mod 2^128, row-major; C must not overlap A or B. m, k, n may be 0.
void gemm128(const uint32_t* A, const uint32_t* B, uint32_t* C, size_t m, size_t k, size_t n);
// out[i] = a[i] * b[i] mod 2^128 for n elements; out may be a or b (the same memory), not a shifted part of them.
void mul128(const uint32_t* a, const uint32_t* b, uint32_t* out, size_t n);
// out[i] = s * a[i] mod 2^128 for one scalar s (4 words); out may be a.
void mulScalar128(const uint32_t* a, const uint32_t* s, uint32_t* out, size_t n);
// out[i] = a[i] + b[i], a[i] - b[i] mod 2^128; out may be a or b.
void add128(const uint32_t* a, const uint32_t* b, uint32_t* out, size_t n);
void sub128(const uint32_t* a, const uint32_t* b, uint32_t* out, size_t n);
// acc[r len + i] += sign(k[r len + i]) x[r stride + i] mod 2^128 for r < rows, i < len (k in {-1, 0, 1}; a
// signed combination's term over `rows` rows of x `stride` elements apart, BitLT's radix-4 level).
void signedSum128(uint32_t* acc, const uint32_t* x, const int8_t* k, size_t rows, size_t len, size_t stride);
// out[r len + i] = coef[p][0] one + sum_{S=1}^{width-1} coef[p][S] x_S[base_S + r stride_S + i] mod 2^128 with the
// pattern p = pat[r len + i] < patterns <= 256, coef[p][S] = coef[p width + S] in {-1, 0, 1} (only signs read),
// width <= 16, and x_S = (src[3S] ? x1 : x0), base_S = src[3S + 1], stride_S = src[3S + 2]: a signed combination
// whose coefficients depend on a per-element public pattern (BitLT's radix-4 level: a block's G or P over its
// monomials, the pattern the block's public bits). out must not overlap the other arrays.
void blockComb128(uint32_t* out, const uint32_t* x0, const uint32_t* x1, const uint8_t* pat, const int8_t* coef, size_t patterns,
                  size_t width, const uint32_t* src, size_t rows, size_t len, const uint32_t* one);

}  // namespace securenn
