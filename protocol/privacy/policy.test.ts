import { describe, expect, it } from 'vitest';
import { isMpcError, type MpcError } from '../errors.js';
import { latticeParameter } from './dp-noise.js';
import { checkClipSensitivity, clippedSensitivity, resolvePolicy, type PrivacyPolicy } from './policy.js';

const errorOf = (f: () => unknown): MpcError => {
  try { f(); } catch (e) { if (isMpcError(e)) return e; throw e; }
  throw new Error('expected an MpcError');
};

describe('resolvePolicy checks every DP parameter at session creation', () => {
  const model = { fracBits: 20, classes: 2 };
  const manifest: PrivacyPolicy = { outputMode: 'label', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 40, clip: 8 } };

  it('refuses an epsilon below the floor (E_DP_PARAMETER, 400), with or without the model', () => {
    for (const m of [model, {}]) {
      const e = errorOf(() => resolvePolicy(manifest, { dp: { epsilon: 1e-300 } }, m));
      expect(e.code).toBe('E_DP_PARAMETER');
      expect(e.httpStatus).toBe(400);
    }
    expect(resolvePolicy(manifest, { dp: { epsilon: 1e-3 } }, model).charge?.epsilon).toBe(1e-3);
  });

  it('refuses a noise scale the fixed-point encoding cannot carry, naming only this policy\'s numbers', () => {
    // b = 40 / 1e-6 = 4e7; at 20 fractional bits 4e7 * 2^20 > 2^44 lattice units.
    const e = errorOf(() => resolvePolicy(manifest, { dp: { epsilon: 1e-6 } }, model));
    expect(e.code).toBe('E_DP_PARAMETER');
    expect(e.httpStatus).toBe(400);
    expect(e.message).toMatch(/epsilon 0\.000001 /);
    expect(e.message).toContain('4.00e+7');
    // The same policy is fine at fewer fractional bits (the bound is the lattice's, not a fixed epsilon).
    expect(resolvePolicy(manifest, { dp: { epsilon: 1e-6 } }, { fracBits: 8, classes: 2 }).noise?.scale).toBeCloseTo(4e7, 0);
    // Gaussian too.
    const g: PrivacyPolicy = { outputMode: 'label', dp: { mechanism: 'gaussian', epsilon: 1e-5, delta: 1e-6, sensitivity: 1e3 } };
    expect(errorOf(() => resolvePolicy(g, {}, model)).code).toBe('E_DP_PARAMETER');
  });

  it('the protocol-level range check no longer puts the scale in its message (a run serves several clients)', () => {
    const e = errorOf(() => latticeParameter({ mechanism: 'laplace', sampler: 'discrete-exact', scale: 1.99e300 }, 13));
    expect(e.code).toBe('E_DP_PARAMETER');
    expect(e.message).not.toMatch(/e\+300|1\.99/);
  });

  it('clipping to [-c, c] bounds n logits by L1 2cn and L2 2c sqrt(n); a configured sensitivity below that is refused with both numbers', () => {
    // Two logits clipped to [-8, 8]: each moves by at most 16, both at once: L1 32, L2 16 sqrt 2.
    expect(clippedSensitivity(8, 2, 'l1')).toBe(32);
    expect(clippedSensitivity(8, 2, 'l2')).toBeCloseTo(16 * Math.SQRT2, 12);
    const bad: PrivacyPolicy = { outputMode: 'label', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 2, clip: 8 } };
    const e = errorOf(() => resolvePolicy(bad, {}, model));
    expect(e.code).toBe('E_DP_SENSITIVITY');
    expect(e.httpStatus).toBe(400);
    expect(e.message).toContain('sensitivity 2 ');
    expect(e.message).toContain('below 32');
    expect(resolvePolicy({ ...bad, dp: { ...bad.dp!, sensitivity: 32 } }, {}, model).noise?.scale).toBe(32);
    // A request that lowers the clip lowers the bound it must meet (clip 1: L1 4).
    expect(errorOf(() => resolvePolicy(bad, { dp: { clip: 1 } }, model)).message).toContain('below 4,');
    expect(resolvePolicy(bad, { dp: { clip: 1, sensitivity: 4 } }, model).dp?.clip).toBe(1);
    // Gaussian: L2.
    const g: PrivacyPolicy = { outputMode: 'label', dp: { mechanism: 'gaussian', epsilon: 0.5, delta: 1e-6, sensitivity: 22, clip: 8 } };
    expect(errorOf(() => resolvePolicy(g, {}, model)).message).toContain(`below ${16 * Math.SQRT2}`);
    expect(resolvePolicy(g, { dp: { sensitivity: 23 } }, model).dp?.sensitivity).toBe(23);
    // Ten classes: L1 2 c 10.
    expect(() => checkClipSensitivity({ mechanism: 'laplace', sensitivity: 159, clip: 8 }, 10)).toThrow(/below 160/);
    // A clip the encoding cannot carry (a request may add one where the model has none) is refused too.
    expect(errorOf(() => resolvePolicy({ outputMode: 'label' }, { dp: { mechanism: 'laplace', epsilon: 1e30, sensitivity: 1e31, clip: 1e29 } }, { fracBits: 20 })).code).toBe('E_DP_PARAMETER');
    // No clip: the owner's figure stands (no bound to check it against).
    expect(resolvePolicy({ outputMode: 'label', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 2 } }, {}, model).noise?.scale).toBe(2);
  });
});
