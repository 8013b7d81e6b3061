/**
 * Keras model configs (legacy `model_config`, Keras 3 `config.json`, TF.js
 * `modelTopology`) flattened to one list of leaf layers in topological order.
 *
 * Handles: list-style Sequential (Keras <= 2.2.2), dict-style Sequential,
 * Functional/Model graphs (Keras 2 `inbound_nodes` lists and Keras 3
 * `args`/`keras_history` nodes), and models nested in models at any depth.
 * Each leaf records where its weights live in each file format.
 */
import { MpcError } from '../protocol/errors.js';
import type { FloatTensor } from '../protocol/ir.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface KerasLayer {
  className: string;
  /** Unique name in the flattened graph (the Keras name unless it collides). */
  name: string;
  /** The layer's own name in its (sub)model config. */
  kerasName: string;
  config: JsonObject;
  /** Unique names of the layers it reads; 'input' is the model input. */
  inputs: string[];
  /** 1-based position among the leaf layers, in flattened order. */
  position: number;
  /** Names of enclosing nested models, outermost first. */
  scope: string[];
  /** Name of the root-model layer that contains it (legacy .h5 weight group). */
  topLevel: string;
  /** Keras 3 weights path, e.g. 'layers/sequential/layers/conv2d'. */
  v3Path: string;
  /** Weights by role: kernel, bias, gamma, beta, moving_mean, moving_variance. */
  weights: Map<string, FloatTensor>;
  /**
   * Keras 3: numbers among the call's positional arguments (x + 3.0 becomes
   * Add with args [x, 3.0]), with their argument position.
   */
  constants?: { value: number; position: number }[];
}

/** Numbers among a Keras 3 inbound node's positional arguments (flattened one level: Add()([x, 3.0]) or x + 3.0). */
function inboundConstants(node: Json): { value: number; position: number }[] {
  if (!isObject(node) || !Array.isArray(node['args'])) return [];
  const args = node['args'].length === 1 && Array.isArray(node['args'][0]) ? node['args'][0] : node['args'];
  const out: { value: number; position: number }[] = [];
  args.forEach((a, i) => { if (typeof a === 'number') out.push({ value: a, position: i }); });
  return out;
}

