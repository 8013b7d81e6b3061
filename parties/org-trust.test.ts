/**
 * One party per organisation: three CAs, a trust bundle of the three, and the
 * pins that keep one organisation's CA from minting another's party.
 */
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PartyId } from '../protocol/ring/types.js';
import { createCa, issueCert, type KeyPair } from './certs.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { PeerMesh } from './mesh.js';
import { readTls, spkiPin, type MeshTls } from './tls.js';

const opened: PeerMesh[] = [];
afterEach(async () => { await Promise.all(opened.splice(0).map((m) => m.close())); });

const until = async (f: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (f()) return true; await new Promise((r) => setTimeout(r, 20)); }
  return f();
};

/** Each organisation: its own folder, CA and party certificate. */
function orgs() {
  const root = mkdtempSync(path.join(tmpdir(), 'securenn-orgs-'));
  const o = ([0, 1, 2] as PartyId[]).map((p) => {
    const dir = path.join(root, `org-${p}`);
    execFileSync('mkdir', ['-p', dir]);
    const ca = createCa(dir, `hospital-${p}-ca`);
    const party = issueCert(dir, ca, `party-${p}`, { dns: [`party-${p}`, 'localhost'], ips: ['127.0.0.1'] });
    return { dir, ca, party };
  });
  const bundle = path.join(root, 'trust-bundle.crt');
  writeFileSync(bundle, o.map((x) => readFileSync(x.ca.cert, 'utf8')).join(''));
  return { root, o, bundle };
}

const spki = (file: string): string => spkiPin(new X509Certificate(readFileSync(file)));

async function link(tls: MeshTls[], ms = 3_000): Promise<boolean> {
  const ms3 = ([0, 1, 2] as PartyId[]).map((p) => new PeerMesh({ party: p, tls: tls[p]!, ...(p < 2 ? { listen: { host: '127.0.0.1', port: 0 } } : {}), reconnectMs: { min: 20, max: 100 } }));
  opened.push(...ms3);
  const [{ port: g0 }, { port: g1 }] = await Promise.all([ms3[0]!.start(), ms3[1]!.start()]);
  await ms3[2]!.start();
  ms3[1]!.setDialAddress(0, `127.0.0.1:${g0}`);
  ms3[2]!.setDialAddress(0, `127.0.0.1:${g0}`);
  ms3[2]!.setDialAddress(1, `127.0.0.1:${g1}`);
  return until(() => ms3.every((m) => m.allUp()), ms);
}

