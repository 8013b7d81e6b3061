/**
 * Per-party share bundles. `out/party0`, `out/party1` hold additive Z_2^64
 * shares of every weight and bias (fixed point, f fractional bits);
 * `out/party2` holds the architecture only (the helper needs shapes, never
 * weights). Each party directory has:
 *  - manifest.json: format + version, party id, import id (common to the
 *    three), sha256 of the source model, f, input shape, output activation,
 *    labels, the optional output privacy policy (protocol/privacy
 *    PrivacyPolicy: output mode, confidence thresholds, DP; absent = logits
 *    without noise, so older bundles stay valid), the IR node list with weight shapes and their offsets (u64
 *    elements) into weights.bin, and the payload's size and sha256;
 *  - weights.bin: raw little-endian u64 shares, node order, kernel then bias.
 * Writing is atomic: everything goes to a sibling temp directory, is fsynced,
 * then renamed into place; on any failure the temp directory is removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { TRUNCATION_MODES, type TruncationMode } from '../protocol/context.js';
import { isMpcError, MpcError } from '../protocol/errors.js';
import { checkPreprocessing, type InputPreprocessing } from '../protocol/input-preprocessing.js';
import { checkFracBits, DEFAULT_FRAC_BITS, encode } from '../protocol/fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, IR_FORMAT_VERSION_DILATED, irFormatVersionOf, type FloatTensor, type LayerNode, type ModelIR, type OutputActivation } from '../protocol/ir.js';
import { getKernels, type RingKernels } from '../protocol/kernels/index.js';
import type { ShareTensor } from '../protocol/layers/types.js';
import { resolvePolicy, type PrivacyPolicy } from '../protocol/privacy/index.js';
import type { AShare, PartyId } from '../protocol/ring/types.js';
import { share } from '../protocol/sharing/sharing.js';
import { checkLabels, outputCount } from './labels.js';
import { inferShapes, sizeOf } from './shapes.js';
import { ReplicatedWriter, type ReplicatedManifest } from './bundle-replicated.js';
import { outputCompareOk } from './output-bound.js';

export const BUNDLE_FORMAT = 'securenn-share-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
const CHUNK = 1 << 18;

export interface TensorRef {
  shape: number[];
  /** Offset into weights.bin in u64 elements. */
  offset: number;
  /** Number of u64 elements stored (0 for the helper P2). */
  length: number;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  irFormatVersion: number;
  party: PartyId;
  /** Random id shared by the three bundles of one import. */
  importId: string;
  /** Hex sha256 of the source model bytes. */
  modelHash: string;
  source: { file: string; format: string; kerasVersion?: string };
  fracBits: number;
  /** How the parties truncate products (protocol/context.ts): absent means 'local'. */
  truncation?: TruncationMode;
  /**
   * The narrowest comparison ring the model's compared values fit in on the
   * importer's samples (model-import/precision.ts); a party configured with a
   * narrower compareBits refuses the bundle (E_MODEL_SETTINGS). Absent: not
   * checked (older bundles, imports without samples).
   */
  compareBits?: 32 | 64;
  /**
   * What decided compareBits (precision.ts ringBasis): 'sound' (it holds the
   * static bound over the declared input range), 'samples-only' (no declared
   * range), 'unsound-override' (an explicit or forced ring that does not hold
   * it; `rangeWarning` says where, and the parties log it at load).
   */
  compareBound?: 'sound' | 'samples-only' | 'unsound-override';
  /** The import's warning about the comparison ring (unsound or samples-only), logged by the parties at load. */
  rangeWarning?: string;
  /**
   * The ring a label mode's comparisons of the logits fit in, for every model (output-bound.ts: the policy's or a
   * request's label mode), and what bound decided it. Absent (older bundles, imports without samples): the parties
   * decide a request-only label mode on the 64-bit ring.
   */
  outputCompareBits?: 32 | 64;
  outputCompareBound?: 'sound' | 'samples-only';
  /**
   * The declared range [lo, hi] of every element of a raw tensor input
   * (mpc-import --input-range, for inputs that are not images: an image's
   * range follows from `preprocessing`). The SDK refuses a tensor outside it.
   */
  inputRange?: [number, number];
  ring: 'Z_2^64';
  encoding: 'u64le';
  inputShape: number[];
  output: string;
  outputActivation: OutputActivation;
  labels?: string[];
  /**
   * The image preprocessing the model was trained with (colour, resize,
   * scaling, channel order, mean/std); the parties announce it and the SDK
   * applies it. Absent in older bundles (the SDK then uses x/255).
   */
  preprocessing?: InputPreprocessing;
  /** Output privacy policy the parties enforce (optional; requests may only make it stricter). */
  privacy?: PrivacyPolicy;
  /** What the model requires of the parties: `security: 'malicious'` (a semi-honest party refuses the bundle). Absent: nothing. */
  requires?: { security: 'malicious' };
  /** The malicious mode's replicated weight shares beside weights.bin (bundle-replicated.ts). Absent: none written. */
  replicated?: ReplicatedManifest;
  /** Weight elements in the model (each is one u64 in P0's and P1's payload). */
  params: number;
  nodes: LayerNode<TensorRef>[];
  payload: { file: 'weights.bin'; bytes: number; sha256: string };
  createdAt: string;
}