export interface KerasGraph {
  modelClass: string;
  /** Input shape without batch; null entries are unknown. */
  inputShape: (number | null)[] | undefined;
  layers: KerasLayer[];
  output: string;
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fmt(msg: string): MpcError {
  return new MpcError('E_MODEL_FORMAT', `model config: ${msg}`, { step: 'import.parse' });
}

/** Keras 3 `naming.to_snake_case`. */
export function toSnakeCase(name: string): string {
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  return s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

function batchShapeOf(cfg: JsonObject): (number | null)[] | undefined {
  const s = cfg['batch_input_shape'] ?? cfg['batch_shape'];
  if (Array.isArray(s) && s.length >= 2) return s.slice(1).map((d) => (typeof d === 'number' ? d : null));
  return undefined;
}

/**
 * The input shape a model spec declares itself: a Functional's InputLayer, a Sequential's InputLayer or
 * first layer's batch_input_shape, recursively through a nested model in first place. The root Sequential
 * of Sequential([base_model, ...]) has no InputLayer of its own in a TF.js model.json (Keras adds one).
 */
function declaredInputShape(spec: JsonObject, depth = 0): (number | null)[] | undefined {
  const cfg = spec['config'];
  if (depth > 8 || (!isObject(cfg) && !Array.isArray(cfg))) return undefined;
  const list = Array.isArray(cfg) ? cfg : Array.isArray(cfg['layers']) ? cfg['layers'] : [];
  if (spec['class_name'] === 'Sequential') {
    const first = list.find(isObject);
    if (!first) return undefined;
    const fc = isObject(first['config']) ? first['config'] : {};
    return batchShapeOf(fc) ?? (MODEL_CLASSES.has(String(first['class_name'])) ? declaredInputShape(first, depth + 1) : undefined);
  }
  const inNames = isObject(cfg) ? refList(cfg['input_layers']) : [];
  for (const l of list) {
    if (!isObject(l) || l['class_name'] !== 'InputLayer') continue;
    const lc = isObject(l['config']) ? l['config'] : {};
    if (String(lc['name'] ?? l['name']) === inNames[0]) return batchShapeOf(lc);
  }
  return undefined;
}

function buildShapeOf(cfg: JsonObject): (number | null)[] | undefined {
  const b = cfg['build_input_shape'];
  if (Array.isArray(b) && b.length >= 2 && !Array.isArray(b[0])) return b.slice(1).map((d) => (typeof d === 'number' ? d : null));
  return undefined;
}

interface Ctx {
  layers: KerasLayer[];
  used: Set<string>;
  inputShape: (number | null)[] | undefined;
}

/** Tensor references ([layerName, nodeIndex, tensorIndex]) of one inbound node, Keras 2 or Keras 3 style. */
function inboundRefs(node: Json): string[] {
  const out: string[] = [];
  if (Array.isArray(node)) {
    // Keras 2: [[name, nodeIdx, tensorIdx, kwargs], ...]
    for (const t of node) {
      if (Array.isArray(t) && typeof t[0] === 'string') out.push(t[0]);
      else throw fmt('unrecognised inbound node entry');
    }
    return out;
  }
  if (isObject(node)) {
    // Keras 3: {args: [...], kwargs: {...}} with __keras_tensor__ leaves.
    const walk = (v: Json): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (isObject(v)) {
        const cfg = v['config'];
        if (v['class_name'] === '__keras_tensor__' && isObject(cfg) && Array.isArray(cfg['keras_history'])) {
          const h = cfg['keras_history'];
          if (typeof h[0] === 'string') out.push(h[0]);
        } else Object.values(v).forEach(walk);
      }
    };
    walk(node['args'] ?? null);
    walk(node['kwargs'] ?? null);
    return out;
  }
  throw fmt('unrecognised inbound node');
}

function layerRef(v: Json): string {
  // input_layers / output_layers entries: ["name", 0, 0], or a list of them.
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  throw fmt('unrecognised input_layers/output_layers entry');
}

function refList(v: Json | undefined): string[] {
  if (!Array.isArray(v)) return [];
  if (v.length > 0 && typeof v[0] === 'string') return [layerRef(v)];
  return v.map(layerRef);
}

class Flattener {
  constructor(private readonly ctx: Ctx) {}

  private uniqueName(kerasName: string, scope: string[]): string {
    let n = kerasName === 'input' ? 'input_' : kerasName;
    if (this.ctx.used.has(n)) n = [...scope, kerasName].join('/');
    let k = 1;
    const base = n;
    while (this.ctx.used.has(n)) n = `${base}_${k++}`;
    this.ctx.used.add(n);
    return n;
  }

  /** Add one layer spec; returns the unique name of the tensor it produces. */
  private addLayer(spec: JsonObject, input: string, scope: string[], v3Prefix: string, v3Key: string, topLevel: string | undefined): string {
    const className = String(spec['class_name']);
    const cfg = isObject(spec['config']) || Array.isArray(spec['config']) ? spec['config'] : {};
    const kerasName = isObject(cfg) && typeof cfg['name'] === 'string' ? cfg['name'] : Array.isArray(cfg) ? 'sequential' : className.toLowerCase();
    const v3Path = `${v3Prefix}layers/${v3Key}`;
    if (MODEL_CLASSES.has(className)) {
      return this.model(spec, [input], [...scope, kerasName], `${v3Path}/`, topLevel ?? kerasName);
    }
    const name = this.uniqueName(kerasName, scope);
    this.ctx.layers.push({
      className,
      name,
      kerasName,
      config: isObject(cfg) ? cfg : {},
      inputs: [input],
      position: this.ctx.layers.length + 1,
      scope,
      topLevel: topLevel ?? kerasName,
      v3Path,
      weights: new Map(),
    });
    return name;
  }

