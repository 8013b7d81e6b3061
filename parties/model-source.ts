/**
 * Where a party's share model comes from: the one adapter between parties/
 * and model-import/.
 *  - 'bundle': a share bundle written by model-import (loadBundle(dir, party)),
 *    used when model-import/bundle.ts is present and exports loadBundle;
 *  - 'memory': a ModelIR<ShareTensor> handed over in process (tests), e.g.
 *    one of the three models from shareModel;
 *  - 'dev-file': a v8-serialised share model written by writeDevModelFiles
 *    (npm start's fallback when model-import is unavailable; development only);
 *  - 'ensemble': a PATE teacher ensemble: several teacher models
 *    (each from one of the sources above, e.g. one bundle per hospital) that
 *    answer the same query; the party serves only the noisy-max label of
 *    their votes (protocol/privacy/pate.ts). The teachers must agree on the
 *    input shape, the number of classes and the fractional bits. The
 *    ensemble's id (modelHash) is the sha256 of the teachers' hashes in
 *    order and of its noise settings, so parties configured differently
 *    refuse each other's plans (E_MODEL_MISMATCH).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { COMPARE_BOUNDS, type CompareBound, type InputPreprocessing, type ModelInfo, type SecurityMode } from '../protocol/api-contract.js';
import type { RepTensor } from '../protocol/malicious/weights.js';
import { MpcError } from '../protocol/errors.js';
import { TRUNCATION_MODES, type TruncationMode } from '../protocol/context.js';
import { checkFracBits } from '../protocol/fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR, OutputActivation } from '../protocol/ir.js';
import { getKernels } from '../protocol/kernels/index.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf, type ShareTensor } from '../protocol/layers/types.js';
import { decisionThresholdsOf, resolvePolicy, type PrivacyPolicy } from '../protocol/privacy/index.js';
import type { PartyId } from '../protocol/ring/types.js';
import { outputPrivacy } from './privacy.js';
import { constantOutputReason, decisionRuleOf, outputKindOf } from '../protocol/output-kind.js';
import { outputShapeOf } from './shapes.js';

/** What parties/ needs of a model-import manifest. */
export interface PartyManifest {
  modelHash: string;
  /** The import the bundle comes from (model-import/bundle.ts; announced as ModelInfo.importId). */
  importId?: string;
  inputShape: number[];
  fracBits: number;
  /** How products are truncated (protocol/context.ts); absent: 'local'. */
  truncation?: TruncationMode;
  /** The narrowest comparison ring the model needs (model-import/precision.ts); absent: not checked at import. */
  compareBits?: 32 | 64;
  outputActivation: OutputActivation;
  labels?: string[];
  /** The image preprocessing the model expects (announced in ModelInfo; absent in older bundles). */
  preprocessing?: InputPreprocessing;
  /** Output privacy policy of the model (absent: logits without noise). */
  privacy?: PrivacyPolicy;
  /** What decided compareBits at import (model-import/bundle.ts); with 'unsound-override' or 'samples-only' the party logs `rangeWarning` at load. */
  compareBound?: CompareBound;
  rangeWarning?: string;
  /** The ring a label mode's comparisons of the logits fit in (model-import/output-bound.ts); absent in older bundles: 64. */
  outputCompareBits?: 32 | 64;
  outputCompareBound?: 'sound' | 'samples-only';
  /** Declared range of a raw tensor input's elements (announced as ModelInfo.inputRange). */
  inputRange?: [number, number];
  /** What the model requires of the parties (mpc-import --require-security): `security: 'malicious'`, refused by a semi-honest party (checkModelSecurity). */
  requires?: { security?: 'malicious' };
}

/** `replicated`: the malicious mode's replicated weight shares, in process only (parties/replicated-source.ts). */
export interface PartyBundle { manifest: PartyManifest; model: ModelIR<ShareTensor>; replicated?: ModelIR<RepTensor> }

