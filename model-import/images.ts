/**
 * Sample images for the agreement report: PNG (pngjs) and JPEG (the client
 * SDK's decoder, decodeJpegNode of client-sdk/src/image/decode-node.ts: jpeg-js's
 * decoder with libjpeg's islow IDCT, chroma upsampling and colour conversion, baseline and
 * progressive; the layouts it cannot decode as Pillow does are refused with
 * E_IMAGE_PREPROCESSING, reason JPEG_LAYOUT) decoding, then the preprocessing the fixtures'
 * golden files used (Pillow): convert to L (ITU-R 601-2 luma, Pillow's
 * fixed-point formula) or RGB, resize with Pillow's antialiased bilinear
 * filter (8-bit result after each pass) unless the model records another
 * resize (protocol/image-resample.ts), then scale. As the SDK does: a JPEG's
 * Exif orientation applied only when the model records `orientation: 'exif'`
 * (protocol/image-orientation.ts), a 16-bit PNG reduced as its `png16` says
 * and refused without it (E_IMAGE_PREPROCESSING).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { decodeJpegNode } from '../client-sdk/src/image/decode-node.js';
import { pngExifOrientation } from '../client-sdk/src/image/png.js';
import { MpcError } from '../protocol/errors.js';
import { applyOrientation, jpegOrientation } from '../protocol/image-orientation.js';
import { resizeNearest, resizeTfBilinear } from '../protocol/image-resample.js';
import { checkPreprocessing, defaultPreprocessing, pixelsToInput, type InputPreprocessing, type PixelScaling } from '../protocol/input-preprocessing.js';

export type { PixelScaling };

export interface RgbImage {
  width: number;
  height: number;
  /** RGB, 3 bytes per pixel, row-major. */
  data: Uint8Array;
}


const IMAGE_EXT = /\.(png|jpe?g)$/i;

/**
 * A 16-bit PNG's samples to 8 bits as the model's `png16` says (the SDK's reduce16 of
 * client-sdk/src/image/preprocess.ts: 'pillow' saturates grey, colour type 0, at 255 and keeps
 * the high byte of colour; 'high-byte' v >> 8); refused without png16.
 */
function reduce16(data: Uint8Array, grey: boolean, png16: InputPreprocessing['png16'], name: string): Uint8Array {
  if (!png16) throw new MpcError('E_IMAGE_PREPROCESSING', `image ${name}: a 16-bit PNG, and the recorded preprocessing does not say how the training pipeline reduced it to 8 bits; pass --preprocessing png16=pillow|high-byte, or 8-bit samples`, { step: 'import.samples' });
  const s = new Uint16Array(data.buffer, data.byteOffset, data.byteLength >> 1);
  const clip = png16 === 'pillow' && grey;
  return Uint8Array.from(s, (v) => (clip ? Math.min(v, 255) : v >>> 8));
}

/**
 * Decode a PNG or JPEG to RGB; with `prep`, a 16-bit PNG as it records; the Exif orientation applied unless it records
 * 'stored' (a record without the field means 'exif', as in the SDK: bundles from before the field).
 */
export function decodeImage(bytes: Uint8Array, name = 'image', prep?: InputPreprocessing): RgbImage {
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50) {
      const wide = prep !== undefined && bytes[24] === 16; // IHDR bit depth (after the signature, the chunk head, width and height); without prep: pngjs's rounding
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), wide ? { skipRescale: true } : {});
      const rgba = wide ? reduce16(png.data, bytes[25] === 0, prep.png16, name) : png.data;
      const data = new Uint8Array(png.width * png.height * 3);
      for (let i = 0; i < png.width * png.height; i++) {
        data[3 * i] = rgba[4 * i]!;
        data[3 * i + 1] = rgba[4 * i + 1]!;
        data[3 * i + 2] = rgba[4 * i + 2]!;
      }
      // A PNG's Exif orientation (eXIf, raw profile or XMP, as Pillow reads it: the SDK's png.ts) turns it as a JPEG's does
      const dims = { width: png.width, height: png.height, channels: 3 as const, data };
      const up = (prep?.orientation ?? 'exif') === 'exif' ? applyOrientation(dims, pngExifOrientation(bytes)) : dims;
      return { width: up.width, height: up.height, data: up.data };
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      // The SDK's JPEG decoder (libjpeg's upsampling and colour conversion; refuses what it cannot match), so the
      // agreement report and precision checks see the pixels the SDK sends
      const img = decodeJpegNode(bytes);
      const rgb = img.channels === 3 ? Uint8Array.from(img.data) : Uint8Array.from({ length: img.width * img.height * 3 }, (_, i) => img.data[Math.floor(i / 3)]!);
      const dims = { width: img.width, height: img.height, channels: 3 as const, data: rgb };
      const up = (prep?.orientation ?? 'exif') === 'exif' ? applyOrientation(dims, jpegOrientation(bytes)) : dims;
      return { width: up.width, height: up.height, data: up.data };
    }
    throw new Error('not a PNG or JPEG');
  } catch (e) {
    if (e instanceof MpcError) throw e;
    throw new MpcError('E_BAD_ARGUMENT', `image ${name}: cannot decode (${e instanceof Error ? e.message : 'decode failed'})`, { cause: e });
  }
}

