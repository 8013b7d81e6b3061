/**
 * The models' preprocessing, on the client, as the model records it
 * (ModelInfo.preprocessing, announced by the parties; protocol/input-preprocessing.ts):
 * color conversion to the model's channels (Pillow's convert('L') /
 * convert('RGB')), resize to the model's H x W (Pillow BILINEAR, see
 * resize.ts; or tf.image.resize bilinear / Pillow NEAREST as the model
 * records, protocol/image-resample.ts), channel order, scaling (x/255, x, x/127.5 - 1) and
 * per-channel mean/std, to float32, NHWC without the batch dimension.
 */
import type { ModelInfo } from '../../../protocol/api-contract.js';
import { resizeNearest, resizeTfBilinear } from '../../../protocol/image-resample.js';
import { checkPreprocessing, defaultPreprocessing, pixelsToInput, type InputPreprocessing } from '../../../protocol/input-preprocessing.js';
import { InputError } from '../errors.js';
import { resizeBilinear } from './resize.js';
import type { RawImage } from './types.js';

export interface PreprocessSpec {
  height: number;
  width: number;
  channels: 1 | 3;
  /** The model's recorded preprocessing (default: bilinear, x/255, RGB order). */
  preprocessing: InputPreprocessing;
  /** Explicit override: a multiplier applied to the 0..255 samples instead of the recorded scaling. */
  scale?: number;
}

/** The spec for a model input shape [H, W, C] with C = 1 (grayscale) or 3 (RGB); `scale` replaces the default x/255. */
export function specForInputShape(inputShape: readonly number[], scale?: number, preprocessing?: InputPreprocessing): PreprocessSpec {
  const [h, w, c] = inputShape;
  if (inputShape.length !== 3 || (c !== 1 && c !== 3) || !(h! > 0) || !(w! > 0)) {
    throw new InputError('E_SHAPE', `image input: the model's input shape [${inputShape.join(', ')}] is not [H, W, 1] or [H, W, 3]; pass a preprocessed tensor instead`);
  }
  const p = preprocessing ? checkPreprocessing(preprocessing, inputShape, 'E_MODEL_MISMATCH', 'the model\'s preprocessing') : defaultPreprocessing(inputShape);
  return { height: h!, width: w!, channels: c, preprocessing: p, ...(scale !== undefined ? { scale } : {}) };
}

/** The spec for the model the parties announced: its recorded preprocessing (x/255 when it records none); `scale` is the client's explicit override. */
export function specForModel(model: Pick<ModelInfo, 'inputShape' | 'preprocessing'>, scale?: number): PreprocessSpec {
  return specForInputShape(model.inputShape, scale, model.preprocessing);
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
  const c = convertChannels(img, spec.channels);
  const how = spec.preprocessing.resize;
  const px = how === 'tf-bilinear' ? resizeTfBilinear(c.data, c.width, c.height, c.channels, spec.width, spec.height)
    : how === 'nearest' ? resizeNearest(c.data, c.width, c.height, c.channels, spec.width, spec.height)
    : resizeBilinear(c, spec.width, spec.height).data;
  return pixelsToInput(px, spec.preprocessing, spec.scale);
}
