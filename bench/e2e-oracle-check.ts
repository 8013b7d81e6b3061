/**
 * The comparison of one SDK prediction with the oracles, for bench/e2e-oracle.ts: the importer's plaintext
 * reference logits (model-import referenceLogits) and tfjs's model.predict (after the model's own last
 * activation). Written independently of client-sdk/src/activation.ts (its own softmax/sigmoid/argmax), so a
 * wrong post-processing in the SDK shows as stage 'post'.
 *   stage 'secure': the SDK's reconstructed logits off the reference by more than the tolerance, max(abs, rel x (1 + max |z|))
 *                   (abs: a multiple of the error mpc-import measured on its samples; rel: a multiple of 2^-f);
 *   stage 'post':   the SDK's probabilities, label, index or mask off what its own logits give;
 *   stage 'tfjs':   the SDK's output (probabilities after a softmax/sigmoid output; logits after a linear one)
 *                   off tfjs by more than the tolerance while the logits agree with the reference;
 *   flag:           the top label differs from tfjs's, but its top-2 are within the tolerance (not a defect).
 */
import type { BundleManifest } from '../model-import/bundle.js';
import { outputKindOf } from '../protocol/output-kind.js';

/** The tolerance: max(abs, rel x (1 + m)) for values of magnitude up to m. */
export interface Tol { abs: number; rel: number }
export const lim = (t: Tol, m: number): number => Math.max(t.abs, t.rel * (1 + m));

export interface CaseResult { name: string; stage: 'preproc' | 'secure' | 'post' | 'tfjs' | null; flag: boolean; dLogits: number; detail: string }

type AnyPred = { logits: number[] | number[][]; probabilities: number[] | number[][]; index: number | number[]; label: string | number | (string | number)[]; mask?: unknown };

const sm = (z: number[]): number[] => { const m = Math.max(...z); const e = z.map((v) => Math.exp(v - m)); const s = e.reduce((a, b) => a + b, 0); return e.map((v) => v / s); };
const sg = (v: number): number => 1 / (1 + Math.exp(-v));

/** The model's output activation over a batch of logits (softmax over the last axis, as Keras). */
export function applyActivation(z: ArrayLike<number>, act: string, outShape: readonly number[]): Float64Array {
  const out = Float64Array.from(z);
  if (act === 'sigmoid') return out.map(sg);
  if (act !== 'softmax') return out;
  const c = outShape[outShape.length - 1]!;
  for (let i = 0; i < out.length; i += c) out.set(sm(Array.from(out.subarray(i, i + c))), i);
  return out;
}

/** What the SDK documents for its probabilities: the activation, and 'linear' as softmax over > 1 values (per pixel for a mask), else sigmoid. */
function sdkProbabilities(z: number[], act: string, outShape: readonly number[]): number[] {
  const c = outShape[outShape.length - 1]!;
  if (outShape.length >= 2) {
    if (c === 1 || act === 'sigmoid') return z.map(sg);
    const out: number[] = [];
    for (let i = 0; i < z.length; i += c) out.push(...sm(z.slice(i, i + c)));
    return out;
  }
  if (act === 'sigmoid' || (act === 'linear' && z.length === 1)) return z.map(sg);
  return sm(z);
}

const top2 = (v: ArrayLike<number>): [number, number] => {
  let a = 0, b = -1;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[a]!) { b = a; a = i; } else if (b < 0 || v[i]! > v[b]!) b = i;
  return [a, b];
};