/** Noise of a PATE ensemble's vote counts (per query); absent: secure majority vote without noise (no privacy charge). */
export interface PateNoise {
  mechanism: 'laplace' | 'gaussian';
  /** Per-query epsilon (every image of a request is one query). */
  epsilon: number;
  /** Gaussian only. */
  delta?: number;
  sampler?: 'discrete-exact' | 'gamma-split';
}

type SingleSource =
  | { kind: 'memory'; bundle: PartyBundle }
  | { kind: 'bundle'; dir: string }
  | { kind: 'dev-file'; path: string };

export type ModelSource = SingleSource | { kind: 'ensemble'; teachers: SingleSource[]; noise?: PateNoise };

export interface LoadedModel {
  info: ModelInfo;
  model: ModelIR<ShareTensor>;
  /** How the parties truncate products in this model (the manifest's, default 'local'). */
  truncation: TruncationMode;
  /** The comparison ring the model needs (the manifest's compareBits; absent: not stated). checkModelSettings refuses a narrower party. */
  compareBits?: 32 | 64;
  /**
   * The manifest's outputCompareBits: the ring mpc-import showed a label mode's comparisons of the logits fit in
   * (run-executor.ts privateOutputs decides a request-only label mode there; absent: 64). Never set for an ensemble.
   */
  outputCompareBits?: 32 | 64;
  /** Elements of one input image / one output row. */
  inputSize: number;
  outputSize: number;
  /** The manifest's privacy policy (validated). */
  policy?: PrivacyPolicy;
  /** PATE ensemble: the teachers' share models, in order (`model` is the first). */
  teachers?: ModelIR<ShareTensor>[];
  /** The import's comparison-ring warning (manifest compareBound 'unsound-override' / 'samples-only'), logged at load. */
  rangeWarning?: { basis: 'samples-only' | 'unsound-override'; text: string };
}

export interface ModelImportApi {
  loadBundle(dir: string, party: PartyId): PartyBundle;
  writeBundles?(src: { ir: ModelIR<FloatTensor>; sourceHash: string; sourceFile?: string; format?: string }, outDir: string, opts?: { fracBits?: number; truncation?: 'local' | 'exact'; compareBits?: 32 | 64; overwrite?: boolean; privacy?: PrivacyPolicy; replicated?: boolean }): unknown;
}

let api: Promise<ModelImportApi | null> | null = null;

