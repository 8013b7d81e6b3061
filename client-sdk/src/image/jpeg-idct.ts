/**
 * libjpeg's "islow" inverse DCT (jidctint.c jpeg_idct_islow, IJG 6b as kept in
 * libjpeg-turbo 2.1; JDCT_ISLOW is Pillow's and Chromium's default) for the SDK's
 * Node JPEG decoder (jpeg-decoder.ts): the same constants (CONST_BITS 13,
 * PASS1_BITS 2, FIX(x) = round(x * 2^13)), the same order of operations and
 * DESCALE (add half, arithmetic shift), the all-zero-AC shortcuts, and the
 * range-limit table of jdmaster.c prepare_range_limit_table indexed with
 * RANGE_MASK (1023), which wraps out-of-range values as libjpeg's C code does:
 * with x the descaled value before the +128 level shift, x & 1023 in [0, 128)
 * gives x + 128, [128, 512) 255, [512, 896) 0, [896, 1024) x - 896.
 *
 * Types as in C: a coefficient is a JCOEF (int16), a quantisation step an
 * ISLOW_MULT_TYPE (int16 of the table's UINT16: jmorecfg.h's MULTIPLIER is
 * short in libjpeg-turbo built WITH_SIMD, as the Debian libjpeg62-turbo under
 * Pillow here is; a build without SIMD, or IJG libjpeg, uses int, where a
 * 16-bit step above 32767 reads as positive: not measured; against Pillow with
 * SIMD off, 0 of 200 files with such steps differ, bench/jpeg-16bit-steps.ts),
 * the workspace int (32-bit), the products JLONG (64-bit on LP64). Doubles hold every JLONG here exactly
 * (|products| < 2^50), Math.floor(x / 2^n) is the arithmetic shift and `| 0`
 * the (int) cast; so a hostile file's huge coefficients wrap as in libjpeg.
 *
 * Not libjpeg-turbo's SIMD islow (Pillow's default on this x86 machine, AVX2):
 * it works in 16-bit lanes and saturates (and in places wraps at 16 bits)
 * instead of going through the table, so it differs from the C code (and from
 * this) when a sample lies more than 384 levels outside 0..255 before the
 * clamp (x >= 512 or x < -512 above); no Pillow-written file of the probe did
 * (client-sdk/README.md "Inputs", bench/preproc-oracle.ts jpeg-quality, which
 * also prints a crafted file where they differ). Other SIMD builds: not measured.
 *
 * Derived from libjpeg (the Independent JPEG Group's software, as kept in
 * libjpeg-turbo): this software is based in part on the work of the Independent
 * JPEG Group; its copyright and no-warranty notice: client-sdk/NOTICE.md.
 */

const CONST_BITS = 13, PASS1_BITS = 2;
const FIX_0_298631336 = 2446, FIX_0_390180644 = 3196, FIX_0_541196100 = 4433, FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373, FIX_1_175875602 = 9633, FIX_1_501321110 = 12299, FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069, FIX_2_053119869 = 16819, FIX_2_562915447 = 20995, FIX_3_072711026 = 25172;
// DESCALE(x, n) = floor((x + 2^(n-1)) * 2^-n): multiplying by a power of two is exact in doubles
const HALF1 = 2 ** (CONST_BITS - PASS1_BITS - 1), INV1 = 2 ** -(CONST_BITS - PASS1_BITS);
const HALF2 = 2 ** (CONST_BITS + PASS1_BITS + 2), INV2 = 2 ** -(CONST_BITS + PASS1_BITS + 3);
const HALF_DC2 = 2 ** (PASS1_BITS + 2), INV_DC2 = 2 ** -(PASS1_BITS + 3);
const CONST_SCALE = 2 ** CONST_BITS, PASS1_SCALE = 2 ** PASS1_BITS;

/** jdmaster.c's post-IDCT range_limit, indexed by (x & 1023) for x the descaled value before the level shift. */
export const RANGE_LIMIT: Uint8Array = (() => {
  const t = new Uint8Array(1024);
  for (let i = 0; i < 1024; i++) t[i] = i < 128 ? i + 128 : i < 512 ? 255 : i < 896 ? 0 : i - 896;
  return t;
})();

const int16 = (x: number): number => (x << 16) >> 16;

/**
 * One 8x8 block: coef (natural order, as decoded: int16 in libjpeg) times qt (natural order, UINT16 read as int16),
 * inverse-transformed into out at offset, row stride `stride`. ws: a 64-entry scratch workspace.
 */
