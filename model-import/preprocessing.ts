/**
 * The image preprocessing mpc-import records in the bundle manifests
 * (protocol/input-preprocessing.ts), from what the model file says:
 *  1. a Rescaling or Normalization layer reading the model's input, or a Keras 3
 *     constant op scaling it as pixels are scaled (inputs * (1/255): a factor of
 *     at most 1/100), looking through the layers that are identities at
 *     inference (Dropout, GaussianNoise, data augmentation, an identity
 *     Resizing): the model scales (and normalises) itself, so the client sends
 *     raw 0..255 pixels;
 *  2. else the layer names of a known keras.applications family
 *     (MobileNetV2's 'bn_Conv1', VGG's 'block1_conv1', ...): that family's
 *     preprocess_input mode (KERAS_MODES);
 *  3. else x/255, marked as assumed (the file does not say).
 * When the file's input takes any height and width and a Resizing layer reads
 * it, that layer's interpolation is the resize recorded (resizeOfLayer).
 * `--preprocessing` flags (and the older `--scaling`) replace what was inferred.
 * No model file says how its training pipeline read a JPEG's Exif orientation
 * or a 16-bit PNG: withImportDefaults records orientation 'stored' (what every
 * loader a Keras or PyTorch pipeline uses does) and leaves png16 unset (the SDK
 * then refuses 16-bit PNGs); `--preprocessing orientation=exif`, `png16=...` say otherwise.
 */
import { MpcError } from '../protocol/errors.js';
import { checkPreprocessing, defaultPreprocessing, KERAS_MODES, SCALINGS, type InputPreprocessing, type KerasMode, type PixelScaling } from '../protocol/input-preprocessing.js';
import type { KerasGraph, KerasLayer } from './keras-config.js';
import { unsupported } from './layer-args.js';
import { INFERENCE_NO_OPS } from './layer-map.js';

export interface InferredPreprocessing {
  preprocessing: InputPreprocessing;
  /** Where it came from, for the import summary. */
  source: string;
  /** True when nothing in the file said it (the x/255 default). */
  assumed: boolean;
}

/** keras.applications families by layer names that only they use (all names must be present). */
const FAMILIES: { family: string; names: string[]; not?: string[]; mode: KerasMode }[] = [
  { family: 'MobileNetV2', names: ['bn_Conv1', 'expanded_conv_depthwise'], mode: 'tf' },
  { family: 'MobileNet', names: ['conv1_bn', 'conv_dw_1', 'conv_pw_1'], mode: 'tf' },
  { family: 'ResNetV2', names: ['conv1_conv', 'conv2_block1_1_conv', 'post_bn'], mode: 'tf' },
  { family: 'ResNet (v1)', names: ['conv1_conv', 'conv2_block1_1_conv'], not: ['post_bn'], mode: 'caffe' },
  { family: 'InceptionV3', names: ['mixed0', 'mixed1'], mode: 'tf' },
  { family: 'Xception', names: ['block1_conv1_bn', 'block2_sepconv1'], mode: 'tf' },
  { family: 'VGG16/VGG19', names: ['block1_conv1', 'block1_conv2', 'block2_conv1'], not: ['block1_conv1_bn'], mode: 'caffe' },
  { family: 'DenseNet', names: ['conv1/conv', 'conv1/bn'], mode: 'torch' },
];

const withMode = (p: InputPreprocessing, mode: KerasMode): InputPreprocessing => {
  const { mean: _m, std: _s, ...rest } = p;
  return { ...rest, ...structuredClone(KERAS_MODES[mode]) } as InputPreprocessing;
};

/** A Keras 3 op multiplying its one tensor by public numbers whose product scales 0..255 down to at most 2.55 (x * (1/255), x * (1/127.5)). */
function pixelScalingOp(l: KerasLayer): boolean {
  if (l.className !== 'Multiply' || !l.constants?.length || l.inputs.length !== 1) return false;
  const f = Math.abs(l.constants.reduce((a, k) => a * k.value, 1));
  return f > 0 && f <= 0.01;
}

/**
 * The resize of a Resizing layer on the input when the file's input takes any height and width:
 * there the layer, not the client, sizes the image in Keras (with --input-shape at its size it is
 * dropped as an identity), so the client must resize as it does. TF's bilinear without antialias
 * is 'tf-bilinear'; nearest (half-pixel) is Pillow's NEAREST up to ties at exact half-way points;
 * with antialias, Pillow's bilinear is the nearest we have. A crop or pad to the aspect ratio, or
 * another interpolation, is refused: the client would stretch or filter the image otherwise.
 */
function resizeOfLayer(graph: KerasGraph, walked: KerasLayer[]): { resize: InputPreprocessing['resize']; layer: KerasLayer } | undefined {
  const r = walked.find((l) => l.className === 'Resizing');
  const s = graph.inputShape;
  if (!r || (s && s[0] !== null && s[1] !== null)) return undefined;
  const c = r.config;
  for (const k of ['crop_to_aspect_ratio', 'pad_to_aspect_ratio']) {
    if (c[k] === true) throw unsupported(r, `${k} on an input of any size is not supported: the client resizes by stretching the image to the model's input`);
  }
  const interp = String(c['interpolation'] ?? 'bilinear');
  if (interp === 'nearest') return { resize: 'nearest', layer: r };
  if (interp === 'bilinear') return { resize: c['antialias'] === true ? 'bilinear' : 'tf-bilinear', layer: r };
  throw unsupported(r, `interpolation '${interp}' on an input of any size is not supported: the client resizes with bilinear or nearest only`);
}

const isImageInput = (s: readonly number[]): boolean => s.length === 3 && (s[2] === 1 || s[2] === 3);

