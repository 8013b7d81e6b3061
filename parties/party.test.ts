import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { plainForward } from '../protocol/reference/forward.js';
import type { AShare } from '../protocol/ring/types.js';
import { share, u64Bytes } from '../protocol/sharing/sharing.js';
import { run3 } from '../protocol/testing/run3.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import type { LayerRecord, RunRecord } from './party.js';
import { auth, finishSession, partyTrio, startSession, TEST_OPERATOR_TOKEN, type PartyTrio } from './testing/trio.js';

const F = 16;
const model = networkA();
const IN = 784;
const parts = shareModel(getKernels(), model, F);

const input = (seed: number, N: number): Float64Array => uniform(seededPrg(seed), N * IN, 1).map((v) => (v + 1) / 2);
const maxRelErr = (got: Float64Array, want: Float64Array): number => {
  const scale = Math.max(...Array.from(want, Math.abs), 1e-9);
  return Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!))) / scale;
};

async function inferAndCheck(t: PartyTrio, seed: number, N: number): Promise<{ sessionId: string; err: number }> {
  const x = input(seed, N);
  const sessionId = await startSession(t, x, N, F);
  const out = await finishSession(t, sessionId, F);
  expect(out).toMatchObject({ ok: true, shape: `${N},10` });
  return { sessionId, err: maxRelErr(out.logits!, plainForward(model, x, N).data) };
}