export function idctIslow(coef: Int32Array, qt: Int32Array, ws: Float64Array, out: Uint8Array, offset: number, stride: number): void {
  // Pass 1: columns from the input into the workspace, scaled up by 2^PASS1_BITS.
  for (let c = 0; c < 8; c++) {
    if (coef[8 + c] === 0 && coef[16 + c] === 0 && coef[24 + c] === 0 && coef[32 + c] === 0 && coef[40 + c] === 0 && coef[48 + c] === 0 && coef[56 + c] === 0) {
      const dc = (int16(coef[c]!) * int16(qt[c]!) * PASS1_SCALE) | 0;
      for (let r = 0; r < 64; r += 8) ws[r + c] = dc;
      continue;
    }
    // Even part
    let z2 = int16(coef[16 + c]!) * int16(qt[16 + c]!), z3 = int16(coef[48 + c]!) * int16(qt[48 + c]!);
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065, tmp3 = z1 + z2 * FIX_0_765366865;
    z2 = int16(coef[c]!) * int16(qt[c]!);
    z3 = int16(coef[32 + c]!) * int16(qt[32 + c]!);
    let tmp0 = (z2 + z3) * CONST_SCALE, tmp1 = (z2 - z3) * CONST_SCALE;
    const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
    // Odd part
    tmp0 = int16(coef[56 + c]!) * int16(qt[56 + c]!);
    tmp1 = int16(coef[40 + c]!) * int16(qt[40 + c]!);
    tmp2 = int16(coef[24 + c]!) * int16(qt[24 + c]!);
    tmp3 = int16(coef[8 + c]!) * int16(qt[8 + c]!);
    z1 = tmp0 + tmp3; z2 = tmp1 + tmp2; z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336; tmp1 *= FIX_2_053119869; tmp2 *= FIX_3_072711026; tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223; z2 *= -FIX_2_562915447; z3 *= -FIX_1_961570560; z4 *= -FIX_0_390180644;
    z3 += z5; z4 += z5;
    tmp0 += z1 + z3; tmp1 += z2 + z4; tmp2 += z2 + z3; tmp3 += z1 + z4;
    ws[c] = Math.floor((tmp10 + tmp3 + HALF1) * INV1) | 0;
    ws[56 + c] = Math.floor((tmp10 - tmp3 + HALF1) * INV1) | 0;
    ws[8 + c] = Math.floor((tmp11 + tmp2 + HALF1) * INV1) | 0;
    ws[48 + c] = Math.floor((tmp11 - tmp2 + HALF1) * INV1) | 0;
    ws[16 + c] = Math.floor((tmp12 + tmp1 + HALF1) * INV1) | 0;
    ws[40 + c] = Math.floor((tmp12 - tmp1 + HALF1) * INV1) | 0;
    ws[24 + c] = Math.floor((tmp13 + tmp0 + HALF1) * INV1) | 0;
    ws[32 + c] = Math.floor((tmp13 - tmp0 + HALF1) * INV1) | 0;
  }
  // Pass 2: rows from the workspace to the output, descaled by 2^(CONST_BITS + PASS1_BITS + 3) and range-limited.
  for (let r = 0, o = offset; r < 64; r += 8, o += stride) {
    if (ws[r + 1] === 0 && ws[r + 2] === 0 && ws[r + 3] === 0 && ws[r + 4] === 0 && ws[r + 5] === 0 && ws[r + 6] === 0 && ws[r + 7] === 0) {
      const v = RANGE_LIMIT[Math.floor((ws[r]! + HALF_DC2) * INV_DC2) & 1023]!;
      for (let k = 0; k < 8; k++) out[o + k] = v;
      continue;
    }
    // Even part
    let z2 = ws[r + 2]!, z3 = ws[r + 6]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065, tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (ws[r]! + ws[r + 4]!) * CONST_SCALE, tmp1 = (ws[r]! - ws[r + 4]!) * CONST_SCALE;
    const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
    // Odd part
    tmp0 = ws[r + 7]!; tmp1 = ws[r + 5]!; tmp2 = ws[r + 3]!; tmp3 = ws[r + 1]!;
    z1 = tmp0 + tmp3; z2 = tmp1 + tmp2; z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336; tmp1 *= FIX_2_053119869; tmp2 *= FIX_3_072711026; tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223; z2 *= -FIX_2_562915447; z3 *= -FIX_1_961570560; z4 *= -FIX_0_390180644;
    z3 += z5; z4 += z5;
    tmp0 += z1 + z3; tmp1 += z2 + z4; tmp2 += z2 + z3; tmp3 += z1 + z4;
    out[o] = RANGE_LIMIT[Math.floor((tmp10 + tmp3 + HALF2) * INV2) & 1023]!;
    out[o + 7] = RANGE_LIMIT[Math.floor((tmp10 - tmp3 + HALF2) * INV2) & 1023]!;
    out[o + 1] = RANGE_LIMIT[Math.floor((tmp11 + tmp2 + HALF2) * INV2) & 1023]!;
    out[o + 6] = RANGE_LIMIT[Math.floor((tmp11 - tmp2 + HALF2) * INV2) & 1023]!;
    out[o + 2] = RANGE_LIMIT[Math.floor((tmp12 + tmp1 + HALF2) * INV2) & 1023]!;
    out[o + 5] = RANGE_LIMIT[Math.floor((tmp12 - tmp1 + HALF2) * INV2) & 1023]!;
    out[o + 3] = RANGE_LIMIT[Math.floor((tmp13 + tmp0 + HALF2) * INV2) & 1023]!;
    out[o + 4] = RANGE_LIMIT[Math.floor((tmp13 - tmp0 + HALF2) * INV2) & 1023]!;
  }
}
