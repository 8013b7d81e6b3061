/**
 * Agreement report: the plaintext float model (tfjs reference) against the
 * fixed-point computation (fixed-sim.ts, what the secure protocol computes up
 * to one unit per op) on sample inputs: per-sample logits, the largest
 * absolute logit error, and whether the decisions (argmax, or logit > 0 for
 * one sigmoid output) agree; and how many wrong elements the local
 * truncation rule is expected to produce per inference on these inputs.
 */
import { randomFillSync } from 'node:crypto';
import path from 'node:path';
import type { TruncationMode } from '../protocol/context.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { fixedLogits, type FixedSimRisk } from './fixed-sim.js';
import { describePreprocessing, pixelsToInput, type InputPreprocessing, type PixelScaling } from '../protocol/input-preprocessing.js';
import { readImageInput, toPreprocessing } from './images.js';
import { argmaxRows, modelOutput } from './output.js';
import { referenceLogits } from './reference.js';
import { kerasFloatArith } from '../protocol/ir-kit/arith.js';
import { forwardIR } from '../protocol/ir-kit/forward.js';
import { smoothActivation } from '../protocol/layers/activations.js';
import { SMOOTH_ACTIVATIONS } from '../protocol/ir.js';
import { sizeOf } from './shapes.js';

export interface Sample {
  name: string;
  /** Folder name of an image sample (e.g. NORMAL / PNEUMONIA), if any. */
  label?: string;
  input: Float32Array;
}

export interface AgreementRow {
  name: string;
  label?: string;
  floatLogits: number[];
  fixedLogits: number[];
  floatOutput: number[];
  maxAbsLogitError: number;
  floatClass: number;
  fixedClass: number;
  agree: boolean;
}

export interface AgreementReport {
  fracBits: number;
  outputActivation: string;
  labels?: string[];
  rows: AgreementRow[];
  maxAbsLogitError: number;
  meanAbsLogitError: number;
  agreeCount: number;
  /** How the bundles truncate products ('local' unless --truncation exact). */
  truncation: TruncationMode;
  /** The recorded preprocessing the image samples went through (describePreprocessing), if any. */
  preprocessing?: string;
  /** Decisions against the sample folders (when they are named like the labels). */
  folders?: FolderScore;
  /**
   * Largest over the samples of the local rule's expected wrong elements per
   * inference (fixed-sim.ts FixedSimRisk): products' part (0 with exact
   * truncation) and divisions' part (always local).
   */
  risk: FixedSimRisk;
  /**
   * Inputs of each smooth activation (sigmoid, silu, tanh, gelu inside the
   * network) over the samples, in real units, with the registered secure
   * approximation's valid range; `inside` false means the approximation's
   * error bound does not hold on these samples.
   */
  smoothRanges?: SmoothRange[];
}

export interface SmoothRange {
  layer: string;
  activation: string;
  min: number;
  max: number;
  range: [number, number];
  inside: boolean;
}

/** The smooth activations' inputs over the samples (float64 reference), against each registered approximation's inputRange. */
export function smoothRanges(model: ModelIR<FloatTensor>, samples: Sample[]): SmoothRange[] {
  const seen = new Map<string, SmoothRange>();
  const ar = { ...kerasFloatArith(), onSmoothInput: (layer: string, activation: string, min: number, max: number) => {
    const key = `${layer}\u0000${activation}`;
    const r = seen.get(key);
    const range = smoothActivation(activation)?.inputRange ?? [0, 0];
    if (!r) seen.set(key, { layer, activation, min, max, range: [range[0], range[1]], inside: true });
    else { r.min = Math.min(r.min, min); r.max = Math.max(r.max, max); }
  } };
  for (const s of samples) forwardIR(model, s.input, 1, ar);
  const out = [...seen.values()];
  for (const r of out) r.inside = r.min >= r.range[0] && r.max <= r.range[1];
  return out;
}

/** Above this many expected wrong elements per inference the report advises --truncation exact. */
export const LOCAL_TRUNCATION_RISK_LIMIT = 1e-6;

/** Samples from image files (decoded, resized, scaled for the model's input). */
export function imageSamples(files: string[], inputShape: number[], prep: PixelScaling | InputPreprocessing): Sample[] {
  return files.map((f) => ({ name: path.basename(f), label: path.basename(path.dirname(f)), input: readImageInput(f, inputShape, prep) }));
}

