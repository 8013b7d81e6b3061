/**
 * The model's image preprocessing (`InputPreprocessing` of api-contract.ts) as
 * values: its default, its check, its text, the known Keras application
 * modes, and the per-pixel step (channel order, scaling, mean/std) that the
 * client SDK and mpc-import's agreement report both apply after decoding,
 * colour conversion and resize. No I/O.
 */
import type { InputPreprocessing } from './api-contract.js';
import { MpcError, type ErrorCode } from './errors.js';

export type { InputPreprocessing };
export type PixelScaling = InputPreprocessing['scaling'];

export const SCALINGS: readonly PixelScaling[] = ['unit', 'raw', 'symmetric'];
export const COLOR_MODES: readonly InputPreprocessing['colorMode'][] = ['grayscale', 'rgb'];
/** 'bilinear': Pillow's (antialiased); 'tf-bilinear': tf.image.resize (image_dataset_from_directory); 'nearest': Pillow's NEAREST (keras.utils.load_img). See image-resample.ts. */
export const RESIZE_METHODS: readonly InputPreprocessing['resize'][] = ['bilinear', 'tf-bilinear', 'nearest'];
export const CHANNEL_ORDERS: readonly InputPreprocessing['channelOrder'][] = ['rgb', 'bgr'];
/** A JPEG's Exif orientation: 'exif' turned upright, 'stored' as stored (what PIL, TensorFlow and torchvision loaders give). */
export const ORIENTATIONS: readonly NonNullable<InputPreprocessing['orientation']>[] = ['exif', 'stored'];
/** A 16-bit PNG's reduction to 8 bits: 'pillow' (grey min(v, 255), colour v >> 8), 'high-byte' (v >> 8, tf.io.decode_png uint8). */
export const PNG16_MODES: readonly NonNullable<InputPreprocessing['png16']>[] = ['pillow', 'high-byte'];

/**
 * keras.applications' `preprocess_input` modes (keras/src/applications/imagenet_utils.py):
 * 'tf' x/127.5 - 1 (MobileNet, MobileNetV2, ResNetV2, Inception, Xception);
 * 'caffe' RGB -> BGR, minus the ImageNet mean in BGR order, no scaling (VGG, ResNet v1);
 * 'torch' x/255, minus the ImageNet mean, divided by its std (DenseNet).
 */
