import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PartyId } from '../protocol/ring/types.js';
import { networkA } from '../protocol/seed-models.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { compareSettings, decodeHello, encodeHello, LINK_VERSION, MIN_LINK_VERSION, negotiateVersion, parseRefusal, type LinkSettings, type VersionRange } from './link-hello.js';
import { silentLogger, type Logger } from './log.js';
import { PeerMesh } from './mesh.js';
import { shareBundles } from './model-source.js';
import { createPartyServer, type PartyServer } from './server.js';
import { testCerts, tlsFor } from './testing/trio.js';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => { await Promise.all(opened.splice(0).map((m) => m.close())); });

const until = async (f: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (f()) return true; await new Promise((r) => setTimeout(r, 20)); }
  return f();
};

/** A logger that keeps error and warn lines (level, message, fields). */
function recorder(who: string, lines: string[]): Logger {
  const l: Logger = { ...silentLogger, error: (o, m) => { lines.push(`${who} error ${m ?? ''} ${JSON.stringify(o)}`); }, warn: (o, m) => { lines.push(`${who} warn ${m ?? ''} ${JSON.stringify(o)}`); }, child: () => l };
  return l;
}

/** P0 listens, P1 dials it; each with its own settings and link versions (a simulated other build). */
async function pair(s0: () => LinkSettings, s1: () => LinkSettings, v0?: VersionRange, v1?: VersionRange): Promise<{ m0: PeerMesh; m1: PeerMesh; lines: string[] }> {
  const lines: string[] = [];
  const m0 = new PeerMesh({ party: 0, tls: tlsFor(0), listen: { host: '127.0.0.1', port: 0 }, settings: s0, logger: recorder('P0', lines), ...(v0 ? { linkVersions: v0 } : {}) });
  const m1 = new PeerMesh({ party: 1, tls: tlsFor(1), settings: s1, reconnectMs: { min: 30, max: 100 }, logger: recorder('P1', lines), ...(v1 ? { linkVersions: v1 } : {}) });
  opened.push(m0, m1);
  const { port } = await m0.start();
  await m1.start();
  m1.setDialAddress(0, `127.0.0.1:${port}`);
  return { m0, m1, lines };
}

const base: LinkSettings = { compareBits: 32, compareRadix: 4, keepWeightMasks: true, preprocess: true, modelHash: 'a'.repeat(64) };

