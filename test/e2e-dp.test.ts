/**
 * DP output policies through three party processes and the Node SDK (bench/dp-probe.ts has the checks; the big
 * run is `npx tsx bench/e2e-oracle.ts --dp`, BENCHMARKS.md). Network A (10 logits) imported with a manifest policy
 * dp laplace ε = 2, Δ₁ = 20, clip 1 (b = 10, released noise Laplace(b) + Laplace(b): sampler 'discrete-exact'):
 *   - the SDK's logits are never the model's: released − clip(plaintext) passes a KS test against the declared law
 *     (DKW bound at α = 1e-6: a false alarm once in a million runs) and fails it against no noise;
 *   - a request for labels gets argmax of the noisy logits: label counts inside exact binomial bounds of their
 *     probabilities under the declared noise;
 *   - the budget: ε per released image at each party (not three times, not for a re-read output, a refused request
 *     or a session that failed), each client sees and spends only its own, a client over its budget gets
 *     E_BUDGET_EXHAUSTED with nothing charged or left pending at any party, and a restarted party keeps what was spent;
 *   - a party whose manifest says another ε never releases: the client gets a coded error and nothing is charged.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { sessionKey } from '../client-sdk/src/ring.js';
import { SESSION_KEY_HEADER } from '../protocol/api-contract.js';
import { launchLocal, partyNodeArgs, partyProgram, type Launched } from '../parties/launch.js';
import { clientIdOf } from '../parties/privacy.js';
import { TEST_WARMUP } from '../parties/testing/quick-warmup.js';
import type { PrivacyPolicy } from '../protocol/privacy/index.js';
import { binomialBounds, budgets, rawPredict, declaredNoise, DP_C, DP_IN, dpImages, ksCheck, noisyArgmaxProbs, writeDpBundles } from '../bench/dp-probe.js';
import { until } from './testing/deploy.js';

const POLICY: PrivacyPolicy = { outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 2, sensitivity: 20, clip: 1 } };
const EPS = 2;
const ALPHA = 1e-6;
const TOKEN_B = 'dp-probe-client-b-0123456789abcdef';
const TOKEN_C = 'dp-probe-client-c-0123456789abcdef';

describe('DP output policy through three party processes', () => {
  let l: Launched;
  let dir: string;
  const client = (token: string) => new PrivateInferenceClient({ parties: l.urls, token, timeoutMs: 30_000, expectedModelHash: l.modelHash });
  const spent = async (token: string) => (await budgets(l.urls, token)).map((b) => [b.queries, b.pendingQueries]);

  /** Stop party p with `signal` and start it again with the same program and config; wait until the three are ready. */
  async function restart(p: 0 | 1 | 2, signal: NodeJS.Signals): Promise<void> {
    const exited = new Promise((resolve) => l.children[p]!.once('exit', resolve));
    l.children[p]!.kill(signal);
    await exited;
    const program = await partyProgram();
    const child = spawn(process.execPath, [...partyNodeArgs(), ...program.args, '--party', String(p), '--config', l.configPath], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PARTY_EXIT_WITH_PARENT: '1' } });
    child.stdout!.resume();
    child.stderr!.resume();
    l.children[p] = child;
    expect(await until(async () => (await Promise.all(l.urls.map((u) => fetch(`${u}/readyz`).then((r) => r.ok, () => false)))).every(Boolean), 30_000, 100)).toBe(true);
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'e2e-dp-'));
    writeDpBundles(path.join(dir, 'bundle'), POLICY);
    // Client C has a budget of 5: two images (ε 2 each) fit, a third does not.
    l = await launchLocal({ bundleDir: path.join(dir, 'bundle'), logLevel: 'info', readyTimeoutMs: 60_000, warmup: TEST_WARMUP, extraTokens: [TOKEN_B, TOKEN_C], privacy: { budget: { epsilon: 1000, delta: 1e-5 }, budgets: { [clientIdOf(`Bearer ${TOKEN_C}`)]: { epsilon: 5, delta: 1e-5 } } } });
  }, 90_000);
  afterAll(async () => { await l?.stop(); rmSync(dir, { recursive: true, force: true }); });

  it('noisy logits follow the declared noise (KS at α = 1e-6), never the raw logits; ε charged once per image at each party', async () => {
    const noise = declaredNoise(POLICY);
    const B = 8, S = 6;
    const diffs: number[] = [];
    for (let s = 0; s < S; s++) {
      const { x, ref } = dpImages(100 + s, B, 1);
      const r = await client(l.token).predict({ data: x, shape: [B, DP_IN] }, { batch: true });
      expect(r.model.privacy?.dp).toMatchObject({ mechanism: 'laplace', epsilon: EPS, sensitivity: 20, clip: 1 });
      r.logits.flat().forEach((v, i) => diffs.push(v - ref[i]!));
    }
    expect(diffs).toHaveLength(S * B * DP_C);
    const ks = ksCheck(diffs, noise.cdf, ALPHA);
    expect(ks.ok, `KS ${ks.d.toFixed(4)} > ${ks.crit.toFixed(4)} against ${noise.desc}`).toBe(true);
    // The same statistic rejects no noise at all (the raw clipped logits) and a single draw's law.
    expect(ksCheck(diffs, (v) => (v < 0 ? 0 : 1), ALPHA).ok).toBe(false);
    expect(await until(async () => JSON.stringify(await spent(l.token)) === JSON.stringify([[S * B, 0], [S * B, 0], [S * B, 0]]), 10_000), JSON.stringify(await spent(l.token))).toBe(true);
  }, 120_000);

  it('a stricter request (ε 1 instead of 2): its own noise (b = 20) and its own charge (ε 1 per image)', async () => {
    const strict: PrivacyPolicy = { outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 20, clip: 1 } };
    const noise = declaredNoise(strict);
    const B = 8, S = 4;
    const before = await budgets(l.urls, TOKEN_B);
    const diffs: number[] = [];
    for (let s = 0; s < S; s++) {
      const { x, ref } = dpImages(200 + s, B, 1);
      const r = await client(TOKEN_B).predict({ data: x, shape: [B, DP_IN] }, { batch: true, privacy: { dp: { epsilon: 1 } } });
      expect(r.model.privacy?.dp).toMatchObject({ mechanism: 'laplace', epsilon: 1, sensitivity: 20, clip: 1 });
      r.logits.flat().forEach((v, i) => diffs.push(v - ref[i]!));
    }
    const ks = ksCheck(diffs, noise.cdf, ALPHA);
    expect(ks.ok, `KS ${ks.d.toFixed(4)} > ${ks.crit.toFixed(4)} against ${noise.desc}`).toBe(true);
    const n = S * B;
    const settled = () => budgets(l.urls, TOKEN_B).then((bs) => bs.map((b, i) => [b.queries - before[i]!.queries, b.pendingQueries, Math.round((b.basic.epsilon - before[i]!.basic.epsilon) * 1e6) / 1e6]));
    expect(await until(async () => JSON.stringify(await settled()) === JSON.stringify([[n, 0, n], [n, 0, n], [n, 0, n]]), 10_000), JSON.stringify(await settled())).toBe(true);
  }, 120_000);

  it('a label request gets argmax of the noisy logits: label counts inside exact binomial bounds', async () => {
    const noise = declaredNoise(POLICY);
    const B = 8, S = 5;
    // One image repeated: every draw of its label is one sample of the noisy argmax.
    const { x, ref } = dpImages(7, 1, 1);
    const xs = new Float32Array(B * DP_IN);
    for (let i = 0; i < B; i++) xs.set(x, i * DP_IN);
    const counts = new Array<number>(DP_C).fill(0);
    const before = await spent(TOKEN_B);
    for (let s = 0; s < S; s++) {
      const r = await client(TOKEN_B).predict({ data: xs, shape: [B, DP_IN] }, { batch: true, privacy: { outputMode: 'label' } });
      for (const k of r.index) counts[k]! += 1;
    }
    const D = 40_000;
    const p = noisyArgmaxProbs(ref, noise, D);
    const n = S * B;
    for (let c = 0; c < DP_C; c++) {
      const m = 5 * Math.sqrt((p[c]! * (1 - p[c]!)) / D) + 1 / D;
      const lo = binomialBounds(n, Math.max(0, p[c]! - m), ALPHA / DP_C)[0];
      const hi = binomialBounds(n, Math.min(1, p[c]! + m), ALPHA / DP_C)[1];
      expect(counts[c], `label ${c}: ${counts[c]} of ${n}, p ${p[c]!.toFixed(3)}, bounds [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo);
      expect(counts[c]).toBeLessThanOrEqual(hi);
    }
    // The noiseless argmax would give one label n times: outside the bounds of its probability.
    const top = ref.indexOf(Math.max(...ref));
    expect(binomialBounds(n, p[top]! + 5 * Math.sqrt(p[top]! / D) + 1 / D, ALPHA)[1]).toBeLessThan(n);
    expect(await until(async () => JSON.stringify((await spent(TOKEN_B)).map(([q, pend], i) => [q! - before[i]![0]!, pend])) === JSON.stringify([[n, 0], [n, 0], [n, 0]]), 10_000)).toBe(true);
  }, 120_000);

  it('nothing charged for a re-read output, a refused request or a failed session; clients see only their own budget', async () => {
    const keys = [sessionKey(), sessionKey(), sessionKey()] as const;
    const { x } = dpImages(300, 1, 1);
    const r = await client(TOKEN_B).predict({ data: x, shape: [DP_IN] }, { sessionKeys: keys });
    // P2 commits its charge when its part of the run ends, which can be after P0's and P1's answers.
    expect(await until(async () => (await spent(TOKEN_B)).every(([, pend]) => pend === 0), 10_000)).toBe(true);
    const after = await spent(TOKEN_B);
    const a = await budgets(l.urls, l.token);
    // The output read again (P0 and P1 keep it until retention): the same share, no second charge.
    for (const p of [0, 1]) {
      const res = await fetch(`${l.urls[p]}/v1/sessions/${r.sessionId}/output`, { headers: { authorization: `Bearer ${TOKEN_B}`, [SESSION_KEY_HEADER]: keys[p]! } });
      expect(res.status).toBe(200);
    }
    // A looser request (ε 4 > 2) is refused, coded, before any session.
    await expect(client(TOKEN_B).predict({ data: x, shape: [DP_IN] }, { privacy: { dp: { epsilon: 4 } } })).rejects.toMatchObject({ code: 'E_PRIVACY_POLICY' });
    // Sessions that fail: created at the three parties (ε reserved: pending 1) with no input, their 4 s deadline passes.
    const sid = randomUUID();
    for (const [p, u] of l.urls.entries()) {
      const res = await fetch(`${u}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN_B}`, [SESSION_KEY_HEADER]: keys[p]!, 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: sid, modelHash: l.modelHash, deadlineMs: 4_000 }) });
      expect(res.status).toBe(201);
    }
    expect((await spent(TOKEN_B)).map(([q, pend], i) => [q! - after[i]![0]!, pend])).toEqual([[0, 1], [0, 1], [0, 1]]);
    // Another client cannot read or spend B's budget: its own id, its own counts.
    const other = await budgets(l.urls, TOKEN_C);
    const bIds = (await budgets(l.urls, TOKEN_B)).map((b) => b.client);
    expect(other.every((o, i) => o.client !== bIds[i])).toBe(true);
    expect(await until(async () => JSON.stringify(await spent(TOKEN_B)) === JSON.stringify(after), 20_000)).toBe(true);
    expect((await budgets(l.urls, l.token)).map((b) => b.queries)).toEqual(a.map((b) => b.queries));
  }, 60_000);

  it('over budget: E_BUDGET_EXHAUSTED, nothing charged or pending at any party; a restarted party keeps what was spent', async () => {
    const c = client(TOKEN_C);
    const { x } = dpImages(400, 2, 1);
    await c.predict({ data: x, shape: [2, DP_IN] }, { batch: true });
    expect(await until(async () => JSON.stringify(await spent(TOKEN_C)) === JSON.stringify([[2, 0], [2, 0], [2, 0]]), 10_000)).toBe(true);
    await expect(c.predict({ data: x.subarray(0, DP_IN), shape: [DP_IN] })).rejects.toMatchObject({ code: 'E_BUDGET_EXHAUSTED' });
    expect(await until(async () => JSON.stringify(await spent(TOKEN_C)) === JSON.stringify([[2, 0], [2, 0], [2, 0]]), 10_000)).toBe(true);
    // P1 restarted (SIGTERM, the same program and config): its accountant file holds C's two images.
    await restart(1, 'SIGTERM');
    expect(await spent(TOKEN_C)).toEqual([[2, 0], [2, 0], [2, 0]]);
    await expect(c.predict({ data: x.subarray(0, DP_IN), shape: [DP_IN] })).rejects.toMatchObject({ code: 'E_BUDGET_EXHAUSTED' });
  }, 90_000);

  it('a party killed with a reservation pending counts it as spent when it starts again (documented); the others release it', async () => {
    const base = await spent(TOKEN_B);
    const sid = randomUUID();
    const keys = [sessionKey(), sessionKey(), sessionKey()] as const;
    for (const [p, u] of l.urls.entries()) {
      const res = await fetch(`${u}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN_B}`, [SESSION_KEY_HEADER]: keys[p]!, 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: sid, modelHash: l.modelHash, deadlineMs: 3_000 }) });
      expect(res.status).toBe(201);
    }
    await restart(2, 'SIGKILL');
    // P2: spent (it cannot know whether an output left); P0, P1: released at the deadline (the session never ran).
    const want = JSON.stringify(base.map(([q], i) => [i === 2 ? q! + 1 : q!, 0]));
    const ok = await until(async () => JSON.stringify(await spent(TOKEN_B)) === want, 15_000);
    expect(ok, `${JSON.stringify(await spent(TOKEN_B))}, want ${want}`).toBe(true);
  }, 90_000);
});

describe('DP: a party configured with another ε', () => {
  it('never releases: the client gets a coded error, and no party charges the image', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'e2e-dp-mismatch-'));
    let l: Launched | undefined;
    try {
      writeDpBundles(path.join(dir, 'bundle'), POLICY);
      // P2's manifest says ε = 4 (half the noise), the others 2.
      for (const p of [2, 1]) {
        const mf = path.join(dir, 'bundle', `party${p}`, 'manifest.json');
        const m = JSON.parse(readFileSync(mf, 'utf8')) as { privacy: PrivacyPolicy };
        m.privacy.dp!.epsilon = 4;
        writeFileSync(mf, JSON.stringify(m));
        l = await launchLocal({ bundleDir: path.join(dir, 'bundle'), logLevel: 'info', readyTimeoutMs: 60_000, warmup: TEST_WARMUP });
        const { x } = dpImages(500, 1, 1);
        const err = await new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 4_000 }).predict({ data: x, shape: [DP_IN] }).then(() => null, (e: unknown) => e as { code?: string });
        expect(err, `P${p} with ε 4 released an answer`).not.toBeNull();
        // A client that skips the SDK's check (its shares uploaded at once): the parties themselves must not release.
        const raw = await rawPredict(l.urls, l.token, l.modelHash, x);
        expect(raw.status.some((st) => st === 200), `P${p} with ε 4: output answers ${raw.status} ${raw.codes}`).toBe(false);
        expect(raw.codes.every((c) => typeof c === 'string' && c.startsWith('E_'))).toBe(true);
        expect(['E_MODEL_MISMATCH', 'E_PROTOCOL_DESYNC']).toContain(err!.code);
        const urls = l.urls, token = l.token;
        const settled = await until(async () => (await budgets(urls, token)).every((b) => b.queries === 0 && b.pendingQueries === 0), 15_000);
        expect(settled, JSON.stringify((await budgets(urls, token)).map((b) => [b.queries, b.pendingQueries]))).toBe(true);
        await l.stop();
        l = undefined;
        // Reset for the next party: P1's manifest gets the change too, so both P1 and P2 differ from P0.
      }
    } finally {
      await l?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
