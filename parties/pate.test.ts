/**
 * PATE private labelling served by the party servers: a party
 * configured with a teacher ensemble (several hospitals' models, each
 * secret-shared on its own) runs every teacher on the client's input shares,
 * then the vote, noise and noisy-max inside the protocol
 * (protocol/privacy/pate.ts); only label shares leave P0 and P1. Three
 * in-process parties over gRPC, client API through inject() and the SDK.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivacyPolicyError, PrivateInferenceClient } from '../client-sdk/src/index.js';
import { isMpcError } from '../protocol/errors.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { loadPartyModel, shareBundles } from './model-source.js';
import { auth, finishSession, partyTrio, startSession, TEST_TOKEN, type PartyTrio } from './testing/trio.js';

const F = 16;
const IN = 8;
const C = 3;

/** Teacher `seed`: a small dense classifier 8 - 12 relu - C (each hospital's model has its own weights). */
function teacher(seed: number, classes = C, inputs = IN): ModelIR<FloatTensor> {
  const g = seededPrg(seed);
  const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [inputs], output: 'd2', outputActivation: 'softmax', labels: ['normal', 'bacterial', 'viral'].slice(0, classes),
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: 12, activation: 'relu', kernel: t([inputs, 12], 1), bias: t([12], 0.1) },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: classes, activation: 'linear', kernel: t([12, classes], 1), bias: t([classes], 0.1) },
    ],
  };
}

const teachers = [teacher(11), teacher(12), teacher(13)];
const input = (seed: number, N: number): Float64Array => uniform(seededPrg(seed), N * IN, 2);

/** Plaintext: each teacher's argmax and the smallest top-vs-runner-up margin among the teachers, then the majority (ties to the lowest class). */
function plainVote(x: Float64Array, N: number): { label: number; minMargin: number }[] {
  const per = teachers.map((m) => plainForward(m, x, N).data);
  return Array.from({ length: N }, (_, i) => {
    const votes = new Array<number>(C).fill(0);
    let minMargin = Infinity;
    for (const y of per) {
      const row = Array.from(y.subarray(i * C, (i + 1) * C));
      const top = row.indexOf(Math.max(...row));
      votes[top]!++;
      minMargin = Math.min(minMargin, row[top]! - Math.max(...row.filter((_, j) => j !== top)));
    }
    return { label: votes.indexOf(Math.max(...votes)), minMargin };
  });
}

const create = (t: PartyTrio, p: 0 | 1 | 2, body: object) => t.servers[p].app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId: randomUUID(), ...body } });
const codeOf = (r: { statusCode: number; json(): unknown }) => ({ status: r.statusCode, code: (r.json() as { code: string }).code });
const budgetAt = async (t: PartyTrio, p: 0 | 1 | 2) => (await t.servers[p].app.inject({ method: 'GET', url: '/v1/privacy/budget', headers: auth })).json() as { queries: number; pendingQueries: number; remainingEpsilon: number };
/** P2 stores no output share: its commit may land just after the client has its answer (bounded wait). */
async function settledBudget(t: PartyTrio, p: 0 | 1 | 2, queries: number) {
  let b = await budgetAt(t, p);
  for (let i = 0; i < 100 && (b.pendingQueries !== 0 || b.queries !== queries); i++) { await new Promise((r) => setTimeout(r, 20)); b = await budgetAt(t, p); }
  return b;
}