export interface BundleSource {
  ir: ModelIR<FloatTensor>;
  sourceHash: string;
  sourceFile?: string;
  format?: string;
  kerasVersion?: string;
}

export interface WriteBundleOptions {
  fracBits?: number;
  /** 'exact' writes truncation: 'exact' into the manifests (default 'local', written as absent). */
  truncation?: TruncationMode;
  /** The comparison ring the model needs (precision.ts), written into the manifests when given. */
  compareBits?: 32 | 64;
  kernels?: RingKernels;
  /** Replace an existing output directory (atomically). */
  overwrite?: boolean;
  /** Output privacy policy written into the three manifests. */
  privacy?: PrivacyPolicy;
  /** Image preprocessing written into the three manifests (checked against the input shape). */
  preprocessing?: InputPreprocessing;
  /** What decided compareBits, and its warning (BundleManifest.compareBound, rangeWarning). */
  compareBound?: BundleManifest['compareBound'];
  rangeWarning?: string;
  /** The decisions' ring and its bound (BundleManifest.outputCompareBits, outputCompareBound). */
  outputCompareBits?: 32 | 64;
  outputCompareBound?: BundleManifest['outputCompareBound'];
  /** Declared range of a raw tensor input's elements (BundleManifest.inputRange). */
  inputRange?: [number, number];
  /** Also write the malicious mode's replicated weight shares (bundle-replicated.ts); weights.bin is written as always. */
  replicated?: boolean;
  /** Write `requires: { security: 'malicious' }` into the manifests (implies replicated). */
  requireSecurity?: 'malicious';
  /** Called as weights are shared: elements done, elements total. May throw to abort. */
  onProgress?: (done: number, total: number) => void;
}

function weightsOf(node: LayerNode<FloatTensor>): FloatTensor[] {
  if (!('kernel' in node)) return [];
  return node.bias ? [node.kernel, node.bias] : [node.kernel];
}

function fsyncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeFileSynced(file: string, data: string | Uint8Array): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Check everything that could fail while writing before anything is written. */
function precheck(ir: ModelIR<FloatTensor>, f: number): number {
  inferShapes(ir);
  if (ir.labels) checkLabels(ir.labels, outputCount(ir), 'bundle: labels');
  const limit = 2 ** (53 - f);
  let params = 0;
  for (const node of ir.nodes) {
    for (const w of weightsOf(node)) {
      if (w.data.length !== sizeOf(w.shape)) throw new MpcError('E_WEIGHT_SHAPE', `layer '${node.name}': weight has ${w.data.length} values for shape [${w.shape}]`, { step: 'import.bundle' });
      for (let i = 0; i < w.data.length; i++) {
        const v = w.data[i]!;
        if (!Number.isFinite(v) || Math.abs(v) >= limit) throw new MpcError('E_RANGE', `layer '${node.name}': a weight is not finite or exceeds the fixed-point range 2^${53 - f}`, { step: 'import.bundle' });
      }
      params += w.data.length;
    }
  }
  return params;
}

