/**
 * Keras 3 `.keras` archives: a zip with config.json, metadata.json and
 * model.weights.h5, whose variables live at `layers/<snake_case>/vars/<i>`
 * (keys derived from class names with per-container counters, not from
 * layer names; see keras-config.ts `v3Path`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { MpcError } from '../protocol/errors.js';
import { flattenConfig, isObject, parseJson, weightRoles, type KerasGraph } from './keras-config.js';
import { isDataset, isGroup, openH5, readFloatDataset } from './h5.js';

export interface Keras3ReadResult {
  graph: KerasGraph;
  kerasVersion?: string;
}

function unzip(bytes: Uint8Array): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes);
  } catch (e) {
    throw new MpcError('E_MODEL_FORMAT', `.keras archive: corrupt or truncated zip (${e instanceof Error ? e.message : 'unzip failed'})`, { step: 'import.parse', cause: e });
  }
}

export async function readKeras3(bytes: Uint8Array): Promise<Keras3ReadResult> {
  const entries = unzip(bytes);
  const cfgBytes = entries['config.json'];
  const wBytes = entries['model.weights.h5'];
  if (!cfgBytes) throw new MpcError('E_MODEL_FORMAT', '.keras archive: config.json is missing', { step: 'import.parse' });
  if (!wBytes) throw new MpcError('E_MODEL_FORMAT', '.keras archive: model.weights.h5 is missing', { step: 'import.parse' });
  const dec = new TextDecoder();
  const cfg = parseJson(dec.decode(cfgBytes), 'config.json');
  const graph = flattenConfig(cfg);
  let kerasVersion: string | undefined;
  const meta = entries['metadata.json'];
  if (meta) {
    const m = parseJson(dec.decode(meta), 'metadata.json');
    if (isObject(m) && typeof m['keras_version'] === 'string') kerasVersion = m['keras_version'];
  }
  // h5wasm's node build reads from the host filesystem: stage the weights file privately.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mpc-import-'));
  try {
    const wfile = path.join(dir, 'model.weights.h5');
    writeFileSync(wfile, wBytes, { mode: 0o600 });
    const f = await openH5(wfile, 'model.weights.h5');
    try {
      for (const layer of graph.layers) {
        const roles = weightRoles(layer);
        if (roles.length === 0) continue;
        const g = f.get(`${layer.v3Path}/vars`);
        if (!isGroup(g)) throw new MpcError('E_MODEL_FORMAT', `model.weights.h5: no variables for layer '${layer.name}' (expected ${layer.v3Path}/vars)`, { step: 'import.parse' });
        const keys = g.keys().filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
        if (keys.length !== roles.length) {
          throw new MpcError('E_WEIGHT_SHAPE', `layer '${layer.name}' (${layer.className}) has ${keys.length} variables, expected ${roles.length} (${roles.join(', ')})`, { step: 'import.parse' });
        }
        roles.forEach((role, i) => {
          const ds = g.get(keys[i]!);
          if (!isDataset(ds)) throw new MpcError('E_MODEL_FORMAT', `model.weights.h5: ${layer.v3Path}/vars/${keys[i]} is not a dataset`, { step: 'import.parse' });
          // Normalization's sample count (an integer) is not used at inference.
          if (role === 'count') return;
          layer.weights.set(role, readFloatDataset(ds, `weight ${layer.v3Path}/vars/${keys[i]}`));
        });
      }
    } finally {
      f.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { graph, ...(kerasVersion ? { kerasVersion } : {}) };
}
