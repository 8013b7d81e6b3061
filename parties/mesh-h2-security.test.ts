/**
 * The h2 data link as the default carrier (mesh-data-links.ts, mesh-h2.ts),
 * over real sockets with mTLS:
 *  (a) peer identity: a data stream is taken only with the certificate, HELLO
 *      and token of the one gRPC link waiting for it;
 *  (b) session binding: frames for an unknown, old or failed session, or
 *      replayed from an earlier link, reach no running session;
 *  (c) limits: an oversized or malformed frame, a first frame past the HELLO
 *      limit, a stream without HELLO, a message past its limit: coded errors,
 *      nothing kept, the process and the next link fine;
 *  (e) an unreachable data port: E_PEER_UNAVAILABLE (step link.data) at the
 *      dialer, kept as its link problem, never up, never a hang.
 * The reconnect case at three parties (d) is in mesh-h2-reconnect.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { isMpcError } from '../protocol/errors.js';
import type { WireFrame } from './chunking.js';
import { freePorts } from './launch.js';
import { HELLO_MAX_BYTES } from './mesh-data-links.js';
import { PeerMesh } from './mesh.js';
import { helloFrame, internals, pair, probe, until } from './testing/h2-link.js';
import { tlsFor } from './testing/trio.js';

const opened: PeerMesh[] = [];
afterEach(async () => { await Promise.all(opened.splice(0).map((m) => m.close())); });

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try { await p; return 'resolved'; } catch (e) { return isMpcError(e) ? e.code : `other: ${String(e)}`; }
};
const data = (session: string, tag: string, payload: Uint8Array, extra: Partial<WireFrame> = {}): WireFrame => ({ kind: 'DATA', session, tag, depth: 1, chunk: 0, chunks: 1, total_bytes: payload.byteLength, payload, ...extra });

/** P0 and P1 on h2, P1's data dial held back: P0's gRPC link from P1 waits with its token, which the test reads. */
async function waitingPair(extra: Parameters<typeof pair>[3] = {}) {
  const { m0, m1, lines } = await pair(opened, 'h2', 'h2', extra);
  let hello: { dataPort?: number; dataToken?: string } | null = null;
  internals(m1).dataLinks!.start = (_l: unknown, _p: unknown, _v: unknown, h: unknown) => { hello = h as typeof hello; };
  expect(await until(() => hello !== null, 3_000)).toBe(true);
  return { m0, m1, lines, port: hello!.dataPort!, token: hello!.dataToken! };
}

describe('(a) peer identity: the data stream of exactly the gRPC link waiting for it', () => {
  it('the token travels only in the gRPC HELLO answer: 16 random bytes per link, base64url', async () => {
    const { token } = await waitingPair();
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(16);
  });

  it('refuses P2\'s certificate with P1\'s token, P1\'s certificate with a wrong, missing or other-deployment token; takes P1\'s certificate with its token, once', async () => {
    const { m0, port, token, lines } = await waitingPair();
    const other = await waitingPair();
    const refusedBefore = internals(m0).dataLinks!.refused;
    const tries: [string, ReturnType<typeof probe>][] = [
      ['P2 cert, hello P1, the right token', probe(port, tlsFor(2))],
      ['P2 cert, hello P2, the right token', probe(port, tlsFor(2))],
      ['P1 cert, a random token', probe(port, tlsFor(1))],
      ['P1 cert, no token', probe(port, tlsFor(1))],
      ['P1 cert, the other deployment\'s token', probe(port, tlsFor(1))],
    ];
    tries[0]![1].write(helloFrame(1, token));
    tries[1]![1].write(helloFrame(2, token));
    tries[2]![1].write(helloFrame(1, randomBytes(16).toString('base64url')));
    tries[3]![1].write(helloFrame(1));
    tries[4]![1].write(helloFrame(1, other.token));
    for (const [what, pr] of tries) {
      expect(await pr.ended, what).toMatch(/status 200|tls/);
      expect(pr.frames, what).toEqual([]);
    }
    expect(internals(m0).dataLinks!.refused - refusedBefore).toBe(5);
    expect(lines.filter((l) => l.includes('refused a data link: its hello names')).length).toBe(5);
    expect(m0.isUp(1)).toBe(false);
    // The rightful stream: answered with P0's HELLO echoing the token; the pair is up on it.
    const good = probe(port, tlsFor(1));
    good.write(helloFrame(1, token));
    expect(await until(() => good.hello() !== null, 3_000)).toBe(true);
    expect(good.hello()).toMatchObject({ party: 0, dataToken: token });
    expect(await until(() => m0.isUp(1), 3_000)).toBe(true);
    // The same token again (a replay of that set-up): no gRPC link waits for it any more.
    const again = probe(port, tlsFor(1));
    again.write(helloFrame(1, token));
    expect(await again.ended).toMatch(/status 200|tls/);
    expect(again.frames).toEqual([]);
    good.close();
  });

  it('the dialer checks the server\'s answer on the data link too: a HELLO without this link\'s token fails the set-up (E_PERMISSION refusal logged, E_PEER_UNAVAILABLE problem)', async () => {
    const { m0, m1 } = await pair(opened, 'h2', 'h2');
    // P0 answers on the data link with another token.
    const w = m0 as unknown as { sendHello(l: { data?: unknown; dataToken?: string }): void };
    const orig = w.sendHello.bind(m0);
    w.sendHello = (l) => { if (l.data) l.dataToken = randomBytes(16).toString('base64url'); orig(l); };
    expect(await until(() => m1.health[0]!.problem !== null, 3_000)).toBe(true);
    expect(m1.health[0]!.problem).toMatchObject({ code: 'E_PEER_UNAVAILABLE', message: expect.stringContaining('the server\'s hello does not name this link') });
    expect(m1.isUp(0)).toBe(false);
  });
});

