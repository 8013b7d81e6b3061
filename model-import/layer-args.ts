/**
 * Readers of one Keras layer's config and weights for the converter
 * (convert.ts, layer-map.ts): the coded errors (E_UNSUPPORTED_LAYER naming the
 * layer, its class and position; E_MODEL_FORMAT; E_WEIGHT_SHAPE), activation
 * names, pairs, padding, data format and weight shapes.
 */
import { MpcError } from '../protocol/errors.js';
import { smoothActivation } from '../protocol/layers/activations.js';
import { SMOOTH_ACTIVATIONS, type SmoothActivationName, type Activation, type FloatTensor, type Padding } from '../protocol/ir.js';
import type { WorkGraph, WorkNode } from './graph.js';
import { isObject, type Json, type KerasLayer } from './keras-config.js';

export type AnyAct = Activation | 'softmax' | 'sigmoid';

export function unsupported(L: KerasLayer, reason: string): MpcError {
  const where = L.scope.length ? ` in ${L.scope.join('/')}` : '';
  return new MpcError('E_UNSUPPORTED_LAYER', `layer #${L.position} '${L.name}' (${L.className})${where}: ${reason}`, { step: 'import.convert' });
}

export function badConfig(L: KerasLayer, reason: string): MpcError {
  return new MpcError('E_MODEL_FORMAT', `layer #${L.position} '${L.name}' (${L.className}): ${reason}`, { step: 'import.convert' });
}

/** Keras activation spec (string, or a Keras 3 serialized function) -> name. */
export function activationName(v: Json | undefined): string {
  if (v === undefined || v === null) return 'linear';
  if (typeof v === 'string') return v;
  if (isObject(v)) {
    const c = v['config'];
    if (typeof c === 'string') return c;
    if (isObject(c) && typeof c['name'] === 'string') return c['name'];
    if (typeof v['class_name'] === 'string' && v['class_name'] !== 'function') return v['class_name'];
  }
  return String(JSON.stringify(v));
}

/** Keras activation names -> the IR's (hard_sigmoid per Keras version). */
export function parseAct(L: KerasLayer, v: Json | undefined, kerasMajor: 2 | 3): AnyAct {
  const a = activationName(v).toLowerCase();
  if (a === 'linear' || a === 'relu' || a === 'relu6' || a === 'softmax' || a === 'sigmoid') return a;
  if (a === 'hard_sigmoid') return kerasMajor === 2 ? 'hard_sigmoid_k2' : 'hard_sigmoid';
  if (a === 'hard_silu' || a === 'hard_swish') return 'hard_silu';
  const smooth = a === 'swish' ? 'silu' : a;
  if ((SMOOTH_ACTIVATIONS as readonly string[]).includes(smooth)) {
    if (!smoothActivation(smooth)) throw unsupported(L, `activation '${a}': secure approximation not available`);
    return smooth as SmoothActivationName;
  }
  throw unsupported(L, `activation '${a}' is not supported (relu, relu6, hard_sigmoid, hard_silu/hard_swish, linear, and registered secure approximations inside the network; softmax/sigmoid as the final op)`);
}

export function cropOrPad(L: KerasLayer, key: string): [[number, number], [number, number]] {
  const p = L.config[key];
  if (typeof p === 'number') return [[p, p], [p, p]];
  if (Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number')) return [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
  if (Array.isArray(p) && p.length === 2 && p.every((v) => Array.isArray(v) && v.length === 2)) return (p as number[][]).map((v) => [v[0]!, v[1]!]) as [[number, number], [number, number]];
  throw badConfig(L, `${key} must be an integer, a pair, or a pair of pairs`);
}

/** A binary chain of a merge over two or more inputs (the runner's nodes take two). */
export function chain(L: KerasLayer, g: WorkGraph, kind: 'add' | 'multiply' | 'maximum'): WorkNode[] {
  if (L.inputs.length < 2) throw badConfig(L, 'needs at least two inputs');
  const nodes: WorkNode[] = [];
  let acc = L.inputs[0]!;
  for (let i = 1; i < L.inputs.length; i++) {
    const name = i === L.inputs.length - 1 ? L.name : g.fresh(`${L.name}/${i}`);
    nodes.push({ kind, name, inputs: [acc, L.inputs[i]!] });
    acc = name;
  }
  return nodes;
}

export function pair(L: KerasLayer, key: string, dflt?: [number, number]): [number, number] {
  const v = L.config[key];
  if ((v === undefined || v === null) && dflt) return dflt;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0)) return [v[0] as number, v[1] as number];
  throw badConfig(L, `'${key}' must be an integer or a pair of integers`);
}

