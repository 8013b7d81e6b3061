/**
 * TF.js Layers models: model.json (`format: layers-model`, Keras config in
 * `modelTopology`) plus binary shards listed in `weightsManifest`, read in
 * manifest order. Only float32 (and float16-free, unquantized) weights.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MpcError } from '../protocol/errors.js';
import type { FloatTensor } from '../protocol/ir.js';
import { flattenConfig, isObject, roleOfVar, unusedAtInference, weightRoles, type Json, type KerasGraph } from './keras-config.js';

export interface TfjsReadResult {
  graph: KerasGraph;
  kerasVersion?: string;
  /** Bytes of every shard, in manifest order (for the model hash). */
  shardBytes: Uint8Array[];
  shardFiles: string[];
}

function bad(msg: string): MpcError {
  return new MpcError('E_MODEL_FORMAT', `model.json: ${msg}`, { step: 'import.parse' });
}

export function readTfjs(modelJson: Json, file: string): TfjsReadResult {
  if (!isObject(modelJson)) throw bad('not an object');
  const topo = modelJson['modelTopology'];
  if (!isObject(topo)) throw bad('no modelTopology (only TF.js Layers models are supported, not graph models)');
  const cfg = isObject(topo['model_config']) ? topo['model_config'] : topo;
  const graph = flattenConfig(cfg);
  const manifest = modelJson['weightsManifest'];
  if (!Array.isArray(manifest)) throw bad('no weightsManifest');
  const dir = path.dirname(path.resolve(file));
  const shardBytes: Uint8Array[] = [];
  const shardFiles: string[] = [];
  const tensors = new Map<string, FloatTensor>();
  for (const group of manifest) {
    if (!isObject(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights'])) throw bad('malformed weightsManifest group');
    const parts: Uint8Array[] = [];
    for (const p of group['paths']) {
      if (typeof p !== 'string' || p.includes('..') || path.isAbsolute(p)) throw bad('shard path must be a plain relative file name');
      let b: Uint8Array;
      try {
        b = readFileSync(path.join(dir, p));
      } catch (e) {
        throw new MpcError('E_MODEL_FORMAT', `model.json: cannot read weight shard '${p}'`, { step: 'import.parse', cause: e });
      }
      parts.push(b);
      shardBytes.push(b);
      shardFiles.push(p);
    }
    const total = parts.reduce((a, b) => a + b.length, 0);
    const buf = new Uint8Array(total);
    let o = 0;
    for (const b of parts) {
      buf.set(b, o);
      o += b.length;
    }
    let off = 0;
    for (const w of group['weights']) {
      if (!isObject(w) || typeof w['name'] !== 'string' || !Array.isArray(w['shape'])) throw bad('malformed weight entry');
      if (w['dtype'] !== 'float32' || w['quantization'] !== undefined) throw bad(`weight '${w['name']}' is ${String(w['dtype'])}${w['quantization'] !== undefined ? ' (quantized)' : ''}; only float32 is supported`);
      const shape = w['shape'].map(Number);
      const n = shape.reduce((a, b) => a * b, 1);
      if (off + 4 * n > total) throw bad(`weight shards are truncated (weight '${w['name']}' needs ${4 * n} bytes at offset ${off}, shards hold ${total})`);
      const data = new Float64Array(n);
      const dv = new DataView(buf.buffer, buf.byteOffset + off, 4 * n);
      for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true);
      off += 4 * n;
      tensors.set(w['name'], { shape, data });
    }
  }
  for (const layer of graph.layers) {
    const roles = weightRoles(layer);
    if (roles.length === 0) continue;
    const mine = new Map<string, FloatTensor>();
    for (const [name, t] of tensors) {
      const parts = name.split('/');
      if (parts.at(-2) === layer.kerasName) mine.set(roleOfVar(parts.at(-1)!), t);
    }
    // A stored weight the config does not read (a bias under use_bias: false) would be dropped silently (read-h5.ts).
    const extra = [...mine.keys()].filter((r) => !roles.includes(r) && !unusedAtInference(layer, r));
    if (extra.length > 0) throw new MpcError('E_WEIGHT_SHAPE', `layer '${layer.name}' (${layer.className}) stores weights its config does not use (${extra.join(', ')}; it reads ${roles.join(', ')}): check use_bias / center / scale`, { step: 'import.parse' });
    for (const role of roles) {
      const t = mine.get(role);
      if (!t) throw bad(`layer '${layer.name}' (${layer.className}) has no '${role}' weight in the manifest`);
      layer.weights.set(role, t);
    }
  }
  const kv = topo['keras_version'] ?? modelJson['generatedBy'];
  return { graph, shardBytes, shardFiles, ...(typeof kv === 'string' ? { kerasVersion: kv } : {}) };
}
