/**
 * The Keras twin of an imported model: a float IR written back as a Keras 3
 * functional model (keras-writer.ts), in keras.applications' style — each
 * convolution or Dense is linear, followed by its own ReLU / ReLU(6.) /
 * Activation layer, as Keras's MobileNetV2 and DenseNet121 write them — so
 * that the Keras importer sees the same architecture and the same weights as
 * the importer that produced the IR. Used to put a torch.onnx export next to
 * a Keras file of the same architecture (bench/onnx.ts, the twin test in
 * model-import/onnx/keras-twin.test.ts).
 *
 * The IR's weights are already in Keras layout (NHWC, kernels [kh, kw, Cin,
 * Cout], BatchNorm folded into the preceding convolution), so they are
 * written as they are: the Keras file has biased convolutions and no
 * BatchNormalization layers. A reshape or flatten is written only when a
 * consumer needs a shape its source does not already have (torch's
 * GlobalAveragePool -> Flatten becomes GlobalAveragePooling2D alone).
 */
import { MpcError } from '../protocol/errors.js';
import type { Activation, FloatTensor, LayerNode, ModelIR, OutputActivation } from '../protocol/ir.js';
import type { JsonObject } from './keras-config.js';
import type { FuncLayer, FuncModel } from './keras-writer.js';
import { inferShapes } from './shapes.js';

const CL = { data_format: 'channels_last' } as const;
/** IR activations Keras 3 names the same way (relu and relu6 are written as ReLU layers). */
const KERAS3_ACTIVATIONS: ReadonlySet<Activation> = new Set(['sigmoid', 'silu', 'tanh', 'gelu', 'hard_sigmoid', 'hard_silu']);

function unsupported(n: { name: string; kind: string }, why: string): MpcError {
  return new MpcError('E_UNSUPPORTED_LAYER', `keras twin: node '${n.name}' (${n.kind}): ${why}`, { step: 'import.keras-twin' });
}

/**
 * `ir` as a Keras 3 functional model. With `outputActivation` softmax or
 * sigmoid the final Dense carries it (the Keras importer then records it as
 * the client-side output activation, as for keras.applications' heads).
 */