export function padding(L: KerasLayer): Padding {
  const p = String(L.config['padding'] ?? 'valid').toLowerCase();
  if (p === 'valid' || p === 'same') return p;
  throw unsupported(L, `padding '${p}' is not supported (valid or same)`);
}

export function channelsLast(L: KerasLayer): void {
  const df = L.config['data_format'];
  if (df !== undefined && df !== null && df !== 'channels_last') throw unsupported(L, `data_format '${String(df)}' is not supported (channels_last only)`);
}

/**
 * Conv2D / DepthwiseConv2D / SeparableConv2D dilation_rate: {} for 1x1, else the IR's dilation. Keras itself refuses
 * strides > 1 with a dilation_rate > 1 (a file that has both is refused here too, naming both options).
 */
export function dilationRate(L: KerasLayer): { dilation?: [number, number] } {
  const d = pair(L, 'dilation_rate', [1, 1]);
  if (d[0] === 1 && d[1] === 1) return {};
  const s = pair(L, 'strides', [1, 1]);
  if (s[0] !== 1 || s[1] !== 1) throw unsupported(L, `dilation_rate ${d[0]}x${d[1]} with strides ${s[0]}x${s[1]} is not supported (Keras allows a dilation_rate > 1 only with strides 1)`);
  return { dilation: d };
}

export function noDilation(L: KerasLayer): void {
  const d = pair(L, 'dilation_rate', [1, 1]);
  if (d[0] !== 1 || d[1] !== 1) throw unsupported(L, `dilation_rate ${d[0]}x${d[1]} is not supported (1 only)`);
}

export function weight(L: KerasLayer, role: string, expect: number[]): FloatTensor {
  const t = L.weights.get(role);
  if (!t) throw new MpcError('E_MODEL_FORMAT', `layer '${L.name}' (${L.className}) has no '${role}' weight`, { step: 'import.convert' });
  if (t.shape.length !== expect.length || t.shape.some((d, i) => d !== expect[i])) {
    throw new MpcError('E_WEIGHT_SHAPE', `layer '${L.name}' (${L.className}): ${role} has shape [${t.shape}] but the layer needs [${expect}]`, { step: 'import.convert' });
  }
  return { shape: t.shape.slice(), data: t.data };
}

export function optBias(L: KerasLayer, n: number): { bias?: FloatTensor } {
  return L.config['use_bias'] === false ? {} : { bias: weight(L, 'bias', [n]) };
}

/**
 * A number or a per-channel list of a layer config (Rescaling's scale / offset): one value, or C values
 * when the array broadcasts along the last axis only (numpy rules against the [N, ..., C] input of
 * rank `rank` + 1: shape [C], [1, 1, C], ...). Keras 3 may wrap an array as {class_name: '__numpy__' |
 * '__tensor__', config: {value}}. Anything that would vary over H, W or the batch is refused.
 */
export function channelParam(L: KerasLayer, key: string, dflt: number, C: number, rank: number): number[] {
  let v: Json = L.config[key] ?? dflt;
  if (isObject(v) && (v['class_name'] === '__numpy__' || v['class_name'] === '__tensor__') && isObject(v['config'])) v = v['config']['value'] ?? null;
  if (typeof v === 'number') return [v];
  const shape: number[] = [];
  for (let t: Json = v; Array.isArray(t); t = t[0] ?? null) shape.push(t.length);
  const flat = Array.isArray(v) ? (v as Json[]).flat(8) : [];
  const ok = shape.length > 0 && shape.length <= rank + 1 && flat.length === shape.reduce((a, b) => a * b, 1) && flat.every((e) => typeof e === 'number' && Number.isFinite(e));
  if (ok && flat.every((e) => e === flat[0])) return [flat[0] as number];
  if (ok && shape.slice(0, -1).every((d) => d === 1) && shape[shape.length - 1] === C) return flat as number[];
  throw unsupported(L, `'${key}' of shape [${shape}] is not supported (one number, or one per channel: ${C} values broadcast along the last axis)`);
}

/** A grouped conv kernel [kh, kw, C / groups, M] as one [kh, kw, C, M] kernel, zero outside each group's block: exact, at the full C x M cost. */
export function blockDiagonal(k: FloatTensor, C: number, groups: number): FloatTensor {
  const [kh, kw, Cg, M] = k.shape as [number, number, number, number];
  const Mg = M / groups, data = new Float64Array(kh * kw * C * M);
  for (let p = 0; p < kh * kw; p++) for (let cl = 0; cl < Cg; cl++) for (let o = 0; o < M; o++) data[(p * C + Math.floor(o / Mg) * Cg + cl) * M + o] = k.data[(p * Cg + cl) * M + o]!;
  return { shape: [kh, kw, C, M], data };
}
