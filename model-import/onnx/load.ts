/**
 * An ONNX file (PyTorch's torch.onnx.export and other writers) -> the float
 * IR plus what the import summary prints: opset, producer, and the image
 * preprocessing to record. ONNX files do not say their preprocessing; the
 * default follows the PyTorch convention for the input's channels:
 * 3 channels -> torchvision's (RGB, x/255, ImageNet mean/std), 1 channel ->
 * x/255, both marked as assumed (--preprocessing replaces it). A graph whose
 * first nodes normalise the input themselves (a model exported with its
 * Normalize: Sub / Div by constants or per-channel Mul / Add, x / 255) gets no mean/std on top:
 * x/255 (ToTensor) before a normalisation, raw pixels before a pixel scaling
 * (a Mul by at most 1/100 or a Div by at least 100), still marked assumed.
 * A graph whose input takes any height and width and starts with a Resize to
 * constant sizes records that node's resize (resizeOfGraph).
 */
import { defaultPreprocessing, KERAS_MODES, type InputPreprocessing } from '../../protocol/input-preprocessing.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import type { InferredPreprocessing } from '../preprocessing.js';
import { attrString, unsupported } from './context.js';
import { convertOnnx, type OnnxConvertOptions } from './convert.js';
import { decodeTensor, readOnnx, type OnnxModel, type OnnxTensor } from './read.js';

export interface LoadedOnnx {
  ir: ModelIR<FloatTensor>;
  opset: number;
  producer: string;
  preprocessing?: InferredPreprocessing;
}

/** A constant value of the graph: an initializer or a Constant node's dense tensor / float(s). */
function constantOf(m: OnnxModel, name: string): OnnxTensor | undefined {
  const init = m.initializers.get(name);
  if (init) return init;
  const n = m.nodes.find((k) => k.opType === 'Constant' && k.outputs[0] === name);
  if (!n) return undefined;
  const t = n.attrs.get('value')?.t;
  if (t) return decodeTensor(t, `Constant '${n.name}'`);
  const f = n.attrs.get('value_float')?.f ?? n.attrs.get('value_floats')?.floats;
  if (f === undefined || f === null) return undefined;
  const data = Float64Array.from(typeof f === 'number' ? [f] : f);
  return { dims: [data.length], kind: 'float', data };
}

/**
 * The Sub / Add / Mul / Div-by-a-constant nodes that read the input first (through Identity / Cast),
 * and whether one of them scales pixels (x * c with |c| <= 1/100, x / c with |c| >= 100).
 */
export function inGraphNormalisation(m: OnnxModel): { ops: string[]; pixelScale: boolean } | undefined {
  let cur = m.inputs[0]?.name;
  const ops: string[] = [];
  let pixelScale = false, shifts = false;
  while (cur !== undefined) {
    const name = cur;
    // Shape nodes read only the dims (torch's dynamic-batch arithmetic), not the values.
    const readers = m.nodes.filter((n) => n.inputs.includes(name) && n.opType !== 'Shape');
    if (readers.length !== 1) break;
    const n = readers[0]!;
    cur = n.outputs[0];
    if (n.opType === 'Identity' || n.opType === 'Cast' || n.opType === 'Resize' || n.opType === 'Upsample') continue;
    if (!['Sub', 'Add', 'Mul', 'Div'].includes(n.opType) || n.inputs.length !== 2) break;
    const k = n.inputs[0] === name ? n.inputs[1]! : n.inputs[0]!;
    if (n.inputs[0] !== name && (n.opType === 'Sub' || n.opType === 'Div')) break;
    const c = constantOf(m, k);
    if (!c || c.data.length === 0) break;
    const mags = Array.from(c.data, Math.abs);
    if (n.opType === 'Mul' && Math.max(...mags) <= 0.01 && Math.min(...mags) > 0) pixelScale = true;
    if (n.opType === 'Div' && Math.min(...mags) >= 100) pixelScale = true;
    if (n.opType === 'Sub' || n.opType === 'Div' || c.data.length > 1) shifts = true;
    ops.push(`${n.opType} '${n.name}'`);
  }
  // Scalar x * c or x + c alone (no pixel scaling, no Sub / Div, nothing per channel) is no normalisation: it says nothing.
  return pixelScale || shifts ? { ops, pixelScale } : undefined;
}