export const KERAS_MODES = {
  tf: { scaling: 'symmetric', channelOrder: 'rgb' },
  caffe: { scaling: 'raw', channelOrder: 'bgr', mean: [103.939, 116.779, 123.68] },
  torch: { scaling: 'unit', channelOrder: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
} as const satisfies Record<string, Partial<InputPreprocessing>>;

export type KerasMode = keyof typeof KERAS_MODES;

/** What a model without a recorded preprocessing gets: colour by the input's channels, bilinear, x/255. */
export function defaultPreprocessing(inputShape: readonly number[]): InputPreprocessing {
  return { colorMode: inputShape[2] === 1 ? 'grayscale' : 'rgb', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' };
}

const channelsOf = (p: InputPreprocessing): 1 | 3 => (p.colorMode === 'grayscale' ? 1 : 3);

const FIELDS = ['colorMode', 'resize', 'scaling', 'channelOrder', 'mean', 'std', 'orientation', 'png16'];

/**
 * A checked copy of `p` for a model input [H, W, C]; `code` is the error
 * code to refuse with (E_BAD_ARGUMENT at import, E_BUNDLE_INTEGRITY at load,
 * E_MODEL_MISMATCH in the SDK). Messages name the field, never image data.
 */
export function checkPreprocessing(p: unknown, inputShape: readonly number[], code: ErrorCode = 'E_BAD_ARGUMENT', what = 'preprocessing'): InputPreprocessing {
  const bad = (msg: string): never => { throw new MpcError(code, `${what}: ${msg}`); };
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return bad('must be an object');
  const o = p as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) bad(`unknown field '${k}'`);
  const oneOf = <T extends string>(k: string, allowed: readonly T[]): T => (allowed.includes(o[k] as T) ? (o[k] as T) : bad(`${k} must be ${allowed.join(' or ')}, got ${JSON.stringify(o[k])}`));
  const out: InputPreprocessing = {
    colorMode: oneOf('colorMode', COLOR_MODES),
    resize: oneOf('resize', RESIZE_METHODS),
    scaling: oneOf('scaling', SCALINGS),
    channelOrder: oneOf('channelOrder', CHANNEL_ORDERS),
  };
  const c = channelsOf(out);
  if (inputShape.length !== 3 || inputShape[2] !== c) bad(`colorMode ${out.colorMode} needs a model input [H, W, ${c}], the model takes [${inputShape.join(', ')}]`);
  if (out.channelOrder === 'bgr' && c === 1) bad('channelOrder bgr needs colorMode rgb');
  for (const k of ['mean', 'std'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.length !== c || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`${k} must list ${c} finite number${c > 1 ? 's' : ''} (one per channel)`);
    if (k === 'std' && !(v as number[]).every((x) => x > 0)) bad('std must be > 0');
    out[k] = (v as number[]).slice();
  }
  // Optional, absent in older bundles: absent orientation is 'exif', absent png16 refuses 16-bit PNGs.
  if (o['orientation'] !== undefined) out.orientation = oneOf('orientation', ORIENTATIONS);
  if (o['png16'] !== undefined) out.png16 = oneOf('png16', PNG16_MODES);
  return out;
}

/** E.g. "RGB, bilinear resize, x/127.5 - 1" or "RGB as BGR, bilinear resize, x (0..255), minus mean [103.939, 116.779, 123.68]". */
export function describePreprocessing(p: InputPreprocessing): string {
  const scale = p.scaling === 'unit' ? 'x/255' : p.scaling === 'raw' ? 'x (0..255)' : 'x/127.5 - 1';
  const parts = [p.colorMode === 'grayscale' ? 'grayscale' : p.channelOrder === 'bgr' ? 'RGB as BGR' : 'RGB', `${p.resize} resize`, scale];
  if (p.mean) parts.push(`minus mean [${p.mean.join(', ')}]`);
  if (p.std) parts.push(`divided by std [${p.std.join(', ')}]`);
  // 'stored' (what mpc-import records by default) is left out, as Pillow's and TensorFlow's loaders do it silently too.
  if (p.orientation === 'exif') parts.push('Exif orientation applied');
  if (p.png16) parts.push(`16-bit PNG as ${p.png16 === 'pillow' ? "Pillow's" : 'high byte'}`);
  return parts.join(', ');
}

/**
 * Resized 8-bit pixels (HWC, `channels` = the model's, in RGB order) -> the
 * model's float input: channel order, then scaling (or `scaleOverride`, a
 * multiplier replacing the recorded scaling), then (x - mean[c]) / std[c].
 */
export function pixelsToInput(px: ArrayLike<number>, p: InputPreprocessing, scaleOverride?: number): Float32Array {
  const c = channelsOf(p);
  if (px.length % c !== 0) throw new MpcError('E_SHAPE', `preprocessing: ${px.length} samples is not a multiple of ${c} channels`);
  const scale = scaleOverride !== undefined ? (x: number) => x * scaleOverride
    : p.scaling === 'unit' ? (x: number) => x / 255
    : p.scaling === 'symmetric' ? (x: number) => x / 127.5 - 1
    : (x: number) => x;
  const bgr = p.channelOrder === 'bgr' && c === 3;
  const out = new Float32Array(px.length);
  for (let i = 0; i < px.length; i += c) for (let k = 0; k < c; k++) out[i + k] = scale(px[i + (bgr ? 2 - k : k)]!);
  if (p.mean || p.std) {
    const mean = p.mean ?? new Array<number>(c).fill(0);
    const std = p.std ?? new Array<number>(c).fill(1);
    for (let i = 0; i < out.length; i++) out[i] = (out[i]! - mean[i % c]!) / std[i % c]!;
  }
  return out;
}

/**
 * The range of each channel of the model's input that `p` can produce from
 * 8-bit pixels 0..255 (channel order, scaling, then (x - mean[c]) / std[c]),
 * per channel of the model's input: lo[c] <= input <= hi[c]. The importer's
 * sound range bound (model-import/static-bounds.ts) starts from it, and the
 * SDK refuses a raw tensor outside it (client-sdk/src/input-range.ts).
 */
export function inputBoundsOf(p: InputPreprocessing): { lo: number[]; hi: number[] } {
  const c = channelsOf(p);
  const [s0, s1] = p.scaling === 'unit' ? [0, 1] : p.scaling === 'symmetric' ? [-1, 1] : [0, 255];
  const lo: number[] = [], hi: number[] = [];
  for (let k = 0; k < c; k++) {
    const m = p.mean?.[k] ?? 0, s = p.std?.[k] ?? 1;
    lo.push((s0 - m) / s);
    hi.push((s1 - m) / s);
  }
  return { lo, hi };
}
