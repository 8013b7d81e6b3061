/**
 * Model files -> float IR. The format is recognised from the bytes, not the
 * extension: HDF5 signature (legacy Keras .h5), zip (Keras 3 .keras), a
 * JSON object (TF.js Layers model.json with its shards), or an ONNX
 * protobuf ModelProto (onnx/: PyTorch's torch.onnx.export).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MpcError } from '../protocol/errors.js';
import type { FloatTensor, ModelIR, OutputActivation } from '../protocol/ir.js';
import { convertGraph, type ConvertOptions } from './convert.js';
import { hasHdf5Magic, openH5 } from './h5.js';
import { parseJson, type KerasLayer } from './keras-config.js';
import { inferPreprocessing, type InferredPreprocessing } from './preprocessing.js';
import { readLegacyH5, readModelConfig } from './read-h5.js';
import { readKeras3 } from './read-keras3.js';
import { readTfjs } from './read-tfjs.js';
import { loadOnnx } from './onnx/load.js';
import { looksLikeOnnx } from './onnx/read.js';

export type SourceFormat = 'keras-h5' | 'keras-v3' | 'tfjs-layers' | 'onnx';

export interface LoadOptions extends ConvertOptions {
  /**
   * For a weights-only .h5 (`save_weights`): a full model file (.h5 with
   * model_config) or a JSON model config to take the architecture from.
   */
  configFrom?: string;
  /**
   * What the client applies to the logits of a file that ends in logits
   * (ONNX exports from PyTorch, whose softmax / sigmoid lives in the loss):
   * 'softmax' for one class among several, 'sigmoid' for independent labels
   * (CheXNet). Refused when the file ends in another activation.
   */
  outputActivation?: string;
}

const OUTPUT_ACTIVATIONS: readonly OutputActivation[] = ['linear', 'softmax', 'sigmoid'];

/** Apply LoadOptions.outputActivation to a converted IR (E_BAD_ARGUMENT when it contradicts the file). */
function withOutputActivation(ir: ModelIR<FloatTensor>, a: string | undefined): ModelIR<FloatTensor> {
  if (a === undefined) return ir;
  if (!(OUTPUT_ACTIVATIONS as readonly string[]).includes(a)) throw new MpcError('E_BAD_ARGUMENT', `--output-activation must be softmax, sigmoid or linear, got '${a}'`);
  if (ir.outputActivation !== 'linear' && ir.outputActivation !== a) throw new MpcError('E_BAD_ARGUMENT', `--output-activation ${a}: the model file already ends in ${ir.outputActivation}`);
  return { ...ir, outputActivation: a as OutputActivation };
}

/**
 * A model.json written by tfjs-layers itself: keras_version 'tfjs-layers x.y', or, where keras_version is absent,
 * the generatedBy that read-tfjs.ts falls back to ('TensorFlow.js tfjs-layers vx.y'). A model converted from Keras
 * has keras_version 'x.y.z' (generatedBy 'keras vx.y.z').
 */
const writtenByTfjsLayers = (v: string | undefined): boolean => v !== undefined && /(^|\s)tfjs-layers\b/.test(v);

/**
 * A model.json written by tfjs-layers itself (keras_version 'tfjs-layers x.y', trained or built in
 * TF.js, not converted from Keras): its bilinear UpSampling2D resizes without half-pixel centres,
 * where Keras's tf.image.resize (and the IR's upsampling2d) uses them. Serving it would give other
 * values than the model was trained with: refused, naming the layer.
 */
function refuseTfjsBilinear(ir: ModelIR<FloatTensor>, kerasVersion: string | undefined): void {
  if (!writtenByTfjsLayers(kerasVersion)) return;
  const n = ir.nodes.find((x) => x.kind === 'upsampling2d' && x.interpolation === 'bilinear');
  if (n) throw new MpcError('E_UNSUPPORTED_LAYER', `layer '${n.name}' (UpSampling2D): interpolation 'bilinear' in a model written by ${kerasVersion}: tfjs-layers resizes without half-pixel centres, Keras and this importer with them, so the secure model would not compute what it was trained with (nearest, or a model converted from Keras, is supported)`, { step: 'import.convert' });
}

/**
 * tfjs-layers 4.x's DepthwiseConv2D layer ignores its dilationRate (its call() passes none to the op), where Keras
 * applies it: a model.json written by tfjs-layers with a dilated DepthwiseConv2D computed without the dilation, and
 * serving it dilated would not compute what it was trained with. Refused, naming the layer (one converted from Keras
 * imports with the dilation; tfjs-layers' Conv2D and SeparableConv2D apply theirs).
 */
function refuseTfjsDepthwiseDilation(graph: { layers: readonly KerasLayer[] }, kerasVersion: string | undefined): void {
  if (!writtenByTfjsLayers(kerasVersion)) return;
  const L = graph.layers.find((l) => l.className === 'DepthwiseConv2D' && [l.config['dilation_rate']].flat().some((d) => d !== undefined && d !== null && d !== 1));
  if (L) throw new MpcError('E_UNSUPPORTED_LAYER', `layer '${L.name}' (DepthwiseConv2D): dilation_rate ${JSON.stringify(L.config['dilation_rate'])} in a model written by ${kerasVersion}: tfjs-layers' DepthwiseConv2D ignores its dilation, Keras and this importer apply it, so the secure model would not compute what it was trained with (a model converted from Keras is supported)`, { step: 'import.convert' });
}

