/**
 * libjpeg(-turbo)'s chroma upsampling and YCbCr -> RGB for Node's JPEG
 * decode (jpeg-decoder.ts, jpeg-js's decoder with libjpeg's IDCT), so that a colour JPEG gives Pillow's pixels (and Chromium's: both
 * decode with libjpeg-turbo's defaults) instead of jpeg-js's.
 *
 * jpeg-js replicates each subsampled chroma sample (box upsampling) and
 * converts with float coefficients truncated to 8 bits; libjpeg's default is
 * "fancy" upsampling (a triangle filter, jdsample.c h2v1_fancy_upsample /
 * h2v2_fancy_upsample) and table-driven integer conversion (jdcolor.c
 * ycc_rgb_convert). On a 4:2:0 JPEG the two differed by up to 101 levels per
 * channel (bench/preproc-oracle.ts against Pillow 9.4, seed 7), on 4:4:4 by 3.
 *
 * How: jpeg-js decodes with colorTransform false (its YCbCr, chroma box-
 * upsampled: chroma sample (cx, cy) sits at full-resolution (cx*h, cy*v)), the
 * chroma planes are read back from it, upsampled as libjpeg does and converted
 * as libjpeg does. Only 3 components in libjpeg's YCbCr, luma sampling 1x1,
 * 2x1, 2x2 (the layouts Pillow writes), 1x2 (4:4:0) or 4x1 (4:1:1), chroma 1x1 (an Adobe APP14 segment is cut out first: jpeg-js would force its
 * own transform). jpeg-markers.ts tells these from the layouts the SDK refuses.
 * The samples come from the SDK's copy of jpeg-js's decoder with libjpeg's
 * islow IDCT (jpeg-decoder.ts, jpeg-idct.ts), so the whole path is libjpeg's.
 *
 * Derived from libjpeg (the Independent JPEG Group's software, as kept in
 * libjpeg-turbo): this software is based in part on the work of the Independent
 * JPEG Group; its copyright and no-warranty notice: client-sdk/NOTICE.md.
 */

/** One chroma plane (k = 1 Cb, 2 Cr) of jpeg-js's box-upsampled YCbCr: sample (cx, cy) at (cx*h, cy*v). */
function plane(ycc: Uint8Array, w: number, k: number, cw: number, ch: number, h: number, v: number): Uint8Array {
  const p = new Uint8Array(cw * ch);
  for (let cy = 0; cy < ch; cy++) for (let cx = 0; cx < cw; cx++) p[cy * cw + cx] = ycc[(cy * v * w + cx * h) * 3 + k]!;
  return p;
}

/** jdsample.c h2v1_fancy_upsample on one row: 3/4 nearer + 1/4 further, biases 1 and 2; edges replicate. */
function h2v1Row(src: Uint8Array, s: number, cw: number, out: Int32Array): void {
  out[0] = src[s]!;
  out[1] = (src[s]! * 3 + src[s + 1]! + 2) >> 2;
  for (let i = 1; i < cw - 1; i++) {
    const c = src[s + i]! * 3;
    out[2 * i] = (c + src[s + i - 1]! + 1) >> 2;
    out[2 * i + 1] = (c + src[s + i + 1]! + 2) >> 2;
  }
  const last = src[s + cw - 1]!;
  out[2 * cw - 2] = (last * 3 + src[s + cw - 2]! + 1) >> 2;
  out[2 * cw - 1] = last;
}

/** jdsample.c h1v2_fancy_upsample (libjpeg-turbo 2.x, 4:4:0): 3/4 nearer row + 1/4 further row (edge rows replicated), bias 1 above, 2 below. */
function h1v2Row(p: Uint8Array, cw: number, ch: number, cy: number, below: boolean, out: Int32Array): void {
  const r0 = cy * cw, r1 = Math.min(ch - 1, Math.max(0, below ? cy + 1 : cy - 1)) * cw, bias = below ? 2 : 1;
  for (let i = 0; i < cw; i++) out[i] = (p[r0 + i]! * 3 + p[r1 + i]! + bias) >> 2;
}

