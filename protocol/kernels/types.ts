/**
 * The kernel interface: every hot loop over shares goes through one of these.
 * Two implementations must give bit-identical results:
 *  - native: the C++ N-API addon (protocol/kernels/native/), built by `npm ci`;
 *  - ts: the pure TypeScript fallback (protocol/kernels/ts.ts), 32-bit limbs, no BigInt.
 * A BigInt reference (reference.ts) is the test oracle for both; it is slow and
 * used only in tests.
 *
 * Conventions: arrays are row-major; `out` may alias an input for elementwise
 * ops (not for gemm/im2col); all Z_2^64 arithmetic is mod 2^64, all
 * Z_{2^64-1} arithmetic is mod 2^64-1 with inputs in [0, 2^64-2].
 */
export interface RingKernels {
  readonly name: 'native' | 'ts' | 'reference' | 'cuda';

  // ---- Z_2^64 elementwise ----
  add(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array): void;
  sub(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array): void;
  /** out = a * b (elementwise). */
  mul(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array): void;
  /** out = a * s for a scalar s in Z_2^64. */
  mulScalar(a: BigUint64Array, s: bigint, out: BigUint64Array): void;
  /** out = a + s for a scalar s. */
  addScalar(a: BigUint64Array, s: bigint, out: BigUint64Array): void;

  /**
   * Local division of a share by public positive divisors (SecureML-style
   * truncation generalised): party 0 computes floor(a / d); party 1 computes
   * 2^64 - floor((2^64 - a) / d) (mod 2^64), i.e. it divides its share read as
   * the negative number a - 2^64. `d` has length 1 (broadcast) or a.length;
   * each divisor is in [1, 2^32). For d = 2^f this is the truncation of
   * SecureML / PROTOCOL-NOTES.
   */
  divShare(a: BigUint64Array, d: Uint32Array, party: 0 | 1, out: BigUint64Array): void;

  /** Public-value arithmetic shift right by f (two's complement). */
  sar(a: BigUint64Array, f: number, out: BigUint64Array): void;

  /** out[i] = 1 if a[i] + b[i] >= 2^64 (as integers) else 0: wrap(a, b, L). */
  wrap(a: BigUint64Array, b: BigUint64Array, out: Uint8Array): void;

  // ---- Z_{2^64-1} elementwise ----
  addOdd(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array): void;
  subOdd(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array): void;
  /** Reduce arbitrary u64 values mod 2^64-1 (maps 2^64-1 to 0). */
  reduceOdd(a: BigUint64Array, out: BigUint64Array): void;

  // ---- linear algebra over Z_2^64 ----
  /** out[m x n] = A[m x k] . B[k x n] mod 2^64. */
  gemm(A: BigUint64Array, B: BigUint64Array, m: number, k: number, n: number, out: BigUint64Array): void;
  /**
   * im2col for NHWC input x[N,H,W,C] and a kh x kw window with strides sh,sw
   * and explicit zero padding (padTop, padLeft; bottom/right implied by the
   * output size). Output rows are (n, oy, ox) and columns (ky, kx, c), so a
   * Keras kernel reshaped to [kh*kw*C, Cout] multiplies it directly.
   * out has N*outH*outW*kh*kw*C elements.
   */
  im2col(x: BigUint64Array, N: number, H: number, W: number, C: number, kh: number, kw: number, sh: number, sw: number, padTop: number, padLeft: number, outH: number, outW: number, out: BigUint64Array): void;

  /**
   * Depthwise convolution of NHWC x[N,H,W,C] with kernel w[kh, kw, C, dm]
   * (channel c feeds outputs c*dm .. c*dm + dm-1), strides sh, sw and zero
   * padding (padTop, padLeft as in im2col; bottom/right implied by outH,
   * outW): out[(n, oy, ox), c*dm + m] = sum over the taps (ky, kx) inside the
   * image of x[n, oy*sh + ky - padTop, ox*sw + kx - padLeft, c] *
   * w[(ky*kw + kx)*C*dm + c*dm + m], mod 2^64. out has N*outH*outW*C*dm
   * elements and must not overlap x or w.
   */
  depthwise(x: BigUint64Array, w: BigUint64Array, N: number, H: number, W: number, C: number, dm: number, kh: number, kw: number, sh: number, sw: number, padTop: number, padLeft: number, outH: number, outW: number, out: BigUint64Array): void;

