/**
 * Bilinear resampling that reproduces Pillow's `Image.resize(size, BILINEAR)`
 * on 8-bit images (libImaging/Resample.c), the preprocessing the models in
 * this project were trained and checked with ("PIL open -> convert(L|RGB) ->
 * resize(HxW, BILINEAR) -> / 255").
 *
 * Pillow's bilinear is a triangle filter whose support grows with the
 * downscale factor (so large X-rays are averaged, not aliased), computed
 * separably: horizontal pass, then vertical pass, each rounding to 8 bits with
 * 22-bit fixed-point coefficients. Steps below follow precompute_coeffs,
 * normalize_coeffs_8bpc and ImagingResampleHorizontal/Vertical_8bpc.
 */
import type { RawImage } from './types.js';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

interface Coeffs {
  /** Per output pixel: first input index and number of taps. */
  min: Int32Array;
  size: Int32Array;
  /** ksize integer coefficients per output pixel. */
  k: Float64Array;
  ksize: number;
}

function bilinearFilter(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

/** Step 1 (precompute_coeffs) and step 2 (normalize_coeffs_8bpc). */
function precompute(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const min = new Int32Array(outSize), size = new Int32Array(outSize);
  const k = new Float64Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bilinearFilter((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? pre[x]! / ww : pre[x]!;
      k[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    min[xx] = xmin;
    size[xx] = xmax;
  }
  return { min, size, k, ksize };
}

function clip8(ss: number): number {
  const v = Math.floor(ss / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Step 3: horizontal pass (ImagingResampleHorizontal_8bpc). */
function horizontal(src: Uint8Array, w: number, h: number, c: number, outW: number): Uint8Array {
  const { min, size, k, ksize } = precompute(w, outW);
  const out = new Uint8Array(outW * h * c);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = min[xx]!, n = size[xx]!, kb = xx * ksize;
      for (let ch = 0; ch < c; ch++) {
        let ss = HALF;
        for (let x = 0; x < n; x++) ss += src[row + (x + xmin) * c + ch]! * k[kb + x]!;
        out[(y * outW + xx) * c + ch] = clip8(ss);
      }
    }
  }
  return out;
}

/** Step 4: vertical pass (ImagingResampleVertical_8bpc). */
function vertical(src: Uint8Array, w: number, h: number, c: number, outH: number): Uint8Array {
  const { min, size, k, ksize } = precompute(h, outH);
  const out = new Uint8Array(w * outH * c);
  const stride = w * c;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = min[yy]!, n = size[yy]!, kb = yy * ksize;
    for (let i = 0; i < stride; i++) {
      let ss = HALF;
      for (let y = 0; y < n; y++) ss += src[(y + ymin) * stride + i]! * k[kb + y]!;
      out[yy * stride + i] = clip8(ss);
    }
  }
  return out;
}

/** Resize an 8-bit image to outW x outH like Pillow's BILINEAR (horizontal pass first; a pass is skipped when that size is unchanged). */
export function resizeBilinear(img: RawImage, outW: number, outH: number): RawImage {
  let data = img.data instanceof Uint8Array ? img.data : new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length);
  let w = img.width;
  if (outW !== img.width) {
    data = horizontal(data, img.width, img.height, img.channels, outW);
    w = outW;
  }
  if (outH !== img.height) data = vertical(data, w, img.height, img.channels, outH);
  return { width: outW, height: outH, channels: img.channels, data };
}
