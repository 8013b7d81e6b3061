/**
 * Output privacy wired into the party servers: label modes from the
 * manifest policy and per request (only stricter), DP noise with the
 * per-client accountant (charge, release on failure, 429 when spent,
 * persistence across a restart). Three in-process parties over gRPC, client
 * API through inject().
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import type { PrivacyPolicy } from '../protocol/privacy/index.js';
import { plainForward } from '../protocol/reference/forward.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { clientIdOf, policyKey } from './privacy.js';
import { resolvePolicy } from '../protocol/privacy/index.js';
import { BudgetExhaustedError, PrivacyPolicyError, PrivateInferenceClient } from '../client-sdk/src/index.js';
import { auth, finishSession, partyTrio, startSession, TEST_TOKEN, type PartyTrio } from './testing/trio.js';

const F = 16;
const IN = 8;
const C = 4;

/** A small dense classifier 8 - 16 relu - 4 (fast; the argmax still has 4 classes). */
function tinyModel(): ModelIR<FloatTensor> {
  const g = seededPrg(7);
  const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [IN], output: 'd2', outputActivation: 'softmax', labels: ['a', 'b', 'c', 'd'],
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: 16, activation: 'relu', kernel: t([IN, 16], 1), bias: t([16], 0.1) },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: C, activation: 'linear', kernel: t([16, C], 1), bias: t([C], 0.1) },
    ],
  };
}

const model = tinyModel();
const input = (seed: number, N: number): Float64Array => uniform(seededPrg(seed), N * IN, 2);

/** Plaintext argmax and margin (top minus runner-up) per row. */
function plainLabels(x: Float64Array, N: number): { label: number; margin: number }[] {
  const y = plainForward(model, x, N).data;
  return Array.from({ length: N }, (_, i) => {
    const row = Array.from(y.subarray(i * C, (i + 1) * C));
    const label = row.indexOf(Math.max(...row));
    const rest = row.filter((_, j) => j !== label);
    return { label, margin: row[label]! - Math.max(...rest) };
  });
}

const TOL = 0.01; // fixed-point error of the secure logits at f = 16 is far below this

const create = (t: PartyTrio, p: 0 | 1 | 2, body: object) => t.servers[p].app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId: randomUUID(), ...body } });
const budgetAt = async (t: PartyTrio, p: 0 | 1 | 2) => (await t.servers[p].app.inject({ method: 'GET', url: '/v1/privacy/budget', headers: auth })).json() as { party: number; client: string; queries: number; pendingQueries: number; remainingEpsilon: number; basic: { epsilon: number } };
/** The budget at P`p` once its commits have landed: P2 stores no output share, so its commit may land just after the client has its answer (bounded wait, 2 s). */
async function settledBudget(t: PartyTrio, p: 0 | 1 | 2, queries: number) {
  let b = await budgetAt(t, p);
  for (let i = 0; i < 100 && (b.pendingQueries !== 0 || b.queries !== queries); i++) { await new Promise((r) => setTimeout(r, 20)); b = await budgetAt(t, p); }
  return b;
}
const codeOf = (r: { statusCode: number; json(): unknown }) => ({ status: r.statusCode, code: (r.json() as { code: string }).code });

/** The client SDK over real HTTP against the trio (its servers start listening on loopback). */
async function sdkClient(t: PartyTrio): Promise<PrivateInferenceClient> {
  const ports = await Promise.all(t.servers.map(async (s) => (await s.listen()).httpPort));
  // Without the abort signal: when one party refuses, the SDK aborts its requests to the others, which can leave a
  // half-open connection that the server's close() then waits for (headersTimeout, 60 s). The tests wait for all answers.
  const fetchAll = ((url: string | URL | Request, init?: RequestInit) => fetch(url, { ...init, signal: null })) as typeof fetch;
  return new PrivateInferenceClient({ parties: ports.map((p) => `http://127.0.0.1:${p}`), token: TEST_TOKEN, timeoutMs: 20_000, fetch: fetchAll });
}
const tensorOf = (x: Float64Array, N: number) => ({ data: x, shape: N === 1 ? [IN] : [N, IN] });

