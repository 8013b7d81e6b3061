/**
 * The per-class table of the Keras converter: one Keras layer -> zero or more
 * work nodes (convert.ts walks the graph and calls it once per layer). Checks
 * every option the secure protocol cannot run and every weight shape
 * (layer-args.ts); Dropout, data augmentation and the other inference no-ops, and an identity
 * Resizing, map to no node.
 */
import { MpcError } from '../protocol/errors.js';
import type { Activation, FloatTensor, LayerNode } from '../protocol/ir.js';
import type { AffineNode, WorkGraph, WorkNode } from './graph.js';
import type { KerasLayer } from './keras-config.js';
import { broadcastMerge } from './merge-broadcast.js';
import { badConfig, blockDiagonal, chain, channelParam, channelsLast, cropOrPad, dilationRate, noDilation, optBias, padding, pair, parseAct, unsupported, weight, type AnyAct } from './layer-args.js';

/**
 * Identities at inference (Keras runs them only with training=True): regularisers and the
 * data augmentation layers whose inference call returns the input unchanged (Keras 2 and 3).
 * RandomCrop (a centre crop at inference) and RandomHeight/RandomWidth are not among them.
 */
export const INFERENCE_NO_OPS: ReadonlySet<string> = new Set([
  'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization',
  'RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast', 'RandomBrightness',
]);

/** The layer classes convertLayer maps (besides INFERENCE_NO_OPS and InputLayer); a test keeps it equal to the switch's cases. */
export const SUPPORTED_KERAS_LAYERS: readonly string[] = [
  'Activation', 'Add', 'Average', 'AveragePooling2D', 'AvgPool2D', 'BatchNormalization', 'Concatenate', 'Conv2D', 'Conv2DTranspose', 'Convolution2D',
  'Convolution2DTranspose', 'Cropping2D', 'CustomScaleLayer', 'Dense', 'DepthwiseConv2D', 'Flatten', 'GlobalAveragePooling2D', 'GlobalAvgPool2D', 'GlobalMaxPool2D',
  'GlobalMaxPooling2D', 'LeakyReLU', 'MaxPool2D', 'MaxPooling2D', 'Maximum', 'Multiply', 'Normalization', 'PReLU', 'ReLU', 'Rescaling', 'Reshape',
  'Resizing', 'SeparableConv2D', 'SeparableConvolution2D', 'Sigmoid', 'Softmax', 'Subtract', 'UpSampling2D', 'ZeroPadding2D',
];

/** Why classes other families use are refused (said in the error, before the supported list). */
const normWhy = 'it normalises by the mean and variance of the values themselves, a division by a secret value (ConvNeXt, ViT)';
const opWhy = 'code, not a layer, in the file; rebuild it with Keras layers';
const WHY_NOT: Readonly<Record<string, string>> = {
  LayerNormalization: normWhy, GroupNormalization: normWhy, UnitNormalization: normWhy,
  Lambda: opWhy, TFOpLambda: opWhy, SlicingOpLambda: opWhy,
  Permute: 'the runner keeps one channels-last layout; axes cannot be moved',
  Conv1D: '2-D images only', Conv3D: '2-D images only', MultiHeadAttention: 'a softmax inside the network', Attention: 'a softmax inside the network',
};

export interface Converted {
  nodes: WorkNode[];
  final?: 'softmax' | 'sigmoid';
}