describe('one CA per organisation', () => {
  it('three parties with their own CAs link through a trust bundle of the three (a list of CA files), pinned to each peer\'s CA and key', async () => {
    const { o } = orgs();
    const tls = ([0, 1, 2] as PartyId[]).map((p): MeshTls => {
      const peers = ([0, 1, 2] as PartyId[]).filter((q) => q !== p);
      return readTls({
        ca: o.map((x) => x.ca.cert), cert: o[p]!.party.cert, key: o[p]!.party.key,
        peerCas: Object.fromEntries(peers.map((q) => [q, o[q]!.ca.cert])),
        spkiPins: Object.fromEntries(peers.map((q) => [q, [spki(o[q]!.party.cert)]])),
      });
    });
    expect(await link(tls)).toBe(true);
  });

  it('organisation 0\'s CA mints a certificate named party-1: accepted through the bundle alone, refused with peerCas or an SPKI pin', async () => {
    const { o, bundle } = orgs();
    // Hospital 0 (which runs P0) makes itself a party-1 and dials P0 as P1.
    const rogue: KeyPair = issueCert(o[0]!.dir, o[0]!.ca, 'party-1', { file: 'rogue-party-1', dns: ['party-1', 'localhost'], ips: ['127.0.0.1'] });
    const rogueTls = readTls({ ca: bundle, cert: rogue.cert, key: rogue.key });
    const plain = (p: PartyId) => readTls({ ca: bundle, cert: o[p]!.party.cert, key: o[p]!.party.key });
    expect(await link([plain(0), rogueTls, plain(2)])).toBe(true);
    await Promise.all(opened.splice(0).map((m) => m.close()));
    const pinCa = (p: PartyId): MeshTls => ({ ...plain(p), peerCas: { 1: readFileSync(o[1]!.ca.cert) } });
    expect(await link([pinCa(0), rogueTls, pinCa(2)], 1_500)).toBe(false);
    await Promise.all(opened.splice(0).map((m) => m.close()));
    const pinKey = (p: PartyId): MeshTls => ({ ...plain(p), spkiPins: { 1: [spki(o[1]!.party.cert)] } });
    expect(await link([pinKey(0), rogueTls, pinKey(2)], 1_500)).toBe(false);
  });

  it('an SPKI pin list holds the next key too: both the current and the next certificate link', async () => {
    const { o, bundle } = orgs();
    const next = issueCert(o[1]!.dir, o[1]!.ca, 'party-1', { file: 'next-party-1', dns: ['party-1', 'localhost'], ips: ['127.0.0.1'] });
    const pins = { 1: [spki(o[1]!.party.cert), spki(next.cert)] };
    const at = (p: PartyId): MeshTls => ({ ...readTls({ ca: bundle, cert: o[p]!.party.cert, key: o[p]!.party.key }), spkiPins: pins });
    expect(await link([at(0), readTls({ ca: bundle, cert: next.cert, key: next.key }), at(2)])).toBe(true);
  });

  it('a per-organisation config file: the peers are stubs (the gRPC address of those it dials), pins by party, peer CA paths resolved', () => {
    const dep: DeploymentConfig = {
      parties: [
        { grpc: { host: 'p0.hospital-a.example', port: 443 } },
        {
          http: { host: '0.0.0.0', port: 8443 }, grpc: { host: '0.0.0.0', port: 9443 }, model: { bundleDir: 'bundle' },
          tls: { ca: ['tls/ca.crt', 'trust/p0-ca.crt', 'trust/p2-ca.crt'], cert: 'tls/tls.crt', key: 'tls/tls.key', peerCas: { 0: 'trust/p0-ca.crt', 2: 'trust/p2-ca.crt' }, spkiPins: { 0: ['A'.repeat(43) + '='], 2: ['B'.repeat(43) + '='] } },
          clients: [{ id: 'clinic-a', tokenSha256: 'c'.repeat(64) }],
        },
        {},
      ] as unknown as DeploymentConfig['parties'],
    };
    const cfg = resolveConfig(dep, 1, '/etc/securenn');
    expect(cfg.dial).toEqual({ 0: 'p0.hospital-a.example:443' });
    expect(cfg.self.tls!.ca).toEqual(['/etc/securenn/tls/ca.crt', '/etc/securenn/trust/p0-ca.crt', '/etc/securenn/trust/p2-ca.crt']);
    expect(cfg.self.tls!.peerCas).toEqual({ 0: '/etc/securenn/trust/p0-ca.crt', 2: '/etc/securenn/trust/p2-ca.crt' });
    // The same file cannot start P0 or P2 (their entries are stubs).
    expect(() => resolveConfig(dep, 0, '/etc/securenn')).toThrow(/parties\[0\]\.http is required/);
    expect(() => resolveConfig(dep, 2, '/etc/securenn')).toThrow(/parties\[2\]\.http is required/);
    const badPin = JSON.parse(JSON.stringify(dep)) as { parties: { tls?: { spkiPins: Record<string, string[]> } }[] };
    badPin.parties[1]!.tls!.spkiPins['0'] = ['not-a-pin'];
    expect(() => resolveConfig(badPin as unknown as DeploymentConfig, 1, '/etc/securenn')).toThrow(/spkiPins\.0 must pin a peer/);
  });
});
