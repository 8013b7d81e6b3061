import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT_SHAPE_HEADER, SESSION_KEY_HEADER } from '../protocol/api-contract.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { plainForward } from '../protocol/reference/forward.js';
import { bytesU64, reconstruct, share, u64Bytes } from '../protocol/sharing/sharing.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { launchLocal, type Launched } from './launch.js';
import { TEST_WARMUP } from './testing/quick-warmup.js';
import { TEST_SESSION_KEY } from './testing/trio.js';

const F = 16;
const model = networkA();

// Both links between the parties (config mesh.link, parties/mesh-h2.ts).
describe.each(['grpc', 'h2'] as const)('three party processes (main.ts) with mTLS on loopback, over real HTTP (link %s)', (link) => {
  let l: Launched;
  const lines: string[] = [];
  beforeAll(async () => {
    l = await launchLocal({ plain: model, fracBits: F, logLevel: 'info', meshLink: link, warmup: TEST_WARMUP, onLine: (p, line) => lines.push(`P${p} ${line}`), readyTimeoutMs: 60_000 });
  });
  afterAll(async () => { await l?.stop(); });

  const call = (p: number, url: string, init: RequestInit = {}) => fetch(`${l.urls[p]}${url}`, { ...init, headers: { authorization: `Bearer ${l.token}`, [SESSION_KEY_HEADER]: TEST_SESSION_KEY, ...(init.headers as Record<string, string>) } });

  async function begin(x: Float64Array, deadlineMs?: number): Promise<string> {
    const sessionId = randomUUID();
    for (const p of [0, 1, 2]) {
      const r = await call(p, '/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId, modelHash: l.modelHash, ...(deadlineMs ? { deadlineMs } : {}) }) });
      expect(r.status).toBe(201);
    }
    const [x0, x1] = share(getKernels(), encode(x, F));
    for (const [p, xs] of [[0, x0], [1, x1]] as const) {
      expect((await call(p, `/v1/sessions/${sessionId}/input`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(u64Bytes(xs)) })).status).toBe(200);
    }
    return sessionId;
  }

  it('runs Network A end to end and matches plainForward within 1e-3', async () => {
    const x = uniform(seededPrg(61), 784, 1).map((v) => (v + 1) / 2);
    const id = await begin(x);
    const rs = await Promise.all([0, 1].map((p) => call(p, `/v1/sessions/${id}/output`)));
    expect(rs.map((r) => r.status)).toEqual([200, 200]);
    expect(rs[0]!.headers.get(OUTPUT_SHAPE_HEADER)).toBe('1,10');
    const [y0, y1] = await Promise.all(rs.map(async (r) => bytesU64(new Uint8Array(await r.arrayBuffer()))));
    const got = decode(reconstruct(getKernels(), y0!, y1!), F);
    const want = plainForward(model, x, 1).data;
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(1e-3);
    // P2 may log its 'run done' after P0 and P1 answered, and the line comes through its stdout pipe: wait for it (up to 5 s).
    const t0 = Date.now();
    while (!lines.some((s) => s.startsWith('P2 ') && s.includes('"msg":"run done"')) && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(lines.some((s) => s.startsWith('P2 ') && s.includes('"msg":"run done"'))).toBe(true);
    // Each party's two links came up on the configured link.
    for (const p of [0, 1, 2]) expect(lines.filter((s) => s.startsWith(`P${p} `) && s.includes('"msg":"peer link up"') && s.includes(`"carrier":"${link}"`)).length).toBeGreaterThanOrEqual(2);
  });

  it('a SIGKILLed P1: the session waiting at P0 fails with E_PEER_UNAVAILABLE, readiness drops, nothing hangs', async () => {
    // A session created everywhere but with P1's input missing: it waits at P0.
    const sessionId = randomUUID();
    for (const p of [0, 1, 2]) expect((await call(p, '/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId }) })).status).toBe(201);
    const waiting = call(0, `/v1/sessions/${sessionId}/output`);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    l.children[1]!.kill('SIGKILL');
    const r = await waiting;
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ code: 'E_PEER_UNAVAILABLE' });
    expect(Date.now() - t0).toBeLessThan(5_000);
    const ready = await fetch(`${l.urls[2]}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, peers: { P0: true, P1: false } });
  });
});