describe('link versions (N and N-1 interoperate)', () => {
  it('the link runs at the highest version both speak; N-2 is refused naming both ranges', () => {
    expect(MIN_LINK_VERSION).toBe(LINK_VERSION - 1);
    const now = { min: LINK_VERSION - 1, max: LINK_VERSION };
    expect(negotiateVersion(0, now, 1, now)).toBe(LINK_VERSION);
    expect(negotiateVersion(0, now, 1, { min: LINK_VERSION - 1, max: LINK_VERSION - 1 })).toBe(LINK_VERSION - 1);
    // The next build (N+1, speaks N..N+1) and this one meet at N.
    expect(negotiateVersion(0, now, 1, { min: LINK_VERSION, max: LINK_VERSION + 1 })).toBe(LINK_VERSION);
    const old = negotiateVersion(2, now, 1, { min: LINK_VERSION - 2, max: LINK_VERSION - 2 });
    expect(old).toMatchObject({ code: 'E_LINK_VERSION', message: `link version: P1 speaks ${LINK_VERSION - 2}, P2 speaks ${LINK_VERSION - 1}..${LINK_VERSION} (a build speaks its version and the one before)` });
  });

  it('a HELLO announces the lowest version in `version` (what a version-3 build checks) and reads a version-3 HELLO as 3..3', () => {
    const sent = JSON.parse(Buffer.from(encodeHello(1, { min: 3, max: 4 }, base)).toString()) as Record<string, unknown>;
    expect(sent).toMatchObject({ party: 1, version: 3, maxVersion: 4, settings: base });
    // Exactly the bytes a version-3 build sends.
    expect(decodeHello(Buffer.from(JSON.stringify({ party: 1, version: 3 })))).toEqual({ party: 1, version: 3, maxVersion: 3 });
    expect(decodeHello(Buffer.from('{"party":5,"version":3}'))).toBeNull();
    expect(decodeHello(Buffer.from('not json'))).toBeNull();
  });

  it('a version-4 party links with a simulated version-3 build, whichever side dials', async () => {
    const v3: VersionRange = { min: 3, max: 3 };
    const a = await pair(() => base, () => ({}), undefined, v3);
    expect(await until(() => a.m0.isUp(1) && a.m1.isUp(0), 3_000)).toBe(true);
    expect(a.m0.health[1]!.version).toBe(3);
    expect(a.m1.health[0]!.version).toBe(3);
    const b = await pair(() => ({}), () => base, v3, undefined);
    expect(await until(() => b.m0.isUp(1) && b.m1.isUp(0), 3_000)).toBe(true);
    expect(b.m1.health[0]!.version).toBe(3);
  });

  it('a version-4 server accepts the literal HELLO of a version-3 build; it refuses version 2 with E_LINK_VERSION at both ends', async () => {
    const rewrite = (m: PeerMesh, payload: string) => {
      // The dialer's private writeMessage, rewritten to send another build's HELLO bytes.
      type Writer = { writeMessage(link: unknown, msg: { kind: string; payload: Uint8Array }): void };
      const w = m as unknown as Writer, orig = w.writeMessage.bind(m);
      w.writeMessage = (link, msg) => orig(link, msg.kind === 'HELLO' ? { ...msg, payload: Buffer.from(payload) } : msg);
    };
    const lines: string[] = [];
    // A version-3 build speaks gRPC only: this build links with it on link 'grpc' (deploy/README.md, upgrades).
    const m0 = new PeerMesh({ party: 0, tls: tlsFor(0), link: 'grpc', listen: { host: '127.0.0.1', port: 0 }, settings: () => base, logger: recorder('P0', lines) });
    const m1 = new PeerMesh({ party: 1, tls: tlsFor(1), link: 'grpc', reconnectMs: { min: 30, max: 100 } });
    opened.push(m0, m1);
    rewrite(m1, JSON.stringify({ party: 1, version: 3 }));
    const { port } = await m0.start();
    await m1.start();
    m1.setDialAddress(0, `127.0.0.1:${port}`);
    expect(await until(() => m0.isUp(1), 3_000)).toBe(true);
    expect(m0.health[1]!.version).toBe(3);

    const m0b = new PeerMesh({ party: 0, tls: tlsFor(0), listen: { host: '127.0.0.1', port: 0 }, logger: recorder('P0b', lines) });
    const m1b = new PeerMesh({ party: 1, tls: tlsFor(1), reconnectMs: { min: 30, max: 100 }, linkVersions: { min: 2, max: 2 }, logger: recorder('P1b', lines) });
    opened.push(m0b, m1b);
    const { port: pb } = await m0b.start();
    await m1b.start();
    m1b.setDialAddress(0, `127.0.0.1:${pb}`);
    expect(await until(() => m0b.health[1]!.problem !== null && m1b.health[0]!.problem !== null, 3_000)).toBe(true);
    expect(m0b.isUp(1) || m1b.isUp(0)).toBe(false);
    for (const e of [m0b.health[1]!.problem!, m1b.health[0]!.problem!]) expect(e).toMatchObject({ code: 'E_LINK_VERSION', message: expect.stringContaining('P0 speaks 3..4, P1 speaks 2') });
    expect(lines.some((l) => l.startsWith('P0b error link to P1 refused: link version') && l.includes('E_LINK_VERSION'))).toBe(true);
  });
});

