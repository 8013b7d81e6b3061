/**
 * Random Keras models built with tfjs-layers (its own implementation of the
 * Keras layers) for the differential probe (keras-oracle-probe.ts, bench/keras-oracle.ts): a chain
 * of random layers over a small channels-last image, with occasional
 * branches merged by Add / Multiply / Average / Maximum / Minimum /
 * Concatenate, a nested Sequential, a layer applied twice, and an optional
 * Flatten + Dense head. Every random choice comes from a seeded AES PRG
 * (node:crypto, protocol/correlated/prg.ts); weights are set from the same
 * stream after the build (BatchNormalization gets non-trivial moving stats).
 */
import * as tf from '@tensorflow/tfjs';
import type { Prg } from '../../protocol/correlated/prg.js';
import { uniform } from '../../protocol/seed-models.js';

type Shape = number[];
type Sym = tf.SymbolicTensor;

/** Integer in [lo, hi] from the PRG. */
export function int(g: Prg, lo: number, hi: number): number {
  const u = new Uint32Array(g.bytes(4).buffer)[0]!;
  return lo + (u % (hi - lo + 1));
}
export const pick = <T>(g: Prg, xs: readonly T[]): T => xs[int(g, 0, xs.length - 1)]!;
const coin = (g: Prg, p = 0.5): boolean => int(g, 0, 999) < p * 1000;

