/**
 * Where a party's share model comes from: the one adapter between parties/
 * and model-import/.
 *  - 'bundle': a share bundle written by model-import (loadBundle(dir, party)),
 *    used when model-import/bundle.ts is present and exports loadBundle;
 *  - 'memory': a ModelIR<ShareTensor> handed over in process (tests), e.g.
 *    one of the three models from shareModel;
 *  - 'dev-file': a v8-serialised share model written by writeDevModelFiles
 *    (npm start's fallback when model-import is unavailable; development only).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import type { ModelInfo } from '../protocol/api-contract.js';
import { MpcError } from '../protocol/errors.js';
import { checkFracBits } from '../protocol/fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR, OutputActivation } from '../protocol/ir.js';
import { getKernels } from '../protocol/kernels/index.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf, type ShareTensor } from '../protocol/layers/types.js';
import { resolvePolicy, type PrivacyPolicy } from '../protocol/privacy/index.js';
import type { PartyId } from '../protocol/ring/types.js';
import { outputPrivacy } from './privacy.js';
import { outputShapeOf } from './shapes.js';

/** What parties/ needs of a model-import manifest. */
export interface PartyManifest {
  modelHash: string;
  inputShape: number[];
  fracBits: number;
  outputActivation: OutputActivation;
  labels?: string[];
  /** Output privacy policy of the model (absent: logits without noise). */
  privacy?: PrivacyPolicy;
}

export interface PartyBundle { manifest: PartyManifest; model: ModelIR<ShareTensor> }

export type ModelSource =
  | { kind: 'memory'; bundle: PartyBundle }
  | { kind: 'bundle'; dir: string }
  | { kind: 'dev-file'; path: string };

export interface LoadedModel {
  info: ModelInfo;
  model: ModelIR<ShareTensor>;
  /** Elements of one input image / one output row. */
  inputSize: number;
  outputSize: number;
  /** The manifest's privacy policy (validated). */
  policy?: PrivacyPolicy;
}

interface ModelImportApi {
  loadBundle(dir: string, party: PartyId): PartyBundle;
  writeBundles?(src: { ir: ModelIR<FloatTensor>; sourceHash: string; sourceFile?: string; format?: string }, outDir: string, opts?: { fracBits?: number; overwrite?: boolean; privacy?: PrivacyPolicy }): unknown;
}

let api: Promise<ModelImportApi | null> | null = null;

/** model-import's bundle module if it exists and exports loadBundle, else null. */
export function modelImport(): Promise<ModelImportApi | null> {
  return (api ??= (async () => {
    for (const file of ['bundle.ts', 'bundle.js']) {
      const url = new URL(`../model-import/${file}`, import.meta.url);
      if (!existsSync(fileURLToPath(url))) continue;
      try {
        const mod = (await import(pathToFileURL(fileURLToPath(url)).href)) as Partial<ModelImportApi>;
        if (typeof mod.loadBundle === 'function') return mod as ModelImportApi;
      } catch {
        return null;
      }
    }
    return null;
  })());
}

function toLoaded(b: PartyBundle): LoadedModel {
  const m = b.manifest;
  if (typeof m.modelHash !== 'string' || !Array.isArray(m.inputShape)) throw new MpcError('E_MODEL_FORMAT', 'model: manifest lacks modelHash or inputShape');
  checkFracBits(m.fracBits);
  const outputShape = outputShapeOf(b.model);
  if (sizeOf(b.model.inputShape) !== sizeOf(m.inputShape)) throw new MpcError('E_MODEL_FORMAT', `model: manifest input shape [${m.inputShape}] differs from the model's [${b.model.inputShape}]`);
  let privacy;
  try {
    privacy = m.privacy === undefined ? undefined : outputPrivacy(resolvePolicy(m.privacy));
  } catch (e) {
    throw new MpcError('E_MODEL_FORMAT', 'model: the manifest\'s privacy policy is invalid', { cause: e });
  }
  const info: ModelInfo = {
    modelHash: m.modelHash.toLowerCase(),
    inputShape: m.inputShape.slice(),
    outputShape,
    fracBits: m.fracBits,
    outputActivation: m.outputActivation,
    ...(m.labels ? { labels: m.labels.slice() } : {}),
    ...(privacy ? { privacy } : {}),
  };
  return { info, model: b.model, inputSize: sizeOf(m.inputShape), outputSize: sizeOf(outputShape), ...(m.privacy ? { policy: structuredClone(m.privacy) } : {}) };
}

const DEV_FORMAT = 'securenn-dev-share-model';

export async function loadPartyModel(src: ModelSource, party: PartyId): Promise<LoadedModel> {
  switch (src.kind) {
    case 'memory':
      return toLoaded(src.bundle);
    case 'bundle': {
      const mi = await modelImport();
      if (!mi) throw new MpcError('E_MODEL_FORMAT', 'model: model-import (loadBundle) is not available in this build');
      return toLoaded(mi.loadBundle(src.dir, party));
    }
    case 'dev-file': {
      let obj: { format?: string; party?: number; bundle?: PartyBundle };
      try {
        obj = deserialize(readFileSync(src.path)) as typeof obj;
      } catch (e) {
        throw new MpcError('E_MODEL_FORMAT', `model: cannot read dev model file ${path.basename(src.path)}`, { cause: e });
      }
      if (obj.format !== DEV_FORMAT || !obj.bundle) throw new MpcError('E_MODEL_FORMAT', `model: ${path.basename(src.path)} is not a dev share model`);
      if (obj.party !== party) throw new MpcError('E_BUNDLE_INTEGRITY', `model: ${path.basename(src.path)} is for P${String(obj.party)}, not P${party}`);
      return toLoaded(obj.bundle);
    }
  }
}

/** sha256 of a plaintext model (architecture JSON + float64 weights), as a model id for in-memory models. */
export function plainModelHash(model: ModelIR<FloatTensor>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(model, (_k, v: unknown) => (v instanceof Float64Array ? { f64: v.length } : v)));
  for (const n of model.nodes) {
    if (!('kernel' in n)) continue;
    h.update(new Uint8Array(n.kernel.data.buffer, n.kernel.data.byteOffset, n.kernel.data.byteLength));
    if (n.bias) h.update(new Uint8Array(n.bias.data.buffer, n.bias.data.byteOffset, n.bias.data.byteLength));
  }
  return h.digest('hex');
}

/** The three parties' in-memory bundles of a plaintext model (weights shared between P0 and P1), with an optional privacy policy. */
export function shareBundles(plain: ModelIR<FloatTensor>, fracBits: number, modelHash = plainModelHash(plain), privacy?: PrivacyPolicy): [PartyBundle, PartyBundle, PartyBundle] {
  const parts = shareModel(getKernels(), plain, fracBits);
  const manifest: PartyManifest = { modelHash, inputShape: plain.inputShape.slice(), fracBits, outputActivation: plain.outputActivation, ...(plain.labels ? { labels: plain.labels } : {}), ...(privacy ? { privacy } : {}) };
  return parts.map((model) => ({ manifest, model })) as [PartyBundle, PartyBundle, PartyBundle];
}

/** Write the three bundles as dev files party-<i>.model in `dir`; returns their paths. */
export function writeDevModelFiles(dir: string, bundles: readonly PartyBundle[]): string[] {
  return bundles.map((bundle, party) => {
    const file = path.join(dir, `party-${party}.model`);
    writeFileSync(file, serialize({ format: DEV_FORMAT, party, bundle }), { mode: 0o600 });
    return file;
  });
}
