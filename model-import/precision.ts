/**
 * The precision chooser: the fractional bits f, the truncation rule and the
 * comparison ring width that a model is imported with, chosen on sample
 * inputs instead of guessed. Independent of the file reader: it takes the
 * layer IR (Keras, ONNX, seed models alike) and sample inputs.
 *
 * What it checks for each candidate (f, truncation, compareBits):
 *  1. range: every value a secure comparison sees on the samples (forward.ts
 *     onCompare: ReLU / ReLU6 / LeakyReLU / PReLU / hard_sigmoid inputs,
 *     MaxPool and Maximum differences, a smooth activation's x and |x| - B_k, and with
 *     a secure argmax the logits' differences) stays inside the comparison
 *     ring divided by `rangeMargin`: |v| 2^f < 2^(w-1) / margin, and values a
 *     'same' MaxPool compares with its padding constant below 2^29 (w = 32)
 *     or 2^60 (w = 64) / margin (context.ts pushDown). A smooth
 *     approximation's error bound holds exactly where its comparisons are
 *     exact (piecewise-poly.ts comparableLimit), so this is its valid range
 *     too; outside its pieces' inputRange it saturates within the bound;
 *  2. error: the fixed-point simulation (fixed-sim.ts, the secure runner's
 *     arithmetic with the same approximations) with stochastic rounding — the
 *     protocol's truncations, local and exact, land on floor or floor + 1,
 *     the + 1 as often as the dropped fraction says — against the float64
 *     reference, on the outputs after the output activation (probabilities),
 *     `draws` (3) times per sample: |mean - float| + 3 std over the draws,
 *     max over samples and outputs, <= targetError / errorMargin (the secure
 *     run is one more draw; on EfficientNet-B0 at f = 13 single draws gave
 *     4.6e-4 to 1.4e-3 and the secure run 1.8e-3, so one draw is not enough). The
 *     simulation is not the secure arithmetic bit for bit: a smooth
 *     activation's secure result is within 1 ulp of its twin, and each
 *     rounding is one draw of the protocol's distribution; the margin (default
 *     2) covers that, and the measured secure runs (zoo.test.ts,
 *     precision.test.ts) are well inside it;
 *  3. truncation: local truncation fails with probability ~|x| / 2^64 per
 *     truncated product (PROTOCOL-NOTES); its expected wrong elements per
 *     inference on the samples must stay <= riskLimit (1e-6). Exact
 *     truncation (truncate-exact.ts) needs |x| < 2^62 / margin.
 *
 * With `soundRanges` (static-bounds.ts: interval arithmetic over the
 * declared input range), the ring must hold the sound bound too; a 32-bit
 * candidate runs the layers whose bound only the 64-bit ring holds on that
 * one (wideLayers, IR node compareBits: 64), and the report says which bound
 * decided the ring (sound-ring.ts ringBasis). If no candidate that passes
 * otherwise holds the bound (no ring holds it at some layer: the deep zoo
 * models), it proves nothing for this model: the search runs again on the
 * samples alone, no layer moved to 64 bits, and the choice is marked
 * 'samples-only' with the first layer no ring holds (looseBoundBasis);
 * `requireSoundBound` refuses instead (E_PRECISION_RANGE naming the layer).
 *
 * Order (cheapest first): compare ring 32 with local truncation, 64 with
 * local, 32 with exact, 64 with exact (exact adds 2 rounds per truncation;
 * the 64-bit ring adds bytes per comparison but no rounds, and rounds
 * dominate on a LAN; a 64-bit group is skipped when the 32-bit one with the
 * same truncation never failed on the range, since the ring changes only
 * that); within each, f ascending from 12 to 20. A higher f
 * only narrows the range and raises the local risk, so a group stops at the
 * first f that fails those. Explicit settings restrict the candidates to
 * themselves; a candidate set with no passing member is refused
 * (E_PRECISION_RANGE, E_PRECISION_TARGET) unless `force`, which keeps the
 * explicit settings and reports what failed.
 */