  /**
   * Optional: out[m x n] = im2col(x) . B mod 2^64 (m = N*outH*outW rows, k = kh*kw*C), the same bytes as
   * im2col into a scratch matrix and gemm. Only the CUDA set has it (the im2col matrix is built on the device
   * and never copied); conv2d (layers/conv.ts) uses it when present. B is [k x n]; out must not overlap x or B.
   */
  im2colGemm?(x: BigUint64Array, N: number, H: number, W: number, C: number, kh: number, kw: number, sh: number, sw: number, padTop: number, padLeft: number, outH: number, outW: number, B: BigUint64Array, n: number, out: BigUint64Array): void;

  // ---- Z_p (p = 67) for PrivateCompare ----
  /**
   * Bit decomposition shared over Z_p: for every value x[e] and bit i
   * (i = 0 is the least significant), out[e*64 + i] = (bit_i(x[e]) - r[e*64+i]) mod p,
   * where r holds the other party's random shares in [0, p-1].
   */
  bitShareZp(x: BigUint64Array, r: Uint8Array, out: Uint8Array): void;

  /**
   * PrivateCompare (SecureNN Alg. 3) steps 2-6 for party j in {0, 1}, for
   * every element e: bits shares xb[e*64+i] over Z_p (i = 0 LSB), public r[e],
   * common bit beta[e], common s[e*64+i] in Z_p^*, common permutation
   * perm[e*64 .. e*64+63]. Writes d[e*64 + perm[e*64+i]] = s[e*64+i] * c_i^j mod p, where
   * (paper index i+1, bits k > i are the more significant ones), with t = r + 1:
   *   beta = 0:             w_i = x_i + j r_i - 2 r_i x_i,  c_i = j r_i - x_i + j + sum_{k>i} w_k
   *   beta = 1, r != 2^64-1: w_i = x_i + j t_i - 2 t_i x_i,  c_i = -j t_i + x_i + j + sum_{k>i} w_k
   *   beta = 1, r == 2^64-1: c_i = (1-j)(u_i + 1) - j u_i for i != 0, c_0 = (-1)^j u_0
   * all mod p. `u` (common random Z_p values, same layout as s) may be null only
   * when no element has beta = 1 and r = 2^64-1.
   */
  privateCompare(j: 0 | 1, xb: Uint8Array, r: BigUint64Array, beta: Uint8Array, s: Uint8Array, u: Uint8Array | null, perm: Uint8Array, d: Uint8Array): void;

  /** P2's side of PrivateCompare step 7: out[e] = 1 iff some (d0 + d1) mod p == 0 in group e of 64. */
  zeroTest(d0: Uint8Array, d1: Uint8Array, out: Uint8Array): void;

  /**
   * Narrow rows (32 positions, for values below 2^31; private-compare.ts,
   * "Width"). bitShareZp32: out[e*32 + i] = (bit_i(x[e]) - r[e*32+i]) mod p
   * for i < 32 (bits 32..63 of x are ignored).
   */
  bitShareZp32(x: BigUint64Array, r: Uint8Array, out: Uint8Array): void;

  /**
   * PrivateCompare steps 1-6 on narrow rows, with the rotation and the
   * zero-sharing mask fused in: every r[e] < 2^31 (else E_BAD_ARGUMENT);
   * xb, s (in Z_p^*), mask and d have 32 entries per element, rot one (low 5
   * bits used). With val_i = s_i c_i^j mod p (c_i as in privateCompare, over
   * positions 0..31): d[e*32 + (i + rot[e]) mod 32] = val_i + mask (j = 0) or
   * val_i - mask (j = 1), mod p, the mask taken at the destination position.
   * Equal to narrowViaWide(wide kernels) (narrow.ts).
   */
  privateCompare32(j: 0 | 1, xb: Uint8Array, r: BigUint64Array, beta: Uint8Array, s: Uint8Array, rot: Uint8Array, mask: Uint8Array, d: Uint8Array): void;

  /** zeroTest over groups of 32: out[e] = 1 iff some (d0 + d1) mod p == 0 in group e. */
  zeroTest32(d0: Uint8Array, d1: Uint8Array, out: Uint8Array): void;

  /**
   * Radix-4 PrivateCompare on the 32-bit ring (kernels/radix4.ts,
   * primitives/private-compare-radix4.ts): values below 2^32 as 16 digits of
   * 2 bits. digitShareZp16: out[e*48 + 16u + i] = ([digit_i(x[e]) <= u] - r[...]) mod p
   * for u = 0, 1, 2 (bits 32..63 of x ignored).
   */
  digitShareZp16(x: BigUint64Array, r: Uint8Array, out: Uint8Array): void;

