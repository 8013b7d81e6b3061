import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMpcError } from '../errors.js';
import { fileStore } from '../../parties/accountant-store.js';
import { PrivacyAccountant } from './accountant.js';
import { addCharge, emptyComposition, enforcedEpsilon, RDP_ORDERS, type PrivacyCharge } from './composition.js';
import { calibrate } from './dp-noise.js';

const dir = mkdtempSync(join(tmpdir(), 'composition-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `state-${n++}`, 'privacy.json');
const pure = (epsilon: number): PrivacyCharge => ({ epsilon, delta: 0, rdp: { kind: 'pure' } });
const exhausted = (e: unknown) => isMpcError(e) && e.code === 'E_BUDGET_EXHAUSTED' && e.httpStatus === 429;

/**
 * Independent reference: the filter bounds computed from the list of charges
 * directly (no additive state), from the formulas of the papers:
 *  - pure eps-DP: D_alpha <= min(eps, alpha eps^2 / 2) (Bun & Steinke 2016 Prop. 1.4; D_alpha <= D_inf);
 *  - rho-zCDP: D_alpha <= alpha rho;
 *  - Renyi filter at each order, union bound over the orders: eps = min_alpha sum + ln(|A| / delta) / (alpha - 1);
 *  - pure basic composition while every charge is pure.
 * The orders are written out again here (the accountant's state file pins them).
 */
const ORDERS = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 256, 512, 1024];
function reference(charges: PrivacyCharge[], delta: number): { basic: number; rdp: number; best: number } {
  const allPure = charges.every((c) => c.rdp.kind === 'pure');
  const basic = charges.reduce((a, c) => a + c.epsilon, 0);
  let rdp = Infinity;
  if (delta > 0) {
    for (const a of ORDERS) {
      const total = charges.reduce((acc, c) => acc + (c.rdp.kind === 'pure' ? Math.min(c.epsilon, (a * c.epsilon ** 2) / 2) : a * c.rdp.rho), 0);
      rdp = Math.min(rdp, total + Math.log(ORDERS.length / delta) / (a - 1));
    }
  }
  return { basic, rdp, best: allPure ? Math.min(basic, rdp) : rdp };
}

/** Deterministic test stream (sha256 of a counter): uniform in [0, 1). */
function stream(seed: string): () => number {
  let i = 0;
  return () => createHash('sha256').update(`${seed}/${i++}`).digest().readUInt32BE(0) / 2 ** 32;
}

describe('composition rule (a privacy filter valid for adaptively chosen epsilon)', () => {
  it('tracks the same orders as the reference', () => {
    expect([...RDP_ORDERS]).toEqual(ORDERS);
  });

  it('the RDP conversion pays ln(|A| / delta) for choosing the order after the fact (union bound over the orders)', () => {
    const g = calibrate({ mechanism: 'gaussian', epsilon: 2, delta: 1e-6, sensitivity: 1, calibration: 'zcdp' }).charge;
    const s = addCharge(emptyComposition(), g, 3);
    const ref = reference([g, g, g], 1e-5);
    expect(enforcedEpsilon(s, 1e-5, 'rdp')).toBeCloseTo(ref.rdp, 12);
    // The plain conversion at ln(1 / delta) is smaller: it would admit more than the filter can justify.
    const rho = g.rdp.kind === 'zcdp' ? g.rdp.rho : NaN;
    const plain = Math.min(...ORDERS.map((a) => 3 * a * rho + Math.log(1 / 1e-5) / (a - 1)));
    expect(enforcedEpsilon(s, 1e-5, 'rdp')).toBeGreaterThan(plain + 0.05);
  });

  it("'best' uses basic composition only while every charge is pure: a Gaussian query basic composition would admit is refused", async () => {
    // One zCDP-calibrated Gaussian query at (eps 2, delta 1e-6) into a budget of (2, 1e-5): basic composition says
    // exactly 2 (fits), but the Gaussian's (eps, delta) does not bound its loss pointwise; the RDP filter says more than 2.
    const g = calibrate({ mechanism: 'gaussian', epsilon: 2, delta: 1e-6, sensitivity: 1, calibration: 'zcdp' }).charge;
    expect(reference([g], 1e-5).rdp).toBeGreaterThan(2);
    const acc = await PrivacyAccountant.open({ store: fileStore(file()), budget: { epsilon: 2, delta: 1e-5 } });
    await expect(acc.reserve('u', g)).rejects.toSatisfy(exhausted);
    // Pure charges still get exact basic composition: two Laplace queries of 1 fill a budget of 2.
    const acc2 = await PrivacyAccountant.open({ store: fileStore(file()), budget: { epsilon: 2, delta: 1e-5 } });
    for (let i = 0; i < 2; i++) await (await acc2.reserve('u', pure(1))).commit();
    expect(acc2.report('u').enforced.epsilon).toBe(2);
    await expect(acc2.reserve('u', pure(0.001))).rejects.toSatisfy(exhausted);
  });

  it('admission has no allowance: a charge that passes the budget by 1e-10 is refused, and a charge below the floor is refused on a spent budget', async () => {
    const acc = await PrivacyAccountant.open({ store: fileStore(file()), budget: { epsilon: 1, delta: 0 } });
    await (await acc.reserve('u', pure(0.5))).commit();
    expect(acc.wouldAdmit('u', pure(0.5 + 1e-10))).toBe(false);
    await expect(acc.reserve('u', pure(0.5 + 1e-10))).rejects.toSatisfy(exhausted);
    await (await acc.reserve('u', pure(0.5))).commit();
    // The budget is now exactly spent. 1e-300 vanishes in the float sum (1 + 1e-300 === 1): refused by the floor.
    await expect(acc.reserve('u', pure(1e-300))).rejects.toSatisfy((e: unknown) => isMpcError(e) && e.code === 'E_DP_PARAMETER' && e.httpStatus === 400);
    await expect(acc.reserve('u', pure(1e-6))).rejects.toSatisfy(exhausted);
  });

  it('admits exactly what the reference admits over adaptive sequences (epsilon chosen from the remaining budget, mixed mechanisms)', async () => {
    const rules = ['best', 'rdp', 'basic'] as const;
    let decided = 0, refusedSeen = 0, close = 0;
    for (const rule of rules) {
      for (let trial = 0; trial < 6; trial++) {
        const u = stream(`${rule}/${trial}`);
        const budget = { epsilon: 1 + 9 * u(), delta: trial % 3 === 0 ? 0 : 10 ** -(3 + Math.floor(4 * u())) };
        const acc = await PrivacyAccountant.open({ store: fileStore(file()), budget, enforce: rule });
        const history: PrivacyCharge[] = [];
        for (let step = 0; step < 40; step++) {
          // The analyst looks at what is left and picks the next epsilon from it (fully adaptive).
          const left = acc.report('c').remainingEpsilon;
          const eps = Math.max(1e-3, (left > 0 ? left : 0.5) * (0.05 + 1.2 * u()));
          const gaussian = budget.delta > 0 && u() < 0.4;
          const charge = gaussian
            ? calibrate({ mechanism: 'gaussian', epsilon: Math.min(eps, 5), delta: budget.delta * 0.01, sensitivity: 1 }).charge
            : pure(eps);
          const count = 1 + Math.floor(3 * u());
          const next = [...history, ...Array<PrivacyCharge>(count).fill(charge)];
          const r = reference(next, budget.delta);
          const want = rule === 'basic' ? (next.reduce((a, c) => a + c.delta, 0) <= budget.delta ? r.basic : Infinity) : r[rule];
          const got = enforcedEpsilon(addCharge(addChargeAll(history), charge, count), budget.delta, rule);
          if (Number.isFinite(want)) expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, want));
          else expect(got).toBe(Infinity);
          // Decisions compared except within float rounding of the budget.
          if (Math.abs(want - budget.epsilon) <= 1e-12 * budget.epsilon) { close++; continue; }
          const admit = want <= budget.epsilon;
          expect(acc.wouldAdmit('c', charge, count)).toBe(admit);
          decided++;
          if (admit) { await (await acc.reserve('c', charge, count)).commit(); history.push(...Array<PrivacyCharge>(count).fill(charge)); }
          else { refusedSeen++; await expect(acc.reserve('c', charge, count)).rejects.toSatisfy(exhausted); }
        }
        expect(acc.report('c').queries).toBe(history.length);
      }
    }
    expect(decided).toBeGreaterThan(500);
    expect(refusedSeen).toBeGreaterThan(50);
    expect(close).toBeLessThan(5);
  });
});

function addChargeAll(cs: PrivacyCharge[]) {
  return cs.reduce((s, c) => addCharge(s, c), emptyComposition());
}