/** Uniform random pixels 0..255 (node:crypto) through the model's preprocessing. */
export function randomSamples(n: number, inputShape: number[], prep: PixelScaling | InputPreprocessing): Sample[] {
  const per = sizeOf(inputShape);
  const p = inputShape.length === 3 && (inputShape[2] === 1 || inputShape[2] === 3) ? toPreprocessing(prep, inputShape) : undefined;
  return Array.from({ length: n }, (_, k) => {
    const u = new Uint32Array(per);
    randomFillSync(u);
    const px = Float64Array.from(u, (v) => (v / 2 ** 32) * 255);
    // Inputs that are not images ([784] and the like): the scaling alone, per element.
    const input = p ? pixelsToInput(px, p) : pixelsToInput(px, { colorMode: 'grayscale', resize: 'bilinear', scaling: typeof prep === 'string' ? prep : prep.scaling, channelOrder: 'rgb' });
    return { name: `random-${k + 1}`, input };
  });
}

export async function agreementReport(model: ModelIR<FloatTensor>, samples: Sample[], fracBits: number, onSample?: (i: number, n: number) => void, truncation: TruncationMode = 'local', preprocessing?: InputPreprocessing): Promise<AgreementReport> {
  const rows: AgreementRow[] = [];
  const worst: FixedSimRisk = { products: 0, divisions: 0 };
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const fl = referenceLogits(model, s.input, 1);
    const risk: FixedSimRisk = { products: 0, divisions: 0 };
    const fx = fixedLogits(model, s.input, 1, { fracBits, risk });
    worst.products = Math.max(worst.products, risk.products);
    worst.divisions = Math.max(worst.divisions, risk.divisions);
    let err = 0;
    for (let j = 0; j < fl.length; j++) err = Math.max(err, Math.abs(fl[j]! - fx[j]!));
    const a = argmaxRows(fl, 1)[0]!;
    const b = argmaxRows(fx, 1)[0]!;
    rows.push({
      name: s.name,
      ...(s.label !== undefined ? { label: s.label } : {}),
      floatLogits: Array.from(fl),
      fixedLogits: Array.from(fx),
      floatOutput: Array.from(modelOutput(model, fl, 1)),
      maxAbsLogitError: err,
      floatClass: a,
      fixedClass: b,
      agree: a === b,
    });
    onSample?.(i + 1, samples.length);
  }
  const errs = rows.map((r) => r.maxAbsLogitError);
  const smooth = model.nodes.some((n) => 'activation' in n && (SMOOTH_ACTIVATIONS as readonly string[]).includes(n.activation)) ? smoothRanges(model, samples) : [];
  const folders = folderScore({ rows, ...(model.labels ? { labels: model.labels } : {}) });
  return {
    ...(preprocessing ? { preprocessing: describePreprocessing(preprocessing) } : {}),
    ...(folders ? { folders } : {}),
    fracBits,
    outputActivation: model.outputActivation,
    ...(model.labels ? { labels: model.labels } : {}),
    rows,
    maxAbsLogitError: errs.length ? Math.max(...errs) : 0,
    meanAbsLogitError: errs.length ? errs.reduce((a, b) => a + b, 0) / errs.length : 0,
    agreeCount: rows.filter((r) => r.agree).length,
    truncation,
    risk: { products: truncation === 'exact' ? 0 : worst.products, divisions: worst.divisions },
    ...(smooth.length ? { smoothRanges: smooth } : {}),
  };
}

export interface FolderScore {
  /** Samples whose folder name is one of the model's labels. */
  total: number;
  floatCorrect: number;
  fixedCorrect: number;
  /** The largest folder's size: what always answering one class gets right. */
  chance: number;
  /** Folders of at least two labels, and the float model's decisions get no more right than `chance`. */
  noBetterThanChance: boolean;
}

