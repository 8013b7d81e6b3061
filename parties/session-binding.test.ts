/**
 * One session id, one request at the three parties (parties/session-binding.ts): P1 and P2 compare their digest
 * of the create request with P0's in the plan and refuse a session whose request differs (E_SESSION_BINDING),
 * before the run takes its input; the same request runs as before.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_KEY_HEADER } from '../protocol/api-contract.js';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { plainForward } from '../protocol/reference/forward.js';
import { share, u64Bytes } from '../protocol/sharing/sharing.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { sameBinding, sessionBinding } from './session-binding.js';
import { auth, finishSession, partyTrio, startSession, type PartyTrio } from './testing/trio.js';

const F = 16;
const nonce = () => randomBytes(32).toString('base64url');
const OTHER_TOKEN = 'other-client-token-0123456789';

describe('session binding digest (unit)', () => {
  it('covers id, model hash, batch, privacy options and nonce; key order and id case do not matter', () => {
    const n = nonce(), id = randomUUID();
    const base = sessionBinding({ sessionId: id, batch: 2, modelHash: 'AB'.repeat(32), privacy: { outputMode: 'label', clip: 4 } as never, requestNonce: n }, id, 2);
    expect(sessionBinding({ requestNonce: n, privacy: { clip: 4, outputMode: 'label' } as never, modelHash: 'ab'.repeat(32), sessionId: id.toUpperCase(), batch: 2 }, id.toUpperCase(), 2)).toBe(base);
    for (const other of [
      sessionBinding({ sessionId: id, batch: 2, modelHash: 'ab'.repeat(32), privacy: { outputMode: 'label', clip: 4 } as never, requestNonce: nonce() }, id, 2),
      sessionBinding({ sessionId: id, batch: 2, modelHash: 'ab'.repeat(32), privacy: { outputMode: 'label' } as never, requestNonce: n }, id, 2),
      sessionBinding({ sessionId: id, batch: 2, modelHash: 'ab'.repeat(32), privacy: { outputMode: 'label', clip: 4 } as never, requestNonce: n }, id, 3),
      sessionBinding({ sessionId: id, batch: 2, privacy: { outputMode: 'label', clip: 4 } as never, requestNonce: n }, id, 2),
    ]) expect(other).not.toBe(base);
    expect(sameBinding(base, base)).toBe(true);
    expect(sameBinding(base, undefined)).toBe(false);
    expect(sameBinding(undefined, undefined)).toBe(false);
  });
});

describe('a session id bound to one request at the three parties (three party servers)', () => {
  const model = networkA();
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, tokens: [OTHER_TOKEN] }); });
  afterAll(async () => { await t?.close(); });
  const x = Float64Array.from(uniform(seededPrg(11), 784, 1), (v) => (v + 1) / 2);
  const state = async (p: 0 | 1 | 2, id: string, headers: Record<string, string> = auth) => (await t.servers[p].app.inject({ method: 'GET', url: `/v1/sessions/${id}`, headers })).json() as { state: string; error?: { code: string; message: string } };

  it('the same nonce at the three parties: the run answers as before', async () => {
    const n = nonce();
    const id = await startSession(t, x, 1, F, { requestNonce: [n, n, n] });
    const o = await finishSession(t, id, F);
    expect(o.ok).toBe(true);
    const want = plainForward(model, x, 1).data;
    o.logits!.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(0.05));
  });

  it('another request under the same id at P1 (another nonce): P1 and P2 refuse the session with E_SESSION_BINDING, no result', async () => {
    const n = nonce();
    for (const nonces of [[n, nonce(), n], [undefined, nonce(), undefined]]) {
      const id = await startSession(t, x, 1, F, { requestNonce: nonces });
      const o = await finishSession(t, id, F);
      expect(o.ok).toBe(false);
      expect(o.codes[1]).toBe('E_SESSION_BINDING');
      const s1 = await state(1, id);
      expect(s1).toMatchObject({ state: 'failed', error: { code: 'E_SESSION_BINDING', message: expect.stringMatching(/differs from P0's/) } });
      // P1 told P0 and P2: no party keeps an output share of the session ('unbound').
      expect(o.codes[0]).toBe('E_SESSION_BINDING');
      expect(await state(0, id)).toMatchObject({ state: 'failed', error: { code: 'E_SESSION_BINDING' } });
      let s2 = await state(2, id);
      for (let i = 0; i < 100 && s2.state !== 'failed'; i++) { await new Promise((r) => setTimeout(r, 20)); s2 = await state(2, id); }
      expect(s2).toMatchObject({ state: 'failed', error: { code: 'E_SESSION_BINDING' } });
    }
  });

  it('a session another caller created at P1 under the client\'s id never joins the client\'s run', async () => {
    const id = randomUUID(), KEY_B = 'client-b-session-key-0123456789abcdefghijkl';
    const asB = { authorization: `Bearer ${OTHER_TOKEN}`, [SESSION_KEY_HEADER]: KEY_B };
    const [x0, x1] = share(getKernels(), encode(x, F));
    // B (valid credentials, knows the id) takes the id at P1 with its own request and share.
    expect((await t.servers[1].app.inject({ method: 'POST', url: '/v1/sessions', headers: asB, payload: { sessionId: id, batch: 1, modelHash: t.modelHash, requestNonce: nonce() } })).statusCode).toBe(201);
    expect((await t.servers[1].app.inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: { ...asB, 'content-type': 'application/octet-stream' }, payload: Buffer.from(u64Bytes(x1)) })).statusCode).toBe(200);
    // The client at P0 and P2.
    const n = nonce();
    for (const p of [0, 2] as const) expect((await t.servers[p].app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId: id, batch: 1, modelHash: t.modelHash, requestNonce: n } })).statusCode).toBe(201);
    expect((await t.servers[0].app.inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(u64Bytes(x0)) })).statusCode).toBe(200);
    let s1 = await state(1, id, asB);
    for (let i = 0; i < 200 && s1.state !== 'failed' && s1.state !== 'done'; i++) { await new Promise((r) => setTimeout(r, 25)); s1 = await state(1, id, asB); }
    expect(s1).toMatchObject({ state: 'failed', error: { code: 'E_SESSION_BINDING' } });
    const out = await t.servers[1].app.inject({ method: 'GET', url: `/v1/sessions/${id}/output`, headers: asB });
    expect(out.statusCode).toBe(409);
  });
});