/** Link model-import in instead of importing it by path (the bundled party program, bundle-entry.ts). */
export function useModelImport(m: ModelImportApi): void {
  api = Promise.resolve(m);
}

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
  if (m.truncation !== undefined && !TRUNCATION_MODES.includes(m.truncation)) throw new MpcError('E_MODEL_FORMAT', `model: manifest truncation '${String(m.truncation)}' is not 'local' or 'exact'`);
  if (m.compareBits !== undefined && m.compareBits !== 32 && m.compareBits !== 64) throw new MpcError('E_MODEL_FORMAT', `model: manifest compareBits '${String(m.compareBits)}' is not 32 or 64`);
  if (m.compareBound !== undefined && !COMPARE_BOUNDS.includes(m.compareBound)) throw new MpcError('E_MODEL_FORMAT', `model: manifest compareBound is not one of ${COMPARE_BOUNDS.join(', ')}`);
  if (!(m.outputCompareBits === undefined && m.outputCompareBound === undefined) && !((m.outputCompareBits === 32 || m.outputCompareBits === 64) && (m.outputCompareBound === 'sound' || m.outputCompareBound === 'samples-only'))) {
    throw new MpcError('E_MODEL_FORMAT', 'model: manifest outputCompareBits / outputCompareBound are not 32 | 64 and sound | samples-only');
  }
  if (m.requires !== undefined && (typeof m.requires !== 'object' || m.requires === null || Object.keys(m.requires).some((k) => k !== 'security') || (m.requires.security !== undefined && m.requires.security !== 'malicious'))) {
    throw new MpcError('E_MODEL_FORMAT', "model: manifest requires must be { security: 'malicious' } or absent");
  }
  const outputShape = outputShapeOf(b.model);
  const constant = constantOutputReason(outputShape, m.outputActivation);
  if (constant) throw new MpcError('E_MODEL_FORMAT', `model: ${constant}; re-import it with a sigmoid head`);
  if (sizeOf(b.model.inputShape) !== sizeOf(m.inputShape)) throw new MpcError('E_MODEL_FORMAT', `model: manifest input shape [${m.inputShape}] differs from the model's [${b.model.inputShape}]`);
  let privacy;
  let decisionThresholds: number[] | undefined;
  try {
    const model = { fracBits: m.fracBits, classes: sizeOf(outputShape), outputShape, outputActivation: m.outputActivation };
    privacy = m.privacy === undefined ? undefined : outputPrivacy(resolvePolicy(m.privacy, {}, model));
    // Announced in every mode, so that the SDK's logits-mode findings decide where the label modes do.
    if (m.privacy?.decisionThresholds) decisionThresholds = decisionThresholdsOf(m.privacy, model);
  } catch (e) {
    throw new MpcError('E_MODEL_FORMAT', 'model: the manifest\'s privacy policy is invalid', { cause: e });
  }
  const info: ModelInfo = {
    modelHash: m.modelHash.toLowerCase(),
    ...(typeof m.importId === 'string' ? { importId: m.importId } : {}),
    inputShape: m.inputShape.slice(),
    outputShape,
    fracBits: m.fracBits,
    outputActivation: m.outputActivation,
    ...(m.labels ? { labels: m.labels.slice() } : {}),
    ...(m.preprocessing ? { preprocessing: structuredClone(m.preprocessing) } : {}),
    ...(Array.isArray(m.inputRange) ? { inputRange: [m.inputRange[0], m.inputRange[1]] as [number, number] } : {}),
    ...(m.compareBound !== undefined ? { compareBound: m.compareBound } : {}),
    ...(privacy ? { privacy } : {}),
    ...(decisionThresholds ? { decisionThresholds } : {}),
    ...(m.requires?.security ? { requires: { security: m.requires.security } } : {}),
  };
  const warn = m.compareBound === 'unsound-override' || m.compareBound === 'samples-only' ? { rangeWarning: { basis: m.compareBound, text: typeof m.rangeWarning === 'string' ? m.rangeWarning : 'no text recorded' } } : {};
  return { info, model: b.model, truncation: m.truncation ?? 'local', ...(m.compareBits !== undefined ? { compareBits: m.compareBits } : {}), ...(m.outputCompareBits !== undefined ? { outputCompareBits: m.outputCompareBits } : {}), ...warn, inputSize: sizeOf(m.inputShape), outputSize: sizeOf(outputShape), ...(m.privacy ? { policy: structuredClone(m.privacy) } : {}) };
}

const DEV_FORMAT = 'securenn-dev-share-model';

/** A PATE ensemble needs at least two teachers; more than this is refused (each teacher is one full secure forward per query). */
export const MAX_TEACHERS = 64;

/** L1 / L2 sensitivity of a vote histogram when one teacher changes its vote (pate.ts). */
export const pateSensitivity = (mechanism: PateNoise['mechanism']): number => (mechanism === 'laplace' ? 2 : Math.SQRT2);

/** The policy an ensemble serves: labels only, with the vote counts' noise when configured. */
export function ensemblePolicy(noise: PateNoise | undefined): PrivacyPolicy {
  if (!noise) return { outputMode: 'label' };
  return { outputMode: 'label', dp: { mechanism: noise.mechanism, epsilon: noise.epsilon, sensitivity: pateSensitivity(noise.mechanism), ...(noise.delta !== undefined ? { delta: noise.delta } : {}), ...(noise.sampler ? { sampler: noise.sampler } : {}) } };
}