export const ACTS = ['relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'elu', 'selu', 'swish', 'linear', 'relu', 'linear', 'hardSigmoid', 'softplus', 'gelu', 'mish'] as const;

/** One generated layer application: the kind counted in the report, and a short description of its config. */
export interface Step { kind: string; desc: string }

interface Cur { t: Sym; shape: Shape }

const shapeOf = (t: Sym): Shape => t.shape.slice(1) as number[];
const pad1 = (g: Prg): [number, number] => [int(g, 0, 2), int(g, 0, 2)];

/** Output size along one axis of a window op (Keras conv_output_length). */
const outLen = (n: number, k: number, s: number, d: number, p: string): number => {
  const ke = (k - 1) * d + 1;
  return p === 'same' ? Math.ceil(n / s) : Math.floor((n - ke) / s) + 1;
};

type Gen = (g: Prg, c: Cur, steps: Step[]) => Cur | null;

function apply(layer: tf.layers.Layer, c: Cur, steps: Step[], kind: string, desc: string): Cur {
  const t = layer.apply(c.t) as Sym;
  steps.push({ kind, desc });
  return { t, shape: shapeOf(t) };
}

function windowArgs(g: Prg, s: Shape, allowDilation: boolean): { kernelSize: [number, number]; strides: [number, number]; padding: 'same' | 'valid'; dilationRate: [number, number] } | null {
  const kernelSize: [number, number] = [int(g, 1, 4), int(g, 1, 4)];
  const padding = pick(g, ['same', 'valid'] as const);
  const dil = allowDilation && coin(g, 0.25) ? 2 : 1;
  const strides: [number, number] = dil > 1 ? [1, 1] : [int(g, 1, 3), int(g, 1, 3)];
  const dilationRate: [number, number] = [dil, dil];
  for (let a = 0; a < 2; a++) if (outLen(s[a]!, kernelSize[a]!, strides[a]!, dil, padding) < 1) return null;
  return { kernelSize, strides, padding, dilationRate };
}

const spatial: Record<string, Gen> = {
  Conv2D: (g, c, st) => {
    const w = windowArgs(g, c.shape, true);
    if (!w) return null;
    const a = { filters: int(g, 1, 4), ...w, useBias: coin(g, 0.7), activation: pick(g, ACTS) };
    return apply(tf.layers.conv2d(a), c, st, 'Conv2D', JSON.stringify(a));
  },
  DepthwiseConv2D: (g, c, st) => {
    // No dilation: tfjs-layers 4.22's DepthwiseConv2D layer ignores its dilationRate (call() passes null, "TODO(cais):
    // Add support for dilation"), where Keras and tf.depthwiseConv2d apply it (dilated-keras.test.ts checks the import
    // against tf.depthwiseConv2d).
    const w = windowArgs(g, c.shape, false);
    if (!w) return null;
    const a = { ...w, depthMultiplier: int(g, 1, 3), useBias: coin(g, 0.7), activation: pick(g, ACTS) };
    return apply(tf.layers.depthwiseConv2d(a), c, st, 'DepthwiseConv2D', JSON.stringify(a));
  },
  SeparableConv2D: (g, c, st) => {
    const w = windowArgs(g, c.shape, true);
    if (!w) return null;
    const a = { filters: int(g, 1, 4), ...w, depthMultiplier: int(g, 1, 2), useBias: coin(g, 0.7), activation: pick(g, ACTS) };
    return apply(tf.layers.separableConv2d(a), c, st, 'SeparableConv2D', JSON.stringify(a));
  },
  Conv2DTranspose: (g, c, st) => {
    const a = { filters: int(g, 1, 3), kernelSize: [int(g, 1, 4), int(g, 1, 4)], strides: [int(g, 1, 3), int(g, 1, 3)], padding: pick(g, ['same', 'valid'] as const), useBias: coin(g, 0.7), activation: pick(g, ACTS) };
    if (c.shape[0]! > 8 || c.shape[1]! > 8) return null;
    return apply(tf.layers.conv2dTranspose(a), c, st, 'Conv2DTranspose', JSON.stringify(a));
  },
  DenseOn4D: (g, c, st) => {
    const a = { units: int(g, 1, 4), activation: pick(g, ['relu', 'linear'] as const) };
    return apply(tf.layers.dense(a), c, st, 'Dense(4-D input)', JSON.stringify(a));
  },
  Pool: (g, c, st) => {
    const max = coin(g);
    const poolSize: [number, number] = [int(g, 1, 3), int(g, 1, 3)];
    const strides: [number, number] = coin(g, 0.3) ? poolSize : [int(g, 1, 3), int(g, 1, 3)];
    const padding = pick(g, ['same', 'valid'] as const);
    for (let a = 0; a < 2; a++) if (outLen(c.shape[a]!, poolSize[a]!, strides[a]!, 1, padding) < 1) return null;
    const a = { poolSize, strides, padding };
    return apply(max ? tf.layers.maxPooling2d(a) : tf.layers.averagePooling2d(a), c, st, max ? 'MaxPooling2D' : 'AveragePooling2D', JSON.stringify(a));
  },
  BatchNormalization: (g, c, st) => {
    const a = { axis: -1, center: coin(g, 0.7), scale: coin(g, 0.7), epsilon: pick(g, [1e-3, 1e-5, 0.1]) };
    return apply(tf.layers.batchNormalization(a), c, st, 'BatchNormalization', JSON.stringify(a));
  },
  ZeroPadding2D: (g, c, st) => {
    const a = { padding: [pad1(g), pad1(g)] as [[number, number], [number, number]] };
    return apply(tf.layers.zeroPadding2d(a), c, st, 'ZeroPadding2D', JSON.stringify(a));
  },
  Cropping2D: (g, c, st) => {
    const cr = [pad1(g), pad1(g)] as [[number, number], [number, number]];
    if (c.shape[0]! - cr[0][0] - cr[0][1] < 1 || c.shape[1]! - cr[1][0] - cr[1][1] < 1) return null;
    return apply(tf.layers.cropping2D({ cropping: cr }), c, st, 'Cropping2D', JSON.stringify(cr));
  },
  UpSampling2D: (g, c, st) => {
    if (c.shape[0]! > 8 || c.shape[1]! > 8) return null;
    const a = { size: [int(g, 1, 3), int(g, 1, 3)], interpolation: pick(g, ['nearest', 'bilinear'] as const) };
    return apply(tf.layers.upSampling2d(a), c, st, `UpSampling2D(${a.interpolation})`, JSON.stringify(a));
  },
  Activation: (g, c, st) => {
    const a = { activation: pick(g, ACTS) };
    return apply(tf.layers.activation(a), c, st, 'Activation', a.activation);
  },
  ReLU6: (g, c, st) => apply(tf.layers.reLU({ maxValue: 6 }), c, st, 'ReLU', 'max_value=6'),
  ReLU: (g, c, st) => {
    const mv = pick(g, [undefined, 6, 1.5]);
    return apply(tf.layers.reLU(mv === undefined ? {} : { maxValue: mv }), c, st, 'ReLU', `max_value=${String(mv)}`);
  },
  LeakyReLU: (g, c, st) => {
    const alpha = pick(g, [0.3, 0.01, 0.2]);
    return apply(tf.layers.leakyReLU({ alpha }), c, st, 'LeakyReLU', `alpha=${alpha}`);
  },
  PReLU: (g, c, st) => {
    const shared = coin(g, 0.7);
    return apply(tf.layers.prelu(shared ? { sharedAxes: [1, 2] } : {}), c, st, 'PReLU', shared ? 'shared_axes=[1,2]' : 'no shared axes');
  },
  ELU: (g, c, st) => apply(tf.layers.elu({ alpha: pick(g, [1, 0.5]) }), c, st, 'ELU', ''),
  ThresholdedReLU: (g, c, st) => apply(tf.layers.thresholdedReLU({ theta: 0.5 }), c, st, 'ThresholdedReLU', ''),
  Softmax: (g, c, st) => apply(tf.layers.softmax({ axis: -1 }), c, st, 'Softmax(mid)', ''),
  NoOp: (g, c, st) => {
    const k = pick(g, ['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout'] as const);
    if (k === 'SpatialDropout1D') return null;
    const l = k === 'Dropout' ? tf.layers.dropout({ rate: 0.3 }) : k === 'GaussianNoise' ? tf.layers.gaussianNoise({ stddev: 0.5 }) : k === 'GaussianDropout' ? tf.layers.gaussianDropout({ rate: 0.3 }) : tf.layers.alphaDropout({ rate: 0.3 });
    return apply(l, c, st, k, '');
  },
  Reshape: (g, c, st) => {
    const [H, W, C] = c.shape as [number, number, number];
    const targetShape = pick(g, [[W, H, C], [H * W, C], [H * W * C], [1, H * W, C], [-1, C], [H, -1, C]]);
    return apply(tf.layers.reshape({ targetShape }), c, st, `Reshape(rank ${targetShape.length})`, JSON.stringify(targetShape));
  },
  Permute: (g, c, st) => apply(tf.layers.permute({ dims: [2, 1, 3] }), c, st, 'Permute', '[2,1,3]'),
  LayerNormalization: (g, c, st) => apply(tf.layers.layerNormalization({ axis: -1 }), c, st, 'LayerNormalization', ''),
  ChannelsFirstConv: (g, c, st) => apply(tf.layers.conv2d({ filters: 2, kernelSize: 1, dataFormat: 'channelsFirst' }), c, st, 'Conv2D(channels_first)', ''),
  NestedSequential: (g, c, st) => {
    const inner = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: c.shape, filters: int(g, 1, 3), kernelSize: int(g, 1, 3), padding: 'same', activation: 'relu' }), tf.layers.batchNormalization({})] });
    return apply(inner as unknown as tf.layers.Layer, c, st, 'NestedSequential', '');
  },
  SharedTwice: (g, c, st) => {
    const l = tf.layers.conv2d({ filters: c.shape[2]!, kernelSize: int(g, 1, 3), padding: 'same', activation: pick(g, ['relu', 'linear'] as const) });
    const once = apply(l, c, st, 'Conv2D(shared)', '');
    return apply(l, once, st, 'SharedTwice', '');
  },
  SqueezeExcite: (g, c, st) => {
    // GAP -> Dense(C, sigmoid / hardSigmoid) -> Reshape [1, 1, C] (or left at rank 1: Keras and tfjs then insert the
    // missing axes after the batch) -> Multiply / Add with the map: a broadcast merge.
    const C = c.shape[2]!;
    const p = tf.layers.globalAveragePooling2d({}).apply(c.t) as Sym;
    const d = tf.layers.dense({ units: C, activation: pick(g, ['sigmoid', 'hardSigmoid', 'relu'] as const) }).apply(p) as Sym;
    const rank1 = coin(g, 0.4);
    const s = rank1 ? d : (tf.layers.reshape({ targetShape: [1, 1, C] }).apply(d) as Sym);
    const mul = coin(g);
    const t = (mul ? tf.layers.multiply() : tf.layers.add()).apply([c.t, s]) as Sym;
    st.push({ kind: `SqueezeExcite(${mul ? 'Multiply' : 'Add'}${rank1 ? ', rank 1 + rank 3' : ''})`, desc: '' });
    return { t, shape: shapeOf(t) };
  },
  NestedFunctional: (g, c, st) => {
    // A functional model with a residual branch, called as one layer of the outer model.
    const i = tf.input({ shape: c.shape });
    const a = tf.layers.conv2d({ filters: c.shape[2]!, kernelSize: int(g, 1, 3), padding: 'same', activation: pick(g, ['relu', 'linear'] as const) }).apply(i) as Sym;
    const o = tf.layers.add().apply([i, a]) as Sym;
    return apply(tf.model({ inputs: i, outputs: o }) as unknown as tf.layers.Layer, c, st, 'NestedFunctional', '');
  },
  GlobalPool: (g, c, st) => {
    const max = coin(g);
    return apply(max ? tf.layers.globalMaxPooling2d({}) : tf.layers.globalAveragePooling2d({}), c, st, max ? 'GlobalMaxPooling2D' : 'GlobalAveragePooling2D', '');
  },
};

