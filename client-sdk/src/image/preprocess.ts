/**
 * The models' preprocessing, on the client, as the model records it
 * (ModelInfo.preprocessing, announced by the parties; protocol/input-preprocessing.ts):
 * a 16-bit PNG reduced to 8 bits as `png16` says (refused without it), a JPEG's
 * Exif orientation applied unless `orientation` is 'stored', then
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
import { applyOrientation } from './exif.js';
import { resizeBilinear } from './resize.js';
import type { OrientationNote, RawImage } from './types.js';

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

/**
 * A 16-bit PNG's 8-bit samples as the model's training pipeline made them (`png16`):
 * 'pillow', Image.open + convert: a grey PNG opens as I;16 and saturates, min(v, 255)
 * (Pillow's Convert.c I16 -> L / I -> L), colour PNGs unpack the high byte (RGB;16B,
 * RGBA;16B, LA;16B); 'high-byte', v >> 8 (tf.io.decode_png with dtype uint8).
 * Without png16 the image is refused (E_IMAGE_PREPROCESSING): the two differ on
 * every pixel, and an X-ray export is often 16-bit. Other images pass unchanged.
 */
export function reduce16(img: RawImage, p: InputPreprocessing): RawImage {
  const s = img.samples16;
  if (!s) return img;
  if (!p.png16) {
    throw new InputError('E_IMAGE_PREPROCESSING', "image: a 16-bit PNG, and the model does not record how its training pipeline made 8-bit samples of one (Pillow saturates grey at 255 and keeps colour's high byte, TensorFlow's decode_png keeps the high byte); re-import the model with mpc-import --preprocessing png16=pillow|high-byte, or send an 8-bit image", { reason: 'PNG_16BIT' });
  }
  const clip = p.png16 === 'pillow' && img.grey16 === true;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = clip ? Math.min(s[i]!, 255) : s[i]! >>> 8;
  return { width: img.width, height: img.height, channels: img.channels, data: out };
}

/** The pixels the model's pipeline starts from: 8-bit (reduce16), and upright unless the model records `orientation: 'stored'`. */
export function modelPixels(img: RawImage, p: InputPreprocessing): RawImage {
  const eight = reduce16(img, p);
  const o = img.orientation ?? 1;
  return (p.orientation ?? 'exif') === 'exif' && o > 1 ? applyOrientation(eight, o) : eight;
}

/** Per input, the OrientationNote of a decoded image with an Exif orientation tag (null otherwise); undefined when none has one. */
export function orientationNotes(decoded: readonly (RawImage | undefined)[], model: Pick<ModelInfo, 'preprocessing'>): (OrientationNote | null)[] | undefined {
  if (!decoded.some((d) => (d?.orientation ?? 1) > 1)) return undefined;
  const o = model.preprocessing?.orientation;
  return decoded.map((d) => ((d?.orientation ?? 1) > 1 ? { tag: d!.orientation!, applied: (o ?? 'exif') === 'exif', recorded: o !== undefined } : null));
}

/** Decoded image -> model input tensor data (float32, HWC). */
export function preprocessImage(img: RawImage, spec: PreprocessSpec): Float32Array {
  if (!(img.width > 0 && img.height > 0)) throw new InputError('E_SHAPE', `image: empty image (${img.width} x ${img.height})`);
  const c = convertChannels(modelPixels(img, spec.preprocessing), spec.channels);
  const how = spec.preprocessing.resize;
  const px = how === 'tf-bilinear' ? resizeTfBilinear(c.data, c.width, c.height, c.channels, spec.width, spec.height)
    : how === 'nearest' ? resizeNearest(c.data, c.width, c.height, c.channels, spec.width, spec.height)
    : resizeBilinear(c, spec.width, spec.height).data;
  return pixelsToInput(px, spec.preprocessing, spec.scale);
}
