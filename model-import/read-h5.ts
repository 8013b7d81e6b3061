/**
 * Legacy Keras HDF5 (`model.save('x.h5')`, Keras 2.1.4 .. Keras 3's legacy
 * writer): `model_config` root attribute + `model_weights/<layer>/` groups
 * whose `weight_names` attribute lists the datasets. Weights are matched by
 * name (layer scope + variable), never by HDF5 order, which is alphabetical.
 * A weights-only file (`save_weights`) needs the config from another file.
 */
import { MpcError } from '../protocol/errors.js';
import { flattenConfig, parseJson, roleOfVar, unusedAtInference, weightRoles, type KerasGraph, type KerasLayer } from './keras-config.js';
import { isDataset, isGroup, openH5, readFloatDataset, strAttr, strListAttr, type Group, type H5File } from './h5.js';

export interface H5ReadResult {
  graph: KerasGraph;
  kerasVersion?: string;
}

/** Read the model_config attribute (JSON object) of a legacy .h5, or undefined if it has none. */
export function readModelConfig(f: H5File): unknown {
  const raw = strAttr(f, 'model_config');
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw new MpcError('E_MODEL_FORMAT', 'model file: model_config is not a single string', { step: 'import.parse' });
  return parseJson(raw, 'model_config');
}

interface WeightEntry {
  /** Path components of the weight name without the variable, e.g. ['sequential', 'conv2d']. */
  scope: string[];
  role: string;
  path: string;
}

function groupEntries(root: Group, groupName: string): WeightEntry[] {
  const g = root.get(groupName);
  if (!isGroup(g)) throw new MpcError('E_MODEL_FORMAT', `model file: weight group '${groupName}' is missing`, { step: 'import.parse' });
  const names = strListAttr(g, 'weight_names') ?? [];
  return names.map((n) => {
    const parts = n.split('/');
    return { scope: parts.slice(0, -1), role: roleOfVar(parts.at(-1)!), path: `${g.path}/${n}` };
  });
}

function entriesFor(layer: KerasLayer, entries: WeightEntry[]): WeightEntry[] {
  // A root-level layer owns its whole group (names may carry TF scope suffixes like 'conv2d_1_1').
  if (layer.scope.length === 0) return entries;
  const exact = entries.filter((e) => e.scope.at(-1) === layer.kerasName);
  if (exact.length > 0) return exact;
  const re = new RegExp(`^${layer.kerasName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_\\d+$`);
  return entries.filter((e) => re.test(e.scope.at(-1) ?? ''));
}

/** Attach weights to every layer that needs them. */
function attachWeights(f: H5File, root: Group, graph: KerasGraph): void {
  const layerNames = strListAttr(root, 'layer_names');
  if (!layerNames) throw new MpcError('E_MODEL_FORMAT', 'model file: no layer_names attribute on the weights group', { step: 'import.parse' });
  const cache = new Map<string, WeightEntry[]>();
  for (const layer of graph.layers) {
    const roles = weightRoles(layer);
    if (roles.length === 0) continue;
    if (!layerNames.includes(layer.topLevel)) throw new MpcError('E_MODEL_FORMAT', `model file: no weights for layer '${layer.name}' (group '${layer.topLevel}' missing)`, { step: 'import.parse' });
    let all = cache.get(layer.topLevel);
    if (!all) cache.set(layer.topLevel, (all = groupEntries(root, layer.topLevel)));
    const mine = entriesFor(layer, all);
    const byRole = new Map(mine.map((e) => [e.role, e]));
    // Names we do not recognise (very old writers): fall back to Keras's variable order.
    const positional = mine.length === roles.length && roles.some((r) => !byRole.has(r));
    // A stored weight the config does not read (a bias under use_bias: false, a beta under center: false, a
    // config from --config-from that does not match the weights) would be dropped silently: a different model.
    // Keras itself refuses such a file; so do we (as the .keras reader does with its count of variables).
    const extra = positional ? [] : mine.filter((e) => !roles.includes(e.role) && !unusedAtInference(layer, e.role));
    if (extra.length > 0) {
      throw new MpcError('E_WEIGHT_SHAPE', `layer '${layer.name}' (${layer.className}) stores weights its config does not use (${extra.map((e) => e.role).join(', ')}; it reads ${roles.join(', ')}): check use_bias / center / scale`, { step: 'import.parse' });
    }
    roles.forEach((role, i) => {
      const e = positional ? mine[i] : byRole.get(role);
      if (!e) throw new MpcError('E_MODEL_FORMAT', `model file: layer '${layer.name}' (${layer.className}) has no '${role}' weight`, { step: 'import.parse' });
      const ds = f.get(e.path);
      if (!isDataset(ds)) throw new MpcError('E_MODEL_FORMAT', `model file: weight '${e.path}' is missing`, { step: 'import.parse' });
      // Normalization's sample count (an integer) is not used at inference.
      if (role === 'count') return;
      const t = readFloatDataset(ds, `weight '${e.path}'`);
      layer.weights.set(role, t);
    });
  }
}

/**
 * Read a legacy Keras .h5. `configFrom` supplies the architecture for a
 * weights-only file (another .h5 with model_config, or a JSON config).
 */
export async function readLegacyH5(file: string, configFrom?: unknown): Promise<H5ReadResult> {
  const f = await openH5(file);
  try {
    const cfg = readModelConfig(f) ?? configFrom;
    if (cfg === undefined) {
      throw new MpcError('E_MODEL_FORMAT', 'model file: no model_config (a weights-only file); supply the architecture from the full model file', { step: 'import.parse' });
    }
    const graph = flattenConfig(cfg);
    const mw = f.get('model_weights');
    const wroot = isGroup(mw) ? mw : f;
    attachWeights(f, wroot, graph);
    const kv = strAttr(f, 'keras_version');
    return { graph, ...(typeof kv === 'string' ? { kerasVersion: kv } : {}) };
  } finally {
    f.close();
  }
}