export interface LoadedModel {
  ir: ModelIR<FloatTensor>;
  format: SourceFormat;
  /** Hex sha256 of the source bytes (model.json followed by its shards for TF.js). */
  sourceHash: string;
  sourceFile: string;
  kerasVersion?: string;
  /** ONNX: the default-domain opset and the producer (e.g. 'pytorch 1.13.0'). */
  onnx?: { opset: number; producer: string };
  /** The image preprocessing the file says (or the assumed x/255); absent when the input is not an image. */
  preprocessing?: InferredPreprocessing;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new MpcError('E_MODEL_FORMAT', `model file: cannot read ${path.basename(file)}`, { step: 'import.parse', cause: e });
  }
}

async function configFromFile(file: string): Promise<unknown> {
  const bytes = readBytes(file);
  if (hasHdf5Magic(bytes.subarray(0, 4096))) {
    const f = await openH5(file, 'config file');
    try {
      const cfg = readModelConfig(f);
      if (cfg === undefined) throw new MpcError('E_MODEL_FORMAT', `config file: ${path.basename(file)} has no model_config`, { step: 'import.parse' });
      return cfg;
    } finally {
      f.close();
    }
  }
  return parseJson(bytes.toString('utf8'), 'config file');
}

/** Load a Keras / TF.js model file and convert it to the float IR. */
export async function loadModel(file: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const abs = path.resolve(file);
  const bytes = readBytes(abs);
  const hash = createHash('sha256').update(bytes);
  if (bytes.length === 0) throw new MpcError('E_MODEL_FORMAT', `model file: ${path.basename(abs)} is empty`, { step: 'import.parse' });
  let format: SourceFormat;
  let result: { graph: Parameters<typeof convertGraph>[0]; kerasVersion?: string };
  if (hasHdf5Magic(bytes.subarray(0, 1 << 16))) {
    format = 'keras-h5';
    result = await readLegacyH5(abs, opts.configFrom !== undefined ? await configFromFile(opts.configFrom) : undefined);
  } else if (ZIP_MAGIC.every((b, i) => bytes[i] === b)) {
    format = 'keras-v3';
    result = await readKeras3(bytes);
  } else if (bytes.subarray(0, 64).toString('utf8').trimStart().startsWith('{')) {
    format = 'tfjs-layers';
    const r = readTfjs(parseJson(bytes.toString('utf8'), 'model.json'), abs);
    for (const b of r.shardBytes) hash.update(b);
    result = r;
  } else if (looksLikeOnnx(bytes)) {
    const o = loadOnnx(bytes, { ...(opts.inputShape ? { inputShape: opts.inputShape } : {}), ...(opts.labels ? { labels: opts.labels } : {}) });
    return { ir: withOutputActivation(o.ir, opts.outputActivation), format: 'onnx', sourceHash: hash.digest('hex'), sourceFile: abs, onnx: { opset: o.opset, producer: o.producer }, ...(o.preprocessing ? { preprocessing: o.preprocessing } : {}) };
  } else {
    throw new MpcError('E_MODEL_FORMAT', `model file: ${path.basename(abs)} is not a Keras .h5, .keras, TF.js model.json or ONNX model (unrecognised signature)`, { step: 'import.parse' });
  }
  const { configFrom: _c, outputActivation: _a, ...convertOpts } = opts;
  // hard_sigmoid differs between Keras 2 and 3: the file's keras_version, else Keras 3 for .keras, 2 for .h5 and TF.js.
  const major = result.kerasVersion ? Number.parseInt(result.kerasVersion, 10) : format === 'keras-v3' ? 3 : 2;
  // Keras 1 wrote other config keys (nb_filter, subsample, border_mode, output_dim) and weight names: read as Keras 2,
  // a pooling layer's border_mode would be lost without an error, so such files are refused as a whole.
  if (major < 2) throw new MpcError('E_MODEL_FORMAT', `model file: ${path.basename(abs)} was written by Keras ${String(result.kerasVersion).slice(0, 16)}; Keras 1 files are not supported (their layer configs differ): load the model in Keras 2 or later and save it again`, { step: 'import.parse' });
  const ir = withOutputActivation(convertGraph(result.graph, { kerasMajor: major >= 3 ? 3 : 2, ...convertOpts }), opts.outputActivation);
  if (format === 'tfjs-layers') { refuseTfjsBilinear(ir, result.kerasVersion); refuseTfjsDepthwiseDilation(result.graph, result.kerasVersion); }
  const preprocessing = inferPreprocessing(result.graph, ir.inputShape);
  return { ir, format, sourceHash: hash.digest('hex'), sourceFile: abs, ...(result.kerasVersion ? { kerasVersion: result.kerasVersion } : {}), ...(preprocessing ? { preprocessing } : {}) };
}