import type { TruncationMode } from '../protocol/context.js';
import { MpcError } from '../protocol/errors.js';
import { DEFAULT_FRAC_BITS, MAX_FRAC_BITS, MIN_FRAC_BITS } from '../protocol/fixed-point/fixed-point.js';
import { kerasFloatArith, type CompareKind } from '../protocol/ir-kit/arith.js';
import { forwardIR } from '../protocol/ir-kit/forward.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { applyOutputActivation, softmaxGroupOf } from './output.js';
import { looseBoundBasis, ringBasis, wideLayers } from './sound-ring.js';
import { simulate, type SimResult } from './precision-sim.js';

export type CompareBits = 32 | 64;

export interface PrecisionSettings {
  fracBits: number;
  truncation: TruncationMode;
  compareBits: CompareBits;
}

export interface PrecisionOptions {
  /** Largest acceptable |fixed - float| on the outputs after the output activation (default 1e-3). */
  targetError?: number;
  /** The simulated error must be <= targetError / errorMargin (default 2). */
  errorMargin?: number;
  /** Compared values must stay within the ring's range / rangeMargin (default 4: two bits of headroom). */
  rangeMargin?: number;
  /** Largest expected wrong elements per inference under local truncation (default 1e-6). */
  riskLimit?: number;
  /** Candidate fractional bits (default 12..20). */
  fracBitsRange?: [number, number];
  /** Explicit settings: the candidates are restricted to them. */
  fracBits?: number;
  truncation?: TruncationMode;
  compareBits?: CompareBits;
  /** Keep the explicit settings even if they fail a check (reported, not refused). */
  force?: boolean;
  /** The parties compare the logits (secure argmax: output mode label / label+confidence). */
  comparesOutput?: boolean;
  /**
   * Smallest fraction of decisions the simulation must share with the float
   * model (argmax per sample; for several sigmoid outputs, each output's side
   * of 0.5: a mask's pixels, multi-label findings). Default 0: printed, not
   * required (a sample at a decision boundary could otherwise refuse any f).
   */
  minAgreement?: number;
  /** Stochastic simulations per sample and f (default 3); the error is |mean - float| + 3 std over them. */
  draws?: number;
  /**
   * The sound bound of every layer's compared magnitudes over the model's
   * declared input range (static-bounds.ts staticRanges). Given, a candidate
   * ring must hold it too (with the margin), not only the samples' values;
   * an explicit compareBits that does not is kept with an UNSOUND warning.
   * Absent: the ring rests on the samples alone (said in ringReason). When
   * no ring holds it at any candidate (interval bounds through a deep model
   * are astronomically loose), the ring is chosen on the samples and marked
   * 'samples-only' (sound-ring.ts looseBoundBasis) unless requireSoundBound.
   */
  soundRanges?: RangeStat[];
  /** mpc-import --require-sound-bound: refuse (E_PRECISION_RANGE) any ring that does not hold the sound bound, and a model without one. */
  requireSoundBound?: boolean;
  /**
   * In-range inputs every check must hold on as well as the samples
   * (stress-inputs.ts: constant and high-contrast images of the declared
   * range). The samples' activations can be far smaller than an in-range
   * input's (MobileNetV3-Small: 71 against 8.8e3), and the fixed-point error
   * grows with them. Absent: the checks rest on the samples alone.
   */
  stressInputs?: readonly ArrayLike<number>[];
}

/** The largest magnitude (reals) one layer's comparisons see over the samples. */
export interface RangeStat {
  layer: string;
  kind: CompareKind;
  maxAbs: number;
}

export type Verdict = 'chosen' | 'error' | 'decisions' | 'range' | 'risk' | 'forced';

export interface Trial {
  settings: PrecisionSettings;
  verdict: Verdict;
  /** Max |fixed - float| on the outputs (undefined when the range check failed first). */
  error?: number;
  /** Local truncation's expected wrong elements per inference (largest over the samples). */
  risk?: number;
  /** The binding range: the layer whose compared magnitude is closest to (or beyond) its limit; `sound`: the static bound's, not the samples'. */
  worst?: { layer: string; kind: CompareKind; maxAbs: number; allowed: number; sound?: boolean };
  /** Decisions (argmax rows, or sigmoid outputs on the same side of 0.5) agreeing with the float model, as a fraction. */
  decisions?: number;
}

