/**
 * Writes Sequential models as real Keras files, for the seed models and for
 * tests (and Keras 3 functional graphs, for the Keras twins of imported
 * models: keras-from-ir.ts): a Keras 3 `.keras` zip (config.json in Keras 3's serialisation,
 * metadata.json, model.weights.h5 with `layers/<snake_case>/vars/<i>`), or a
 * legacy `.h5` (root `model_config`, `model_weights/<layer>/<layer>/<var>:0`
 * with `weight_names`), optionally in Keras 2.1.4's list-style config.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import type { FloatTensor } from '../protocol/ir.js';
import { createH5, type Group } from './h5.js';
import { toSnakeCase, type Json, type JsonObject } from './keras-config.js';

export interface SeqLayer {
  className: string;
  name: string;
  /** Layer options (filters, kernel_size, ...), without name/dtype/trainable. */
  config: JsonObject;
  /** Variables in Keras order with their variable names (kernel, bias, gamma, ...). */
  weights: { name: string; value: FloatTensor }[];
}

export interface SeqModel {
  name: string;
  /** Input shape without batch. */
  inputShape: number[];
  layers: SeqLayer[];
}

/** A layer of a functional graph: `inputs` names the layers it reads ('input_layer' is the model input). */
export interface FuncLayer extends SeqLayer {
  inputs: string[];
}

export interface FuncModel {
  name: string;
  /** Input shape without batch. */
  inputShape: number[];
  layers: FuncLayer[];
  /** The layer whose output is the model's output. */
  output: string;
}

export interface LegacyH5Options {
  /** Written as the keras_version attribute; '2.1.4' also selects the list-style config. */
  kerasVersion?: string;
  /** Write each layer's datasets in reverse of weight_names order (HDF5 order != Keras order). */
  reverseDatasets?: boolean;
}

const DTYPE_POLICY: JsonObject = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

function keras3Layer(l: SeqLayer): JsonObject {
  return { module: 'keras.layers', class_name: l.className, config: { name: l.name, trainable: true, dtype: DTYPE_POLICY, ...l.config }, registered_name: null };
}

/** Keras 3 config.json for a Sequential model. */
export function keras3Config(m: SeqModel): JsonObject {
  const batchShape: Json[] = [null, ...m.inputShape];
  return {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: m.name,
      trainable: true,
      dtype: DTYPE_POLICY,
      layers: [{ module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: batchShape, dtype: 'float32', sparse: false, ragged: false, name: 'input_layer', optional: false }, registered_name: null }, ...m.layers.map(keras3Layer)],
      build_input_shape: batchShape,
    },
    registered_name: null,
    build_config: { input_shape: batchShape },
    compile_config: null,
  };
}

/** Keras 2 model_config (dict-style, or Keras 2.1.4's bare list when `listStyle`). */
export function legacyConfig(m: SeqModel, listStyle = false): JsonObject {
  const layers: JsonObject[] = m.layers.map((l, i) => ({
    class_name: l.className,
    config: { name: l.name, trainable: true, ...(i === 0 ? { batch_input_shape: [null, ...m.inputShape], dtype: 'float32' } : {}), ...l.config },
  }));
  if (listStyle) return { class_name: 'Sequential', config: layers };
  return { class_name: 'Sequential', config: { name: m.name, layers } };
}

function f32(t: FloatTensor): Float32Array {
  return Float32Array.from(t.data);
}

function mkGroups(root: Group, p: string): Group {
  let g = root;
  for (const part of p.split('/').filter(Boolean)) {
    const child = g.get(part);
    g = child ? (child as Group) : g.create_group(part);
  }
  return g;
}

function strList(g: Group, name: string, values: string[]): void {
  if (values.length === 0) g.create_attribute(name, [], [0], 'S1');
  else g.create_attribute(name, values);
}

const kerasTensor = (name: string): JsonObject => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [name, 0, 0] } });

/** Keras 3 config.json for a functional model (inbound nodes as Keras 3 writes them: `args` of keras tensors, merges take one list). */
export function keras3FunctionalConfig(m: FuncModel): JsonObject {
  const node = (l: FuncLayer): JsonObject => {
    const ts = l.inputs.map(kerasTensor);
    return { ...keras3Layer(l), name: l.name, inbound_nodes: [{ args: ts.length === 1 ? ts : [ts], kwargs: {} }] };
  };
  const input: JsonObject = { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, ...m.inputShape], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null, name: 'input_layer', inbound_nodes: [] };
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: { name: m.name, trainable: true, layers: [input, ...m.layers.map(node)], input_layers: [['input_layer', 0, 0]], output_layers: [[m.output, 0, 0]] },
    registered_name: 'Functional',
    build_config: { input_shape: [null, ...m.inputShape] },
    compile_config: null,
  };
}