describe('settings agreement at HELLO', () => {
  it('names each differing setting and both values, lower party first, the same at both ends', () => {
    const d1 = compareSettings(0, base, 1, { ...base, compareBits: 64, keepWeightMasks: false });
    expect(d1).toEqual({ must: ['compareBits: P0 has 32, P1 has 64'], should: ['keepWeightMasks: P0 has true, P1 has false'] });
    expect(compareSettings(1, { ...base, compareBits: 64, keepWeightMasks: false }, 0, base)).toEqual(d1);
    expect(compareSettings(2, { ...base, compareRadix: 2, modelHash: 'b'.repeat(64) }, 1, base).must).toEqual([
      'compareRadix: P1 has 4, P2 has 2', `modelHash: P1 has ${'a'.repeat(64)}, P2 has ${'b'.repeat(64)}`,
    ]);
    // Two imports of one file: the same modelHash, other weight shares (model-source.ts importId).
    expect(compareSettings(1, { ...base, importId: 'e'.repeat(32) }, 0, { ...base, importId: 'f'.repeat(32) }).must).toEqual([`importId: P0 has ${'f'.repeat(32)}, P1 has ${'e'.repeat(32)}`]);
    // A setting one side does not send (no model loaded yet, a version-3 peer) is not compared.
    const { modelHash: _m, ...noModel } = base;
    expect(compareSettings(0, noModel, 1, { ...base, modelHash: 'c'.repeat(64) })).toEqual({ must: [], should: [] });
    expect(parseRefusal('E_SETTINGS_MISMATCH: compareBits: P0 has 32, P1 has 64', 0)).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: 'compareBits: P0 has 32, P1 has 64' });
    expect(parseRefusal('stream closed', 0)).toBeNull();
  });

  it('compareBits 32 vs 64: the link is refused with E_SETTINGS_MISMATCH at both ends, logged once; fixed at P1, it links without restarting P0', async () => {
    let p1: LinkSettings = { ...base, compareBits: 64 };
    const { m0, m1, lines } = await pair(() => base, () => p1);
    expect(await until(() => m0.health[1]!.problem !== null && m1.health[0]!.problem !== null, 3_000)).toBe(true);
    const msg = 'compareBits: P0 has 32, P1 has 64 (must be the same at the three parties)';
    expect(m0.health[1]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: msg });
    expect(m1.health[0]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: msg });
    expect(m0.isUp(1) || m1.isUp(0)).toBe(false);
    // Several redials later, still one error line per end.
    await new Promise((r) => setTimeout(r, 400));
    expect(lines.filter((l) => l.startsWith('P0 error')).length).toBe(1);
    expect(lines.filter((l) => l.startsWith('P1 error')).length).toBe(1);
    expect(lines.find((l) => l.startsWith('P0 error'))).toContain(`link to P1 refused: ${msg}`);
    p1 = base;
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    expect(m0.health[1]!.problem).toBeNull();
  });

  it('security semi-honest vs malicious (config security): refused with E_SETTINGS_MISMATCH naming it at both ends; the same mode links', async () => {
    let p1: LinkSettings = { ...base, security: 'malicious' };
    const { m0, m1 } = await pair(() => ({ ...base, security: 'semi-honest' }), () => p1);
    expect(await until(() => m0.health[1]!.problem !== null && m1.health[0]!.problem !== null, 3_000)).toBe(true);
    const msg = 'security: P0 has semi-honest, P1 has malicious (must be the same at the three parties)';
    expect(m0.health[1]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: msg });
    expect(m1.health[0]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: msg });
    expect(m0.isUp(1) || m1.isUp(0)).toBe(false);
    p1 = { ...base, security: 'semi-honest' };
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
  });

  it('the opt-in fusions (PARTY_FUSE_RELU_DENSE, PARTY_FUSE_RELU_MAXPOOL) must match; a HELLO without them (an older build, or the knob off) counts as off', () => {
    expect(compareSettings(0, base, 1, { ...base, fuseReluIntoDense: true }).must).toEqual(['fuseReluIntoDense: P0 has false, P1 has true']);
    expect(compareSettings(2, { ...base, fuseReluIntoMaxPool: true }, 0, { ...base, fuseReluIntoMaxPool: false }).must).toEqual(['fuseReluIntoMaxPool: P0 has false, P2 has true']);
    expect(compareSettings(1, { ...base, fuseReluIntoDense: true, fuseReluIntoMaxPool: true }, 2, { ...base, fuseReluIntoDense: true, fuseReluIntoMaxPool: true })).toEqual({ must: [], should: [] });
    expect(compareSettings(0, { ...base, fuseReluIntoDense: false }, 1, base)).toEqual({ must: [], should: [] });
  });

  it('PARTY_FUSE_RELU_DENSE at one end only: the link is refused with E_SETTINGS_MISMATCH naming it at both ends; set at both, it links', async () => {
    let p1: LinkSettings = { ...base, fuseReluIntoDense: true };
    const { m0, m1 } = await pair(() => base, () => p1);
    expect(await until(() => m0.health[1]!.problem !== null && m1.health[0]!.problem !== null, 3_000)).toBe(true);
    const msg = 'fuseReluIntoDense: P0 has false, P1 has true (must be the same at the three parties)';
    expect(m0.health[1]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: msg });
    expect(m1.health[0]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: msg });
    expect(m0.isUp(1) || m1.isUp(0)).toBe(false);
    p1 = base;
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
  });

  it('keepWeightMasks or preprocess differing (P0 decides per run): the link comes up with a warning', async () => {
    const { m0, m1, lines } = await pair(() => base, () => ({ ...base, preprocess: false }));
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    expect(m0.health[1]!.warnings).toEqual(['preprocess: P0 has true, P1 has false']);
    expect(lines.some((l) => l.startsWith('P0 warn peer has other settings') && l.includes('E_SETTINGS_MISMATCH'))).toBe(true);
  });
});