export function compareCase(name: string, pred: AnyPred, ref: Float64Array, tfOut: Float64Array, m: BundleManifest, outShape: readonly number[], tol: Tol): CaseResult {
  const batched = Array.isArray(pred.logits[0]);
  const L = (batched ? pred.logits : [pred.logits]) as number[][];
  const P = (batched ? pred.probabilities : [pred.probabilities]) as number[][];
  const I = (batched ? pred.index : [pred.index]) as number[];
  const Lab = (batched ? pred.label : [pred.label]) as (string | number)[];
  const per = ref.length / L.length;
  const act = m.outputActivation;
  // The SDK's one rule (protocol/output-kind.ts): any output of rank 2 or more per item is a mask (rows x classes too).
  const isMask = outputKindOf(outShape, act) === 'mask';
  let dLogits = 0, dTf = 0, dPost = 0;
  const problems: string[] = [];
  let flag = false;
  for (let b = 0; b < L.length; b++) {
    const z = L[b]!, r = ref.subarray(b * per, (b + 1) * per), t = tfOut.subarray(b * per, (b + 1) * per);
    if (z.length !== per) return { name, stage: 'post', flag, dLogits: Infinity, detail: `item ${b}: ${z.length} logits, expected ${per}` };
    let mz = 0;
    for (let i = 0; i < per; i++) { dLogits = Math.max(dLogits, Math.abs(z[i]! - r[i]!)); mz = Math.max(mz, Math.abs(r[i]!)); }
    if (!(dLogits <= lim(tol, mz))) problems.push(`secure: item ${b} logits off the reference by ${dLogits.toExponential(2)} (tol ${lim(tol, mz).toExponential(2)})`);
    // The SDK's own output against tfjs: probabilities after softmax/sigmoid, logits after a linear output.
    const want = sdkProbabilities(z, act, outShape);
    const mine = act === 'linear' ? z : Array.from(applyActivation(z, act, outShape));
    for (let i = 0; i < per; i++) dTf = Math.max(dTf, Math.abs(mine[i]! - t[i]!));
    for (let i = 0; i < per; i++) dPost = Math.max(dPost, Math.abs(P[b]![i]! - want[i]!));
    if (!isMask) {
      // Label: the SDK's index from its own logits (post), and tfjs's top label (flag within the tolerance).
      const sdkIdx = per === 1 ? (z[0]! > 0 ? 1 : 0) : top2(z)[0];
      if (I[b] !== sdkIdx) problems.push(`post: item ${b} index ${I[b]}, its logits give ${sdkIdx}`);
      const wantLabel = m.labels && sdkIdx < m.labels.length ? m.labels[sdkIdx] : sdkIdx;
      if (Lab[b] !== wantLabel) problems.push(`post: item ${b} label ${String(Lab[b])}, expected ${String(wantLabel)}`);
      const tfIdx = per === 1 ? ((act === 'sigmoid' ? t[0]! > 0.5 : t[0]! > 0) ? 1 : 0) : top2(t)[0];
      if (tfIdx !== sdkIdx) {
        // A near tie in the reference logits, or in tfjs's output (a saturated sigmoid is 1 for several labels in
        // float32, so its argmax is the first of them): a flag; otherwise tfjs's top label beats the SDK's.
        const [a, c] = top2(r);
        const gap = per === 1 ? Math.abs(r[0]!) : r[a]! - r[c]!;
        const tfGap = per === 1 ? Math.abs(t[0]! - (act === 'sigmoid' ? 0.5 : 0)) : t[tfIdx]! - t[sdkIdx]!;
        if (gap <= 2 * lim(tol, mz) || tfGap <= 2 * lim(tol, Math.max(...Array.from(t, Math.abs)))) flag = true;
        else problems.push(`tfjs: item ${b} label ${sdkIdx}, tfjs's ${tfIdx} (reference logit gap ${gap.toExponential(2)}, tfjs's ${tfGap.toExponential(2)})`);
      }
    } else {
      // Masks: per pixel, the SDK's classes against its own probabilities (post) was checked through dPost; tfjs's decisions too.
      const mask = (pred.mask as { classes: Uint8Array }[] | { classes: Uint8Array } | undefined);
      const mk = Array.isArray(mask) ? mask[b] : mask;
      if (!mk) { problems.push(`post: item ${b} has no mask`); continue; }
      const c = outShape[outShape.length - 1]!;
      const perEl = c === 1 || act === 'sigmoid';
      // Decisions: a bit per element (p >= 0.5, i.e. z >= 0) or the class per pixel (argmax of the logits).
      for (let px = 0; px < (perEl ? per : per / c); px++) {
        const own = perEl ? (want[px]! >= 0.5 ? 1 : 0) : top2(z.slice(px * c, px * c + c))[0];
        if (mk.classes[px] !== own) { problems.push(`post: item ${b} mask element ${px} is ${mk.classes[px]}, its logits give ${own}`); break; }
        const tfc = perEl ? ((act === 'linear' ? t[px]! >= 0 : t[px]! >= 0.5) ? 1 : 0) : top2(t.subarray(px * c, px * c + c))[0];
        if (tfc !== own) {
          const rr = r.subarray(perEl ? px : px * c, perEl ? px + 1 : px * c + c);
          const [a, q] = top2(rr);
          const gap = perEl ? Math.abs(rr[0]!) : rr[a]! - rr[q]!;
          if (gap <= 2 * lim(tol, mz)) flag = true;
          else { problems.push(`tfjs: item ${b} mask element ${px} ${own}, tfjs's ${tfc} (reference gap ${gap.toExponential(2)})`); break; }
        }
      }
    }
  }
  // 1e-6: a mask's probabilities are a Float32Array.
  if (!(dPost <= 1e-6)) problems.push(`post: probabilities off the activation of the SDK's own logits by ${dPost.toExponential(2)}`);
  if (!(dTf <= lim(tol, Math.max(...Array.from(tfOut, Math.abs))))) problems.push(`tfjs: output off tfjs by ${dTf.toExponential(2)}`);
  const stage = problems.some((p) => p.startsWith('secure')) ? 'secure' : problems.some((p) => p.startsWith('post')) ? 'post' : problems.length ? 'tfjs' : null;
  return { name, stage, flag, dLogits, detail: problems.join('; ') };
}