const dirs: string[] = [];
const tempDir = (): string => { const d = mkdtempSync(path.join(tmpdir(), 'securenn-privacy-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('label modes: manifest policy label+confidence, requests only stricter', () => {
  const policy: PrivacyPolicy = { outputMode: 'label+confidence', confidenceThresholds: [0.5, 2] };
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, tls: false, policy, privacy: { dir: tempDir(), budget: { epsilon: 100, delta: 0 } } }); });
  afterAll(async () => { await t?.close(); });

  it('announces the policy; returns label and bucket shares only ([N, 2]) that reconstruct to the plaintext argmax and margin bucket', async () => {
    const info = (await t.servers[0].app.inject({ method: 'GET', url: '/v1/model', headers: auth })).json() as { privacy?: unknown };
    expect(info.privacy).toEqual({ outputMode: 'label+confidence', confidenceThresholds: [0.5, 2] });
    const N = 8;
    const x = input(101, N);
    const sessionId = randomUUID();
    const r0 = await create(t, 0, { deadlineMs: 100 });
    expect(r0.statusCode).toBe(201);
    expect(r0.json()).toMatchObject({ privacy: { outputMode: 'label+confidence', confidenceThresholds: [0.5, 2] } });
    await startSession(t, x, N, F, { sessionId });
    const raw = await t.servers[1].app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}/output`, headers: auth });
    expect(raw.headers).toMatchObject({ 'x-output-mode': 'label+confidence', 'x-output-shape': `${N},2` });
    expect(raw.rawPayload.byteLength).toBe(N * 2 * 8);
    const out = await finishSession(t, sessionId, F);
    expect(out).toMatchObject({ ok: true, mode: 'label+confidence', shape: `${N},2` });
    expect(out.logits).toBeUndefined();
    let checked = 0;
    plainLabels(x, N).forEach(({ label, margin }, i) => {
      if (margin < TOL || [0.5, 2].some((th) => Math.abs(margin - th) < TOL)) return;
      checked++;
      expect(out.labels![i]).toBe(label);
      expect(out.buckets![i]).toBe([0.5, 2].filter((th) => margin >= th).length);
    });
    expect(checked).toBeGreaterThanOrEqual(N - 2);
    expect(new Set(out.buckets).size).toBeGreaterThan(1);
  });

  it("a stricter request ('label') gets one label share per image; a looser one ('logits', or DP without its parameters) is refused with 403 E_PRIVACY_POLICY", async () => {
    const N = 5;
    const x = input(102, N);
    const id = await startSession(t, x, N, F, { privacy: { outputMode: 'label' } });
    const out = await finishSession(t, id, F);
    expect(out).toMatchObject({ ok: true, mode: 'label', shape: `${N}` });
    expect(out.buckets).toBeUndefined();
    plainLabels(x, N).forEach(({ label, margin }, i) => { if (margin >= TOL) expect(out.labels![i]).toBe(label); });
    for (const p of [0, 1, 2] as const) {
      expect(codeOf(await create(t, p, { privacy: { outputMode: 'logits' } }))).toEqual({ status: 403, code: 'E_PRIVACY_POLICY' });
      expect(codeOf(await create(t, p, { privacy: { dp: { epsilon: 0.5 } } }))).toEqual({ status: 403, code: 'E_PRIVACY_POLICY' });
    }
    // Malformed options are a schema error, not a policy decision.
    expect(codeOf(await create(t, 0, { privacy: { outputMode: 'probabilities' } }))).toEqual({ status: 400, code: 'E_BAD_ARGUMENT' });
    expect(codeOf(await create(t, 0, { privacy: { dp: { epsilon: -1 } } }))).toEqual({ status: 400, code: 'E_BAD_ARGUMENT' });
  });

  it('client SDK end to end: label (+ bucket) results without logits; asking this model for logits is a PrivacyPolicyError', async () => {
    const client = await sdkClient(t);
    const N = 4;
    const x = input(104, N);
    const plain = plainLabels(x, N);
    const b = await client.predict(tensorOf(x, N), { batch: true, privacy: { outputMode: 'label+confidence' } });
    expect(b.outputMode).toBe('label+confidence');
    expect(b).not.toHaveProperty('logits');
    expect(b.model.privacy).toEqual({ outputMode: 'label+confidence', confidenceThresholds: [0.5, 2] });
    plain.forEach(({ label, margin }, i) => {
      if (margin < TOL || [0.5, 2].some((th) => Math.abs(margin - th) < TOL)) return;
      expect(b.index[i]).toBe(label);
      expect(b.label[i]).toBe(['a', 'b', 'c', 'd'][label]);
      expect(b.confidenceBucket![i]).toBe([0.5, 2].filter((th) => margin >= th).length);
    });
    const one = await client.predict(tensorOf(x.subarray(0, IN), 1), { privacy: { outputMode: 'label' } });
    expect(one).toMatchObject({ outputMode: 'label', index: plain[0]!.label });
    expect(one).not.toHaveProperty('confidenceBucket');
    await expect(client.predict(tensorOf(x.subarray(0, IN), 1))).rejects.toBeInstanceOf(PrivacyPolicyError);
  });

  it('a request may add DP noise to the label: the parties charge epsilon x images to the caller', async () => {
    const N = 3;
    const before = await budgetAt(t, 0);
    const x = input(103, N);
    const id = await startSession(t, x, N, F, { privacy: { outputMode: 'label', dp: { mechanism: 'laplace', epsilon: 0.5, sensitivity: 1e-4 } } });
    const out = await finishSession(t, id, F);
    expect(out).toMatchObject({ ok: true, mode: 'label' });
    plainLabels(x, N).forEach(({ label, margin }, i) => { if (margin >= 0.05) expect(out.labels![i]).toBe(label); });
    for (const p of [0, 1, 2] as const) {
      // P2 stores no output share, so its commit may land just after the client has its answer: wait (bounded).
      const b = await settledBudget(t, p, before.queries + N);
      expect(b).toMatchObject({ party: p, client: clientIdOf(`Bearer ${TEST_TOKEN}`), queries: before.queries + N, pendingQueries: 0 });
      expect(b.basic.epsilon).toBeCloseTo(before.basic.epsilon + 0.5 * N, 9);
    }
  });
});

describe('differentially private logits and the per-client accountant', () => {
  const policy: PrivacyPolicy = { outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 2 } };
  const budget = { epsilon: 3, delta: 0 };
  let dir: string;
  let t: PartyTrio | undefined;
  beforeAll(async () => {
    dir = tempDir();
    t = await partyTrio({ plain: model, fracBits: F, tls: false, policy, privacy: { dir, budget } });
  });
  afterAll(async () => { await t?.close(); });

  it('noisy logits differ from the noiseless ones; each image costs epsilon at every party; the budget route needs the token', async () => {
    expect((await t!.servers[0].app.inject({ method: 'GET', url: '/v1/privacy/budget' })).statusCode).toBe(401);
    expect(await budgetAt(t!, 1)).toMatchObject({ queries: 0, remainingEpsilon: 3 });
    const N = 2;
    const x = input(201, N);
    const info = await t!.servers[2].app.inject({ method: 'GET', url: '/v1/model', headers: auth });
    expect(info.json()).toMatchObject({ privacy: { outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 1, delta: 0, sensitivity: 2, sampler: 'discrete-exact' } } });
    const id = await startSession(t!, x, N, F);
    const out = await finishSession(t!, id, F);
    expect(out).toMatchObject({ ok: true, mode: 'logits', shape: `${N},${C}` });
    const plain = plainForward(model, x, N).data;
    // Laplace noise of scale 2 from each of P0 and P1: all 8 logits within 0.05 of the noiseless ones has probability < 1e-12.
    expect(Math.max(...Array.from(out.logits!, (v, i) => Math.abs(v - plain[i]!)))).toBeGreaterThan(0.05);
    for (const p of [0, 1, 2] as const) expect(await settledBudget(t!, p, 2)).toMatchObject({ queries: 2, pendingQueries: 0, remainingEpsilon: 1 });
  });

  it('a session that fails before its output is stored gives its reservation back', async () => {
    const sessionId = randomUUID();
    for (const p of [0, 1, 2] as const) expect((await create(t!, p, { sessionId, deadlineMs: 200 })).statusCode).toBe(201);
    expect(await budgetAt(t!, 0)).toMatchObject({ pendingQueries: 1 });
    const out = await finishSession(t!, sessionId, F);
    expect(out).toMatchObject({ ok: false, codes: ['E_DEADLINE', 'E_DEADLINE'] });
    for (const p of [0, 1, 2] as const) {
      expect(await settledBudget(t!, p, 2)).toMatchObject({ queries: 2, pendingQueries: 0, remainingEpsilon: 1 });
    }
  });

  it('refuses a request that would overspend with 429 E_BUDGET_EXHAUSTED at session creation', async () => {
    for (const p of [0, 1, 2] as const) expect(codeOf(await create(t!, p, { batch: 2 }))).toEqual({ status: 429, code: 'E_BUDGET_EXHAUSTED' });
    // A stricter epsilon fits: 2 images at 0.5.
    const id = await startSession(t!, input(202, 2), 2, F, { privacy: { dp: { epsilon: 0.5 } } });
    expect(await finishSession(t!, id, F)).toMatchObject({ ok: true, mode: 'logits' });
    for (const p of [0, 1, 2] as const) {
      expect(await settledBudget(t!, p, 4)).toMatchObject({ queries: 4, pendingQueries: 0, remainingEpsilon: 0 });
      expect(codeOf(await create(t!, p, {}))).toEqual({ status: 429, code: 'E_BUDGET_EXHAUSTED' });
    }
  });

  it('the accountant survives a restart: new party servers on the same state files still refuse', async () => {
    await t!.close();
    t = undefined;
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(['privacy-accountant-p0.json', 'privacy-accountant-p1.json', 'privacy-accountant-p2.json']);
    for (const f of files) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      expect(text).not.toContain(TEST_TOKEN);
      expect(text).toContain(clientIdOf(`Bearer ${TEST_TOKEN}`));
    }
    t = await partyTrio({ plain: model, fracBits: F, tls: false, policy, privacy: { dir, budget } });
    for (const p of [0, 1, 2] as const) {
      expect(await budgetAt(t, p)).toMatchObject({ queries: 4, pendingQueries: 0, remainingEpsilon: 0 });
      expect(codeOf(await create(t, p, {}))).toEqual({ status: 429, code: 'E_BUDGET_EXHAUSTED' });
    }
    const e = await (await sdkClient(t)).predict(tensorOf(input(203, 1), 1)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BudgetExhaustedError);
    expect(e).toMatchObject({ code: 'E_BUDGET_EXHAUSTED', status: 429 });
  });
});

describe('a session with unusable DP parameters never joins a batch (one hostile session, one innocent one)', () => {
  // A long batch window: sessions ready within 400 ms of each other run as one batch.
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, tls: false, batch: { windowMs: 400 }, privacy: { dir: tempDir(), budget: { epsilon: 100, delta: 0 } } }); });
  afterAll(async () => { await t?.close(); });

  it('the hostile session is refused at creation at every party with 400 and its own numbers; the innocent session of the same window completes', async () => {
    // b = 1e4 / 1e-6 = 1e10: 1e10 * 2^16 lattice units is past what the sampler draws (2^44). Before the check at
    // creation, this session joined the batch and the run failed for every session in it.
    const hostile = { outputMode: 'logits' as const, dp: { mechanism: 'laplace' as const, epsilon: 1e-6, sensitivity: 1e4 } };
    const innocentPrivacy = { outputMode: 'label' as const, dp: { mechanism: 'laplace' as const, epsilon: 0.5, sensitivity: 1e-4 } };
    const x = input(301, 2), y = input(302, 1);
    const [innocent, bad] = await Promise.allSettled([
      startSession(t, x, 2, F, { privacy: innocentPrivacy }),
      startSession(t, y, 1, F, { privacy: hostile }),
    ]);
    expect(innocent.status).toBe('fulfilled');
    const id = (innocent as PromiseFulfilledResult<string>).value;
    const out = await finishSession(t, id, F);
    expect(out).toMatchObject({ ok: true, mode: 'label', shape: '2' });
    plainLabels(x, 2).forEach(({ label, margin }, i) => { if (margin >= 0.05) expect(out.labels![i]).toBe(label); });
    expect(bad.status).toBe('rejected');
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/create at P0: 400 .*E_DP_PARAMETER/);
    for (const p of [0, 1, 2] as const) {
      const r = await create(t, p, { privacy: hostile });
      expect(codeOf(r)).toEqual({ status: 400, code: 'E_DP_PARAMETER' });
      expect((r.json() as { message: string }).message).toMatch(/epsilon 0\.000001 with sensitivity 10000/);
    }
    // A floor-breaking epsilon is refused the same way (it used to slip through the accountant's allowance).
    expect(codeOf(await create(t, 0, { privacy: { ...hostile, dp: { ...hostile.dp, epsilon: 1e-300 } } }))).toEqual({ status: 400, code: 'E_DP_PARAMETER' });
    // Nothing was charged for the refused sessions: only the innocent session's two images.
    for (const p of [0, 1, 2] as const) expect(await settledBudget(t, p, 2)).toMatchObject({ queries: 2, pendingQueries: 0 });
  });

  it('a clip bound with a sensitivity below what it implies for the model\'s outputs is refused with both numbers (400 E_DP_SENSITIVITY)', async () => {
    // 4 logits clipped to [-8, 8]: L1 sensitivity 2 * 8 * 4 = 64.
    const r = await create(t, 1, { privacy: { outputMode: 'label', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 2, clip: 8 } } });
    expect(codeOf(r)).toEqual({ status: 400, code: 'E_DP_SENSITIVITY' });
    expect((r.json() as { message: string }).message).toMatch(/sensitivity 2 is below 64/);
    expect((await create(t, 1, { privacy: { outputMode: 'label', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 64, clip: 8 } } })).statusCode).toBe(201);
  });
});

describe("a label mode the request asks of a logits model: its logits were not bounded for the parties' 32-bit comparison ring", () => {
  // mpc-import bounds the logits for the comparison ring only when the model's policy compares them (a label mode);
  // a model served for logits, whose logits differ by more than 2^31 ring units (32768 at f = 16), got wrong labels
  // when a client asked for 'label' (the argmax's comparisons wrapped): 5 of 8 here before the fix.
  const big: ModelIR<FloatTensor> = { ...model, nodes: model.nodes.map((n) => (n.kind === 'dense' && n.name === 'd2' ? { ...n, kernel: { ...n.kernel, data: n.kernel.data.map((w) => w * 20000) } } : n)) };
  let t: PartyTrio;
  // Exact truncation, as mpc-import would choose for this model (output-ring.test.ts: the local rule gives a wrong label
  // in ~3.5e-4 of the runs on this input, from products of ~2^49 ring units in the last layer).
  beforeAll(async () => { t = await partyTrio({ plain: big, fracBits: F, tls: false, truncation: 'exact' }); });
  afterAll(async () => { await t?.close(); });

  it("'label' is the plaintext argmax; 'label+confidence' the plaintext bucket", async () => {
    const N = 8;
    const x = input(501, N);
    const y = plainForward(big, x, N).data;
    // The differences between logits pass the 32-bit ring's exact range: the input exercises the bound.
    expect(Math.max(...Array.from(y, Math.abs))).toBeGreaterThan(2 ** 15);
    const want = Array.from({ length: N }, (_, i) => { const row = Array.from(y.subarray(i * C, (i + 1) * C)); return row.indexOf(Math.max(...row)); });
    const label = await finishSession(t, await startSession(t, x, N, F, { privacy: { outputMode: 'label' } }), F);
    expect(label).toMatchObject({ ok: true, mode: 'label' });
    expect(label.labels).toEqual(want);
    const conf = await finishSession(t, await startSession(t, x, N, F, { privacy: { outputMode: 'label+confidence' } }), F);
    expect(conf.labels).toEqual(want);
    expect(conf.buckets).toEqual(want.map(() => 2)); // margins in the thousands: past both default thresholds (1, 3)
  });
});

describe('a run that fails for all its sessions names none of them', () => {
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, tls: false, batch: { windowMs: 400 }, policy: { outputMode: 'label' }, privacy: { dir: tempDir(), budget: { epsilon: 100, delta: 0 } } }); });
  afterAll(async () => { await t?.close(); });

  it("P1 resolving another policy than P0 fails the run with an error that carries no session id (each client sees it)", async () => {
    // P1's model policy differs from P0's (a misconfigured deployment): the plan's policy key does not match at P1.
    t.servers[1].party.model!.policy = { outputMode: 'label+confidence' };
    const ids = await Promise.all([startSession(t, input(401, 1), 1, F), startSession(t, input(402, 2), 2, F)]);
    const outs = await Promise.all(ids.map((id) => finishSession(t, id, F)));
    for (const o of outs) expect(o.ok).toBe(false);
    for (const id of ids) {
      const r = (await t.servers[1].app.inject({ method: 'GET', url: `/v1/sessions/${id}`, headers: auth })).json() as { state: string; error?: { code: string; message: string } };
      expect(r.state).toBe('failed');
      expect(r.error?.code).toBe('E_PROTOCOL_DESYNC');
      for (const other of ids) expect(r.error!.message).not.toContain(other);
    }
  });
});

describe('policy keys (what the plan carries)', () => {
  it('differ when anything that changes the computation or the charge differs, and not otherwise', () => {
    const base: PrivacyPolicy = { outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 2 } };
    const k = policyKey(resolvePolicy(base));
    expect(policyKey(resolvePolicy({ outputMode: 'logits', dp: { sensitivity: 2, epsilon: 1, mechanism: 'laplace' } }))).toBe(k);
    for (const req of [{ outputMode: 'label' as const }, { dp: { epsilon: 0.5 } }, { dp: { sensitivity: 3 } }, { dp: { clip: 4 } }]) expect(policyKey(resolvePolicy(base, req))).not.toBe(k);
    expect(policyKey(resolvePolicy({ outputMode: 'label+confidence', confidenceThresholds: [1] }))).not.toBe(policyKey(resolvePolicy({ outputMode: 'label+confidence', confidenceThresholds: [2] })));
  });
});