  /**
   * Party j's d values of the radix-4 PrivateCompare for every element e:
   * dealt shares xl (48 per element), public r[e] < 2^31 (else E_BAD_ARGUMENT),
   * common bit beta, s in Z_p^* (16), rotation rot (low 4 bits), zero-sharing
   * mask (16). With v = r (beta = 0) or r + 1 (beta = 1) and its digits v_i:
   *   c_i = [x_i <= v_i] (beta = 0) or [x_i >= v_i] (beta = 1), plus sum_{k>i} [x_k != v_k],
   * as shares (public constants in P1's); d[e*16 + (i + rot) mod 16] = s_i c_i^j + mask (j = 0) or - mask (j = 1), mod p.
   */
  privateCompareR4(j: 0 | 1, xl: Uint8Array, r: BigUint64Array, beta: Uint8Array, s: Uint8Array, rot: Uint8Array, mask: Uint8Array, d: Uint8Array): void;

  /** zeroTest over groups of 16: out[e] = 1 iff some (d0 + d1) mod p == 0 in group e. */
  zeroTest16(d0: Uint8Array, d1: Uint8Array, out: Uint8Array): void;

  /** d = d + mask (or d - mask when subtract) mod p, in place; all entries in [0, p-1]. */
  maskZp(d: Uint8Array, mask: Uint8Array, subtract: boolean): void;

  // ---- Z_2^128 (the malicious mode, protocol/malicious/) ----
  // Optional: only the native addon has them (native/ring128.cc). Without
  // them protocol/malicious/gemm128.ts computes the same bits from 19 Z_2^64
  // products (gemm / mul above), or sums and differences with ring128.ts's
  // TS loops. Vectors in the layout of
  // protocol/malicious/ring128.ts: a Uint32Array of 4 words per element,
  // least significant first.

  /** out[m x n] = A[m x k] . B[k x n] mod 2^128 (4mk, 4kn, 4mn words); out must not overlap A or B. */
  gemm128?(A: Uint32Array, B: Uint32Array, m: number, k: number, n: number, out: Uint32Array): void;
  /** out = a * b mod 2^128, elementwise (a.length a multiple of 4); out may be a or b. */
  mul128?(a: Uint32Array, b: Uint32Array, out: Uint32Array): void;
  /** out = s * a mod 2^128 for one scalar s (4 words); out may be a. */
  mulScalar128?(a: Uint32Array, s: Uint32Array, out: Uint32Array): void;
  /** out = a + b mod 2^128, elementwise; out may be a or b. */
  add128?(a: Uint32Array, b: Uint32Array, out: Uint32Array): void;
  /** out = a - b mod 2^128, elementwise; out may be a or b. */
  sub128?(a: Uint32Array, b: Uint32Array, out: Uint32Array): void;
  /**
   * acc[r len + i] += k[r len + i] x[r stride + i] mod 2^128 for k in {-1, 0, 1} (only its sign is read: an add or
   * a subtract, no product), r < k.length / len, i < len: one term of a signed combination over rows of x
   * `stride` elements apart (protocol/malicious/bit-ops.ts combSignedM). acc must not overlap x or k.
   */
  signedSum128?(acc: Uint32Array, x: Uint32Array, k: Int8Array, len: number, stride: number): void;
  /**
   * out[r len + i] = coef[p width] one + sum_{S >= 1} coef[p width + S] x_S[base_S + r stride_S + i] mod 2^128, with
   * the pattern p = pat[r len + i], coefficients in {-1, 0, 1} (signs only), width <= 16, x_S = src[3S] ? x1 : x0,
   * base_S = src[3S + 1], stride_S = src[3S + 2]: BitLT's radix-4 level, a block's G or P per element from its public
   * pattern, in one pass (protocol/malicious/gemm128.ts blockComb128Kernels). out must not overlap the inputs.
   */
  blockComb128?(out: Uint32Array, x0: Uint32Array, x1: Uint32Array, pat: Uint8Array, coef: Int8Array, width: number, src: Uint32Array, len: number, one: Uint32Array): void;

  /**
   * Rejection sampling for the PRG: consume `raw` bytes in order, appending
   * table[b] to out[filled..] unless table[b] is 255 (rejected), until out is
   * full. Returns the new fill count. `table` has 256 entries.
   */
  rejectSample(raw: Uint8Array, table: Uint8Array, out: Uint8Array, filled: number): number;
}