type LabelPred = { kind: string; index: number[]; label: (string | number)[]; confidenceBucket?: number[]; decisions?: { index: number; positive: boolean; confidenceBucket?: number }[][]; mask?: { mask: Uint8Array; confidenceBuckets?: Uint8Array }[] };

/** The session's label policy as the checks apply it: probability thresholds per channel (per-element rules) and confidence margins. */
export interface LabelPolicy { thresholds?: readonly number[]; confidence?: readonly number[] }
const logitOf = (t: number): number => Math.log(t / (1 - t));

/**
 * A label-mode prediction (privacy { outputMode: 'label' | 'label+confidence' }, or a model imported with
 * --output-mode label...: the decisions made inside the protocol) against the reference logits' decisions: the
 * class (argmax; one sigmoid output: z >= 0), each multi-label finding and sigmoid mask element (z >= logit(t_c),
 * t_c the policy's probability threshold of channel c, default 0.5), or pixel class; with confidence margins, each
 * bucket (#{mu : margin >= mu}; margin top - runner-up, or |z - logit(t_c)|). A disagreement whose reference margin
 * (or distance to a bucket edge) is within the tolerance is a flag; beyond it, stage 'secure'. With `tfProbs`
 * (tfjs's probabilities), the per-element decisions are also checked as p >= t_c on tfjs's output (stage 'tfjs').
 */