/**
 * The resize of a Resize to constant sizes at the start of a graph whose input takes any height
 * and width (F.interpolate(x, size=...) inside the model): there the model, not the client, sizes
 * the image, so the client must resize as it does, to that size (--input-shape must equal it; the
 * Resize is then an identity). Linear with half-pixel centres (no antialias: the converter
 * refuses that) is TensorFlow's bilinear ('tf-bilinear'); anything else is refused
 * (E_UNSUPPORTED_LAYER naming the node).
 */
export function resizeOfGraph(m: OnnxModel, inputShape: readonly number[]): { resize: InputPreprocessing['resize']; node: string } | undefined {
  const d = m.inputs[0]?.dims;
  if (!d || d.length !== 4 || (d[2] !== null && d[3] !== null)) return undefined;
  let cur = m.inputs[0]!.name;
  for (;;) {
    const name = cur;
    const readers = m.nodes.filter((k) => k.inputs.includes(name) && k.opType !== 'Shape');
    if (readers.length !== 1) return undefined;
    const n = readers[0]!;
    if (n.opType === 'Resize' || n.opType === 'Upsample') {
      const sizes = n.opType === 'Resize' && n.inputs[3] ? constantOf(m, n.inputs[3]) : undefined;
      if (!sizes || sizes.data.length !== 4) return undefined; // scales: relative to the input, it sizes nothing
      const [oh, ow] = [sizes.data[2]!, sizes.data[3]!];
      if (oh !== inputShape[0] || ow !== inputShape[1]) throw unsupported(n, `a Resize to ${oh}x${ow} on an input of any size needs --input-shape ${oh},${ow},${inputShape[2]} (the client then resizes as the node does)`);
      const mode = attrString(n, 'mode', 'nearest'), ctm = m.opset < 11 ? 'asymmetric' : attrString(n, 'coordinate_transformation_mode', 'half_pixel');
      const linear = mode === 'linear' || mode === 'bilinear';
      if (linear && (ctm === 'half_pixel' || ctm === 'pytorch_half_pixel')) return { resize: 'tf-bilinear', node: n.name };
      throw unsupported(n, `mode '${mode}' with coordinate_transformation_mode '${ctm}' on an input of any size is not supported: the client resizes with half-pixel bilinear (TensorFlow's or Pillow's) or Pillow's nearest`);
    }
    if (!['Identity', 'Cast', 'Sub', 'Add', 'Mul', 'Div'].includes(n.opType)) return undefined;
    cur = n.outputs[0]!;
  }
}

export function onnxPreprocessing(inputShape: readonly number[], m?: OnnxModel): InferredPreprocessing | undefined {
  if (!(inputShape.length === 3 && (inputShape[2] === 1 || inputShape[2] === 3))) return undefined;
  const sized = m ? resizeOfGraph(m, inputShape) : undefined;
  const base: InputPreprocessing = { ...defaultPreprocessing(inputShape), ...(sized ? { resize: sized.resize } : {}) };
  const by = sized ? `; ${sized.resize} resize from its Resize node '${sized.node}' (the file's input takes any size)` : '';
  const own = m ? inGraphNormalisation(m) : undefined;
  if (own) {
    const p: InputPreprocessing = { ...base, scaling: own.pixelScale ? 'raw' : 'unit' };
    return { preprocessing: p, source: `assumed: the graph normalises its input itself (${own.ops.join(', ')}), so ${own.pixelScale ? 'raw 0..255 pixels' : 'x/255 (ToTensor)'} in, no mean/std on top (pass --preprocessing otherwise)${by}`, assumed: true };
  }
  if (inputShape[2] === 1) return { preprocessing: base, source: `assumed: an ONNX file does not say; pass --preprocessing if the model was trained otherwise${by}`, assumed: true };
  const p: InputPreprocessing = { ...base, ...structuredClone(KERAS_MODES.torch) } as InputPreprocessing;
  return { preprocessing: p, source: `assumed: an ONNX file does not say; torchvision's convention for RGB models (pass --preprocessing otherwise)${by}`, assumed: true };
}

export function loadOnnx(bytes: Uint8Array, opts: OnnxConvertOptions = {}): LoadedOnnx {
  const m = readOnnx(bytes);
  const ir = convertOnnx(m, opts);
  const preprocessing = onnxPreprocessing(ir.inputShape, m);
  return { ir, opset: m.opset, producer: m.producer, ...(preprocessing ? { preprocessing } : {}) };
}
