import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMpcError } from '../errors.js';
import { fileStore } from '../../parties/accountant-store.js';
import { PrivacyAccountant } from './accountant.js';
import { addCharge, advancedBound, basicBound, emptyComposition, rdpBound, type PrivacyCharge } from './composition.js';
import { calibrate } from './dp-noise.js';
import { pateCalibrate } from './pate.js';

const dir = mkdtempSync(join(tmpdir(), 'accountant-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `state-${n++}`, 'privacy.json');
const pure = (epsilon: number): PrivacyCharge => ({ epsilon, delta: 0, rdp: { kind: 'pure' } });
const exhausted = (e: unknown) => isMpcError(e) && e.code === 'E_BUDGET_EXHAUSTED' && e.httpStatus === 429;

describe('privacy accountant', () => {
  it('admits requests until the budget is spent, then refuses with E_BUDGET_EXHAUSTED (HTTP 429)', async () => {
    const acc = await PrivacyAccountant.open({ store: fileStore(file()), budget: { epsilon: 1, delta: 0 } });
    for (let i = 0; i < 3; i++) await (await acc.reserve('alice', pure(0.3))).commit();
    await expect(acc.reserve('alice', pure(0.3))).rejects.toSatisfy(exhausted);
    // A smaller request still fits; other clients are unaffected.
    await (await acc.reserve('alice', pure(0.1))).commit();
    await (await acc.reserve('bob', pure(0.9))).commit();
    const r = acc.report('alice');
    expect(r.queries).toBe(4);
    expect(r.basic.epsilon).toBeCloseTo(1, 12);
    expect(r.remainingEpsilon).toBeLessThan(1e-9);
    // Ten charges of 0.1 fit a budget of 1 despite float sums.
    const acc2 = await PrivacyAccountant.open({ store: fileStore(file()), budget: { epsilon: 1, delta: 0 } });
    for (let i = 0; i < 10; i++) await (await acc2.reserve('c', pure(0.1))).commit();
    await expect(acc2.reserve('c', pure(0.01))).rejects.toSatisfy(exhausted);
  });

  it('charges a batch of N images as N queries and honours per-client budgets', async () => {
    const acc = await PrivacyAccountant.open({ store: fileStore(file()), budget: { epsilon: 1, delta: 0 }, budgets: { hospital: { epsilon: 10, delta: 0 } } });
    await expect(acc.reserve('clinic', pure(0.2), 6)).rejects.toSatisfy(exhausted);
    await (await acc.reserve('hospital', pure(0.2), 6)).commit();
    expect(acc.report('hospital').queries).toBe(6);
    expect(acc.report('hospital').basic.epsilon).toBeCloseTo(1.2, 12);
  });

  it('never overspends under concurrent requests: reservations count until released', async () => {
    const acc = await PrivacyAccountant.open({ store: fileStore(file()), budget: { epsilon: 1, delta: 0 } });
    const tries = await Promise.allSettled(Array.from({ length: 10 }, () => acc.reserve('alice', pure(0.3))));
    const ok = tries.filter((t) => t.status === 'fulfilled').map((t) => (t as PromiseFulfilledResult<Awaited<ReturnType<typeof acc.reserve>>>).value);
    expect(ok.length).toBe(3);
    expect(tries.filter((t) => t.status === 'rejected').every((t) => exhausted((t as PromiseRejectedResult).reason))).toBe(true);
    expect(acc.report('alice').pendingQueries).toBe(3);
    // A failed request gives its reservation back; the others commit.
    await ok[0]!.release();
    await Promise.all(ok.slice(1).map((r) => r.commit()));
    await expect(ok[1]!.commit()).rejects.toThrow(/already/);
    expect(acc.report('alice')).toMatchObject({ queries: 2, pendingQueries: 0 });
    await (await acc.reserve('alice', pure(0.3))).commit();
    await expect(acc.reserve('alice', pure(0.3))).rejects.toSatisfy(exhausted);
  });

  it('survives a restart: spent budget is reloaded, pending reservations of a crashed process count as spent, writes are atomic', async () => {
    const f = file();
    const a = await PrivacyAccountant.open({ store: fileStore(f), budget: { epsilon: 1, delta: 0 } });
    await (await a.reserve('alice', pure(0.4))).commit();
    await a.reserve('alice', pure(0.4)); // never committed: the process "dies" here
    await a.flush();
    const b = await PrivacyAccountant.open({ store: fileStore(f), budget: { epsilon: 1, delta: 0 } });
    expect(b.report('alice')).toMatchObject({ queries: 2, pendingQueries: 0 });
    await expect(b.reserve('alice', pure(0.4))).rejects.toSatisfy(exhausted);
    await (await b.reserve('alice', pure(0.2))).commit();
    // Only the state file remains (temp files renamed away), and it is valid JSON.
    const d = join(f, '..');
    expect(readdirSync(d)).toEqual(['privacy.json']);
    expect(JSON.parse(readFileSync(f, 'utf8')).format).toBe('securenn-privacy-accountant');
    const c = await PrivacyAccountant.open({ store: fileStore(f), budget: { epsilon: 1, delta: 0 } });
    expect(c.report('alice').basic.epsilon).toBeCloseTo(1, 12);
  });

  it('opens a state file whose pending reservation is below the epsilon floor (an older version admitted it) and counts it as spent', async () => {
    const f = file();
    const a = await PrivacyAccountant.open({ store: fileStore(f), budget: { epsilon: 1, delta: 0 } });
    await a.flush();
    const doc = JSON.parse(readFileSync(f, 'utf8')) as { clients: unknown[] };
    doc.clients = [{ id: 'old', spent: addCharge(emptyComposition(), pure(1)), pending: [{ id: 'r1', charge: pure(1e-300), count: 1, at: '2026-12-01T00:00:00.000Z' }] }];
    writeFileSync(f, JSON.stringify(doc));
    const b = await PrivacyAccountant.open({ store: fileStore(f), budget: { epsilon: 1, delta: 0 } });
    expect(b.report('old')).toMatchObject({ queries: 2, pendingQueries: 0 });
    await expect(b.reserve('old', pure(1e-6))).rejects.toSatisfy(exhausted);
  });

  it('refuses a corrupt state file with E_ACCOUNTANT_STATE', async () => {
    const f = file();
    const a = await PrivacyAccountant.open({ store: fileStore(f), budget: { epsilon: 1, delta: 0 } });
    await (await a.reserve('x', pure(0.1))).commit();
    writeFileSync(f, '{"format":"securenn-privacy-accountant","version":1,"rdpOrders":[1],"clients":[]}');
    await expect(PrivacyAccountant.open({ store: fileStore(f), budget: { epsilon: 1, delta: 0 } })).rejects.toSatisfy((e: unknown) => isMpcError(e) && e.code === 'E_ACCOUNTANT_STATE');
    writeFileSync(f, '{"format":');
    await expect(PrivacyAccountant.open({ store: fileStore(f), budget: { epsilon: 1, delta: 0 } })).rejects.toSatisfy((e: unknown) => isMpcError(e) && e.code === 'E_ACCOUNTANT_STATE');
  });

  it('reports basic, advanced (DRV) and RDP composition; RDP admits many more Gaussian queries than basic composition', async () => {
    // 100 PATE queries at epsilon 0.1: basic 10; DRV sqrt(2 k ln(1/d')) eps + k eps (e^eps - 1).
    let s = emptyComposition();
    s = addCharge(s, pateCalibrate({ mechanism: 'laplace', epsilon: 0.1 }).charge, 100);
    expect(basicBound(s).epsilon).toBeCloseTo(10, 10);
    expect(advancedBound(s, 1e-6)!.epsilon).toBeCloseTo(Math.sqrt(200 * Math.log(1e6)) * 0.1 + 100 * 0.1 * Math.expm1(0.1), 10);
    expect(advancedBound(s, 1e-6)!.epsilon).toBeLessThan(10);
    expect(rdpBound(s, 1e-6)!.epsilon).toBeLessThan(advancedBound(s, 1e-6)!.epsilon);
    // Gaussian queries: eps 0.5, delta 1e-7 each; budget (5, 1e-5): basic admits 10 (and 100 deltas), RDP far more.
    const g = calibrate({ mechanism: 'gaussian', epsilon: 0.5, delta: 1e-7, sensitivity: 1 }).charge;
    const basic = await PrivacyAccountant.open({ store: fileStore(file()), budget: { epsilon: 5, delta: 1e-5 }, enforce: 'basic' });
    const best = await PrivacyAccountant.open({ store: fileStore(file()), budget: { epsilon: 5, delta: 1e-5 } });
    const count = async (a: PrivacyAccountant) => { let i = 0; while (a.wouldAdmit('u', g)) { await (await a.reserve('u', g)).commit(); i++; } return i; };
    const nb = await count(basic), nr = await count(best);
    expect(nb).toBe(10);
    expect(nr).toBeGreaterThan(5 * nb);
    const rep = best.report('u');
    expect(rep.rdp!.epsilon).toBeLessThanOrEqual(5 * (1 + 1e-9));
    expect(rep.basic.epsilon).toBeGreaterThan(5);
    expect(rep.enforced.rule).toBe('best');
  });
});