/** How the decisions compare with the sample folders named like the labels (undefined when no sample has such a folder). */
export function folderScore(r: Pick<AgreementReport, 'rows' | 'labels'>): FolderScore | undefined {
  const labelled = r.rows.filter((x) => x.label !== undefined && r.labels?.includes(x.label));
  if (labelled.length === 0) return undefined;
  const cls = (k: number): string => r.labels?.[k] ?? String(k);
  const right = (k: 'floatClass' | 'fixedClass'): number => labelled.filter((x) => cls(x[k]) === x.label).length;
  const sizes = new Map<string, number>();
  for (const x of labelled) sizes.set(x.label!, (sizes.get(x.label!) ?? 0) + 1);
  const chance = Math.max(...sizes.values());
  const floatCorrect = right('floatClass');
  return { total: labelled.length, floatCorrect, fixedCorrect: right('fixedClass'), chance, noBetterThanChance: sizes.size >= 2 && floatCorrect <= chance };
}

const num = (v: number, d = 4): string => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(d));

/** Plain-text table of the report. */
export function formatReport(r: AgreementReport): string {
  const cls = (k: number): string => r.labels?.[k] ?? String(k);
  const lines: string[] = [];
  lines.push(`Agreement: plaintext (float64 on float32 weights) vs fixed point (f = ${r.fracBits}, truncation after every product), output activation ${r.outputActivation}`);
  const w = Math.max(6, ...r.rows.map((x) => x.name.length));
  lines.push(`${'sample'.padEnd(w)}  ${'folder'.padEnd(10)}  ${'float logits'.padEnd(22)}  ${'fixed logits'.padEnd(22)}  ${'max|err|'.padStart(9)}  ${'float'.padEnd(10)}  ${'fixed'.padEnd(10)}  agree`);
  for (const x of r.rows) {
    const fl = x.floatLogits.slice(0, 3).map((v) => num(v)).join(',') + (x.floatLogits.length > 3 ? ',..' : '');
    const fx = x.fixedLogits.slice(0, 3).map((v) => num(v)).join(',') + (x.fixedLogits.length > 3 ? ',..' : '');
    lines.push(`${x.name.padEnd(w)}  ${(x.label ?? '-').padEnd(10)}  ${fl.padEnd(22)}  ${fx.padEnd(22)}  ${num(x.maxAbsLogitError, 5).padStart(9)}  ${cls(x.floatClass).padEnd(10)}  ${cls(x.fixedClass).padEnd(10)}  ${x.agree ? 'yes' : 'NO'}`);
  }
  lines.push(`samples: ${r.rows.length}   max |logit error|: ${num(r.maxAbsLogitError, 5)}   mean of per-sample max: ${num(r.meanAbsLogitError, 5)}   decision agreement: ${r.agreeCount}/${r.rows.length}`);
  if (r.rows.length > 0) {
    const total = r.risk.products + r.risk.divisions;
    lines.push(`truncation: ${r.truncation}; expected wrong elements per inference (largest over the samples; an element is wrong with probability ~|x| / 2^64): ${total.toExponential(1)}${r.truncation === 'exact' ? ' (divisions only; products are truncated exactly)' : ` (products ${r.risk.products.toExponential(1)}, divisions ${r.risk.divisions.toExponential(1)})`}`);
    if (r.truncation === 'local' && r.risk.products > LOCAL_TRUNCATION_RISK_LIMIT) lines.push(`  above ${LOCAL_TRUNCATION_RISK_LIMIT.toExponential(0)}: re-import with --truncation exact (2 rounds and 32 bytes per truncated element more) or fewer --frac-bits`);
  }
  if (r.smoothRanges?.length) {
    const out = r.smoothRanges.filter((x) => !x.inside);
    lines.push(`smooth activations: ${r.smoothRanges.length} layers; inputs on the samples inside the secure approximations' ranges: ${r.smoothRanges.length - out.length}/${r.smoothRanges.length}`);
    for (const x of out) lines.push(`WARNING: layer '${x.layer}' ${x.activation}: inputs on the samples reach [${num(x.min)}, ${num(x.max)}], outside the approximation's range [${x.range[0]}, ${x.range[1]}]: its error bound does not hold there`);
  }
  const f = folderScore(r);
  if (f) {
    lines.push(`folder labels: float model ${f.floatCorrect}/${f.total} correct, fixed point ${f.fixedCorrect}/${f.total} correct`);
    if (f.noBetterThanChance) lines.push(`WARNING: on the labelled sample folders the decisions are no better than chance (always answering the largest folder, ${f.chance}/${f.total}, does as well): check the preprocessing (${r.preprocessing ?? 'not recorded'}) and the label order (${(r.labels ?? []).join(', ')})`);
  }
  return lines.join('\n');
}