/** jdsample.c h2v2_fancy_upsample: column sums 3 * nearer row + further row (edge rows replicated), then 3/4 + 1/4 across, biases 8 and 7. */
function h2v2Rows(p: Uint8Array, cw: number, ch: number, cy: number, below: boolean, out: Int32Array): void {
  const r0 = cy * cw, r1 = Math.min(ch - 1, Math.max(0, below ? cy + 1 : cy - 1)) * cw;
  let thisS = p[r0]! * 3 + p[r1]!, nextS = p[r0 + 1]! * 3 + p[r1 + 1]!, lastS = thisS;
  out[0] = (thisS * 4 + 8) >> 4;
  out[1] = (thisS * 3 + nextS + 7) >> 4;
  lastS = thisS; thisS = nextS;
  for (let i = 1; i < cw - 1; i++) {
    nextS = p[r0 + i + 1]! * 3 + p[r1 + i + 1]!;
    out[2 * i] = (thisS * 3 + lastS + 8) >> 4;
    out[2 * i + 1] = (thisS * 3 + nextS + 7) >> 4;
    lastS = thisS; thisS = nextS;
  }
  out[2 * cw - 2] = (thisS * 3 + lastS + 8) >> 4;
  out[2 * cw - 1] = (thisS * 4 + 7) >> 4;
}

/** jdcolor.c build_ycc_rgb_table: 16-bit fixed point, FIX(x) = round(x * 2^16). */
const FIX = (x: number): number => Math.round(x * 65536);
const CR_R = new Int32Array(256), CB_B = new Int32Array(256), CR_G = new Int32Array(256), CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (FIX(1.402) * x + 32768) >> 16;
  CB_B[i] = (FIX(1.772) * x + 32768) >> 16;
  CR_G[i] = -FIX(0.71414) * x;
  CB_G[i] = -FIX(0.34414) * x + 32768;
}
const clamp = (x: number): number => (x < 0 ? 0 : x > 255 ? 255 : x);

/**
 * jpeg-js's YCbCr (3 channels, chroma box-upsampled from luma factors h x v) -> libjpeg's RGB,
 * upsampled as jdsample.c jinit_upsampler chooses: 2x1 and 2x2 fancy when the chroma plane is
 * wider than 2 samples (replication otherwise, as jpeg-js does), 1x2 (4:4:0) fancy always,
 * 4x1 (4:1:1) replication (int_upsample); then ycc_rgb_convert.
 */
export function libjpegRgb(ycc: Uint8Array, w: number, hgt: number, h: 1 | 2 | 4, v: 1 | 2): Uint8Array {
  const cw = Math.ceil(w / h), ch = Math.ceil(hgt / v);
  const fancy = (h === 2) && cw > 2;
  const cbP = plane(ycc, w, 1, cw, ch, h, v), crP = plane(ycc, w, 2, cw, ch, h, v);
  const out = new Uint8Array(w * hgt * 3);
  const cbRow = new Int32Array(cw * h), crRow = new Int32Array(cw * h);
  const upsample = (p: Uint8Array, r: Int32Array, y: number, cy: number): void => {
    if (h === 1 && v === 2) h1v2Row(p, cw, ch, cy, (y & 1) === 1, r);
    else if (!fancy) { for (let x = 0; x < w; x++) r[x] = p[cy * cw + Math.floor(x / h)]!; }
    else if (v === 1) h2v1Row(p, cy * cw, cw, r);
    else h2v2Rows(p, cw, ch, cy, (y & 1) === 1, r);
  };
  for (let y = 0; y < hgt; y++) {
    const cy = v === 2 ? y >> 1 : y;
    upsample(cbP, cbRow, y, cy);
    upsample(crP, crRow, y, cy);
    for (let x = 0, i = y * w * 3; x < w; x++, i += 3) {
      const Y = ycc[i]!, cb = cbRow[x]!, cr = crRow[x]!;
      out[i] = clamp(Y + CR_R[cr]!);
      out[i + 1] = clamp(Y + ((CB_G[cb]! + CR_G[cr]!) >> 16));
      out[i + 2] = clamp(Y + CB_B[cb]!);
    }
  }
  return out;
}