describe('a party whose peer has other settings', () => {
  it('/readyz is 503 naming the setting and both values; the metrics show the refusal', async () => {
    const certs = testCerts();
    const bundles = shareBundles(networkA(), 16);
    const dep: DeploymentConfig = {
      tokens: ['link-hello-token-0123456789'], logLevel: 'silent',
      parties: ([0, 1, 2] as PartyId[]).map((p) => ({
        http: { host: '127.0.0.1', port: 0 }, ...(p < 2 ? { grpc: { host: '127.0.0.1', port: 0 } } : {}),
        tls: { ca: certs.ca.cert, cert: certs.parties[p].cert, key: certs.parties[p].key }, model: { devFile: 'unused' },
      })) as DeploymentConfig['parties'],
    };
    const servers: PartyServer[] = [];
    for (const p of [0, 1] as PartyId[]) {
      const cfg = resolveConfig(dep, p, process.cwd(), p === 1 ? { compareBits: 64 } : {});
      const srv = createPartyServer(cfg, { model: { kind: 'memory', bundle: bundles[p] }, logger: false, mesh: { reconnectMs: { min: 30, max: 100 } } });
      servers.push(srv);
      opened.push(srv);
      const { grpcPort } = await srv.start();
      dep.parties[p].grpc!.port = grpcPort!;
    }
    expect(await until(() => servers[0]!.party.mesh.health[1]!.problem !== null, 5_000)).toBe(true);
    const r = await servers[0]!.app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(503);
    const body = r.json<{ peerProblems: Record<string, { code: string; message: string }>; message: string }>();
    expect(body.peerProblems.P1).toEqual({ code: 'E_SETTINGS_MISMATCH', message: 'compareBits: P0 has 32, P1 has 64 (must be the same at the three parties)' });
    expect(body.message).toContain('P1 refused: E_SETTINGS_MISMATCH compareBits: P0 has 32, P1 has 64');
    const metrics = (await servers[0]!.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^mpc_peer_link_refused\{peer="P1",code="E_SETTINGS_MISMATCH"\} 1$/m);
    expect(metrics).toMatch(/^mpc_peer_up\{peer="P1"\} 0$/m);
  });
});