export interface PrecisionChoice {
  settings: PrecisionSettings;
  /** Settings given explicitly (they restricted the candidates). */
  explicit: Partial<PrecisionSettings>;
  forced: boolean;
  targetError: number;
  errorMargin: number;
  rangeMargin: number;
  riskLimit: number;
  samples: number;
  /** Of `samples`, how many were stress inputs (PrecisionOptions.stressInputs). */
  stress: number;
  trials: Trial[];
  ranges: RangeStat[];
  /** One line: why these settings. */
  reason: string;
  /** Checks an explicit setting overrode (target missed with an explicit f, risk above the limit with an explicit local truncation). */
  warnings: string[];
  /** Which bound decided the comparison ring (sound-ring.ts ringBasis). */
  ringReason: string;
  /** Layers that run on the 64-bit ring inside a 32-bit model (their sound bound needs it; written as IR node compareBits: 64). */
  wideLayers: string[];
  /** The warning for the manifests and the party log (no magnitudes: they are derived from the weights); absent when 'sound'. */
  ringNote?: string;
  /** 'sound': the ring holds the static bound over the declared input range; 'samples-only': no declared range, or no ring holds the bound (looseBound); 'unsound-override': an explicit or forced ring that does not hold it. */
  ringBasis: RingBasis;
  /** 'samples-only' because no ring holds the sound bound: the first layer where none does (index into the IR's nodes; -1: the secure argmax). */
  looseBound?: { layer: string; node: number; nodes: number };
}

export type RingBasis = 'sound' | 'samples-only' | 'unsound-override';

/** The real magnitude a comparison of `kind` must stay strictly below at f bits on a w-bit comparison ring, with the margin. */
export function allowedMagnitude(kind: CompareKind, f: number, compareBits: CompareBits, margin: number): number {
  const bits = kind === 'padded' ? (compareBits === 32 ? 29 : 60) : compareBits - 1;
  return 2 ** (bits - f) / margin;
}

/** The worst compared value of the samples relative to its limit at these settings. */
export function rangeCheck(ranges: readonly RangeStat[], f: number, compareBits: CompareBits, margin: number): { ok: boolean; worst?: Trial['worst'] } {
  let worst: Trial['worst'] | undefined, ratio = -1;
  for (const r of ranges) {
    const allowed = allowedMagnitude(r.kind, f, compareBits, margin);
    if (r.maxAbs / allowed > ratio) { ratio = r.maxAbs / allowed; worst = { layer: r.layer, kind: r.kind, maxAbs: r.maxAbs, allowed }; }
  }
  // Strictly below: a value of exactly 2^(w-1) ring units reads as negative on the w-bit ring.
  return { ok: ratio < 1, ...(worst ? { worst } : {}) };
}

/** One float pass per sample: outputs after the output activation, and every layer's compared magnitude. */
export function floatPass(model: ModelIR<FloatTensor>, inputs: readonly ArrayLike<number>[], comparesOutput = false): { outputs: Float32Array[]; logits: Float64Array[]; ranges: RangeStat[] } {
  const seen = new Map<string, RangeStat>();
  const note = (layer: string, kind: CompareKind, maxAbs: number) => {
    const key = `${layer}\u0000${kind}`, r = seen.get(key);
    if (!r) seen.set(key, { layer, kind, maxAbs });
    else r.maxAbs = Math.max(r.maxAbs, maxAbs);
  };
  const ar = { ...kerasFloatArith(), onCompare: note };
  const outputs: Float32Array[] = [], logits: Float64Array[] = [];
  const group = softmaxGroupOf(model);
  for (const x of inputs) {
    const y = Float64Array.from(forwardIR(model, x, 1, ar).data);
    if (comparesOutput) {
      let m = 0;
      for (const v of y) m = Math.max(m, Math.abs(v));
      note(`${model.output} (secure argmax)`, 'difference', 2 * m);
      note(`${model.output} (secure argmax)`, 'padded', m);
    }
    logits.push(y);
    outputs.push(applyOutputActivation(y, 1, model.outputActivation, group));
  }
  return { outputs, logits, ranges: [...seen.values()] };
}

const GROUPS: readonly [CompareBits, TruncationMode][] = [[32, 'local'], [64, 'local'], [32, 'exact'], [64, 'exact']];