/** An ensemble's comparison ring rests on its weakest teacher's: any override, else any samples-only, else sound when every teacher's is. */
function ensembleBound(teachers: LoadedModel[]): { compareBound?: CompareBound } {
  const bounds = teachers.map((t) => t.info.compareBound);
  const weakest = (['unsound-override', 'samples-only'] as const).find((b) => bounds.includes(b)) ?? (bounds.every((b) => b === 'sound') ? 'sound' : undefined);
  return weakest ? { compareBound: weakest } : {};
}

function toEnsemble(teachers: LoadedModel[], noise: PateNoise | undefined): LoadedModel {
  const bad = (why: string): never => { throw new MpcError('E_MODEL_FORMAT', `ensemble: ${why}`); };
  if (teachers.length < 2 || teachers.length > MAX_TEACHERS) bad(`needs 2..${MAX_TEACHERS} teachers, got ${teachers.length}`);
  const [first] = teachers as [LoadedModel];
  teachers.forEach((t, i) => {
    if (t.info.inputShape.join(',') !== first.info.inputShape.join(',')) bad(`teacher ${i} takes input [${t.info.inputShape}], teacher 0 takes [${first.info.inputShape}]`);
    if (t.outputSize !== first.outputSize) bad(`teacher ${i} has ${t.outputSize} outputs, teacher 0 has ${first.outputSize}`);
    if (JSON.stringify(t.info.preprocessing ?? null) !== JSON.stringify(first.info.preprocessing ?? null)) bad(`teacher ${i} records another image preprocessing than teacher 0`);
    if (t.info.fracBits !== first.info.fracBits) bad(`teacher ${i} uses ${t.info.fracBits} fractional bits, teacher 0 uses ${first.info.fracBits}`);
    if (decisionRuleOf(t.info.outputShape, t.info.outputActivation) !== 'argmax') bad(`teacher ${i} has a ${outputKindOf(t.info.outputShape, t.info.outputActivation)} output; PATE counts one class vote per teacher`);
    if (t.policy && t.policy.outputMode !== 'logits') bad(`teacher ${i} has its own output policy ('${t.policy.outputMode}'); the ensemble's noise is set on the ensemble`);
  });
  if (noise) {
    if (noise.mechanism !== 'laplace' && noise.mechanism !== 'gaussian') bad(`unknown noise mechanism '${String(noise.mechanism)}'`);
    if (!(typeof noise.epsilon === 'number' && noise.epsilon > 0 && Number.isFinite(noise.epsilon))) bad('noise.epsilon must be a positive number');
  }
  const policy = ensemblePolicy(noise);
  let privacy;
  try {
    privacy = outputPrivacy(resolvePolicy(policy));
  } catch (e) {
    throw new MpcError('E_MODEL_FORMAT', 'ensemble: invalid noise settings', { cause: e });
  }
  const h = createHash('sha256').update('securenn/pate-ensemble/v1\0');
  for (const t of teachers) h.update(t.info.modelHash).update('\0');
  h.update(JSON.stringify(policy.dp ?? null));
  // The teachers' imports (every teacher's share bundle must come from the same import at the three parties).
  const imports = teachers.every((t) => t.info.importId !== undefined)
    ? teachers.reduce((g, t) => g.update(t.info.importId!).update('\0'), createHash('sha256').update('securenn/pate-imports/v1\0')).digest('hex').slice(0, 32)
    : undefined;
  const info: ModelInfo = {
    modelHash: h.digest('hex'),
    ...(imports ? { importId: imports } : {}),
    inputShape: first.info.inputShape.slice(),
    outputShape: first.info.outputShape.slice(),
    fracBits: first.info.fracBits,
    outputActivation: first.info.outputActivation,
    ...(first.info.labels ? { labels: first.info.labels.slice() } : {}),
    ...(first.info.preprocessing ? { preprocessing: structuredClone(first.info.preprocessing) } : {}),
    ...(first.info.inputRange ? { inputRange: [...first.info.inputRange] as [number, number] } : {}),
    ...ensembleBound(teachers),
    ...(privacy ? { privacy } : {}),
    ensemble: { teachers: teachers.length, aggregation: noise ? 'noisy-max' : 'majority', teacherHashes: teachers.map((t) => t.info.modelHash) },
    // The ensemble requires what any teacher requires.
    ...(teachers.some((t) => t.info.requires?.security === 'malicious') ? { requires: { security: 'malicious' as const } } : {}),
  };
  // One truncation rule per run: exact for every teacher if any teacher's import asked for it (exact is never wrong where local is right).
  const truncation: TruncationMode = teachers.some((t) => t.truncation === 'exact') ? 'exact' : 'local';
  // The widest ring any teacher needs.
  const needs = teachers.reduce<32 | 64 | undefined>((w, t) => (t.compareBits === undefined ? w : w === 64 || t.compareBits === 64 ? 64 : 32), undefined);
  const warned = teachers.find((t) => t.rangeWarning);
  return { info, model: first.model, truncation, ...(needs !== undefined ? { compareBits: needs } : {}), ...(warned ? { rangeWarning: warned.rangeWarning! } : {}), inputSize: first.inputSize, outputSize: first.outputSize, policy, teachers: teachers.map((t) => t.model) };
}