/**
 * Two real builds: the mesh of the last link-version-3 commit (before HELLO
 * carried settings), taken from git, against this build's mesh. Skipped where
 * the repository's history is not there (a shallow clone, an exported tree).
 */
const V3_BUILD = '6f61ecd';
const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const hasV3 = spawnSync('git', ['-C', ROOT, 'cat-file', '-e', `${V3_BUILD}^{commit}`]).status === 0;

describe.skipIf(!hasV3)(`against the link-version-3 build (${V3_BUILD}, from git)`, () => {
  let OldMesh: typeof PeerMesh;
  let dir: string;
  beforeAll(async () => {
    // Inside the repository, so that its node_modules resolve for the old sources.
    mkdirSync(path.join(ROOT, 'tmp'), { recursive: true });
    dir = mkdtempSync(path.join(ROOT, 'tmp', 'v3-build-'));
    const tar = spawnSync('sh', ['-c', `git -C "${ROOT}" archive ${V3_BUILD} parties protocol | tar -x -C "${dir}"`]);
    expect(tar.status, String(tar.stderr)).toBe(0);
    expect(readFileSync(path.join(dir, 'parties', 'mesh.ts'), 'utf8')).toContain('const LINK_VERSION = 3;');
    ({ PeerMesh: OldMesh } = (await import(/* @vite-ignore */ path.join(dir, 'parties', 'mesh.ts'))) as { PeerMesh: typeof PeerMesh });
  });
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

  const pairWithOld = async (oldParty: PartyId, link?: 'grpc') => {
    const mk = (p: PartyId) => {
      const o = { party: p, tls: tlsFor(p), reconnectMs: { min: 30, max: 100 }, ...(p === 0 ? { listen: { host: '127.0.0.1', port: 0 } } : {}) };
      return p === oldParty ? new OldMesh(o) : new PeerMesh({ ...o, settings: () => base, ...(link ? { link } : {}) });
    };
    const m0 = mk(0), m1 = mk(1);
    opened.push(m0, m1);
    const { port } = await m0.start();
    await m1.start();
    m1.setDialAddress(0, `127.0.0.1:${port}`);
    return { m0, m1 };
  };

  const trial = async (oldParty: PartyId) => {
    // An old build speaks gRPC only: a deployment that mixes builds sets mesh.link 'grpc' until all three run this one.
    const { m0, m1 } = await pairWithOld(oldParty, 'grpc');
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 4_000)).toBe(true);
    const now = oldParty === 0 ? m1 : m0;
    expect(now.health[oldParty === 0 ? 0 : 1]!.version).toBe(3);
    // A message each way on the link.
    const got: string[] = [];
    m0.onControl((from, type) => got.push(`P0 got ${type} from P${from}`));
    m1.onControl((from, type) => got.push(`P1 got ${type} from P${from}`));
    m0.sendControl(1, 'ping', {});
    m1.sendControl(0, 'pong', {});
    expect(await until(() => got.length === 2, 2_000)).toBe(true);
    expect(got.sort()).toEqual(['P0 got pong from P1', 'P1 got ping from P0']);
  };

  it('this build dials a version-3 P0: they link at version 3 and exchange messages', async () => { await trial(0); });
  it('a version-3 P1 dials this build: they link at version 3 and exchange messages', async () => { await trial(1); });
  it('this build on its default link (h2) and a version-3 build: refused with E_SETTINGS_MISMATCH naming meshLink, never linked', async () => {
    const { m0, m1 } = await pairWithOld(0);
    expect(await until(() => m1.health[0]!.problem !== null, 3_000)).toBe(true);
    expect(m1.health[0]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: 'meshLink: P0 has grpc, P1 has h2 (must be the same at the three parties)' });
    expect(m0.isUp(1) || m1.isUp(0)).toBe(false);
  });
});
