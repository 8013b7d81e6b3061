/**
 * (d) of the h2 data link's review (mesh-h2-security.test.ts has a-c, e):
 * three in-process parties on the default link (h2, mTLS, real sockets), the
 * P0<->P1 data connection cut in the middle of a run. The session fails with
 * a coded error at all three parties (P2 hears it from the others' abort),
 * nothing stays open, and the next session, on the new data link, is right.
 * And (e) at the party: a data port the dialer cannot reach makes /readyz 503
 * naming it, with the refusal in the metrics.
 */
import { createServer, connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { freePorts } from './launch.js';
import { shareBundles } from './model-source.js';
import { createPartyServer, type PartyServer } from './server.js';
import { internals, until } from './testing/h2-link.js';
import { finishSession, partyTrio, startSession, testCerts, type PartyTrio } from './testing/trio.js';

const F = 16;
const model = networkA();
const input = (seed: number): Float64Array => uniform(seededPrg(seed), 784, 1).map((v) => (v + 1) / 2);

describe('(d) a data link that drops mid-run (three parties, default link h2)', () => {
  let t: PartyTrio;
  let cut = false;
  let armed = false;
  beforeAll(async () => {
    t = await partyTrio({
      plain: model, fracBits: F, batch: { windowMs: 0, maxBatch: 1 },
      // At P0's first layer of the armed run: cut P1's data connection to P0 (the gRPC stream stays).
      onNode: (p, _run, _name, index) => { if (armed && p === 0 && index === 0 && !cut) { cut = true; internals(t.servers[1].party.mesh).links[0]!.dataSession!.destroy(); } },
    });
  });
  afterAll(async () => { await t?.close(); });

  it('the links are on h2 (the default)', () => {
    for (const [p, q] of [[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]] as const) expect(t.servers[p].party.mesh.health[q]!.carrier, `P${p}->P${q}`).toBe('h2');
  });

  it('fails the session with E_PEER_UNAVAILABLE at P0 and P1 and fails it at P2; nothing stays open; the next session is right', async () => {
    armed = true;
    const t0 = Date.now();
    const id = await startSession(t, input(1), 1, F);
    const out = await finishSession(t, id, F);
    expect(cut).toBe(true);
    expect(out).toMatchObject({ ok: false, status: [503, 503], codes: ['E_PEER_UNAVAILABLE', 'E_PEER_UNAVAILABLE'] });
    expect(Date.now() - t0).toBeLessThan(10_000);
    // P2 had no link down: it fails the run on the others' abort, with a coded error, well before the deadline.
    expect(await until(() => t.servers[2].party.store.get(id)?.state === 'failed', 5_000)).toBe(true);
    expect(t.servers[2].party.store.get(id)?.error?.code).toMatch(/^E_/);
    expect(await until(() => t.servers.every((s) => s.party.activeRuns === 0 && s.party.mesh.openSessions === 0), 5_000)).toBe(true);
    // The pair links again on a new data link, and the next session is right.
    expect(await until(() => t.servers.every((s) => s.party.mesh.allUp()), 5_000)).toBe(true);
    expect(t.servers[0].party.mesh.health[1]!.ups).toBe(2);
    expect(t.servers[0].party.mesh.health[1]!.carrier).toBe('h2');
    const x = input(2);
    const again = await finishSession(t, await startSession(t, x, 1, F), F);
    expect(again.ok).toBe(true);
    const want = plainForward(model, x, 1).data;
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(Math.max(...Array.from(again.logits!, (g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(1e-3);
  });
});

describe('(e) a data port closed to the dialer, at the party: /readyz and metrics say so', () => {
  it('P1 reaches P0\'s gRPC port but not its data port: both not ready, P1\'s /readyz names E_PEER_UNAVAILABLE with the address and port; no link, no fallback', async () => {
    const certs = testCerts();
    const bundles = shareBundles(model, F);
    const [g0, d0] = await freePorts(2);
    // P1 dials P0 through a TCP forwarder on 127.0.0.2 that carries only the gRPC port (a firewall or Service without 9444).
    const fwd = createServer((c) => { const u = connect(g0!, '127.0.0.1'); c.pipe(u).pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); });
    await new Promise<void>((resolve) => fwd.listen(0, '127.0.0.2', resolve));
    const dep: DeploymentConfig = {
      tokens: ['h2-readyz-token-0123456789'], logLevel: 'silent', warmup: { runs: 0 },
      parties: [
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: g0!, dataPort: d0!, address: `127.0.0.2:${(fwd.address() as AddressInfo).port}` }, tls: { ca: certs.ca.cert, cert: certs.parties[0].cert, key: certs.parties[0].key }, model: { devFile: 'unused' } },
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, tls: { ca: certs.ca.cert, cert: certs.parties[1].cert, key: certs.parties[1].key }, model: { devFile: 'unused' } },
        { http: { host: '127.0.0.1', port: 0 }, tls: { ca: certs.ca.cert, cert: certs.parties[2].cert, key: certs.parties[2].key }, model: { devFile: 'unused' } },
      ],
    };
    const servers: PartyServer[] = [];
    try {
      for (const p of [0, 1] as const) {
        const srv = createPartyServer(resolveConfig(dep, p, process.cwd()), { model: { kind: 'memory', bundle: bundles[p] }, logger: false, mesh: { reconnectMs: { min: 30, max: 200 }, dataSetupMs: 500 } });
        servers.push(srv);
        await srv.start();
      }
      const p1 = servers[1]!;
      expect(await until(() => p1.party.mesh.health[0]!.problem !== null, 5_000)).toBe(true);
      const r = await p1.app.inject({ method: 'GET', url: '/readyz' });
      expect(r.statusCode).toBe(503);
      const body = r.json<{ peers: Record<string, boolean>; peerProblems: Record<string, { code: string; message: string }> }>();
      expect(body.peers.P0).toBe(false);
      expect(body.peerProblems.P0!.code).toBe('E_PEER_UNAVAILABLE');
      expect(body.peerProblems.P0!.message).toContain(`h2 data link to P0 at 127.0.0.2:${d0}`);
      const metrics = (await p1.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^mpc_peer_link_refused\{peer="P0",code="E_PEER_UNAVAILABLE"\} 1$/m);
      // The gRPC link did come up to HELLO each time, and never carried the pair: P0 is not linked to P1 either.
      expect((await servers[0]!.app.inject({ method: 'GET', url: '/readyz' })).json<{ peers: Record<string, boolean> }>().peers.P1).toBe(false);
      expect(servers[0]!.party.mesh.health[1]!.ups).toBe(0);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await new Promise((r) => fwd.close(r));
    }
  });
});