/** One Keras layer -> zero or more work nodes (zero = identity at inference). */
export function convertLayer(L: KerasLayer, ins: number[][], g: WorkGraph, kerasMajor: 2 | 3): Converted {
  const c = L.config;
  const base = { name: L.name, inputs: L.inputs };
  const x = ins[0]!;
  const act = (a: AnyAct): { activation: Activation; final?: 'softmax' | 'sigmoid' } => (a === 'softmax' || a === 'sigmoid' ? { activation: 'linear', final: a } : { activation: a });
  switch (L.className) {
    case 'Conv2D':
    case 'Convolution2D': {
      channelsLast(L);
      const dil = dilationRate(L);
      const k = pair(L, 'kernel_size');
      const filters = Number(c['filters']);
      if (x.length !== 3) throw badConfig(L, `expects an input of rank 3, got [${x}]`);
      const groups = Number(c['groups'] ?? 1), C = x[2]!;
      if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || filters % groups !== 0) throw badConfig(L, `groups=${String(c['groups'])} does not divide ${C} input channels and ${filters} filters`);
      const a = act(parseAct(L, c['activation'], kerasMajor));
      const win = { ...base, kernelSize: k, strides: pair(L, 'strides', [1, 1]), padding: padding(L), ...dil, activation: a.activation, ...optBias(L, filters) };
      const kernel = weight(L, 'kernel', [k[0], k[1], C / groups, filters]);
      // Grouped (RegNet, ResNeXt; ConvNeXt's groups = C): input channels and filters in `groups` contiguous blocks, as TF's grouped conv.
      const node: LayerNode<FloatTensor> = groups === 1 ? { kind: 'conv2d', ...win, filters, kernel }
        : groups === C ? { kind: 'depthwise_conv2d', ...win, depthMultiplier: filters / C, kernel: { shape: [k[0], k[1], C, filters / C], data: kernel.data } }
        : { kind: 'conv2d', ...win, filters, kernel: blockDiagonal(kernel, C, groups) };
      return { nodes: [node], ...(a.final ? { final: a.final } : {}) };
    }
    case 'DepthwiseConv2D': {
      channelsLast(L);
      const dil = dilationRate(L);
      const k = pair(L, 'kernel_size');
      const dm = Number(c['depth_multiplier'] ?? 1);
      if (x.length !== 3) throw badConfig(L, `expects an input of rank 3, got [${x}]`);
      const a = act(parseAct(L, c['activation'], kerasMajor));
      const node: LayerNode<FloatTensor> = { kind: 'depthwise_conv2d', ...base, kernelSize: k, strides: pair(L, 'strides', [1, 1]), padding: padding(L), ...dil, depthMultiplier: dm, activation: a.activation, kernel: weight(L, 'kernel', [k[0], k[1], x[2]!, dm]), ...optBias(L, x[2]! * dm) };
      return { nodes: [node], ...(a.final ? { final: a.final } : {}) };
    }
    case 'Dense': {
      const units = Number(c['units']);
      if (x.length > 3) throw unsupported(L, `Dense on an input of shape [${x}] is not supported (rank 1, or the last axis of [N, C] / [H, W, C])`);
      const a = act(parseAct(L, c['activation'], kerasMajor));
      const C = x[x.length - 1]!;
      const kernel = weight(L, 'kernel', [C, units]);
      const fin = a.final ? { final: a.final } : {};
      if (x.length === 1) return { nodes: [{ kind: 'dense', ...base, units, activation: a.activation, kernel, ...optBias(L, units) }], ...fin };
      // Keras's Dense on [..., C] applies the kernel on the last axis alone: at each position a 1x1 convolution
      // (a [N, C] sequence as an [N, 1, C] map, reshaped back to [N, units]).
      const conv = (name: string, inputs: string[]): LayerNode<FloatTensor> => ({ kind: 'conv2d', name, inputs, filters: units, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: a.activation, kernel: { shape: [1, 1, C, units], data: kernel.data }, ...optBias(L, units) });
      if (x.length === 3) return { nodes: [conv(L.name, L.inputs)], ...fin };
      const r = g.fresh(`${L.name}/as_map`), k = g.fresh(`${L.name}/conv`);
      return { nodes: [{ kind: 'reshape', name: r, inputs: L.inputs, targetShape: [x[0]!, 1, C] }, conv(k, [r]), { kind: 'reshape', name: L.name, inputs: [k], targetShape: [x[0]!, units] }], ...fin };
    }
    case 'Activation': {
      const a = act(parseAct(L, c['activation'], kerasMajor));
      return { nodes: [{ kind: 'activation', ...base, activation: a.activation }], ...(a.final ? { final: a.final } : {}) };
    }
    case 'LeakyReLU': {
      const alpha = Number(c['negative_slope'] ?? c['alpha'] ?? 0.3);
      if (!Number.isFinite(alpha)) throw badConfig(L, 'negative_slope must be a number');
      return { nodes: [{ kind: 'leaky_relu', ...base, alpha }] };
    }
    case 'PReLU': {
      const shared = c['shared_axes'];
      const C = x[x.length - 1]!;
      const sh = Array.isArray(shared) ? (shared as number[]) : [];
      if (!(x.length === 1 || (x.length === 3 && sh.includes(1) && sh.includes(2)))) throw unsupported(L, `shared_axes ${JSON.stringify(shared ?? null)}: only an alpha per channel (shared_axes [1, 2]) is supported`);
      const a = L.weights.get('alpha');
      if (!a || a.data.length !== C) throw new MpcError('E_WEIGHT_SHAPE', `layer '${L.name}' (${L.className}): alpha has shape [${a?.shape ?? []}] but the layer needs ${C} values`, { step: 'import.convert' });
      return { nodes: [{ kind: 'prelu', ...base, kernel: { shape: [C], data: a.data } }] };
    }
    case 'ReLU': {
      const mv = c['max_value'];
      const slope = Number(c['negative_slope'] ?? 0);
      if ((c['threshold'] ?? 0) !== 0) throw unsupported(L, 'threshold != 0 is not supported');
      if (slope !== 0 && (mv === null || mv === undefined)) return { nodes: [{ kind: 'leaky_relu', ...base, alpha: slope }] };
      if (slope !== 0) throw unsupported(L, 'negative_slope != 0 together with max_value is not supported');
      if (mv !== null && mv !== undefined && mv !== 6) throw unsupported(L, `max_value=${String(mv)} is not supported (none or 6)`);
      return { nodes: [{ kind: 'activation', ...base, activation: mv === 6 ? 'relu6' : 'relu' }] };
    }
    case 'Softmax':
    case 'Sigmoid': {
      const ax = c['axis'];
      if (ax !== undefined && ax !== null && ax !== -1 && !(Array.isArray(ax) && ax.length === 1 && ax[0] === -1) && ax !== x.length) throw unsupported(L, 'softmax over an axis other than the last is not supported');
      return { nodes: [{ kind: 'activation', ...base, activation: 'linear' }], final: L.className === 'Softmax' ? 'softmax' : 'sigmoid' };
    }
    case 'MaxPooling2D':
    case 'MaxPool2D':
    case 'AveragePooling2D':
    case 'AvgPool2D': {
      channelsLast(L);
      const pool = pair(L, 'pool_size', [2, 2]);
      const kind = L.className.startsWith('Max') ? 'maxpool2d' : 'avgpool2d';
      return { nodes: [{ kind, ...base, poolSize: pool, strides: pair(L, 'strides', pool), padding: padding(L) }] };
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalAvgPool2D':
    case 'GlobalMaxPooling2D':
    case 'GlobalMaxPool2D': {
      channelsLast(L);
      if (x.length !== 3) throw badConfig(L, `expects an input of rank 3, got [${x}]`);
      const C = x[2]!;
      const keep = c['keepdims'] === true;
      if (L.className.includes('Max')) {
        // Global max pooling is a max pool over the whole map, then a reshape.
        const pool: WorkNode = { kind: 'maxpool2d', name: g.fresh(`${L.name}/pool`), inputs: L.inputs, poolSize: [x[0]!, x[1]!], strides: [x[0]!, x[1]!], padding: 'valid' };
        return { nodes: [pool, { kind: 'reshape', name: L.name, inputs: [pool.name], targetShape: keep ? [1, 1, C] : [C] }] };
      }
      if (!keep) return { nodes: [{ kind: 'global_avgpool2d', ...base }] };
      const gap: WorkNode = { kind: 'global_avgpool2d', name: g.fresh(`${L.name}/pool`), inputs: L.inputs };
      return { nodes: [gap, { kind: 'reshape', name: L.name, inputs: [gap.name], targetShape: [1, 1, C] }] };
    }
    case 'Flatten':
      channelsLast(L);
      return { nodes: [{ kind: 'flatten', ...base }] };
    case 'Reshape': {
      // Keras writes the one unknown dimension as -1, TF.js Layers (model.json) as null: both -> -1, resolved by the shape pass.
      const t = c['target_shape'];
      if (!Array.isArray(t) || !t.every((d) => d === null || (typeof d === 'number' && Number.isInteger(d) && (d > 0 || d === -1)))) throw badConfig(L, 'target_shape must be a list of positive integers with at most one unknown dimension (-1 or null)');
      const targetShape = t.map((d) => (d === null ? -1 : (d as number)));
      if (targetShape.filter((d) => d === -1).length > 1) throw badConfig(L, `target_shape ${JSON.stringify(t)} has more than one unknown dimension (-1 or null)`);
      // Resolved here from the input's size: the secure runner and the bundle take the IR's target shape as it is.
      const u = targetShape.indexOf(-1), size = x.reduce((a, b) => a * b, 1), known = targetShape.reduce((a, b) => (b === -1 ? a : a * b), 1);
      if (u >= 0) {
        if (size % known !== 0) throw badConfig(L, `target_shape ${JSON.stringify(t)} does not divide the input [${x}]`);
        targetShape[u] = size / known;
      }
      return { nodes: [{ kind: 'reshape', ...base, targetShape }] };
    }
    case 'ZeroPadding2D': {
      channelsLast(L);
      const p = c['padding'];
      let pad: [[number, number], [number, number]];
      if (typeof p === 'number') pad = [[p, p], [p, p]];
      else if (Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number')) pad = [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
      else if (Array.isArray(p) && p.length === 2 && p.every((v) => Array.isArray(v) && v.length === 2)) pad = (p as number[][]).map((v) => [v[0]!, v[1]!]) as [[number, number], [number, number]];
      else throw badConfig(L, 'padding must be an integer, a pair, or a pair of pairs');
      return { nodes: [{ kind: 'zero_padding2d', ...base, padding: pad }] };
    }
    case 'Rescaling': {
      // x * scale + offset; a value per channel (keras.applications EfficientNet with ImageNet weights: scale 1 / sqrt(std)) is an affine node, folded like BatchNorm.
      const C = x[x.length - 1]!;
      const scale = channelParam(L, 'scale', 1, C, x.length), offset = channelParam(L, 'offset', 0, C, x.length);
      if (scale.length === 1 && offset.length === 1) return { nodes: [{ kind: 'rescaling', ...base, scale: scale[0]!, offset: offset[0]! }] };
      const node: AffineNode = { kind: 'batchnorm', ...base, scale: Float64Array.from({ length: C }, (_, i) => scale[scale.length === 1 ? 0 : i]!), shift: Float64Array.from({ length: C }, (_, i) => offset[offset.length === 1 ? 0 : i]!) };
      return { nodes: [node] };
    }
    case 'Resizing': {
      const h = Number(c['height']);
      const w = Number(c['width']);
      if (x.length === 3 && x[0] === h && x[1] === w) return { nodes: [] };
      throw unsupported(L, `resizing [${x}] to ${h}x${w} inside the model is not supported; resize the image before sharing it`);
    }
    case 'Add':
    case 'Multiply':
    case 'Subtract':
      if (L.constants?.length) {
        // x + c, x * c, x - c with public numbers c (Keras 3 records them as call arguments): a Rescaling.
        if (L.inputs.length !== 1) throw unsupported(L, 'mixing several tensors with constants is not supported');
        if (L.className === 'Subtract' && L.constants.some((k) => k.position === 0)) throw unsupported(L, 'a constant minus a tensor is not supported');
        const vals = L.constants.map((k) => k.value);
        if (L.className === 'Multiply') return { nodes: [{ kind: 'rescaling', ...base, scale: vals.reduce((a, b) => a * b, 1), offset: 0 }] };
        const sum = vals.reduce((a, b) => a + b, 0);
        return { nodes: [{ kind: 'rescaling', ...base, scale: 1, offset: L.className === 'Subtract' ? -sum : sum }] };
      }
      if (L.className === 'Subtract' && L.inputs.length !== 2) throw badConfig(L, 'needs exactly two inputs');
      {
        // Inputs of different shapes are broadcast as Keras does (merge-broadcast.ts); multiply broadcasts equal ranks itself.
        const bc = broadcastMerge(L, ins, g, L.className !== 'Multiply');
        const M = { ...L, inputs: bc.inputs };
        if (L.className === 'Multiply') return { nodes: [...bc.pre, ...chain(M, g, 'multiply')] };
        if (L.className === 'Subtract') return { nodes: [...bc.pre, { kind: 'subtract', name: L.name, inputs: bc.inputs }] };
        // Pairwise adds so the runner only ever sees binary Add nodes.
        return { nodes: [...bc.pre, ...chain(M, g, 'add')] };
      }
    case 'CustomScaleLayer': {
      // keras.applications InceptionResNetV2 (Keras 3): inputs[0] + inputs[1] * scale, its scaled residual (Keras 2 writes a Lambda, refused).
      const scale = c['scale'];
      if (L.inputs.length !== 2 || typeof scale !== 'number' || !Number.isFinite(scale)) throw unsupported(L, 'only InceptionResNetV2\'s two-input form with a number scale (inputs[0] + inputs[1] * scale) is supported');
      const scaled = g.fresh(`${L.name}/scale`);
      return { nodes: [{ kind: 'rescaling', name: scaled, inputs: [L.inputs[1]!], scale, offset: 0 }, { kind: 'add', name: L.name, inputs: [L.inputs[0]!, scaled] }] };
    }
    case 'Maximum': {
      const bc = broadcastMerge(L, ins, g, true);
      return { nodes: [...bc.pre, ...chain({ ...L, inputs: bc.inputs }, g, 'maximum')] };
    }
    case 'Average': {
      if (L.inputs.length < 2) throw badConfig(L, 'needs at least two inputs');
      const bc = broadcastMerge(L, ins, g, true);
      return { nodes: [...bc.pre, { kind: 'average', name: L.name, inputs: bc.inputs }] };
    }
    case 'Concatenate': {
      const a = Number(c['axis'] ?? -1);
      const axis = a < 0 ? x.length + a : a - 1;
      if (!Number.isInteger(a) || axis < 0 || axis >= x.length) throw unsupported(L, `axis ${String(c['axis'])} is not supported (an axis other than the batch)`);
      return { nodes: [{ kind: 'concatenate', ...base, axis }] };
    }
    case 'Cropping2D':
      channelsLast(L);
      return { nodes: [{ kind: 'cropping2d', ...base, cropping: cropOrPad(L, 'cropping') }] };
    case 'UpSampling2D': {
      channelsLast(L);
      const interp = String(c['interpolation'] ?? 'nearest');
      if (interp !== 'nearest' && interp !== 'bilinear') throw unsupported(L, `interpolation '${interp}' is not supported (nearest or bilinear)`);
      return { nodes: [{ kind: 'upsampling2d', ...base, size: pair(L, 'size', [2, 2]), interpolation: interp }] };
    }
    case 'Conv2DTranspose':
    case 'Convolution2DTranspose': {
      channelsLast(L);
      noDilation(L);
      const op = c['output_padding'];
      if (op !== undefined && op !== null) throw unsupported(L, `output_padding ${JSON.stringify(op)} is not supported (none only)`);
      if (x.length !== 3) throw badConfig(L, `expects an input of rank 3, got [${x}]`);
      const k = pair(L, 'kernel_size'), st = pair(L, 'strides', [1, 1]), pd = padding(L);
      const filters = Number(c['filters']);
      const Cin = x[2]!;
      const K = weight(L, 'kernel', [k[0], k[1], filters, Cin]);
      // A stride-1 valid convolution of the zero-dilated, padded input with the flipped kernel, channels swapped: [kh, kw, Cin, Cout].
      const flipped = new Float64Array(K.data.length);
      for (let ky = 0; ky < k[0]; ky++) for (let kx = 0; kx < k[1]; kx++) for (let o = 0; o < filters; o++) for (let i = 0; i < Cin; i++) {
        flipped[((ky * k[1] + kx) * Cin + i) * filters + o] = K.data[(((k[0] - 1 - ky) * k[1] + (k[1] - 1 - kx)) * filters + o) * Cin + i]!;
      }
      const padAxis = (H: number, kk: number, s: number): [number, number] => {
        // Keras's deconv_output_length: in * stride for 'same', in * stride + max(k - stride, 0) for 'valid' (with a stride
        // larger than the kernel the last stride - k rows hold only the bias; (in - 1) * stride + k would drop them).
        const out = pd === 'same' ? H * s : H * s + Math.max(kk - s, 0);
        const cropBefore = pd === 'same' ? Math.floor(Math.max(kk - s, 0) / 2) : 0;
        const before = kk - 1 - cropBefore;
        return [before, out + kk - 1 - ((H - 1) * s + 1) - before];
      };
      const a = act(parseAct(L, c['activation'], kerasMajor));
      const node: LayerNode<FloatTensor> = { kind: 'conv2d_transpose', ...base, filters, kernelSize: k, strides: st, pad: [padAxis(x[0]!, k[0], st[0]), padAxis(x[1]!, k[1], st[1])], activation: a.activation, kernel: { shape: [k[0], k[1], Cin, filters], data: flipped }, ...optBias(L, filters) };
      return { nodes: [node], ...(a.final ? { final: a.final } : {}) };
    }
    case 'SeparableConv2D':
    case 'SeparableConvolution2D': {
      channelsLast(L);
      // The dilation applies to the depthwise step (the pointwise 1x1 has none), as in Keras.
      const dil = dilationRate(L);
      const k = pair(L, 'kernel_size');
      const dm = Number(c['depth_multiplier'] ?? 1);
      const filters = Number(c['filters']);
      if (x.length !== 3) throw badConfig(L, `expects an input of rank 3, got [${x}]`);
      const a = act(parseAct(L, c['activation'], kerasMajor));
      const dwName = g.fresh(`${L.name}/depthwise`);
      const dw: LayerNode<FloatTensor> = { kind: 'depthwise_conv2d', name: dwName, inputs: L.inputs, kernelSize: k, strides: pair(L, 'strides', [1, 1]), padding: padding(L), ...dil, depthMultiplier: dm, activation: 'linear', kernel: weight(L, 'kernel', [k[0], k[1], x[2]!, dm]) };
      const pw: LayerNode<FloatTensor> = { kind: 'conv2d', name: L.name, inputs: [dwName], filters, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: a.activation, kernel: weight(L, 'pointwise_kernel', [1, 1, x[2]! * dm, filters]), ...optBias(L, filters) };
      return { nodes: [dw, pw], ...(a.final ? { final: a.final } : {}) };
    }
    case 'Normalization': {
      // Keras: (x - mean) / max(sqrt(variance), 1e-7) per channel; an affine map like BatchNormalization, folded the same way.
      const axisV = c['axis'] ?? -1;
      const axis = Array.isArray(axisV) ? (axisV.length === 1 ? axisV[0] : NaN) : axisV;
      const rank = x.length + 1;
      if (!(axis === -1 || axis === rank - 1)) throw unsupported(L, `normalising axis ${JSON.stringify(axisV)} of a rank-${rank} tensor is not supported (last axis only)`);
      if (c['invert'] === true) throw unsupported(L, 'invert: true is not supported');
      const C = x[x.length - 1]!;
      const stat = (key: 'mean' | 'variance'): Float64Array => {
        const v = c[key];
        if (v === undefined || v === null) {
          const t = L.weights.get(key);
          if (t && t.data.length === C) return t.data;
          return weight(L, key, [C]).data;
        }
        const arr = Array.isArray(v) ? v.flat(8) : [v];
        if (!arr.every((e) => typeof e === 'number') || (arr.length !== 1 && arr.length !== C)) throw badConfig(L, `${key} must be one number or ${C} numbers`);
        return Float64Array.from({ length: C }, (_, i) => arr[arr.length === 1 ? 0 : i] as number);
      };
      const mean = stat('mean');
      const variance = stat('variance');
      const scale = new Float64Array(C);
      const shift = new Float64Array(C);
      for (let i = 0; i < C; i++) {
        scale[i] = 1 / Math.max(Math.sqrt(variance[i]!), 1e-7);
        shift[i] = -mean[i]! * scale[i]!;
      }
      const node: AffineNode = { kind: 'batchnorm', ...base, scale, shift };
      return { nodes: [node] };
    }
    case 'BatchNormalization': {
      const axisV = c['axis'] ?? -1;
      const axis = Array.isArray(axisV) ? (axisV.length === 1 ? axisV[0] : NaN) : axisV;
      const rank = x.length + 1;
      if (!(axis === -1 || axis === rank - 1)) throw unsupported(L, `normalising axis ${JSON.stringify(axisV)} of a rank-${rank} tensor is not supported (last axis only)`);
      const C = x[x.length - 1]!;
      const eps = Number(c['epsilon'] ?? 1e-3);
      const gamma = c['scale'] === false ? null : weight(L, 'gamma', [C]).data;
      const beta = c['center'] === false ? null : weight(L, 'beta', [C]).data;
      const mean = weight(L, 'moving_mean', [C]).data;
      const variance = weight(L, 'moving_variance', [C]).data;
      const scale = new Float64Array(C);
      const shift = new Float64Array(C);
      for (let i = 0; i < C; i++) {
        scale[i] = (gamma ? gamma[i]! : 1) / Math.sqrt(variance[i]! + eps);
        shift[i] = (beta ? beta[i]! : 0) - mean[i]! * scale[i]!;
      }
      const node: AffineNode = { kind: 'batchnorm', ...base, scale, shift };
      return { nodes: [node] };
    }
    default:
      if (INFERENCE_NO_OPS.has(L.className)) return { nodes: [] };
      throw unsupported(L, `this layer type is not supported by the secure protocol${WHY_NOT[L.className] ? ` (${WHY_NOT[L.className]})` : ''}; supported: ${SUPPORTED_KERAS_LAYERS.join(', ')}, and the inference no-ops (${[...INFERENCE_NO_OPS].join(', ')})`);
  }
}