describe('(b) session binding: frames reach only the session they name, on the current link', () => {
  it('a frame for another session id is not delivered to a running session; its own frame is', async () => {
    const { m0, m1 } = await pair(opened, 'h2', 'h2');
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    const run = m0.openSession('run-a');
    m1.sendMessage(0, 'DATA', 'run-b', 'x', 1, new Uint8Array(8).fill(0xbb));
    m1.sendMessage(0, 'DATA', 'run-a', 'x', 1, new Uint8Array(8).fill(0xaa));
    expect(Array.from(await run.recv(1, 'x'))).toEqual(new Array(8).fill(0xaa));
    // The other session's frame waits for its own session (bounded in bytes and time), never for this one.
    expect(internals(m0).pending.has('run-b')).toBe(true);
  });

  it('a link drop fails the open sessions at both ends; frames for them on the next link are dropped, and their ids cannot be opened again', async () => {
    const { m0, m1 } = await pair(opened, 'h2', 'h2');
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    const [s0, s1] = [m0.openSession('old'), m1.openSession('old')];
    const waits = [codeOf(s0.recv(1, 'x')), codeOf(s1.recv(0, 'x'))];
    internals(m1).links[0]!.dataSession!.destroy();
    expect(await Promise.all(waits)).toEqual(['E_PEER_UNAVAILABLE', 'E_PEER_UNAVAILABLE']);
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    const received = m0.stats[1]!.framesReceived;
    m1.sendMessage(0, 'DATA', 'old', 'x', 1, new Uint8Array(8).fill(1));
    expect(await until(() => m0.stats[1]!.framesReceived > received, 2_000)).toBe(true);
    expect(internals(m0).pending.has('old')).toBe(false);
    expect(() => m0.openSession('old')).toThrow(expect.objectContaining({ code: 'E_CONFLICT' }));
  });

  it('bytes replayed from an earlier data link (its HELLO, then a DATA frame) are refused on the next one: stale token, nothing delivered', async () => {
    const { m0, m1 } = await pair(opened, 'h2', 'h2');
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    const firstToken = internals(m1).links[0]!.dataToken!;
    internals(m1).links[0]!.dataSession!.destroy();
    expect(await until(() => m0.isUp(1) && m1.isUp(0) && internals(m1).links[0]?.dataToken !== firstToken, 3_000)).toBe(true);
    const fresh = m0.openSession('fresh');
    let got = false;
    void fresh.recv(1, 'x').then(() => { got = true; }, () => {});
    const refused = internals(m0).dataLinks!.refused;
    const replay = probe(m0.dataPort!, tlsFor(1));
    replay.write(helloFrame(1, firstToken));
    replay.write(data('fresh', 'x', new Uint8Array(8)));
    expect(await replay.ended).toMatch(/status 200|tls/);
    expect(internals(m0).dataLinks!.refused).toBe(refused + 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toBe(false);
    expect(m0.isUp(1)).toBe(true);
  });
});

describe('(c) limits: coded errors, bounded memory, the process and the next link fine', () => {
  it('before HELLO: a first frame past HELLO_MAX_BYTES is refused at once; a stream that sends no HELLO is cut at dataSetupMs', async () => {
    const { m0, port } = await waitingPair({ dataSetupMs: 400 });
    const before = internals(m0).dataLinks!.refused;
    const big = probe(port, tlsFor(1));
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(HELLO_MAX_BYTES + 1, 1);
    const t0 = Date.now();
    big.raw(prefix);
    await big.ended;
    expect(Date.now() - t0).toBeLessThan(400);
    const drip = probe(port, tlsFor(1));
    drip.raw(Buffer.from([0, 0, 0, 0, 200, 1, 2]));
    const t1 = Date.now();
    expect(await drip.ended).toMatch(/status 200|tls/);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(300);
    expect(internals(m0).dataLinks!.refused - before).toBe(2);
  });

  const garbage: [string, (fsWrite: (b: Buffer) => void) => void, RegExp][] = [
    ['a frame longer than the frame limit (prefix)', (w) => { const b = Buffer.alloc(5); b.writeUInt32BE(0x7fff_ffff, 1); w(b); }, /malformed frame prefix/],
    ['a compressed flag', (w) => w(Buffer.from([1, 0, 0, 0, 1, 0])), /malformed frame prefix/],
    ['a malformed frame header', (w) => w(Buffer.from([0, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff])), /frame codec: malformed frame/],
  ];
  it.each(garbage)('after set-up, %s: E_PROTOCOL_DESYNC, open sessions fail with E_PEER_UNAVAILABLE at both ends, the pair links again', async (_what, send, logged) => {
    const { m0, m1, lines } = await pair(opened, 'h2', 'h2');
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    const waits = [codeOf(m0.openSession('g').recv(1, 'x')), codeOf(m1.openSession('g').recv(0, 'x'))];
    send((b) => { internals(m1).links[0]!.data!.stream.write(b); });
    expect(await Promise.all(waits)).toEqual(['E_PEER_UNAVAILABLE', 'E_PEER_UNAVAILABLE']);
    expect(lines.some((l) => l.startsWith('P0 warn peer link down') && logged.test(l))).toBe(true);
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    expect(m0.health[1]!.ups).toBe(2);
  });

  it('after set-up, a message announced past maxMessageBytes, or chunks past their announced total: E_PROTOCOL_DESYNC, nothing allocated for it, the pair links again', async () => {
    const { m0, m1, lines } = await pair(opened, 'h2', 'h2', { maxMessageBytes: 1 << 20 });
    for (const frames of [
      [data('s', 'huge', new Uint8Array(8), { chunks: 2, total_bytes: 2 ** 40 })],
      [data('s', 'endless', new Uint8Array(16), { chunks: 2, total_bytes: 24 }), data('s', 'endless', new Uint8Array(16), { chunk: 1, chunks: 2, total_bytes: 24 })],
    ]) {
      expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
      const ups = m0.health[1]!.ups;
      for (const f of frames) internals(m1).links[0]!.data!.write(f);
      expect(await until(() => !m0.isUp(1), 3_000)).toBe(true);
      expect(await until(() => m0.isUp(1) && m0.health[1]!.ups === ups + 1, 3_000)).toBe(true);
    }
    const desync = lines.filter((l) => l.startsWith('P0 error malformed frame sequence') && l.includes('E_PROTOCOL_DESYNC'));
    expect(desync.some((l) => /exceeds the limit of 1048576/.test(l))).toBe(true);
    expect(desync.some((l) => /chunks exceed the announced 24 bytes/.test(l))).toBe(true);
  });
});

describe('(e) a data port that cannot be reached', () => {
  it('refused connection: E_PEER_UNAVAILABLE step link.data naming the address at the dialer, kept as its problem; the link never comes up; no fallback to gRPC', async () => {
    const [closed] = await freePorts(1);
    const { m0, m1 } = await pair(opened, 'h2', 'h2', { dataSetupMs: 1_000 });
    // P0 announces a port nothing listens on (as a data port the firewall closes would).
    Object.defineProperty(internals(m0).dataLinks!, 'port', { get: () => closed });
    expect(await until(() => m1.health[0]!.problem !== null, 3_000)).toBe(true);
    const e = m1.health[0]!.problem!;
    expect(e).toMatchObject({ code: 'E_PEER_UNAVAILABLE', step: 'link.data', party: 0 });
    expect(e.message).toContain(`h2 data link to P0 at 127.0.0.1:${closed}`);
    await new Promise((r) => setTimeout(r, 300));
    expect(m0.isUp(1) || m1.isUp(0)).toBe(false);
    expect(m1.health[0]!.carrier).toBeUndefined();
  });

  it('a dialer that never opens the data link: P0 drops the waiting gRPC link at twice dataSetupMs with E_PEER_UNAVAILABLE step link.data naming its port', async () => {
    const { m0, port } = await waitingPair({ dataSetupMs: 300 });
    expect(await until(() => m0.health[1]!.problem !== null, 3_000)).toBe(true);
    expect(m0.health[1]!.problem).toMatchObject({ code: 'E_PEER_UNAVAILABLE', step: 'link.data', message: expect.stringContaining(`opened no h2 data link to port ${port} within 600 ms`) });
    expect(m0.isUp(1)).toBe(false);
  });
});
