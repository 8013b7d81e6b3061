import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { loadBundle, writeBundles } from './bundle.js';
import { main } from './cli.js';
import { outputCompare, outputCompareOk, thresholdSlack } from './output-bound.js';
import { allowedMagnitude } from './precision.js';
import { inputBox, outputBox, staticRanges } from './static-bounds.js';
import { tempDir } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
afterEach(() => vi.restoreAllMocks());

const F = 16, MARGIN = 4, IN = 8, C = 4;
/** A dense classifier 8 - 16 relu - 4 for logits; `scale` multiplies the last kernel (20000: parties/privacy.test.ts's failing case). */
function model(scale: number): ModelIR<FloatTensor> {
  const g = seededPrg(7);
  const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
  const d2 = t([16, C], 1);
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [IN], output: 'd2', outputActivation: 'softmax',
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: 16, activation: 'relu', kernel: t([IN, 16], 1), bias: t([16], 0.1) },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: C, activation: 'linear', kernel: { ...d2, data: d2.data.map((w) => w * scale) }, bias: t([C], 0.1) },
    ],
  };
}
const samples = (n: number): Float64Array[] => Array.from({ length: n }, (_, i) => uniform(seededPrg(100 + i), IN, 1).map((v) => v + 1)); // in [0, 2]
const sound = (m: ModelIR<FloatTensor>, hi = 2) => staticRanges(m, inputBox(m.inputShape, [0], [hi]), true);
const maxAbs = (m: ModelIR<FloatTensor>, hi = 2) => { const b = outputBox(m, inputBox(m.inputShape, [0], [hi])); return Math.max(...Array.from(b.lo, Math.abs), ...Array.from(b.hi, Math.abs)); };

describe('outputCompare: the ring of a label mode\'s comparisons of the logits (output-bound.ts)', () => {
  it('the sound bound over the declared range decides where a ring holds it: 32 for small logits, 64 for the x20000 head', () => {
    const small = model(1), big = model(20000);
    // The bound is the one the check reads: below the 32-bit padded limit for the small model, above it (but within 64) for the big one.
    expect(maxAbs(small)).toBeLessThan(allowedMagnitude('padded', F, 32, MARGIN));
    expect(maxAbs(big)).toBeGreaterThan(allowedMagnitude('padded', F, 32, MARGIN));
    expect(outputCompare(small, samples(4), F, MARGIN, undefined, sound(small))).toEqual({ bits: 32, bound: 'sound' });
    expect(outputCompare(big, samples(4), F, MARGIN, undefined, sound(big))).toEqual({ bits: 64, bound: 'sound' });
    // The sound bound covers every sample's logits (what the samples-only fallback reads).
    for (const x of samples(4)) for (const v of plainForward(big, x, 1).data) expect(Math.abs(v)).toBeLessThanOrEqual(maxAbs(big) * (1 + 1e-9));
  });

  it('no declared range, or a bound no ring holds: the samples decide with the margin, marked samples-only', () => {
    const small = model(1), big = model(20000);
    expect(outputCompare(small, samples(4), F, MARGIN, undefined)).toEqual({ bits: 32, bound: 'samples-only' });
    expect(outputCompare(big, samples(4), F, MARGIN, undefined)).toEqual({ bits: 64, bound: 'samples-only' });
    // A bound beyond the 64-bit ring proves nothing: the samples decide (32 here although the bound is huge).
    const loose = [{ layer: 'd2 (secure argmax)', kind: 'padded' as const, maxAbs: 1e30 }];
    expect(outputCompare(small, samples(4), F, MARGIN, undefined, loose)).toEqual({ bits: 32, bound: 'samples-only' });
  });

  it('the thresholds widen the compared difference: margins T and |logit(t)| (threshold decisions) count', () => {
    expect(thresholdSlack(undefined)).toBe(3); // default confidence thresholds 1, 3 and decision threshold 0.5 (logit 0)
    expect(thresholdSlack({ outputMode: 'logits', decisionThresholds: [0.999] })).toBeCloseTo(3 + Math.log(999), 9);
    // |logit| <= 2000 fits the padded limit (2048 at f = 16) and 2 * 2000 + 3 the difference limit (8192); a margin of 5000 does not.
    const m = [{ layer: 'd2 (secure argmax)', kind: 'padded' as const, maxAbs: 2000 }];
    const small = model(1);
    expect(outputCompare(small, samples(1), F, MARGIN, undefined, m)).toEqual({ bits: 32, bound: 'sound' });
    expect(outputCompare(small, samples(1), F, MARGIN, { outputMode: 'logits', confidenceThresholds: [5000] }, m)).toEqual({ bits: 64, bound: 'sound' });
  });

  it('bundles carry the pair in the three manifests; a bad pair is refused when written and when loaded', () => {
    const out = path.join(tmp.dir, 'b');
    writeBundles({ ir: model(1), sourceHash: 'ab'.repeat(32) }, out, { fracBits: F, outputCompareBits: 32, outputCompareBound: 'sound' });
    for (const p of [0, 1, 2] as const) expect(loadBundle(out, p).manifest).toMatchObject({ outputCompareBits: 32, outputCompareBound: 'sound' });
    expect(() => writeBundles({ ir: model(1), sourceHash: 'ab'.repeat(32) }, path.join(tmp.dir, 'c'), { fracBits: F, outputCompareBits: 32 })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    const file = path.join(out, 'party1', 'manifest.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"outputCompareBits": 32', '"outputCompareBits": 48'));
    expect(() => loadBundle(out, 1)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY' }));
    expect(outputCompareOk({})).toBe(true);
    expect(outputCompareOk({ outputCompareBound: 'sound' })).toBe(false);
  });
});

describe('mpc-import records outputCompareBits for a model imported for logits', () => {
  const run = async (dir: string, extra: string[]) => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = path.join(tmp.dir, dir);
    expect(await main(['--seed-arch', 'mnist-a', '--seed', '4', '--out', out, '--no-labels', '--frac-bits', '13', ...extra])).toBe(0);
    vi.restoreAllMocks();
    return loadBundle(out, 0).manifest;
  };
  it('sound on a declared range, samples-only without one, absent without samples (the parties then use 64)', async () => {
    expect(await run('fits', ['--random', '2', '--input-range', '0,1'])).toMatchObject({ outputCompareBits: 32, outputCompareBound: 'sound' });
    expect(await run('wide', ['--random', '2', '--input-range', '0,1000'])).toMatchObject({ outputCompareBits: 64, outputCompareBound: 'sound' });
    expect(await run('blind', ['--random', '2'])).toMatchObject({ outputCompareBits: 32, outputCompareBound: 'samples-only' });
    const none = await run('none', ['--random', '0']);
    expect(none.outputCompareBits).toBeUndefined();
    expect(none.outputCompareBound).toBeUndefined();
  }, 60_000);
});