/** Pillow's convert('L'): (19595 R + 38470 G + 7471 B + 2^15) >> 16. */
export function toGray(img: RgbImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  const d = img.data;
  for (let i = 0; i < n; i++) out[i] = (d[3 * i]! * 19595 + d[3 * i + 1]! * 38470 + d[3 * i + 2]! * 7471 + 0x8000) >>> 16;
  return out;
}

function toRgb(img: RgbImage): Uint8Array {
  return img.data;
}

/** Pillow's resampling coefficients for the bilinear (triangle) filter along one axis. */
function coefficients(inSize: number, outSize: number): { lo: Int32Array; n: Int32Array; w: Float64Array; k: number } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 1 * filterscale;
  const k = Math.ceil(support) * 2 + 1;
  const lo = new Int32Array(outSize);
  const n = new Int32Array(outSize);
  const w = new Float64Array(outSize * k);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const v = t < 1 ? 1 - t : 0;
      w[xx * k + x] = v;
      total += v;
    }
    // Pillow normalises, then stores 8-bit coefficients as fixed point with 22 fractional bits.
    for (let x = 0; x < xmax; x++) w[xx * k + x] = Math.trunc(0.5 + (total !== 0 ? w[xx * k + x]! / total : w[xx * k + x]!) * PRECISION);
    lo[xx] = xmin;
    n[xx] = xmax;
  }
  return { lo, n, w, k };
}

const PRECISION = 2 ** 22;
/** Pillow's clip8: round the fixed-point sum (half up) and clamp to 0..255. */
const clip8 = (acc: number): number => {
  const v = Math.floor((acc + PRECISION / 2) / PRECISION);
  return v <= 0 ? 0 : v >= 255 ? 255 : v;
};

/** Resize interleaved 8-bit channels like Pillow's Image.resize(BILINEAR): horizontal pass, then vertical. */
export function resize(src: Uint8Array, w: number, h: number, ch: number, outW: number, outH: number): Uint8Array {
  let cur = src;
  let cw = w;
  if (outW !== w) {
    const cf = coefficients(w, outW);
    const tmp = new Uint8Array(outW * h * ch);
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < outW; xx++)
        for (let c = 0; c < ch; c++) {
          let s = 0;
          for (let x = 0; x < cf.n[xx]!; x++) s += cur[(y * cw + cf.lo[xx]! + x) * ch + c]! * cf.w[xx * cf.k + x]!;
          tmp[(y * outW + xx) * ch + c] = clip8(s);
        }
    cur = tmp;
    cw = outW;
  }
  if (outH !== h) {
    const cf = coefficients(h, outH);
    const tmp = new Uint8Array(cw * outH * ch);
    for (let yy = 0; yy < outH; yy++)
      for (let x = 0; x < cw; x++)
        for (let c = 0; c < ch; c++) {
          let s = 0;
          for (let y = 0; y < cf.n[yy]!; y++) s += cur[((cf.lo[yy]! + y) * cw + x) * ch + c]! * cf.w[yy * cf.k + y]!;
          tmp[(yy * cw + x) * ch + c] = clip8(s);
        }
    cur = tmp;
  }
  return cur === src ? src.slice() : cur;
}

/**
 * The preprocessing to apply: a full InputPreprocessing (checked against the
 * input shape), or only a scaling with the default colour, resize and order.
 */
export function toPreprocessing(p: PixelScaling | InputPreprocessing, inputShape: readonly number[]): InputPreprocessing {
  return typeof p === 'string' ? { ...defaultPreprocessing(inputShape), scaling: p } : checkPreprocessing(p, inputShape);
}

/** Decode, convert and resize one image to a model input [H, W, C] (C = 1 or 3), then scale / normalise as `prep` says. */
export function imageToInput(bytes: Uint8Array, inputShape: number[], prep: PixelScaling | InputPreprocessing, name = 'image'): Float32Array {
  if (inputShape.length !== 3 || (inputShape[2] !== 1 && inputShape[2] !== 3)) {
    throw new MpcError('E_BAD_ARGUMENT', `images need a model input of shape [H, W, 1|3], got [${inputShape}]`);
  }
  const p = toPreprocessing(prep, inputShape);
  const [H, W, C] = inputShape as [number, number, number];
  const img = decodeImage(bytes, name, p);
  const src = C === 1 ? toGray(img) : toRgb(img);
  // The model's resize (protocol/image-resample.ts for the two Keras pipelines; Pillow's bilinear here, as in the SDK).
  const px = p.resize === 'tf-bilinear' ? resizeTfBilinear(src, img.width, img.height, C, W, H)
    : p.resize === 'nearest' ? resizeNearest(src, img.width, img.height, C, W, H)
    : resize(src, img.width, img.height, C, W, H);
  return pixelsToInput(px, p);
}

/** Image files from a list of files and/or directories (searched recursively), sorted. */
export function listImages(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(path.join(p, e));
    else if (IMAGE_EXT.test(p)) out.push(p);
  };
  for (const p of paths) walk(path.resolve(p));
  return out;
}

export function readImageInput(file: string, inputShape: number[], prep: PixelScaling | InputPreprocessing): Float32Array {
  return imageToInput(readFileSync(file), inputShape, prep, path.basename(file));
}