  /** Flatten a model spec called on `inputs`; returns its output tensor name. */
  model(spec: JsonObject, inputs: string[], scope: string[], v3Prefix: string, topLevel: string | undefined): string {
    const className = String(spec['class_name']);
    const cfg = spec['config'];
    const isRoot = scope.length === 0;
    if (className === 'Sequential') {
      const list = Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg['layers']) ? cfg['layers'] : null;
      if (!list) throw fmt(`Sequential model '${scope.join('/')}' has no layer list`);
      if (isRoot && isObject(cfg)) this.ctx.inputShape ??= buildShapeOf(cfg);
      let cur = inputs[0]!;
      const counters = new Map<string, number>();
      let first = true;
      for (const l of list) {
        if (!isObject(l)) throw fmt('layer entry is not an object');
        const lcfg = isObject(l['config']) ? l['config'] : {};
        if (isRoot && first) {
          const bs = batchShapeOf(lcfg) ?? (MODEL_CLASSES.has(String(l['class_name'])) ? declaredInputShape(l) : undefined);
          if (bs) this.ctx.inputShape = bs;
        }
        first = false;
        if (l['class_name'] === 'InputLayer') continue;
        const key = this.v3Key(String(l['class_name']), counters);
        cur = this.addLayer(l, cur, scope, v3Prefix, key, isRoot ? undefined : topLevel);
      }
      return cur;
    }
    if (className === 'Functional' || className === 'Model') {
      if (!isObject(cfg) || !Array.isArray(cfg['layers'])) throw fmt(`functional model '${scope.join('/')}' has no layer list`);
      const inNames = refList(cfg['input_layers']);
      const outNames = refList(cfg['output_layers']);
      if (inNames.length !== 1 || outNames.length !== 1) {
        throw new MpcError('E_UNSUPPORTED_LAYER', `model '${scope.join('/') || 'root'}' (${className}) has ${inNames.length} inputs and ${outNames.length} outputs; only single-input single-output models are supported`, { step: 'import.convert' });
      }
      const produced = new Map<string, string>();
      const counters = new Map<string, number>();
      const pending = cfg['layers'].filter(isObject);
      for (const l of pending) {
        const lcfg = isObject(l['config']) ? l['config'] : {};
        if (l['class_name'] === 'InputLayer') {
          const lname = String(lcfg['name'] ?? l['name']);
          if (lname !== inNames[0]) throw fmt(`input layer '${lname}' is not the model input`);
          produced.set(lname, inputs[0]!);
          if (isRoot) this.ctx.inputShape = batchShapeOf(lcfg) ?? this.ctx.inputShape;
        }
      }
      // Keras lists functional layers in a topological order; check it as we go.
      for (const l of pending) {
        if (l['class_name'] === 'InputLayer') continue;
        const lcfg = isObject(l['config']) ? l['config'] : {};
        const lname = String(lcfg['name'] ?? l['name']);
        const nodes = Array.isArray(l['inbound_nodes']) ? l['inbound_nodes'] : [];
        const key = this.v3Key(String(l['class_name']), counters);
        if (nodes.length !== 1) {
          throw new MpcError('E_UNSUPPORTED_LAYER', `layer '${lname}' (${String(l['class_name'])}) in '${scope.join('/') || 'root'}' is called ${nodes.length} times; shared or unused layers are not supported`, { step: 'import.convert' });
        }
        const srcs = inboundRefs(nodes[0]!).map((s) => {
          const p = produced.get(s);
          if (p === undefined) throw fmt(`layer '${lname}' reads '${s}', which is not defined before it`);
          return p;
        });
        if (srcs.length === 0) throw fmt(`layer '${lname}' has no inputs`);
        const spec = { ...l, config: lcfg };
        const before = this.ctx.layers.length;
        const out = this.addLayer(spec, srcs[0]!, scope, v3Prefix, key, isRoot ? undefined : topLevel);
        if (srcs.length > 1) {
          if (MODEL_CLASSES.has(String(l['class_name']))) throw fmt(`nested model '${lname}' has several inputs`);
          this.ctx.layers[before]!.inputs = srcs;
        }
        const consts = inboundConstants(nodes[0]!);
        if (consts.length && !MODEL_CLASSES.has(String(l['class_name']))) this.ctx.layers[before]!.constants = consts;
        produced.set(lname, out);
      }
      const out = produced.get(outNames[0]!);
      if (out === undefined) throw fmt(`output layer '${outNames[0]}' not found`);
      return out;
    }
    throw fmt(`unknown model class '${className}'`);
  }

