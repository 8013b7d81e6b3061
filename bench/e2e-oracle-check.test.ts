/**
 * The checks of bench/e2e-oracle.ts can fail: compareCase and compareLabels on hand-made SDK results, right and
 * wrong in each stage (secure logits, the SDK's post-processing, tfjs's output), and the top-2 flag.
 */
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../model-import/bundle.js';
import { applyActivation, compareCase, compareLabels, preprocessPixels } from './e2e-oracle-check.js';
import { chainOf, policyFlags } from './e2e-oracle-paths.js';
import { Prg } from '../protocol/correlated/prg.js';

const man = (act: 'softmax' | 'sigmoid' | 'linear', labels?: string[]): BundleManifest => ({ outputActivation: act, ...(labels ? { labels } : {}) }) as unknown as BundleManifest;
const sm = (z: number[]): number[] => Array.from(applyActivation(z, 'softmax', [z.length]));
const tol = { abs: 0, rel: 1e-3 };

describe('e2e-oracle checks (compareCase, compareLabels)', () => {
  const z = [0.5, -1, 2];
  const ref = Float64Array.from(z);
  const tf = Float64Array.from(sm(z));
  const good = { logits: z, probabilities: sm(z), index: 2, label: 'c2' };
  const m = man('softmax', ['c0', 'c1', 'c2']);

  it('passes a prediction that agrees with the reference and tfjs', () => {
    expect(compareCase('ok', good, ref, tf, m, [3], tol)).toMatchObject({ stage: null, flag: false });
  });
  it("stage 'secure': logits off the reference beyond the tolerance", () => {
    const r = compareCase('x', { ...good, logits: [0.5, -1, 2.1], probabilities: sm([0.5, -1, 2.1]) }, ref, tf, m, [3], tol);
    expect(r.stage).toBe('secure');
  });
  it("stage 'post': probabilities that are not the activation of the SDK's own logits, a wrong index or label", () => {
    expect(compareCase('x', { ...good, probabilities: [1 / 3, 1 / 3, 1 / 3] }, ref, tf, m, [3], tol).stage).toBe('post');
    expect(compareCase('x', { ...good, index: 0 }, ref, tf, m, [3], tol).stage).toBe('post');
    expect(compareCase('x', { ...good, label: 'c0' }, ref, tf, m, [3], tol).stage).toBe('post');
  });
  it("stage 'tfjs': the output off tfjs (the importer's activation or reference disagrees with tfjs)", () => {
    expect(compareCase('x', good, ref, Float64Array.from([0.2, 0.1, 0.7]), m, [3], tol).stage).toBe('tfjs');
  });
  it('a NaN anywhere (an SDK logit, its probability, tfjs\'s output) is a problem, not a pass (Math.max with NaN is NaN, and NaN > tol is false)', () => {
    const zn = [0.5, Number.NaN, 2];
    expect(compareCase('x', { ...good, logits: zn, probabilities: sm(z) }, ref, tf, m, [3], tol).stage).toBe('secure');
    expect(compareCase('x', { ...good, probabilities: [Number.NaN, 0, 1] }, ref, tf, m, [3], tol).stage).toBe('post');
    expect(compareCase('x', good, ref, Float64Array.from([Number.NaN, 0.1, 0.7]), m, [3], tol).stage).toBe('tfjs');
  });
  it('flags a top label that differs from tfjs only within the tolerance', () => {
    const zz = [1, 1 + 1e-4];
    const r = compareCase('x', { logits: zz, probabilities: sm(zz), index: 1, label: 1 }, Float64Array.from(zz), Float64Array.from(sm([1 + 1e-4, 1])), man('softmax'), [2], tol);
    expect(r).toMatchObject({ flag: true });
  });
  it('a saturated sigmoid in tfjs (several labels at 1.0) is a flag, not a difference; a clear tfjs winner is', () => {
    const zz = [20, 30];
    const pp = zz.map((v) => 1 / (1 + Math.exp(-v)));
    const pred = { logits: zz, probabilities: pp, index: 1, label: 1 };
    expect(compareCase('x', pred, Float64Array.from(zz), Float64Array.from([1, 1]), man('sigmoid'), [2], tol)).toMatchObject({ stage: null, flag: true });
    expect(compareCase('x', pred, Float64Array.from(zz), Float64Array.from([1, 0.5]), man('sigmoid'), [2], tol).stage).toBe('tfjs');
  });
  it('one sigmoid output: index 1 only for a logit > 0; a mask element by element', () => {
    expect(compareCase('x', { logits: [0.3], probabilities: [1 / (1 + Math.exp(-0.3))], index: 1, label: 'pos' }, Float64Array.from([0.3]), Float64Array.from([1 / (1 + Math.exp(-0.3))]), man('sigmoid', ['neg', 'pos']), [1], tol).stage).toBe(null);
    expect(compareCase('x', { logits: [0.3], probabilities: [1 / (1 + Math.exp(-0.3))], index: 0, label: 'neg' }, Float64Array.from([0.3]), Float64Array.from([1 / (1 + Math.exp(-0.3))]), man('sigmoid', ['neg', 'pos']), [1], tol).stage).toBe('post');
    const mz = [-2, 3];
    const p = mz.map((v) => 1 / (1 + Math.exp(-v)));
    const mask = (classes: number[]) => ({ logits: mz, probabilities: p, index: -1, label: 'mask', mask: { classes: Uint8Array.from(classes) } });
    expect(compareCase('x', mask([0, 1]), Float64Array.from(mz), Float64Array.from(p), man('sigmoid'), [1, 2, 1], tol).stage).toBe(null);
    expect(compareCase('x', mask([1, 1]), Float64Array.from(mz), Float64Array.from(p), man('sigmoid'), [1, 2, 1], tol).stage).toBe('post');
  });
  it('an output of rank 2 per item ([rows, classes]) is a mask as the SDK serves it: softmax per row, its classes row by row', () => {
    const rz = [0.5, -1, 2, 3, 0, 0];
    const perRow = [...sm(rz.slice(0, 3)), ...sm(rz.slice(3))];
    const pred = (probabilities: number[], classes: number[]) => ({ logits: rz, probabilities, index: -1, label: 'mask', mask: { classes: Uint8Array.from(classes) } });
    const m2 = man('softmax');
    expect(compareCase('x', pred(perRow, [2, 0]), Float64Array.from(rz), Float64Array.from(perRow), m2, [2, 3], tol).stage).toBe(null);
    // Probabilities over the whole output (not per row), or a wrong row class: the SDK's post-processing is wrong.
    expect(compareCase('x', pred(sm(rz), [2, 0]), Float64Array.from(rz), Float64Array.from(perRow), m2, [2, 3], tol).stage).toBe('post');
    expect(compareCase('x', pred(perRow, [2, 1]), Float64Array.from(rz), Float64Array.from(perRow), m2, [2, 3], tol).stage).toBe('post');
  });
  it('label mode: the class and mask decisions against the reference, a wrong one is secure, a near one a flag', () => {
    const refs = Float64Array.from([0.5, -1, 2, 3, 0, 0]);
    expect(compareLabels('l', { kind: 'class', index: [2, 0], label: ['c2', 'c0'] }, Float64Array.from([0.5, -1, 2, 3, 0, 0]), m, [3], tol)).toMatchObject({ stage: null });
    expect(compareLabels('l', { kind: 'class', index: [1, 0], label: ['c1', 'c0'] }, refs, m, [3], tol).stage).toBe('secure');
    expect(compareLabels('l', { kind: 'class', index: [2, 0], label: ['c1', 'c0'] }, refs, m, [3], tol).stage).toBe('post');
    const near = compareLabels('l', { kind: 'mask', index: [-1], label: ['mask'], mask: [{ mask: Uint8Array.from([1, 1]) }] }, Float64Array.from([-1e-4, 2]), man('sigmoid'), [1, 2, 1], tol);
    expect(near).toMatchObject({ stage: null, flag: true });
    expect(compareLabels('l', { kind: 'mask', index: [-1], label: ['mask'], mask: [{ mask: Uint8Array.from([1, 1]) }] }, Float64Array.from([-1, 2]), man('sigmoid'), [1, 2, 1], tol).stage).toBe('secure');
  });
  it('preprocessPixels: caffe turns RGB into BGR before the BGR mean; torch scales, then mean and std; tf maps 0..255 to -1..1', () => {
    const px = Uint8Array.from([10, 20, 30, 255, 0, 127]);
    expect(Array.from(preprocessPixels(px, 3, { scaling: 'raw', channelOrder: 'bgr', mean: [103.939, 116.779, 123.68] }))).toEqual(Array.from(Float32Array.from([30 - 103.939, 20 - 116.779, 10 - 123.68, 127 - 103.939, 0 - 116.779, 255 - 123.68])));
    const t = preprocessPixels(px, 3, { scaling: 'unit', channelOrder: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(t[3]).toBeCloseTo((1 - 0.485) / 0.229, 6);
    expect(Array.from(preprocessPixels(Uint8Array.from([0, 255]), 1, { scaling: 'symmetric', channelOrder: 'rgb' }))).toEqual([-1, 1]);
  });
});

describe('e2e-oracle checks: import-time policies (thresholds, confidence buckets) and the .h5 chain', () => {
  const lg = (p: number): number => Math.log(p / (1 - p));
  const tol = { abs: 0, rel: 1e-3 };
  const ml = (pos: boolean[], buckets?: number[]) => ({ kind: 'multi-label', index: [-1], label: ['multi-label'], decisions: [pos.map((positive, index) => ({ index, positive, ...(buckets ? { confidenceBucket: buckets[index] } : {}) }))] });
  it('multi-label decisions at per-label thresholds: z >= logit(t_c), not z >= 0', () => {
    const r = Float64Array.from([lg(0.3) + 0.5, lg(0.8) - 0.5]);
    // Label 0 (logit < 0) is positive at threshold 0.3, label 1 (logit > 0) negative at 0.8: not the sign.
    expect(compareLabels('t', ml([true, false]), r, man('sigmoid'), [2], tol, { thresholds: [0.3, 0.8] }).stage).toBe(null);
    expect(compareLabels('t', ml([true, true]), r, man('sigmoid'), [2], tol, { thresholds: [0.3, 0.8] }).stage).toBe('secure');
    // One threshold for all labels.
    expect(compareLabels('t', ml([false, false]), Float64Array.from([0.5, 1]), man('sigmoid'), [2], tol, { thresholds: [0.9] }).stage).toBe(null);
    // Near the threshold: a flag, not a difference.
    expect(compareLabels('t', ml([false, true]), Float64Array.from([lg(0.3) + 1e-5, 1]), man('sigmoid'), [2], tol, { thresholds: [0.3] })).toMatchObject({ stage: null, flag: true });
  });
  it('confidence buckets: #{mu : margin >= mu} for argmax (top - runner-up) and per element (|z - logit(t)|)', () => {
    const r = Float64Array.from([0, 2, 0.5]);
    const cls = (bucket: number) => ({ kind: 'class', index: [1], label: ['c1'], confidenceBucket: [bucket] });
    const m = man('softmax', ['c0', 'c1', 'c2']);
    expect(compareLabels('b', cls(1), r, m, [3], tol, { confidence: [1, 3] }).stage).toBe(null);
    expect(compareLabels('b', cls(2), r, m, [3], tol, { confidence: [1, 3] }).stage).toBe('secure');
    expect(compareLabels('b', { kind: 'class', index: [1], label: ['c1'] }, r, m, [3], tol, { confidence: [1, 3] }).stage).toBe('post');
    // margin 1.5 exactly at mu = 1.5: either bucket is a flag.
    expect(compareLabels('b', cls(1), r, m, [3], tol, { confidence: [0.5, 1.5] })).toMatchObject({ stage: null, flag: true });
    const e = Float64Array.from([lg(0.2) + 2, lg(0.2) - 0.3]);
    expect(compareLabels('b', ml([true, false], [2, 1]), e, man('sigmoid'), [2], tol, { thresholds: [0.2], confidence: [0.25, 1] }).stage).toBe(null);
    expect(compareLabels('b', ml([true, false], [2, 2]), e, man('sigmoid'), [2], tol, { thresholds: [0.2], confidence: [0.25, 1] }).stage).toBe('secure');
  });
  it("tfjs's probabilities against the thresholds: a clear disagreement is stage 'tfjs'", () => {
    const r = Float64Array.from([lg(0.6) + 1, -3]);
    const p = Float64Array.from([0.9, 0.05]);
    expect(compareLabels('p', ml([true, false]), r, man('sigmoid'), [2], tol, { thresholds: [0.6] }, p).stage).toBe(null);
    expect(compareLabels('p', ml([true, false]), r, man('sigmoid'), [2], tol, { thresholds: [0.6] }, Float64Array.from([0.4, 0.05])).stage).toBe('tfjs');
  });
  it('chainOf: a chain of one-input layers is a Sequential model; a branch is not', () => {
    const L = (name: string, inputs: string[]) => ({ className: 'ReLU', name, inputs, config: {}, weights: [] });
    const chain = { name: 'm', inputShape: [2, 2, 1], layers: [L('a', ['input_layer']), L('b', ['a'])], output: 'b' };
    expect(chainOf(chain)?.layers.map((l) => l.name)).toEqual(['a', 'b']);
    expect(chainOf({ ...chain, layers: [L('a', ['input_layer']), L('b', ['input_layer', 'a'])] })).toBeNull();
    expect(chainOf({ ...chain, output: 'a' })).toBeNull();
  });
  it('policyFlags: thresholds only for per-element outputs, one or one per channel, and the flags say what the policy says', () => {
    for (let s = 0; s < 40; s++) {
      const seed = new Uint8Array(16); seed[0] = s;
      const f = policyFlags(new Prg(seed), 3, s % 2 === 0);
      expect(f.args.slice(0, 2)).toEqual(['--output-mode', f.mode]);
      if (s % 2 === 1) expect(f.pol.thresholds).toBeUndefined();
      if (f.pol.thresholds) { expect([1, 3]).toContain(f.pol.thresholds.length); expect(f.args).toContain(f.pol.thresholds.join(',')); }
      expect(f.pol.confidence !== undefined).toBe(f.mode === 'label+confidence');
    }
  });
});