const dirs: string[] = [];
const tempDir = (): string => { const d = mkdtempSync(path.join(tmpdir(), 'securenn-pate-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('a teacher ensemble without noise: secure majority vote', () => {
  let t: PartyTrio;
  const layers: string[] = [];
  beforeAll(async () => {
    t = await partyTrio({ ensemble: { teachers }, fracBits: F, tls: false, onNode: (p, _run, name) => { if (p === 0) layers.push(name); } });
  });
  afterAll(async () => { await t?.close(); });

  it('announces the ensemble and a label-only policy; refuses a request for logits (403)', async () => {
    const info = (await t.servers[1].app.inject({ method: 'GET', url: '/v1/model', headers: auth })).json() as Record<string, unknown>;
    expect(info).toMatchObject({ inputShape: [IN], outputShape: [C], privacy: { outputMode: 'label' }, ensemble: { teachers: 3, aggregation: 'majority' } });
    expect((info.ensemble as { teacherHashes: string[] }).teacherHashes).toHaveLength(3);
    expect(info.modelHash).toBe(t.modelHash);
    for (const p of [0, 1, 2] as const) expect(codeOf(await create(t, p, { privacy: { outputMode: 'logits' } }))).toEqual({ status: 403, code: 'E_PRIVACY_POLICY' });
    for (const p of [0, 1, 2] as const) expect(codeOf(await create(t, p, { privacy: { outputMode: 'label+confidence' } }))).toEqual({ status: 403, code: 'E_PRIVACY_POLICY' });
  });

  it('returns label shares only, which reconstruct to the plaintext majority of the three teachers; every teacher ran', async () => {
    const N = 8;
    const x = input(301, N);
    const id = await startSession(t, x, N, F);
    const out = await finishSession(t, id, F);
    expect(out).toMatchObject({ ok: true, mode: 'label', shape: String(N) });
    expect(out.logits).toBeUndefined();
    const want = plainVote(x, N);
    const clear = want.filter((w) => w.minMargin >= 0.05).length;
    expect(clear).toBeGreaterThanOrEqual(4);
    want.forEach((w, i) => { if (w.minMargin >= 0.05) expect(out.labels![i]).toBe(w.label); });
    // The run's layers: each teacher's two dense layers, prefixed t<i>/.
    expect(layers).toEqual(['t0/d1', 't0/d2', 't1/d1', 't1/d2', 't2/d1', 't2/d2']);
    const { run } = (await t.servers[0].app.inject({ method: 'GET', url: `/v1/sessions/${id}/run`, headers: auth })).json() as { run: { layers: { name: string }[] } };
    expect(run.layers.map((l) => l.name)).toEqual([...layers, 'pate']);
  });

  it('the SDK gets a LabelPrediction (no probabilities, no logits) with describe() telling it to ask for labels', async () => {
    const ports = await Promise.all(t.servers.map(async (s) => (await s.listen()).httpPort));
    const fetchAll = ((url: string | URL | Request, init?: RequestInit) => fetch(url, { ...init, signal: null })) as typeof fetch;
    const client = new PrivateInferenceClient({ parties: ports.map((p) => `http://127.0.0.1:${p}`), token: TEST_TOKEN, timeoutMs: 20_000, fetch: fetchAll });
    const info = await client.describe();
    expect(info).toMatchObject({ modelHash: t.modelHash, privacy: { outputMode: 'label' }, ensemble: { teachers: 3, aggregation: 'majority' } });
    const x = input(302, 1);
    const r = await client.predict({ data: x, shape: [IN] }, { privacy: { outputMode: 'label' } });
    expect(r.outputMode).toBe('label');
    expect(r).not.toHaveProperty('probabilities');
    expect(r).not.toHaveProperty('logits');
    const [w] = plainVote(x, 1);
    if (w!.minMargin >= 0.05) expect(r.index).toBe(w!.label);
    expect(r.label).toBe(['normal', 'bacterial', 'viral'][r.index]);
    // Asking for logits (the SDK's default) is refused by the parties' policy.
    await expect(client.predict({ data: x, shape: [IN] })).rejects.toBeInstanceOf(PrivacyPolicyError);
  });
});

describe('a teacher ensemble with Laplace noise on the votes (Report Noisy Max) and the accountant', () => {
  let t: PartyTrio;
  const eps = 0.5;
  beforeAll(async () => {
    t = await partyTrio({ ensemble: { teachers, noise: { mechanism: 'laplace', epsilon: eps } }, fracBits: F, tls: false, privacy: { dir: tempDir(), budget: { epsilon: 1, delta: 0 } } });
  });
  afterAll(async () => { await t?.close(); });

  it('announces sensitivity 2 (one teacher changes one vote) and charges epsilon per image at every party; refuses past the budget (429)', async () => {
    const info = (await t.servers[0].app.inject({ method: 'GET', url: '/v1/model', headers: auth })).json() as Record<string, unknown>;
    expect(info).toMatchObject({ privacy: { outputMode: 'label', dp: { mechanism: 'laplace', epsilon: eps, sensitivity: 2, delta: 0 } }, ensemble: { teachers: 3, aggregation: 'noisy-max' } });
    const N = 2;
    const id = await startSession(t, input(303, N), N, F);
    const out = await finishSession(t, id, F);
    expect(out).toMatchObject({ ok: true, mode: 'label' });
    for (const l of out.labels!) expect(l >= 0 && l < C).toBe(true);
    for (const p of [0, 1, 2] as const) expect(await settledBudget(t, p, N)).toMatchObject({ queries: N, pendingQueries: 0, remainingEpsilon: 0 });
    for (const p of [0, 1, 2] as const) expect(codeOf(await create(t, p, {}))).toEqual({ status: 429, code: 'E_BUDGET_EXHAUSTED' });
  });

  it('refuses request options that do not apply to vote counts: clipping, a lower sensitivity (403)', async () => {
    for (const p of [0, 1, 2] as const) {
      expect(codeOf(await create(t, p, { privacy: { dp: { clip: 1 } } }))).toEqual({ status: 403, code: 'E_PRIVACY_POLICY' });
      expect(codeOf(await create(t, p, { privacy: { dp: { epsilon: 0.1, sensitivity: 1 } } }))).toEqual({ status: 403, code: 'E_PRIVACY_POLICY' });
    }
  });
});

describe('ensemble configuration and loading errors', () => {
  const codeOfError = async (p: Promise<unknown>): Promise<string> => { try { await p; return 'resolved'; } catch (e) { return isMpcError(e) ? e.code : String(e); } };
  const mem = (m: ModelIR<FloatTensor>, party: 0 | 1 | 2) => ({ kind: 'memory' as const, bundle: shareBundles(m, F)[party] });

  it('refuses one teacher, teachers with other input shapes or class counts, and a bad noise mechanism (E_MODEL_FORMAT)', async () => {
    expect(await codeOfError(loadPartyModel({ kind: 'ensemble', teachers: [mem(teacher(1), 0)] }, 0))).toBe('E_MODEL_FORMAT');
    expect(await codeOfError(loadPartyModel({ kind: 'ensemble', teachers: [mem(teacher(1), 0), mem(teacher(2, C, 6), 0)] }, 0))).toBe('E_MODEL_FORMAT');
    expect(await codeOfError(loadPartyModel({ kind: 'ensemble', teachers: [mem(teacher(1), 0), mem(teacher(2, 2), 0)] }, 0))).toBe('E_MODEL_FORMAT');
    expect(await codeOfError(loadPartyModel({ kind: 'ensemble', teachers: [mem(teacher(1), 0), mem(teacher(2), 0)], noise: { mechanism: 'cauchy' as 'laplace', epsilon: 1 } }, 0))).toBe('E_MODEL_FORMAT');
  });

  it("the ensemble's id changes with the teachers, their order and the noise, so differently configured parties refuse each other's plans", async () => {
    const a = mem(teacher(1), 0), b = mem(teacher(2), 0);
    const h = async (src: Parameters<typeof loadPartyModel>[0]) => (await loadPartyModel(src, 0)).info.modelHash;
    const base = await h({ kind: 'ensemble', teachers: [a, b] });
    expect(await h({ kind: 'ensemble', teachers: [a, b] })).toBe(base);
    expect(await h({ kind: 'ensemble', teachers: [b, a] })).not.toBe(base);
    expect(await h({ kind: 'ensemble', teachers: [a, b], noise: { mechanism: 'laplace', epsilon: 1 } })).not.toBe(base);
    expect(await h({ kind: 'ensemble', teachers: [a, b], noise: { mechanism: 'laplace', epsilon: 1 } })).not.toBe(await h({ kind: 'ensemble', teachers: [a, b], noise: { mechanism: 'laplace', epsilon: 2 } }));
  });

  it('the deployment config takes model.ensemble { teachers: [{ bundleDir }...], noise } and refuses malformed ones (E_BAD_ARGUMENT)', () => {
    const dep = (model: unknown): DeploymentConfig => ({
      tokens: ['0123456789abcdef0'], insecureLocal: true,
      parties: [
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: model as DeploymentConfig['parties'][0]['model'] },
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'x' } },
        { http: { host: '127.0.0.1', port: 0 }, model: { devFile: 'x' } },
      ],
    });
    const ok = resolveConfig(dep({ ensemble: { teachers: [{ bundleDir: 'h1' }, { bundleDir: 'h2' }], noise: { mechanism: 'gaussian', epsilon: 1, delta: 1e-6 } } }), 0, '/srv');
    expect(ok.self.model).toEqual({ ensemble: { teachers: [{ bundleDir: '/srv/h1' }, { bundleDir: '/srv/h2' }], noise: { mechanism: 'gaussian', epsilon: 1, delta: 1e-6 } } });
    const code = (m: unknown): string => { try { resolveConfig(dep(m), 0, '/srv'); return 'resolved'; } catch (e) { return isMpcError(e) ? e.code : String(e); } };
    expect(code({ ensemble: { teachers: [{ bundleDir: 'h1' }] } })).toBe('E_BAD_ARGUMENT');
    expect(code({ ensemble: { teachers: [{ bundleDir: 'h1' }, { nope: 1 }] } })).toBe('E_BAD_ARGUMENT');
    expect(code({ ensemble: { teachers: [{ bundleDir: 'h1' }, { bundleDir: 'h2' }], noise: { mechanism: 'laplace', epsilon: 0 } } })).toBe('E_BAD_ARGUMENT');
    expect(code({ ensemble: { teachers: [{ bundleDir: 'h1' }, { bundleDir: 'h2' }], noise: { mechanism: 'gaussian', epsilon: 1 } } })).toBe('E_BAD_ARGUMENT');
  });
});