export function irToKeras(ir: ModelIR<FloatTensor>, name: string, outputActivation: OutputActivation = ir.outputActivation): FuncModel {
  const shapes = inferShapes(ir);
  const shapeOf = (n: string): number[] => (n === 'input' ? ir.inputShape : shapes.get(n)!);
  const layers: FuncLayer[] = [];
  const used = new Map<string, number>();
  const fresh = (kind: string): string => {
    const k = (used.get(kind) ?? 0) + 1;
    used.set(kind, k);
    return `${kind}_${k}`;
  };
  // IR node -> the Keras layer holding its value, and the shape the IR gives it there (reshape/flatten are views until needed).
  const src = new Map<string, string>([['input', 'input_layer']]);
  const view = new Map<string, number[]>([['input', ir.inputShape]]);
  const physical = new Map<string, number[]>([['input_layer', ir.inputShape]]);
  const add = (className: string, kind: string, inputs: string[], config: JsonObject, weights: FuncLayer['weights'] = []): string => {
    const lname = fresh(kind);
    layers.push({ className, name: lname, inputs, config, weights });
    return lname;
  };
  /** The Keras layer to read for IR node `i`, with a Flatten or Reshape written when the view differs from what the layer holds. */
  const read = (i: string): string => {
    const s = src.get(i)!, v = view.get(i)!;
    if (physical.get(s)!.join('x') === v.join('x')) return s;
    const r = v.length === 1 ? add('Flatten', 'flatten', [s], { ...CL }) : add('Reshape', 'reshape', [s], { target_shape: v });
    physical.set(r, v);
    src.set(i, r);
    return r;
  };
  const outName = ir.output;
  const withAct = (n: LayerNode<FloatTensor>, layer: string, act: Activation): string => {
    if (act === 'linear') return layer;
    if (act === 'relu' || act === 'relu6') return add('ReLU', 're_lu', [layer], { max_value: act === 'relu6' ? 6 : null, negative_slope: 0, threshold: 0 });
    if (!KERAS3_ACTIVATIONS.has(act)) throw unsupported(n, `activation ${act} has no Keras 3 name`);
    return add('Activation', 'activation', [layer], { activation: act });
  };
  const wts = (n: { kernel: FloatTensor; bias?: FloatTensor }): FuncLayer['weights'] => [{ name: 'kernel', value: n.kernel }, ...(n.bias ? [{ name: 'bias', value: n.bias }] : [])];

  for (const n of ir.nodes) {
    let out: string;
    if ((n.kind === 'conv2d' || n.kind === 'depthwise_conv2d') && n.dilation && n.dilation.some((d) => d > 1) && n.strides.some((s) => s > 1)) {
      throw unsupported(n, `dilation ${n.dilation.join('x')} with strides ${n.strides.join('x')} has no Keras equivalent (Keras refuses a dilation_rate > 1 with strides > 1)`);
    }
    switch (n.kind) {
      case 'reshape':
      case 'flatten':
        src.set(n.name, src.get(n.inputs[0]!)!);
        view.set(n.name, shapeOf(n.name));
        continue;
      case 'conv2d': {
        const c = add('Conv2D', 'conv2d', [read(n.inputs[0]!)], { filters: n.filters, kernel_size: n.kernelSize, strides: n.strides, padding: n.padding, ...CL, dilation_rate: n.dilation ?? [1, 1], groups: 1, activation: 'linear', use_bias: !!n.bias }, wts(n));
        out = withAct(n, c, n.activation);
        break;
      }
      case 'depthwise_conv2d': {
        const c = add('DepthwiseConv2D', 'depthwise_conv2d', [read(n.inputs[0]!)], { kernel_size: n.kernelSize, strides: n.strides, padding: n.padding, depth_multiplier: n.depthMultiplier, ...CL, dilation_rate: n.dilation ?? [1, 1], activation: 'linear', use_bias: !!n.bias }, wts(n));
        out = withAct(n, c, n.activation);
        break;
      }
      case 'dense': {
        const head = n.name === outName && outputActivation !== 'linear' && n.activation === 'linear';
        const d = add('Dense', 'dense', [read(n.inputs[0]!)], { units: n.units, activation: head ? outputActivation : 'linear', use_bias: !!n.bias }, wts(n));
        out = withAct(n, d, n.activation);
        break;
      }
      case 'activation':
        out = withAct(n, read(n.inputs[0]!), n.activation);
        break;
      case 'maxpool2d':
      case 'avgpool2d':
        out = add(n.kind === 'maxpool2d' ? 'MaxPooling2D' : 'AveragePooling2D', n.kind === 'maxpool2d' ? 'max_pooling2d' : 'average_pooling2d', [read(n.inputs[0]!)], { pool_size: n.poolSize, strides: n.strides, padding: n.padding, ...CL });
        break;
      case 'global_avgpool2d':
        out = add('GlobalAveragePooling2D', 'global_average_pooling2d', [read(n.inputs[0]!)], { ...CL, keepdims: false });
        break;
      case 'zero_padding2d':
        out = add('ZeroPadding2D', 'zero_padding2d', [read(n.inputs[0]!)], { padding: n.padding, ...CL });
        break;
      case 'add':
        out = add('Add', 'add', n.inputs.map(read), {});
        break;
      case 'concatenate': {
        const rank = shapeOf(n.name).length;
        out = add('Concatenate', 'concatenate', n.inputs.map(read), { axis: n.axis === rank - 1 ? -1 : n.axis + 1 });
        break;
      }
      default:
        throw unsupported(n, 'no Keras twin is written for this kind (conv2d, depthwise_conv2d, dense, activation, pooling, zero padding, add, concatenate, reshape and flatten are)');
    }
    src.set(n.name, out);
    view.set(n.name, shapeOf(n.name));
    physical.set(out, shapeOf(n.name));
  }
  if (outputActivation !== 'linear' && !layers.some((l) => l.className === 'Dense' && l.config['activation'] === outputActivation)) throw unsupported({ name: outName, kind: 'output' }, `the ${outputActivation} head needs a linear Dense as the output node`);
  return { name, inputShape: ir.inputShape, layers, output: read(outName) };
}