const COMPARE_BOUNDS: readonly string[] = ['sound', 'samples-only', 'unsound-override'];
const isInputRange = (r: unknown): r is [number, number] => Array.isArray(r) && r.length === 2 && r.every((v) => typeof v === 'number' && Number.isFinite(v)) && r[0] < r[1];

/**
 * Quantize, share and write the three bundles to `outDir` (created; must not
 * exist unless `overwrite`). Returns the three manifests.
 */
export function writeBundles(src: BundleSource, outDir: string, opts: WriteBundleOptions = {}): BundleManifest[] {
  const f = checkFracBits(opts.fracBits ?? DEFAULT_FRAC_BITS);
  const k = opts.kernels ?? getKernels();
  const ir = src.ir;
  const total = precheck(ir, f);
  const outShape = inferShapes(ir).get(ir.output);
  if (opts.truncation !== undefined && !TRUNCATION_MODES.includes(opts.truncation)) throw new MpcError('E_BAD_ARGUMENT', `bundle: truncation must be 'local' or 'exact', got '${String(opts.truncation)}'`, { step: 'import.bundle' });
  if (opts.compareBits !== undefined && opts.compareBits !== 32 && opts.compareBits !== 64) throw new MpcError('E_BAD_ARGUMENT', `bundle: compareBits must be 32 or 64, got '${String(opts.compareBits)}'`, { step: 'import.bundle' });
  if (opts.privacy !== undefined) {
    try {
      // With the model: the noise scale must be samplable at f bits, and a clip bound implies a least sensitivity for
      // the model's number of outputs (clippedSensitivity; E_DP_SENSITIVITY names both numbers).
      // Decision thresholds must fit the output: one or one per channel, for a sigmoid output decided per element.
      resolvePolicy(opts.privacy, {}, { fracBits: f, ...(outShape ? { classes: sizeOf(outShape), outputShape: outShape, outputActivation: ir.outputActivation } : {}) });
    } catch (e) {
      const code = isMpcError(e) && (e.code === 'E_DP_SENSITIVITY' || e.code === 'E_DP_PARAMETER') ? e.code : 'E_BAD_ARGUMENT';
      throw new MpcError(code, `bundle: invalid privacy policy (${(e as Error).message})`, { step: 'import.bundle', cause: e });
    }
  }
  const preprocessing = opts.preprocessing === undefined ? undefined : checkPreprocessing(opts.preprocessing, ir.inputShape, 'E_BAD_ARGUMENT', 'bundle: preprocessing');
  if (opts.inputRange !== undefined && !isInputRange(opts.inputRange)) throw new MpcError('E_BAD_ARGUMENT', 'bundle: inputRange must be two finite numbers lo < hi', { step: 'import.bundle' });
  if (opts.compareBound !== undefined && !COMPARE_BOUNDS.includes(opts.compareBound)) throw new MpcError('E_BAD_ARGUMENT', `bundle: compareBound must be one of ${COMPARE_BOUNDS.join(', ')}`, { step: 'import.bundle' });
  if (!outputCompareOk(opts)) throw new MpcError('E_BAD_ARGUMENT', 'bundle: outputCompareBits must be 32 or 64 with outputCompareBound sound or samples-only (both or neither)', { step: 'import.bundle' });
  const out = path.resolve(outDir);
  if (existsSync(out) && !opts.overwrite) throw new MpcError('E_BAD_ARGUMENT', `bundle: output ${out} already exists (use overwrite)`, { step: 'import.bundle' });
  mkdirSync(path.dirname(out), { recursive: true });
  const tag = randomBytes(6).toString('hex');
  const tmp = `${out}.tmp-${tag}`;
  const importId = randomBytes(16).toString('hex');
  let fds: number[] = [];
  let replicated: ReplicatedWriter | null = null;
  if (opts.requireSecurity !== undefined && opts.requireSecurity !== 'malicious') throw new MpcError('E_BAD_ARGUMENT', `bundle: requireSecurity must be 'malicious' or absent, got '${String(opts.requireSecurity)}'`, { step: 'import.bundle' });
  try {
    mkdirSync(tmp, { mode: 0o700 });
    const dirs = [0, 1, 2].map((p) => path.join(tmp, `party${p}`));
    dirs.forEach((d) => mkdirSync(d, { mode: 0o700 }));
    fds = dirs.map((d) => openSync(path.join(d, 'weights.bin'), 'w', 0o600));
    if (opts.replicated || opts.requireSecurity) replicated = new ReplicatedWriter(dirs);
    const hashes = [0, 1, 2].map(() => createHash('sha256'));
    const nodes: LayerNode<TensorRef>[][] = [[], [], []];
    let offset = 0;
    let done = 0;
    opts.onProgress?.(0, total);
    for (const node of ir.nodes) {
      const refs: Record<string, TensorRef>[] = [{}, {}, {}];
      for (const role of ['kernel', 'bias'] as const) {
        const w = (node as { kernel?: FloatTensor; bias?: FloatTensor })[role];
        if (!w) continue;
        for (let i = 0; i < w.data.length; i += CHUNK) {
          const enc = encode(w.data.subarray(i, i + CHUNK), f);
          const shares = share(k, enc);
          replicated?.write(enc);
          for (const p of [0, 1] as const) {
            const bytes = new Uint8Array(shares[p].buffer, shares[p].byteOffset, shares[p].byteLength);
            writeSync(fds[p]!, bytes);
            hashes[p]!.update(bytes);
          }
          done += enc.length;
          opts.onProgress?.(done, total);
        }
        refs[0]![role] = refs[1]![role] = { shape: w.shape.slice(), offset, length: w.data.length };
        refs[2]![role] = { shape: w.shape.slice(), offset: 0, length: 0 };
        offset += w.data.length;
      }
      for (const p of [0, 1, 2]) nodes[p]!.push({ ...node, ...refs[p] } as LayerNode<TensorRef>);
    }
    const manifests: BundleManifest[] = [];
    const reps = replicated?.finish();
    for (const p of [0, 1, 2] as PartyId[]) {
      fsyncSync(fds[p]!);
      closeSync(fds[p]!);
      const m: BundleManifest = {
        format: BUNDLE_FORMAT,
        formatVersion: BUNDLE_FORMAT_VERSION,
        irFormatVersion: irFormatVersionOf(ir.nodes),
        party: p,
        importId,
        modelHash: src.sourceHash,
        source: { file: src.sourceFile ? path.basename(src.sourceFile) : 'unknown', format: src.format ?? 'ir', ...(src.kerasVersion ? { kerasVersion: src.kerasVersion } : {}) },
        fracBits: f,
        ...(opts.truncation === 'exact' ? { truncation: 'exact' as const } : {}),
        ...(opts.compareBits !== undefined ? { compareBits: opts.compareBits } : {}),
        ...(opts.compareBound !== undefined ? { compareBound: opts.compareBound } : {}),
        ...(opts.rangeWarning !== undefined ? { rangeWarning: opts.rangeWarning } : {}),
        ...(opts.outputCompareBits !== undefined ? { outputCompareBits: opts.outputCompareBits, outputCompareBound: opts.outputCompareBound! } : {}),
        ...(opts.inputRange !== undefined ? { inputRange: [opts.inputRange[0], opts.inputRange[1]] as [number, number] } : {}),
        ring: 'Z_2^64',
        encoding: 'u64le',
        inputShape: ir.inputShape.slice(),
        output: ir.output,
        outputActivation: ir.outputActivation,
        ...(ir.labels ? { labels: ir.labels.slice() } : {}),
        ...(preprocessing ? { preprocessing: structuredClone(preprocessing) } : {}),
        ...(opts.privacy ? { privacy: structuredClone(opts.privacy) } : {}),
        ...(opts.requireSecurity ? { requires: { security: opts.requireSecurity } } : {}),
        ...(reps ? { replicated: reps[p]! } : {}),
        params: total,
        nodes: nodes[p]!,
        payload: { file: 'weights.bin', bytes: p === 2 ? 0 : offset * 8, sha256: hashes[p]!.digest('hex') },
        createdAt: new Date().toISOString(),
      };
      writeFileSynced(path.join(dirs[p]!, 'manifest.json'), `${JSON.stringify(m, null, 1)}\n`);
      fsyncPath(dirs[p]!);
      manifests.push(m);
    }
    fds = [];
    fsyncPath(tmp);
    if (existsSync(out)) {
      const old = `${out}.old-${tag}`;
      renameSync(out, old);
      renameSync(tmp, out);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, out);
    fsyncPath(path.dirname(out));
    return manifests;
  } catch (e) {
    replicated?.close();
    for (const fd of fds) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function integrity(msg: string, party?: number): MpcError {
  return new MpcError('E_BUNDLE_INTEGRITY', `bundle: ${msg}`, { step: 'bundle.load', ...(party !== undefined ? { party } : {}) });
}

function manifestPath(dir: string, party: PartyId): string {
  const direct = path.join(dir, 'manifest.json');
  if (existsSync(direct)) return direct;
  return path.join(dir, `party${party}`, 'manifest.json');
}

/**
 * Load one party's bundle (`dir` is the party directory or the import's
 * output directory). Refuses (E_BUNDLE_INTEGRITY) a bundle of another party,
 * another format version, a truncated payload, or one whose sha256 differs.
 */
export function loadBundle(dir: string, party: PartyId): { manifest: BundleManifest; model: ModelIR<ShareTensor> } {
  const mpath = manifestPath(path.resolve(dir), party);
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(mpath, 'utf8')) as BundleManifest;
  } catch (e) {
    throw new MpcError('E_BUNDLE_INTEGRITY', `bundle: cannot read a manifest at ${mpath}`, { step: 'bundle.load', party, cause: e });
  }
  if (manifest.format !== BUNDLE_FORMAT) throw integrity(`not a share bundle (format '${String(manifest.format)}')`, party);
  if (manifest.formatVersion !== BUNDLE_FORMAT_VERSION) throw integrity(`format version ${String(manifest.formatVersion)} is not supported (expected ${BUNDLE_FORMAT_VERSION})`, party);
  if (manifest.irFormatVersion !== IR_FORMAT_VERSION && manifest.irFormatVersion !== IR_FORMAT_VERSION_DILATED) throw integrity(`IR format version ${String(manifest.irFormatVersion)} is not supported (expected ${IR_FORMAT_VERSION} or ${IR_FORMAT_VERSION_DILATED})`, party);
  if (manifest.party !== party) throw integrity(`bundle is for party ${String(manifest.party)}, not party ${party}`, party);
  try {
    checkFracBits(manifest.fracBits);
  } catch (e) {
    throw new MpcError('E_BUNDLE_INTEGRITY', `bundle: fractional bits ${String(manifest.fracBits)} out of range`, { step: 'bundle.load', party, cause: e });
  }
  if (manifest.truncation !== undefined && !TRUNCATION_MODES.includes(manifest.truncation)) throw integrity(`truncation '${String(manifest.truncation)}' is not 'local' or 'exact'`, party);
  if (manifest.compareBits !== undefined && manifest.compareBits !== 32 && manifest.compareBits !== 64) throw integrity(`compareBits '${String(manifest.compareBits)}' is not 32 or 64`, party);
  if (manifest.privacy !== undefined) {
    try {
      resolvePolicy(manifest.privacy);
    } catch (e) {
      throw new MpcError('E_BUNDLE_INTEGRITY', 'bundle: the privacy policy in the manifest is invalid', { step: 'bundle.load', party, cause: e });
    }
  }
  if (manifest.preprocessing !== undefined) checkPreprocessing(manifest.preprocessing, manifest.inputShape ?? [], 'E_BUNDLE_INTEGRITY', 'bundle: preprocessing');
  if (manifest.inputRange !== undefined && !isInputRange(manifest.inputRange)) throw integrity('inputRange is not two finite numbers lo < hi', party);
  if (manifest.compareBound !== undefined && !COMPARE_BOUNDS.includes(manifest.compareBound)) throw integrity(`compareBound '${String(manifest.compareBound)}' is not one of ${COMPARE_BOUNDS.join(', ')}`, party);
  if (manifest.rangeWarning !== undefined && typeof manifest.rangeWarning !== 'string') throw integrity('rangeWarning is not a string', party);
  if (!outputCompareOk(manifest)) throw integrity('outputCompareBits / outputCompareBound are not 32 | 64 and sound | samples-only', party);
  const wpath = path.join(path.dirname(mpath), 'weights.bin');
  let bytes: Buffer;
  try {
    bytes = readFileSync(wpath);
  } catch (e) {
    throw new MpcError('E_BUNDLE_INTEGRITY', `bundle: payload ${wpath} is missing`, { step: 'bundle.load', party, cause: e });
  }
  if (bytes.length !== manifest.payload?.bytes) throw integrity(`payload is ${bytes.length} bytes, manifest says ${String(manifest.payload?.bytes)}${bytes.length < (manifest.payload?.bytes ?? 0) ? ' (truncated)' : ''}`, party);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== manifest.payload.sha256) throw integrity('payload sha256 does not match the manifest', party);
  const all = new BigUint64Array(bytes.length / 8);
  new Uint8Array(all.buffer).set(bytes);
  const empty = new BigUint64Array(0) as AShare;
  const toShare = (r: TensorRef, where: string): ShareTensor => {
    if (!r || !Array.isArray(r.shape)) throw integrity(`${where} has no shape`, party);
    if (party === 2) {
      if (r.length !== 0) throw integrity(`${where}: the helper's bundle must not hold weights`, party);
      return { shape: r.shape.slice(), data: empty };
    }
    if (r.length !== sizeOf(r.shape) || r.offset < 0 || r.offset + r.length > all.length) throw integrity(`${where}: offset ${r.offset} + ${r.length} does not fit shape [${r.shape}] in a payload of ${all.length}`, party);
    return { shape: r.shape.slice(), data: all.subarray(r.offset, r.offset + r.length) as AShare };
  };
  const nodes = manifest.nodes.map((n) => {
    if (!('kernel' in n)) return n as LayerNode<ShareTensor>;
    const kernel = toShare(n.kernel, `layer '${n.name}' kernel`);
    const bias = n.bias ? toShare(n.bias, `layer '${n.name}' bias`) : undefined;
    return { ...n, kernel, ...(bias ? { bias } : {}) } as LayerNode<ShareTensor>;
  });
  const model: ModelIR<ShareTensor> = {
    formatVersion: IR_FORMAT_VERSION,
    inputShape: manifest.inputShape.slice(),
    nodes,
    output: manifest.output,
    outputActivation: manifest.outputActivation,
    ...(manifest.labels ? { labels: manifest.labels.slice() } : {}),
  };
  try {
    inferShapes(model);
  } catch (e) {
    throw new MpcError('E_BUNDLE_INTEGRITY', 'bundle: the node list is inconsistent', { step: 'bundle.load', party, cause: e });
  }
  return { manifest, model };
}