/** Two shape-preserving branches from c merged by a random merge layer. */
function branch(g: Prg, c: Cur, st: Step[]): Cur | null {
  const same = (cc: Cur): Cur => {
    const k = pick(g, ['conv', 'act', 'bn', 'id'] as const);
    if (k === 'conv') {
      const a = { filters: cc.shape[2]!, kernelSize: int(g, 1, 3), padding: 'same' as const, activation: pick(g, ACTS) };
      return apply(tf.layers.conv2d(a), cc, st, 'Conv2D', JSON.stringify(a));
    }
    if (k === 'act') {
      const a = pick(g, ACTS);
      return apply(tf.layers.activation({ activation: a }), cc, st, 'Activation', a);
    }
    if (k === 'bn') return apply(tf.layers.batchNormalization({}), cc, st, 'BatchNormalization', 'branch');
    return cc;
  };
  const a = same(c), b = same(c);
  if (a.t === b.t) return null;
  const m = pick(g, ['add', 'multiply', 'average', 'maximum', 'minimum', 'concatenate'] as const);
  if (m === 'concatenate') {
    const axis = pick(g, [-1, 1, 2, 3]);
    return { ...(() => { const t = tf.layers.concatenate({ axis }).apply([a.t, b.t]) as Sym; st.push({ kind: 'Concatenate', desc: `axis=${axis}` }); return { t, shape: shapeOf(t) }; })() };
  }
  const layer = m === 'add' ? tf.layers.add() : m === 'multiply' ? tf.layers.multiply() : m === 'average' ? tf.layers.average() : m === 'maximum' ? tf.layers.maximum() : tf.layers.minimum();
  const t = layer.apply([a.t, b.t]) as Sym;
  st.push({ kind: m[0]!.toUpperCase() + m.slice(1), desc: '' });
  return { t, shape: shapeOf(t) };
}