  private v3Key(className: string, counters: Map<string, number>): string {
    const base = toSnakeCase(className);
    const n = counters.get(base);
    counters.set(base, n === undefined ? 0 : n + 1);
    return n === undefined ? base : `${base}_${n + 1}`;
  }
}

/** Flatten a model config object ({class_name, config}) into a KerasGraph. */
export function flattenConfig(modelConfig: unknown): KerasGraph {
  if (!isObject(modelConfig) || typeof modelConfig['class_name'] !== 'string') throw fmt('expected an object with class_name and config');
  const ctx: Ctx = { layers: [], used: new Set(['input']), inputShape: undefined };
  const f = new Flattener(ctx);
  if (!MODEL_CLASSES.has(modelConfig['class_name'])) throw fmt(`top-level class '${modelConfig['class_name']}' is not a model`);
  const output = f.model(modelConfig, ['input'], [], '', undefined);
  const bc = modelConfig['build_config'];
  if (ctx.inputShape === undefined && isObject(bc) && Array.isArray(bc['input_shape'])) {
    ctx.inputShape = bc['input_shape'].slice(1).map((d) => (typeof d === 'number' ? d : null));
  }
  return { modelClass: modelConfig['class_name'], inputShape: ctx.inputShape, layers: ctx.layers, output };
}

/** Parse JSON text from a model file; E_MODEL_FORMAT if it is not JSON. */
export function parseJson(text: string, what: string): Json {
  try {
    return JSON.parse(text.replace(/\bNaN\b/g, 'null').replace(/-?\bInfinity\b/g, 'null')) as Json;
  } catch (e) {
    throw new MpcError('E_MODEL_FORMAT', `${what}: not valid JSON`, { step: 'import.parse', cause: e });
  }
}

/** Which weights each layer class reads, in Keras's variable order. */
export function weightRoles(layer: KerasLayer): string[] {
  const c = layer.config;
  const useBias = c['use_bias'] !== false;
  switch (layer.className) {
    case 'Conv2D':
    case 'Convolution2D':
    case 'Dense':
    case 'DepthwiseConv2D':
    case 'Conv2DTranspose':
    case 'Convolution2DTranspose':
      return useBias ? ['kernel', 'bias'] : ['kernel'];
    case 'SeparableConv2D':
    case 'SeparableConvolution2D':
      // The depthwise kernel's role is 'kernel' (roleOfVar).
      return useBias ? ['kernel', 'pointwise_kernel', 'bias'] : ['kernel', 'pointwise_kernel'];
    case 'PReLU':
      return ['alpha'];
    case 'BatchNormalization': {
      const r: string[] = [];
      if (c['scale'] !== false) r.push('gamma');
      if (c['center'] !== false) r.push('beta');
      r.push('moving_mean', 'moving_variance');
      return r;
    }
    case 'Normalization':
      // Adapted statistics are weights; mean/variance given in the config are not.
      return c['mean'] === undefined || c['mean'] === null ? ['mean', 'variance', 'count'] : [];
    default:
      return [];
  }
}

/**
 * A stored weight of this layer that inference does not read (not an error to find in the file):
 * Keras 2's batch renormalization statistics (training only; inference uses the moving mean and variance).
 */
export function unusedAtInference(layer: KerasLayer, role: string): boolean {
  return layer.className === 'BatchNormalization' && layer.config['renorm'] === true && role.startsWith('renorm_');
}

/** Map a stored variable name ('depthwise_kernel:0', 'kernel') to its role. */
export function roleOfVar(varName: string): string {
  const v = varName.replace(/:\d+$/, '');
  if (v === 'depthwise_kernel') return 'kernel';
  return v;
}