export async function loadPartyModel(src: ModelSource, party: PartyId): Promise<LoadedModel> {
  switch (src.kind) {
    case 'ensemble': {
      const loaded: LoadedModel[] = [];
      for (const t of src.teachers) loaded.push(await loadPartyModel(t, party));
      return toEnsemble(loaded, src.noise);
    }
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
export function shareBundles(plain: ModelIR<FloatTensor>, fracBits: number, modelHash = plainModelHash(plain), privacy?: PrivacyPolicy, preprocessing?: InputPreprocessing): [PartyBundle, PartyBundle, PartyBundle] {
  const parts = shareModel(getKernels(), plain, fracBits);
  // One importId for the three: like mpc-import's, it tells the shares of this call from another's of the same model.
  const manifest: PartyManifest = { modelHash, importId: randomBytes(16).toString('hex'), inputShape: plain.inputShape.slice(), fracBits, outputActivation: plain.outputActivation, ...(plain.labels ? { labels: plain.labels } : {}), ...(preprocessing ? { preprocessing } : {}), ...(privacy ? { privacy } : {}) };
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

/**
 * Refuse (E_MODEL_SETTINGS) a model whose manifest asks for a wider
 * comparison ring than this party compares in: its compared values were seen
 * beyond the 32-bit ring's range (with the importer's margin) on the samples,
 * so a 32-bit run would be silently wrong.
 */
/**
 * A model whose manifest requires malicious security is not served by a
 * semi-honest party: E_SECURITY_MODE at load (the party does not serve).
 */
export function checkModelSecurity(m: Pick<LoadedModel, 'info'>, security: SecurityMode, party: PartyId): void {
  if (m.info.requires?.security === 'malicious' && security !== 'malicious') {
    throw new MpcError('E_SECURITY_MODE', `model: the bundle's manifest requires security 'malicious'; this party is configured with security '${security}': set security: 'malicious' at the three parties, or serve another import`, { party, step: 'model.load' });
  }
}

export function checkModelSettings(m: Pick<LoadedModel, 'compareBits'>, compareBits: 32 | 64, party: PartyId): void {
  if (m.compareBits !== undefined && m.compareBits > compareBits) {
    throw new MpcError('E_MODEL_SETTINGS', `model: the bundle needs a ${m.compareBits}-bit comparison ring (manifest compareBits, chosen by mpc-import on its samples); this party is configured with compareBits ${compareBits}: set compareBits: ${m.compareBits} at the three parties, or re-import for ${compareBits} bits`, { party, step: 'model.load' });
  }
}