/** Weights common in tfjs's generators (how often each kind is drawn). */
const COMMON = ['Conv2D', 'Conv2D', 'Conv2D', 'ReLU6', 'GlobalPool', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'Pool', 'Pool', 'BatchNormalization', 'ZeroPadding2D', 'Cropping2D', 'UpSampling2D', 'Activation', 'ReLU', 'LeakyReLU', 'PReLU', 'NoOp', 'branch', 'branch', 'NestedSequential', 'SharedTwice', 'SqueezeExcite', 'SqueezeExcite', 'NestedFunctional'];
const RARE = ['DenseOn4D', 'ELU', 'ThresholdedReLU', 'Softmax', 'Reshape', 'Permute', 'LayerNormalization', 'ChannelsFirstConv', 'GlobalPool'];

export interface Generated { model: tf.LayersModel; steps: Step[]; inputShape: Shape }

/** A random model of 1..depth layers (plus an optional head) from the PRG; `rare`: the share of draws from RARE (kinds the importer mostly refuses). */
export function randomModel(g: Prg, depth = 4, rare = 0.2): Generated {
  const inputShape = [int(g, 4, 8), int(g, 4, 8), int(g, 1, 3)];
  const input = tf.input({ shape: inputShape });
  let c: Cur = { t: input, shape: inputShape };
  const steps: Step[] = [];
  const n = int(g, 1, depth);
  for (let i = 0; i < n && c.shape.length === 3; i++) {
    const key = coin(g, rare) ? pick(g, RARE) : pick(g, COMMON);
    if (c.shape[0]! * c.shape[1]! * c.shape[2]! > 4000) break;
    const next = key === 'branch' ? branch(g, c, steps) : spatial[key]!(g, c, steps);
    if (next) c = next;
  }
  if (c.shape.length === 3 && coin(g, 0.5)) c = apply(tf.layers.flatten(), c, steps, 'Flatten', '');
  if (c.shape.length === 1 && coin(g, 0.7)) {
    if (coin(g, 0.3)) c = apply(tf.layers.batchNormalization({}), c, steps, 'BatchNormalization(1-D)', '');
    const a = { units: int(g, 1, 5), activation: pick(g, [...ACTS]) };
    c = apply(tf.layers.dense(a), c, steps, 'Dense', JSON.stringify(a));
    // An op on the flat vector after the Dense, sometimes followed by a second Dense.
    if (coin(g, 0.4)) {
      const k = pick(g, ['PReLU', 'LeakyReLU', 'ReLU', 'BatchNormalization', 'Dropout', 'Activation'] as const);
      const l = k === 'PReLU' ? tf.layers.prelu({}) : k === 'LeakyReLU' ? tf.layers.leakyReLU({ alpha: 0.2 }) : k === 'ReLU' ? tf.layers.reLU({ maxValue: 6 }) : k === 'BatchNormalization' ? tf.layers.batchNormalization({ epsilon: 0.01 }) : k === 'Dropout' ? tf.layers.dropout({ rate: 0.5 }) : tf.layers.activation({ activation: pick(g, ACTS) });
      c = apply(l, c, steps, `${k}(1-D)`, '');
      if (coin(g)) c = apply(tf.layers.dense({ units: int(g, 1, 4), activation: pick(g, ['linear', 'softmax', 'sigmoid'] as const) }), c, steps, 'Dense', 'second');
    }
  }
  const inner = tf.model({ inputs: input, outputs: c.t });
  // Sometimes the whole functional model inside an outer Sequential (a nested model as the file's root layer list).
  const wrap = coin(g, 0.2);
  const model = wrap ? tf.sequential({ layers: [inner as unknown as tf.layers.Layer] }) : inner;
  if (wrap) steps.push({ kind: 'Sequential(Functional)', desc: '' });
  setRandomWeights(g, model);
  return { model, steps, inputShape };
}

/** Replace every weight by a draw from the PRG (moving variances positive). */
export function setRandomWeights(g: Prg, model: tf.LayersModel): void {
  for (const l of model.layers) {
    if (l instanceof tf.LayersModel) {
      setRandomWeights(g, l);
      continue;
    }
    const ws = l.weights;
    if (ws.length === 0) continue;
    l.setWeights(ws.map((w) => {
      const size = w.shape.reduce((a, b) => a! * b!, 1)!;
      const u = uniform(g, size, 0.8);
      const v = w.name.includes('moving_variance') ? u.map((x) => 0.2 + Math.abs(x)) : w.name.includes('gamma') ? u.map((x) => 1 + 0.5 * x) : u;
      return tf.tensor(Float32Array.from(v), w.shape as number[]);
    }));
  }
}