/**
 * Choose (f, truncation, compareBits) for `model` on `inputs` (real-valued
 * model inputs, one array per sample, e.g. agreement.ts Sample.input).
 * Throws E_PRECISION_RANGE / E_PRECISION_TARGET when nothing passes (unless
 * opts.force with explicit settings), E_BAD_ARGUMENT without samples.
 */
export function choosePrecision(model: ModelIR<FloatTensor>, inputs: readonly ArrayLike<number>[], opts: PrecisionOptions = {}): PrecisionChoice {
  const targetError = opts.targetError ?? 1e-3, errorMargin = opts.errorMargin ?? 2, rangeMargin = opts.rangeMargin ?? 4, riskLimit = opts.riskLimit ?? 1e-6, minAgreement = opts.minAgreement ?? 0, draws = opts.draws ?? 3;
  if (!(targetError > 0) || !(errorMargin >= 1) || !(rangeMargin >= 1) || !(riskLimit > 0) || !(minAgreement >= 0 && minAgreement <= 1) || !(Number.isInteger(draws) && draws >= 1)) throw new MpcError('E_BAD_ARGUMENT', 'precision: targetError and riskLimit must be > 0, errorMargin and rangeMargin >= 1, minAgreement in [0, 1], draws a positive integer', { step: 'import.precision' });
  if (inputs.length === 0) throw new MpcError('E_BAD_ARGUMENT', 'precision: the chooser needs at least one sample input', { step: 'import.precision' });
  if (opts.requireSoundBound && !opts.soundRanges) throw new MpcError('E_PRECISION_RANGE', '--require-sound-bound: the model declares no input range (an image preprocessing or --input-range LO,HI), so there is no sound bound to hold', { step: 'import.precision' });
  const [lo, hi] = opts.fracBitsRange ?? [12, MAX_FRAC_BITS];
  if (opts.fracBits !== undefined && !(Number.isInteger(opts.fracBits) && opts.fracBits >= MIN_FRAC_BITS && opts.fracBits <= MAX_FRAC_BITS)) throw new MpcError('E_BAD_ARGUMENT', `precision: fractional bits must be an integer in ${MIN_FRAC_BITS}..${MAX_FRAC_BITS}, got ${opts.fracBits}`, { step: 'import.precision' });
  const fs = opts.fracBits !== undefined ? [opts.fracBits] : Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  const groups = GROUPS.filter(([w, t]) => (opts.compareBits === undefined || w === opts.compareBits) && (opts.truncation === undefined || t === opts.truncation));
  const explicit: Partial<PrecisionSettings> = {
    ...(opts.fracBits !== undefined ? { fracBits: opts.fracBits } : {}),
    ...(opts.truncation !== undefined ? { truncation: opts.truncation } : {}),
    ...(opts.compareBits !== undefined ? { compareBits: opts.compareBits } : {}),
  };
  // The stress inputs join the samples in every check (range, error, decisions, risk).
  const all = opts.stressInputs?.length ? [...inputs, ...opts.stressInputs] : inputs;
  const ref = floatPass(model, all, opts.comparesOutput);
  const sims = new Map<number, SimResult>();
  const sim = (f: number): SimResult => {
    let r = sims.get(f);
    if (!r) sims.set(f, (r = simulate(model, all, ref, f, draws)));
    return r;
  };
  const trials: Trial[] = [];
  const base = { explicit, targetError, errorMargin, rangeMargin, riskLimit, samples: all.length, stress: all.length - inputs.length, trials, ranges: ref.ranges };
  const limit = targetError / errorMargin;
  /** The cheapest candidate that passes; with `sound`, the ring must hold that bound too (a 32-bit one with wideLayers). */
  const search = (sound: RangeStat[] | undefined): { c: Omit<PrecisionChoice, 'ringReason' | 'ringBasis' | 'ringNote'>; sampleWorst: Trial['worst'] } | undefined => {
    for (const [compareBits, truncation] of groups) {
      // The 64-bit ring changes only the range check: after a 32-bit group with the same truncation that never failed on
      // the range, it would fail exactly where that one did.
      const narrow = trials.filter((x) => x.settings.compareBits === 32 && x.settings.truncation === truncation);
      if (compareBits === 64 && narrow.length > 0 && !narrow.some((x) => x.verdict === 'range')) continue;
      for (const f of fs) {
        // The simulation does not depend on the truncation rule or the ring: an f that missed the target once misses it again.
        if (trials.some((x) => x.settings.fracBits === f && (x.verdict === 'error' || x.verdict === 'decisions'))) continue;
        const settings = { fracBits: f, truncation, compareBits };
        // With a sound bound (and no explicit ring), the 32-bit candidate runs the layers the 32-bit ring cannot hold on the
        // 64-bit one (IR compareBits), if that one holds them (sound-ring.ts wideLayers); the rest must fit 32 bits.
        const wide = sound && compareBits === 32 ? wideLayers(sound, ref.ranges, f, rangeMargin) : undefined;
        const narrowOnly = (rs: RangeStat[]) => (wide?.ok ? rs.filter((r) => !wide.layers.includes(r.layer)) : rs);
        const range = rangeCheck(narrowOnly(ref.ranges), f, compareBits, rangeMargin);
        const worst = range.worst ? { worst: range.worst } : {};
        if (!range.ok) { trials.push({ settings, verdict: 'range', ...worst }); break; }
        // The sound bound over the declared input range decides the ring unless the ring is explicit (then: a warning).
        const held = sound ? rangeCheck(narrowOnly(sound), f, compareBits, rangeMargin) : undefined;
        if (held && !held.ok) { trials.push({ settings, verdict: 'range', worst: { ...held.worst!, sound: true } }); break; }
        const s = sim(f);
        const measured = { error: s.error, risk: truncation === 'local' ? s.risk : 0, decisions: s.decisions, ...worst };
        if (truncation === 'exact' && s.largest >= 2 ** 62 / rangeMargin) {
          trials.push({ settings, verdict: 'range', ...measured, worst: { layer: '(a product before exact truncation)', kind: 'sign', maxAbs: s.largest / 2 ** f, allowed: 2 ** (62 - f) / rangeMargin } });
          break;
        }
        // An explicit --frac-bits overrides the target, an explicit local truncation the risk limit: reported, not refused.
        const warnings: string[] = [];
        if (s.error > limit) {
          if (opts.fracBits === undefined) { trials.push({ settings, verdict: 'error', ...measured }); continue; }
          warnings.push(`the explicit f = ${f} misses the target: simulated error ${fmt(s.error)} > ${fmt(limit)} (target ${fmt(targetError)} / margin ${errorMargin})`);
        }
        if (s.error <= limit && s.decisions < minAgreement) {
          if (opts.fracBits === undefined) { trials.push({ settings, verdict: 'decisions', ...measured }); continue; }
          warnings.push(`the explicit f = ${f} misses the decision agreement: ${(100 * s.decisions).toFixed(2)}% < ${(100 * minAgreement).toFixed(2)}%`);
        }
        if (truncation === 'local' && s.risk > riskLimit) {
          if (opts.truncation !== 'local') { trials.push({ settings, verdict: 'risk', ...measured }); break; }
          warnings.push(`the explicit local truncation is expected to give ${fmt(s.risk)} wrong elements per inference (> ${fmt(riskLimit)}): --truncation exact removes that`);
        }
        trials.push({ settings, verdict: 'chosen', ...measured });
        const why = `the cheapest candidate that passes: simulated error ${fmt(s.error)} ${s.error <= limit ? '<=' : '>'} ${fmt(limit)} (target ${fmt(targetError)} / margin ${errorMargin})`
          + `, compared values within the ${compareBits}-bit ring / ${rangeMargin}${range.worst ? ` (tightest: '${range.worst.layer}' ${fmt(range.worst.maxAbs)} of ${fmt(range.worst.allowed)})` : ''}`
          + (minAgreement > 0 ? `, decisions agree ${(100 * s.decisions).toFixed(2)}% >= ${(100 * minAgreement).toFixed(2)}%` : '')
          + (truncation === 'local' ? `, local truncation's expected wrong elements per inference ${fmt(s.risk)}` : ', exact truncation');
        return { c: { ...base, settings, forced: false, reason: why, warnings, wideLayers: wide?.ok ? wide.layers : [] }, sampleWorst: range.worst };
      }
    }
    return undefined;
  };
  // The sound bound decides the ring unless the ring is explicit (then ringBasis warns when it does not hold it).
  const sound = opts.soundRanges && opts.compareBits === undefined ? opts.soundRanges : undefined;
  const found = search(sound);
  if (found) return strict({ ...found.c, ...ringBasis(found.c.settings, opts, rangeMargin, found.sampleWorst, ref.ranges, found.c.wideLayers) }, opts);
  if (sound && !opts.requireSoundBound && trials.some((t) => t.worst?.sound)) {
    // No ring holds the sound bound at any candidate that passes otherwise (interval bounds through a deep model are
    // astronomically loose): it proves nothing here. Choose on the samples as without a declared range, no layer
    // moved to 64 bits (that would prove nothing either), and say so (sound-ring.ts looseBoundBasis).
    trials.length = 0;
    const onSamples = search(undefined);
    if (onSamples) return { ...onSamples.c, ...looseBoundBasis(onSamples.c.settings, sound, rangeMargin, model.nodes.map((n) => n.name), onSamples.sampleWorst, ref.ranges) };
  }
  return strict(refuse(base, opts, groups.length > 0 ? sims : new Map()), opts);
}