export function compareLabels(name: string, pred: LabelPred, ref: Float64Array, m: BundleManifest, outShape: readonly number[], tol: Tol, pol: LabelPolicy = {}, tfProbs?: Float64Array): CaseResult {
  const batch = pred.index.length;
  const per = ref.length / batch;
  const act = m.outputActivation;
  const problems: string[] = [];
  let flag = false;
  const c = outShape[outShape.length - 1]!;
  const perEl = outShape.length >= 2 ? c === 1 || act === 'sigmoid' : act === 'sigmoid' && per > 1;
  const ts = pol.thresholds ?? [0.5];
  const tOf = (i: number): number => (ts.length === 1 ? ts[0]! : ts[i % ts.length]!);
  const mus = pol.confidence ?? [];
  const bucketOf = (margin: number): number => mus.filter((mu) => margin >= mu).length;
  for (let b = 0; b < batch; b++) {
    const r = ref.subarray(b * per, (b + 1) * per);
    const mz = Math.max(...Array.from(r, Math.abs));
    const near = (gap: number): boolean => gap <= 2 * lim(tol, mz);
    const got: number[] = [], want: number[] = [], gaps: number[] = [];
    // Buckets: [got, reference margin] per decision (checked only in label+confidence).
    const buckets: [number | undefined, number][] = [];
    if (pred.kind === 'class') {
      const [a, q] = top2(r);
      got.push(pred.index[b]!); want.push(per === 1 ? (r[0]! >= 0 ? 1 : 0) : a); gaps.push(per === 1 ? Math.abs(r[0]!) : r[a]! - r[q]!);
      buckets.push([pred.confidenceBucket?.[b], gaps[0]!]);
      const wl = m.labels && want[0]! < m.labels.length ? m.labels[want[0]!] : want[0];
      if (got[0] === want[0] && pred.label[b] !== wl) problems.push(`post: item ${b} label ${String(pred.label[b])}, expected ${String(wl)}`);
    } else if (pred.kind === 'multi-label') {
      const d = pred.decisions?.[b] ?? [];
      if (d.length !== per) { problems.push(`post: item ${b} has ${d.length} decisions, expected ${per}`); continue; }
      for (let i = 0; i < per; i++) {
        const x = d.find((y) => y.index === i);
        const tau = logitOf(tOf(i));
        got.push(x?.positive ? 1 : 0); want.push(r[i]! >= tau ? 1 : 0); gaps.push(Math.abs(r[i]! - tau));
        buckets.push([x?.confidenceBucket, Math.abs(r[i]! - tau)]);
      }
    } else {
      const mk = pred.mask?.[b];
      if (!mk) { problems.push(`post: item ${b} has no mask`); continue; }
      const n = perEl ? per : per / c;
      for (let px = 0; px < n; px++) {
        got.push(mk.mask[px]!);
        if (perEl) { const tau = logitOf(tOf(px)); want.push(r[px]! >= tau ? 1 : 0); gaps.push(Math.abs(r[px]! - tau)); }
        else { const s = r.subarray(px * c, px * c + c); const [a, q] = top2(s); want.push(a); gaps.push(s[a]! - s[q]!); }
        buckets.push([mk.confidenceBuckets?.[px], gaps[px]!]);
      }
    }
    for (let i = 0; i < got.length; i++) {
      if (got[i] === want[i]) continue;
      if (near(gaps[i]!)) flag = true;
      else { problems.push(`secure: item ${b} decision ${i} is ${got[i]}, the reference's ${want[i]} (margin ${gaps[i]!.toExponential(2)})`); break; }
    }
    if (mus.length) {
      for (let i = 0; i < buckets.length; i++) {
        const [gb, margin] = buckets[i]!;
        if (gb === undefined) { problems.push(`post: item ${b} decision ${i} has no confidence bucket`); break; }
        if (gb === bucketOf(margin)) continue;
        if (mus.some((mu) => near(Math.abs(margin - mu))) || near(gaps[i]!)) flag = true;
        else { problems.push(`secure: item ${b} decision ${i} bucket ${gb}, the reference's ${bucketOf(margin)} (margin ${margin.toExponential(2)})`); break; }
      }
    }
    // tfjs's probabilities against the per-element thresholds: p >= t_c (near the threshold in the reference: a flag).
    if (tfProbs && perEl) {
      const t = tfProbs.subarray(b * per, (b + 1) * per);
      for (let i = 0; i < got.length; i++) {
        const tfd = t[i]! >= tOf(i) ? 1 : 0;
        if (tfd === got[i]) continue;
        if (near(gaps[i]!) || Math.abs(t[i]! - tOf(i)) <= 1e-6) flag = true;
        else { problems.push(`tfjs: item ${b} decision ${i} is ${got[i]}, tfjs's p = ${t[i]!.toExponential(3)} vs threshold ${tOf(i)}`); break; }
      }
    }
  }
  const stage = problems.some((p) => p.startsWith('secure')) ? 'secure' : problems.some((p) => p.startsWith('post')) ? 'post' : problems.length ? 'tfjs' : null;
  return { name, stage, flag, dLogits: 0, detail: problems.join('; ') };
}

/**
 * The model input of 8-bit pixels (HWC, grey or RGB) under a recorded preprocessing, written here from the
 * definitions (protocol/input-preprocessing.ts KERAS_MODES) rather than with the SDK's code: channel order
 * (bgr: the model's channel k is the image's 2 - k), scaling (unit x/255, symmetric x/127.5 - 1, raw x), then
 * (x - mean[k]) / std[k] in the model's channel order. Same size: no resize.
 */
export function preprocessPixels(px: ArrayLike<number>, c: number, p: { scaling: string; channelOrder: string; mean?: number[]; std?: number[] }): Float32Array {
  const out = new Float32Array(px.length);
  for (let i = 0; i < px.length; i += c) {
    for (let k = 0; k < c; k++) {
      const v = px[i + (p.channelOrder === 'bgr' ? c - 1 - k : k)]!;
      const s = p.scaling === 'unit' ? v / 255 : p.scaling === 'symmetric' ? v / 127.5 - 1 : v;
      out[i + k] = (s - (p.mean?.[k] ?? 0)) / (p.std?.[k] ?? 1);
    }
  }
  return out;
}