/** What the file says about its preprocessing; undefined when the input is not an image [H, W, 1|3]. */
export function inferPreprocessing(graph: KerasGraph, inputShape: readonly number[]): InferredPreprocessing | undefined {
  if (!isImageInput(inputShape)) return undefined;
  // Resizing to the input's own size and the inference identities are dropped at conversion; look through them.
  const readers = (name: string): typeof graph.layers => graph.layers.filter((l) => l.inputs.includes(name));
  let first = readers('input');
  const walked: KerasLayer[] = [];
  while (first.length === 1 && (first[0]!.className === 'Resizing' || INFERENCE_NO_OPS.has(first[0]!.className))) {
    walked.push(first[0]!);
    first = readers(first[0]!.name);
  }
  const sized = resizeOfLayer(graph, walked);
  const base: InputPreprocessing = { ...defaultPreprocessing(inputShape), ...(sized ? { resize: sized.resize } : {}) };
  const by = sized ? `; ${sized.resize} resize from its Resizing layer '${sized.layer.kerasName}' (the file's input takes any size)` : '';
  const own = first.find((l) => l.className === 'Rescaling' || l.className === 'Normalization' || pixelScalingOp(l));
  if (own) return { preprocessing: { ...base, scaling: 'raw' }, source: `the model's own ${own.className} layer '${own.kerasName}' (raw 0..255 pixels in)${by}`, assumed: false };
  const names = new Set(graph.layers.map((l) => l.kerasName));
  for (const f of FAMILIES) {
    if (inputShape[2] !== 3) break;
    if (f.names.every((n) => names.has(n)) && !(f.not ?? []).some((n) => names.has(n))) {
      return { preprocessing: withMode(base, f.mode), source: `keras.applications ${f.family} layer names (preprocess_input mode '${f.mode}')${by}`, assumed: false };
    }
  }
  return { preprocessing: base, source: `assumed: the file does not say; pass --preprocessing if the model was trained otherwise${by}`, assumed: true };
}

function bad(msg: string): MpcError {
  return new MpcError('E_BAD_ARGUMENT', msg);
}

const numbers = (v: string, key: string): number[] => {
  const out = v.split(',').map((x) => Number(x.trim()));
  if (v.trim() === '' || !out.every(Number.isFinite)) throw bad(`--preprocessing ${key}=: expected comma-separated numbers, got '${v}'`);
  return out;
};

export const PREPROCESSING_FLAG_HELP = 'tf|caffe|torch|unit|raw|symmetric, or one of scaling=unit|raw|symmetric, color=grayscale|rgb, order=rgb|bgr, mean=M1,M2,M3, std=S1,S2,S3, resize=bilinear|tf-bilinear|nearest, orientation=stored|exif, png16=pillow|high-byte';

/**
 * The Exif orientation mpc-import records when no flag says: 'stored'. Keras's
 * loaders (keras.utils.load_img, ImageDataGenerator.flow_from_directory: PIL's
 * Image.open; image_dataset_from_directory: tf.io.decode_image) and PyTorch's
 * (torchvision's default_loader: PIL; torchvision.io.decode_jpeg: apply_exif_orientation
 * False) all leave a tagged JPEG's pixels as stored, so a model trained through
 * them saw them so. A pipeline that called ImageOps.exif_transpose records
 * `--preprocessing orientation=exif`. Bundles from before the field keep 'exif'
 * (the SDK's behaviour then): the default applies to new imports only.
 */
export const IMPORT_ORIENTATION = 'stored' as const;

/** `p` with the fields no model file says filled in as mpc-import records them (IMPORT_ORIENTATION). */
export function withImportDefaults(p: InputPreprocessing): InputPreprocessing {
  return p.orientation !== undefined ? p : { ...p, orientation: IMPORT_ORIENTATION };
}

/**
 * Apply `--preprocessing` flags, in order, to `base`: a keras.applications
 * mode (tf, caffe, torch: scaling, channel order and mean/std together), a
 * scaling (unit, raw, symmetric), or key=value. The result is checked
 * against the input shape.
 */
export function applyPreprocessingFlags(base: InputPreprocessing, flags: readonly string[], inputShape: readonly number[]): InputPreprocessing {
  let p: InputPreprocessing = structuredClone(base);
  for (const raw of flags) {
    const f = raw.trim();
    const eq = f.indexOf('=');
    if (eq < 0) {
      if (f in KERAS_MODES) p = withMode(p, f as KerasMode);
      else if ((SCALINGS as readonly string[]).includes(f)) p = { ...p, scaling: f as PixelScaling };
      else throw bad(`--preprocessing '${f}': expected ${PREPROCESSING_FLAG_HELP}`);
      continue;
    }
    const key = f.slice(0, eq).trim();
    const v = f.slice(eq + 1).trim();
    switch (key) {
      case 'scaling': p = { ...p, scaling: v as PixelScaling }; break;
      case 'color': case 'colorMode': p = { ...p, colorMode: v as InputPreprocessing['colorMode'] }; break;
      case 'order': case 'channelOrder': p = { ...p, channelOrder: v as InputPreprocessing['channelOrder'] }; break;
      case 'resize': p = { ...p, resize: v as InputPreprocessing['resize'] }; break;
      case 'orientation': p = { ...p, orientation: v as NonNullable<InputPreprocessing['orientation']> }; break;
      case 'png16': p = { ...p, png16: v as NonNullable<InputPreprocessing['png16']> }; break;
      case 'mean': p = { ...p, mean: numbers(v, key) }; break;
      case 'std': p = { ...p, std: numbers(v, key) }; break;
      default: throw bad(`--preprocessing: unknown key '${key}' (expected ${PREPROCESSING_FLAG_HELP})`);
    }
  }
  return checkPreprocessing(p, inputShape, 'E_BAD_ARGUMENT', '--preprocessing');
}