/** --require-sound-bound: a choice whose ring does not hold the sound bound (an explicit or forced ring) is refused. */
function strict(c: PrecisionChoice, opts: PrecisionOptions): PrecisionChoice {
  if (opts.requireSoundBound && c.ringBasis !== 'sound') throw new MpcError('E_PRECISION_RANGE', `--require-sound-bound: ${c.ringNote ?? 'the comparison ring does not hold the sound bound'}`, { step: 'import.precision' });
  return c;
}

function refuse(base: Omit<PrecisionChoice, 'settings' | 'forced' | 'reason' | 'warnings' | 'ringReason' | 'ringBasis' | 'wideLayers' | 'ringNote'>, opts: PrecisionOptions, sims: Map<number, SimResult>): PrecisionChoice {
  const { trials } = base;
  const isExplicit = Object.keys(base.explicit).length > 0;
  if (opts.force && isExplicit) {
    const settings: PrecisionSettings = { fracBits: opts.fracBits ?? DEFAULT_FRAC_BITS, truncation: opts.truncation ?? 'local', compareBits: opts.compareBits ?? 32 };
    const failed = trials.filter((t) => t.verdict !== 'chosen').map((t) => `${label(t.settings)}: ${t.verdict}`).join('; ');
    trials.push({ settings, verdict: 'forced' });
    return { ...base, settings, forced: true, warnings: [], wideLayers: [], reason: `--force: the explicit settings are kept although they fail the checks (${failed || 'not tried'})`, ...ringBasis(settings, opts, base.rangeMargin, undefined, base.ranges) };
  }
  const hint = (isExplicit ? ' (explicit settings: pass --force to import anyway, or leave them out to let the importer choose)' : '')
    + (opts.requireSoundBound && trials.some((t) => t.worst?.sound) ? ' (--require-sound-bound: without it the ring would be chosen on the samples and marked samples-only)' : '');
  const ranged = trials.filter((t) => t.verdict === 'range' && t.worst);
  const targetMissed = trials.some((t) => t.verdict === 'error' || t.verdict === 'decisions');
  if (!targetMissed && ranged.length > 0) {
    // Every group failed on the range: name the widest attempt's binding layer.
    const t = ranged.reduce((a, b) => (b.worst!.allowed > a.worst!.allowed ? b : a));
    const w = t.worst!;
    throw new MpcError('E_PRECISION_RANGE', `layer '${w.layer}': ${KIND_TEXT[w.kind]} reach ${fmt(w.maxAbs)} ${w.sound ? 'by the sound bound over the declared input range' : `on the ${base.samples} samples`}; allowed ${fmt(w.allowed)} at ${label(t.settings)} (the ring's range / margin ${base.rangeMargin})${hint}`, { step: 'import.precision' });
  }
  const best = [...sims.values()].reduce((a, b) => Math.min(a, b.error), Infinity);
  const rangeNote = ranged.length ? `; ${ranged.map((t) => `${label(t.settings)} out of range at '${t.worst!.layer}' (${fmt(t.worst!.maxAbs)} > ${fmt(t.worst!.allowed)})`).join('; ')}` : '';
  throw new MpcError('E_PRECISION_TARGET', `no candidate meets the target error ${fmt(base.targetError)} / margin ${base.errorMargin}${opts.minAgreement ? ` and ${(100 * opts.minAgreement).toFixed(2)}% decision agreement` : ''} on the ${base.samples} samples: best simulated error ${Number.isFinite(best) ? fmt(best) : 'none (no candidate in range)'}${rangeNote}${hint}`, { step: 'import.precision' });
}