describe('three parties over gRPC with mTLS on loopback, client API through inject()', () => {
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 5, maxBatch: 8 } }); });
  afterAll(async () => { await t?.close(); });

  it('MNIST Network A, one session of 2 images: reconstructed logits match plainForward within 1e-3 (f = 16)', async () => {
    const { err } = await inferAndCheck(t, 11, 2);
    expect(err).toBeLessThan(1e-3);
    const run = t.servers[0].party.runLog.at(-1)!;
    expect(run).toMatchObject({ ok: true, images: 2, sessions: [expect.any(String)] });
    // The three parties ran one protocol run, with the bytes and rounds of the same run over the in-memory transport.
    const mem = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [2, IN], data: new BigUint64Array(2 * IN) as AShare }), { fracBits: F, compareBits: 32 });
    for (const p of [0, 1, 2] as const) {
      const rec = t.servers[p].party.runLog.at(-1)!;
      expect(rec.runId).toBe(run.runId);
      expect({ bytes: rec.bytesSent, rounds: rec.rounds }).toEqual({ bytes: mem.transports[p].counters.bytesSent, rounds: mem.transports[p].counters.depth });
    }
  });

  it('answers the session state and model info; /metrics reports runs, bytes and rounds', async () => {
    const m = await t.servers[1].app.inject({ method: 'GET', url: '/v1/model', headers: { authorization: `Bearer ${t.token}` } });
    expect(m.json()).toMatchObject({ modelHash: t.modelHash, inputShape: [784], outputShape: [10], fracBits: F, outputActivation: 'softmax', party: 1 });
    const text = (await t.servers[0].app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/^mpc_runs_total\{result="ok"\} [1-9]/m);
    expect(text).toMatch(/^mpc_run_bytes_sent_count [1-9]/m);
    expect(text).toMatch(/^mpc_run_rounds_count [1-9]/m);
    expect(text).toMatch(/^mpc_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/sessions",le="\+Inf"\} [1-9]/m);
    expect(text).toMatch(/^mpc_peer_up\{peer="P1"\} 1$/m);
  });

  it('GET /v1/sessions/:id/run: per-layer wall ms, wait ms, bytes and rounds that add up to the run, for an operator token; token required', async () => {
    const { sessionId } = await inferAndCheck(t, 12, 1);
    const op = { authorization: `Bearer ${TEST_OPERATOR_TOKEN}` };
    expect((await t.servers[0].app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}/run` })).statusCode).toBe(401);
    for (const p of [0, 1, 2] as const) {
      let r = await t.servers[p].app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}/run`, headers: op });
      for (let i = 0; r.statusCode === 404 && i < 50; i++) { await new Promise((res) => setTimeout(res, 20)); r = await t.servers[p].app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}/run`, headers: op }); }
      expect(r.statusCode).toBe(200);
      const body = r.json() as { party: number; run: RunRecord; process: { maxRssBytes: number } };
      expect(body.party).toBe(p);
      expect(body.process.maxRssBytes).toBeGreaterThan(1e6);
      const { run } = body;
      expect(run).toMatchObject({ ok: true, images: 1 });
      // Never the batch's session ids, not even for an operator.
      expect(run).not.toHaveProperty('sessions');
      expect(run.layers!.map((l) => l.name)).toEqual(model.nodes.map((n) => n.name));
      expect(run.layers!.map((l) => l.kind)).toEqual(model.nodes.map((n) => n.kind));
      const sum = (f: (l: LayerRecord) => number) => run.layers!.reduce((a, l) => a + f(l), 0);
      expect(sum((l) => l.bytesSent)).toBe(run.bytesSent);
      expect(sum((l) => l.rounds)).toBe(run.rounds);
      expect(sum((l) => l.messages)).toBe(run.messages);
      expect(sum((l) => l.waitMs)).toBeCloseTo(run.waitMs!, 6);
      for (const l of run.layers!) { expect(l.waitMs).toBeGreaterThanOrEqual(0); expect(l.waitMs).toBeLessThanOrEqual(l.ms + 1e-6); }
      expect(sum((l) => l.ms)).toBeLessThanOrEqual(run.ms);
      // A dense layer with ReLU needs the peers' messages: some time was spent waiting for them.
      expect(run.layers![0]!.waitMs).toBeGreaterThan(0);
    }
    // A client token: outcome, run time rounded up to 10 ms, rounds; per layer only name, kind and rounds (fixed by the
    // model); no per-layer times, sizes, image count or memory (they depend on the other sessions of the batch).
    for (const p of [0, 1, 2] as const) {
      const r = await t.servers[p].app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}/run`, headers: auth });
      expect(r.statusCode).toBe(200);
      const body = r.json() as { run: Record<string, unknown> & { ms: number; rounds: number; layers: Record<string, unknown>[] } };
      expect(body).not.toHaveProperty('process');
      expect(Object.keys(body.run).sort()).toEqual(['layers', 'ms', 'ok', 'rounds', 'sessionId']);
      expect(body.run.sessionId).toBe(sessionId);
      expect(body.run.ms % 10).toBe(0);
      expect(body.run.ms).toBeGreaterThan(0);
      expect(body.run.layers.map((l) => Object.keys(l).sort().join())).toEqual(model.nodes.map(() => 'kind,name,rounds'));
      expect(body.run.layers.map((l) => l.name)).toEqual(model.nodes.map((n) => n.name));
      const full = (await t.servers[p].app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}/run`, headers: op })).json() as { run: RunRecord };
      expect(body.run.rounds).toBe(full.run.rounds);
      expect(body.run.ms).toBe(Math.max(10, Math.ceil(full.run.ms / 10) * 10));
    }
    const missing = await t.servers[0].app.inject({ method: 'GET', url: `/v1/sessions/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/run`, headers: op });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

describe('concurrent sessions', () => {
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 1, maxBatch: 1, maxConcurrentRuns: 4 } }); });
  afterAll(async () => { await t?.close(); });

  it('four sessions in flight at once, one run each (max batch 1), each gets its own correct result', async () => {
    const before = t.servers[0].party.runLog.length;
    const res = await Promise.all([21, 22, 23, 24].map((seed) => inferAndCheck(t, seed, 1)));
    for (const r of res) expect(r.err).toBeLessThan(1e-3);
    const runs = t.servers[0].party.runLog.slice(before);
    expect(runs).toHaveLength(4);
    expect(runs.every((r) => r.ok && r.sessions.length === 1)).toBe(true);
    expect(new Set(runs.map((r) => r.sessions[0]))).toEqual(new Set(res.map((r) => r.sessionId)));
  });
});

describe('dynamic batching (P0 leads)', () => {
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 2_000, maxBatch: 4 } }); });
  afterAll(async () => { await t?.close(); });

  it('three sessions (1 + 2 + 1 images) ready within the window form one protocol run; outputs are split per session', async () => {
    const N = [1, 2, 1];
    const xs = N.map((n, i) => input(31 + i, n));
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await startSession(t, xs[i]!, N[i]!, F));
    const outs = await Promise.all(ids.map((id) => finishSession(t, id, F)));
    outs.forEach((o, i) => {
      expect(o).toMatchObject({ ok: true, shape: `${N[i]},10` });
      expect(maxRelErr(o.logits!, plainForward(model, xs[i]!, N[i]!).data)).toBeLessThan(1e-3);
    });
    for (const s of t.servers) {
      const run = s.party.runLog.at(-1)!;
      expect(run).toMatchObject({ ok: true, images: 4, sessions: ids });
    }
    const text = (await t.servers[0].app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/^mpc_run_batch_sessions_bucket\{le="2"\} 0$/m);
    expect(text).toMatch(/^mpc_run_batch_sessions_bucket\{le="4"\} 1$/m);
  });
});

describe('deadlines', () => {
  let t: PartyTrio;
  let blockMs = 0;
  beforeAll(async () => {
    t = await partyTrio({
      plain: model, fracBits: F,
      // Test hook: P0 stalls (blocks its thread) after the first layer when asked to.
      onNode: (p, _run, _name, index) => { if (p === 0 && index === 0 && blockMs > 0) { const ms = blockMs; blockMs = 0; Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); } },
    });
  });
  afterAll(async () => { await t?.close(); });

  it('a session whose input never arrives fails with E_DEADLINE (504) at its deadline', async () => {
    const { randomUUID } = await import('node:crypto');
    const sessionId = randomUUID();
    for (const s of t.servers) expect((await s.app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId, deadlineMs: 200 } })).statusCode).toBe(201);
    const t0 = Date.now();
    const out = await finishSession(t, sessionId, F);
    expect(out).toMatchObject({ ok: false, status: [504, 504], codes: ['E_DEADLINE', 'E_DEADLINE'] });
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('a run that outlives the session deadline fails with E_DEADLINE at P0 and P1, and the parties stay usable', async () => {
    blockMs = 700;
    const sessionId = await startSession(t, input(41, 1), 1, F, { deadlineMs: 300 });
    const out = await finishSession(t, sessionId, F);
    expect(out).toMatchObject({ ok: false, status: [504, 504], codes: ['E_DEADLINE', 'E_DEADLINE'] });
    // Aborted everywhere, nothing left running; the next session works.
    await new Promise((r) => setTimeout(r, 100));
    expect(t.servers.map((s) => s.party.activeRuns)).toEqual([0, 0, 0]);
    expect((await inferAndCheck(t, 42, 1)).err).toBeLessThan(1e-3);
  });
});

describe('a peer that disappears mid-run', () => {
  it('fails the affected sessions at P0 and P1 with E_PEER_UNAVAILABLE (503) without hanging; readiness drops', async () => {
    let killed = false;
    let t: PartyTrio | undefined;
    t = await partyTrio({
      plain: model, fracBits: F,
      onNode: (p, _run, _name, index) => { if (p === 0 && index === 0 && !killed) { killed = true; t!.servers[2].kill(); } },
    });
    try {
      const t0 = Date.now();
      const sessionId = await startSession(t, input(51, 1), 1, F);
      const out = await finishSession(t, sessionId, F);
      expect(killed).toBe(true);
      expect(out).toMatchObject({ ok: false, status: [503, 503], codes: ['E_PEER_UNAVAILABLE', 'E_PEER_UNAVAILABLE'] });
      expect(Date.now() - t0).toBeLessThan(5_000);
      const ready = await t.servers[0].app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ ready: false, code: 'E_NOT_READY', peers: { P1: true, P2: false } });
      const again = await t.servers[0].app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId: '0b8e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b' } });
      expect(again.json()).toMatchObject({ code: 'E_NOT_READY' });
    } finally {
      await Promise.all([t.servers[0].close(), t.servers[1].close()]);
    }
  });
});

describe('planning ahead (batch.planAheadMs): P0 plans on its own input, P1 and P2 wait for the session or defer the run', () => {
  const created = (t: PartyTrio, p: 0 | 1 | 2, sessionId: string) =>
    t.servers[p].app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId, batch: 1, modelHash: t.modelHash } });
  const uploaded = (t: PartyTrio, p: 0 | 1, sessionId: string, xs: BigUint64Array) =>
    t.servers[p].app.inject({ method: 'PUT', url: `/v1/sessions/${sessionId}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(u64Bytes(xs)) });
  const metric = async (t: PartyTrio, p: 0 | 1 | 2, result: string): Promise<number> => {
    const text = (await t.servers[p].app.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(new RegExp(`^mpc_runs_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };
  const state = (t: PartyTrio, p: 0 | 1 | 2, id: string): string | undefined => t.servers[p].party.store.get(id)?.state;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 0, maxBatch: 8, planAheadMs: 40 } }); });
  afterAll(async () => { await t?.close(); });

  it('a share that reaches P1 late: P1 defers the run, the session waits (not failed), then runs once P1 reports; kept weight masks survive', async () => {
    expect((await inferAndCheck(t, 61, 1)).err).toBeLessThan(1e-3); // builds the kept masks
    const epoch = t.servers[0].party.weightMasks.info?.epoch;
    expect(epoch).toBeDefined();
    const [d0, d1] = [await metric(t, 0, 'deferred'), await metric(t, 1, 'deferred')];
    const runs = t.servers[0].party.runLog.length;
    const x = input(62, 1), id = randomUUID();
    const [x0, x1] = share(getKernels(), encode(x, F));
    for (const p of [0, 1, 2] as const) expect((await created(t, p, id)).statusCode).toBe(201);
    expect((await uploaded(t, 0, id, x0)).statusCode).toBe(200);
    await sleep(300);
    // P0 planned at once; P1 waited 40 ms for the share and deferred; nothing failed and no run was recorded.
    expect([await metric(t, 0, 'deferred') - d0, await metric(t, 1, 'deferred') - d1]).toEqual([1, 1]);
    expect([state(t, 0, id), state(t, 1, id), state(t, 2, id)]).toEqual(['input-received', 'created', 'created']);
    expect(t.servers[0].party.runLog.length).toBe(runs);
    expect(t.servers.map((s) => s.party.activeRuns)).toEqual([0, 0, 0]);
    expect((await uploaded(t, 1, id, x1)).statusCode).toBe(200);
    const out = await finishSession(t, id, F);
    expect(out).toMatchObject({ ok: true, shape: '1,10' });
    expect(maxRelErr(out.logits!, plainForward(model, x, 1).data)).toBeLessThan(1e-3);
    // Planned again only after both reports: no second deferral; the masks kept before the deferral served the run.
    expect(await metric(t, 0, 'deferred') - d0).toBe(1);
    expect(t.servers[0].party.weightMasks.info).toMatchObject({ epoch, ready: true });
    expect(t.servers[0].party.runLog.at(-1)).toMatchObject({ ok: true, sessions: [id] });
  });

  it('a session that reaches P2 late: P2 defers after P0 and P1 have started; the run starts again once P2 has it, with the right result', async () => {
    const d2 = await metric(t, 2, 'deferred');
    const x = input(63, 1), id = randomUUID();
    const [x0, x1] = share(getKernels(), encode(x, F));
    for (const p of [0, 1] as const) expect((await created(t, p, id)).statusCode).toBe(201);
    expect((await uploaded(t, 0, id, x0)).statusCode).toBe(200);
    expect((await uploaded(t, 1, id, x1)).statusCode).toBe(200);
    await sleep(300);
    expect(await metric(t, 2, 'deferred') - d2).toBe(1);
    expect([state(t, 0, id), state(t, 1, id), state(t, 2, id)]).toEqual(['input-received', 'input-received', undefined]);
    expect(t.servers.map((s) => s.party.activeRuns)).toEqual([0, 0, 0]);
    expect((await created(t, 2, id)).statusCode).toBe(201);
    const out = await finishSession(t, id, F);
    expect(out).toMatchObject({ ok: true, shape: '1,10' });
    expect(maxRelErr(out.logits!, plainForward(model, x, 1).data)).toBeLessThan(1e-3);
  });

  it('planAheadMs 0: P0 waits for both reports, so a late share at P1 defers nothing', async () => {
    const t0 = await partyTrio({ plain: model, fracBits: F, batch: { windowMs: 0, maxBatch: 8, planAheadMs: 0 } });
    try {
      const x = input(64, 1), id = randomUUID();
      const [x0, x1] = share(getKernels(), encode(x, F));
      for (const p of [0, 1, 2] as const) expect((await created(t0, p, id)).statusCode).toBe(201);
      expect((await uploaded(t0, 0, id, x0)).statusCode).toBe(200);
      await sleep(150);
      expect([await metric(t0, 0, 'deferred'), await metric(t0, 1, 'deferred'), await metric(t0, 0, 'ok'), await metric(t0, 0, 'failed')]).toEqual([0, 0, 0, 0]);
      expect(state(t0, 0, id)).toBe('input-received');
      expect((await uploaded(t0, 1, id, x1)).statusCode).toBe(200);
      const out = await finishSession(t0, id, F);
      expect(maxRelErr(out.logits!, plainForward(model, x, 1).data)).toBeLessThan(1e-3);
      expect(await metric(t0, 0, 'ok')).toBe(1);
    } finally {
      await t0.close();
    }
  });
});
