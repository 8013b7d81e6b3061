/**
 * The models' preprocessing, on the client: color conversion to the model's
 * channels (Pillow's convert('L') / convert('RGB')), bilinear resize to the
 * model's H x W (Pillow BILINEAR, see resize.ts), then scale (1/255 by
 * default) to float32, NHWC without the batch dimension.
 */
import { InputError } from '../errors.js';
import { resizeBilinear } from './resize.js';
import type { RawImage } from './types.js';

export interface PreprocessSpec {
  height: number;
  width: number;
  channels: 1 | 3;
  /** Multiplier applied to the 0..255 samples (default 1/255). */
  scale: number;
}

/** The spec for a model input shape [H, W, C] with C = 1 (grayscale) or 3 (RGB). */
export function specForInputShape(inputShape: readonly number[], scale = 1 / 255): PreprocessSpec {
  const [h, w, c] = inputShape;
  if (inputShape.length !== 3 || (c !== 1 && c !== 3) || !(h! > 0) || !(w! > 0)) {
    throw new InputError('E_SHAPE', `image input: the model's input shape [${inputShape.join(', ')}] is not [H, W, 1] or [H, W, 3]; pass a preprocessed tensor instead`);
  }
  return { height: h!, width: w!, channels: c, scale };
}

/** Pillow's convert: 'L' uses L = (19595 R + 38470 G + 7471 B + 2^15) >> 16; 'RGB' replicates gray and drops alpha. */
export function convertChannels(img: RawImage, channels: 1 | 3): RawImage {
  const n = img.width * img.height, c = img.channels, src = img.data;
  if (c === channels) return img;
  const out = new Uint8Array(n * channels);
  if (channels === 1) {
    for (let i = 0; i < n; i++) {
      const r = src[i * c]!, g = src[i * c + 1]!, b = src[i * c + 2]!;
      out[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
    }
  } else if (c === 1) {
    for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = src[i]!;
  } else {
    for (let i = 0; i < n; i++) { out[3 * i] = src[i * c]!; out[3 * i + 1] = src[i * c + 1]!; out[3 * i + 2] = src[i * c + 2]!; }
  }
  return { width: img.width, height: img.height, channels, data: out };
}

/** Decoded image -> model input tensor data (float32, HWC). */
export function preprocessImage(img: RawImage, spec: PreprocessSpec): Float32Array {
  if (!(img.width > 0 && img.height > 0)) throw new InputError('E_SHAPE', `image: empty image (${img.width} x ${img.height})`);
  const resized = resizeBilinear(convertChannels(img, spec.channels), spec.width, spec.height);
  const out = new Float32Array(resized.data.length);
  for (let i = 0; i < out.length; i++) out[i] = resized.data[i]! * spec.scale;
  return out;
}