const KIND_TEXT: Record<CompareKind, string> = {
  sign: 'compared values (|x|)',
  difference: 'compared differences',
  padded: "values compared with 'same' padding",
};

export const fmt = (v: number): string => (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4))));
const label = (s: PrecisionSettings): string => `f = ${s.fracBits}, ${s.truncation} truncation, ${s.compareBits}-bit comparisons`;

/** The chooser's table for the import summary: what was tried, what was chosen and why. */
export function formatChoice(c: PrecisionChoice): string {
  const lines = [`precision:  f = ${c.settings.fracBits}, ${c.settings.truncation} truncation, ${c.settings.compareBits}-bit comparison ring${c.wideLayers.length ? ` (64-bit at ${c.wideLayers.length} layer${c.wideLayers.length > 1 ? 's' : ''})` : ''}${c.forced ? ' (FORCED)' : ''}${Object.keys(c.explicit).length ? `  (explicit: ${Object.entries(c.explicit).map(([k, v]) => `${k} ${String(v)}`).join(', ')})` : ''}`];
  lines.push(`  why: ${c.reason}`);
  lines.push(`  comparison ring decided by: ${c.ringReason}`);
  if (c.ringBasis === 'unsound-override') lines.push(`  WARNING: UNSOUND COMPARISON RING: the ${c.settings.compareBits}-bit ring does not hold the sound bound over the declared input range; results can be silently wrong`);
  if (c.ringBasis === 'samples-only') lines.push(`  WARNING: the comparison ring rests on the samples only (${c.looseBound ? `no ring holds the sound bound over the declared input range at layer '${c.looseBound.layer}', ${c.looseBound.node >= 0 ? `IR node ${c.looseBound.node + 1} of ${c.looseBound.nodes}` : 'the secure argmax'}: interval bound too loose at this depth` : 'no declared input range'}): not a sound bound; an input in range driving values beyond the samples' can make a comparison silently wrong (--require-sound-bound refuses such a model)`);
  for (const w of c.warnings) lines.push(`  WARNING: ${w}`);
  lines.push(`  tried (${c.samples} samples${c.stress ? `, ${c.stress} of them in-range stress images` : ''}, cheapest first; error = max over outputs of |mean - float| + 3 std of the fixed-point simulation's draws with the protocol's stochastic rounding, after the output activation):`);
  lines.push(`  ${'f'.padStart(3)}  ${'trunc'.padEnd(5)}  ${'ring'.padStart(4)}  ${'error'.padStart(9)}  ${'risk'.padStart(8)}  ${'decisions'.padStart(9)}  ${'tightest range (observed / allowed)'.padEnd(44)}  verdict`);
  for (const t of c.trials) {
    const w = t.worst ? `${t.worst.sound ? 'SOUND ' : ''}${t.worst.layer.slice(0, t.worst.sound ? 20 : 26)} ${fmt(t.worst.maxAbs)}/${fmt(t.worst.allowed)}` : '-';
    lines.push(`  ${String(t.settings.fracBits).padStart(3)}  ${t.settings.truncation.padEnd(5)}  ${String(t.settings.compareBits).padStart(4)}  ${(t.error !== undefined ? fmt(t.error) : '-').padStart(9)}  ${(t.risk !== undefined ? t.risk.toExponential(1) : '-').padStart(8)}  ${(t.decisions !== undefined ? `${(100 * t.decisions).toFixed(2)}%` : '-').padStart(9)}  ${w.padEnd(44)}  ${VERDICT_TEXT[t.verdict]}`);
  }
  return lines.join('\n');
}

const VERDICT_TEXT: Record<Verdict, string> = {
  chosen: 'chosen',
  error: 'error above target / margin',
  decisions: 'decision agreement below the minimum',
  range: 'out of range (higher f only narrower)',
  risk: 'local truncation risk too high',
  forced: 'kept by --force',
};
