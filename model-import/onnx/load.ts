/**
 * An ONNX file (PyTorch's torch.onnx.export and other writers) -> the float
 * IR plus what the import summary prints: opset, producer, and the image
 * preprocessing to record. ONNX files do not say their preprocessing; the
 * default follows the PyTorch convention for the input's channels:
 * 3 channels -> torchvision's (RGB, x/255, ImageNet mean/std), 1 channel ->
 * x/255, both marked as assumed (--preprocessing replaces it).
 */
import { defaultPreprocessing, KERAS_MODES, type InputPreprocessing } from '../../protocol/input-preprocessing.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import type { InferredPreprocessing } from '../preprocessing.js';
import { convertOnnx, type OnnxConvertOptions } from './convert.js';
import { readOnnx } from './read.js';

export interface LoadedOnnx {
  ir: ModelIR<FloatTensor>;
  opset: number;
  producer: string;
  preprocessing?: InferredPreprocessing;
}

export function onnxPreprocessing(inputShape: readonly number[]): InferredPreprocessing | undefined {
  if (!(inputShape.length === 3 && (inputShape[2] === 1 || inputShape[2] === 3))) return undefined;
  const base = defaultPreprocessing(inputShape);
  if (inputShape[2] === 1) return { preprocessing: base, source: 'assumed: an ONNX file does not say; pass --preprocessing if the model was trained otherwise', assumed: true };
  const p: InputPreprocessing = { ...base, ...structuredClone(KERAS_MODES.torch) } as InputPreprocessing;
  return { preprocessing: p, source: "assumed: an ONNX file does not say; torchvision's convention for RGB models (pass --preprocessing otherwise)", assumed: true };
}

export function loadOnnx(bytes: Uint8Array, opts: OnnxConvertOptions = {}): LoadedOnnx {
  const m = readOnnx(bytes);
  const ir = convertOnnx(m, opts);
  const preprocessing = onnxPreprocessing(ir.inputShape);
  return { ir, opset: m.opset, producer: m.producer, ...(preprocessing ? { preprocessing } : {}) };
}