/** Keras 3 weight paths of a model's layers (InputLayer excluded): `layers/<snake_case>[_n]`, counted per class. */
export function keras3Paths(m: { layers: readonly { className: string }[] }): string[] {
  const counters = new Map<string, number>();
  return m.layers.map((l) => {
    const base = toSnakeCase(l.className);
    const n = counters.get(base);
    counters.set(base, n === undefined ? 0 : n + 1);
    return `layers/${n === undefined ? base : `${base}_${n + 1}`}`;
  });
}

/** Write a `.keras` zip from a config object and the variables of each weight path. */
export async function writeKeras3Archive(file: string, config: JsonObject, vars: { path: string; name: string; tensors: FloatTensor[] }[], kerasVersion = '3.4.1'): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mpc-keras3-'));
  try {
    const wfile = path.join(dir, 'model.weights.h5');
    const f = await createH5(wfile);
    try {
      for (const v of vars) {
        const g = mkGroups(f, `${v.path}/vars`);
        g.create_attribute('name', v.name);
        v.tensors.forEach((t, i) => g.create_dataset({ name: String(i), data: f32(t), shape: t.shape, dtype: '<f' }));
      }
      mkGroups(f, 'vars');
    } finally {
      f.close();
    }
    const enc = new TextEncoder();
    const zip = zipSync(
      {
        'metadata.json': enc.encode(JSON.stringify({ keras_version: kerasVersion, date_saved: new Date().toISOString() })),
        'config.json': enc.encode(JSON.stringify(config)),
        'model.weights.h5': readFileSync(wfile),
      },
      { level: 0 },
    );
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, zip);
    renameSync(tmp, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Write a Keras 3 `.keras` archive of a Sequential model. */
export async function writeKeras3(file: string, m: SeqModel, kerasVersion = '3.4.1'): Promise<void> {
  const paths = keras3Paths(m);
  const vars = m.layers.map((l, i) => ({ path: paths[i]!, name: l.name, tensors: l.weights.map((w) => w.value) }));
  await writeKeras3Archive(file, keras3Config(m), vars, kerasVersion);
}

/** Write a Keras 3 `.keras` archive of a functional model. */
export async function writeKeras3Functional(file: string, m: FuncModel, kerasVersion = '3.4.1'): Promise<void> {
  const paths = keras3Paths(m);
  const vars = m.layers.map((l, i) => ({ path: paths[i]!, name: l.name, tensors: l.weights.map((w) => w.value) }));
  await writeKeras3Archive(file, keras3FunctionalConfig(m), vars, kerasVersion);
}

/** Write a legacy Keras `.h5` (model.save format). */
export async function writeLegacyH5(file: string, m: SeqModel, opts: LegacyH5Options = {}): Promise<void> {
  const kv = opts.kerasVersion ?? '2.12.0';
  const tmp = `${file}.tmp-${process.pid}`;
  const f = await createH5(tmp);
  try {
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('keras_version', kv);
    f.create_attribute('model_config', JSON.stringify(legacyConfig(m, kv === '2.1.4')));
    const mw = f.create_group('model_weights');
    strList(mw, 'layer_names', m.layers.map((l) => l.name));
    mw.create_attribute('backend', 'tensorflow');
    mw.create_attribute('keras_version', kv);
    for (const l of m.layers) {
      const g = mw.create_group(l.name);
      const names = l.weights.map((w) => `${l.name}/${w.name}:0`);
      strList(g, 'weight_names', names);
      if (l.weights.length === 0) continue;
      const inner = g.create_group(l.name);
      const order = l.weights.map((_, i) => i);
      if (opts.reverseDatasets) order.reverse();
      for (const i of order) {
        const w = l.weights[i]!;
        inner.create_dataset({ name: `${w.name}:0`, data: f32(w.value), shape: w.value.shape, dtype: '<f' });
      }
    }
  } finally {
    f.close();
  }
  renameSync(tmp, file);
}
