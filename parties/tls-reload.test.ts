import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PartyId } from '../protocol/ring/types.js';
import { networkA } from '../protocol/seed-models.js';
import { createCa, issueCert, type KeyPair } from './certs.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { PeerMesh } from './mesh.js';
import { shareBundles } from './model-source.js';
import { createPartyServer } from './server.js';
import { readTls, type MeshTls } from './tls.js';
import { readMaterial, TlsReloader, type TlsFiles } from './tls-reload.js';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => { await Promise.all(opened.splice(0).map((m) => m.close())); });

const until = async (f: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (f()) return true; await new Promise((r) => setTimeout(r, 20)); }
  return f();
};
const fp = (file: string): string => new X509Certificate(readFileSync(file)).fingerprint256;

/** A CA and party-0, party-1 key pairs in a fresh folder, installed as <dir>/live/party-<p>.{crt,key} and ca.crt. */
function pki() {
  const dir = mkdtempSync(path.join(tmpdir(), 'securenn-reload-'));
  const ca = createCa(dir);
  const issue = (p: number, file: string): KeyPair => issueCert(dir, ca, `party-${p}`, { file, dns: [`party-${p}`, 'localhost'], ips: ['127.0.0.1'] });
  const live = (p: number): TlsFiles => ({ ca: path.join(dir, 'ca.crt'), cert: path.join(dir, `live-${p}.crt`), key: path.join(dir, `live-${p}.key`) });
  /** Install a pair as party p's live files the way a Secret update does: write aside, then rename over. */
  const install = (p: number, kp: KeyPair, what: 'both' | 'cert' = 'both') => {
    const f = live(p);
    copyFileSync(kp.cert, `${f.cert}.tmp`); renameSync(`${f.cert}.tmp`, f.cert);
    if (what === 'both') { copyFileSync(kp.key, `${f.key}.tmp`); renameSync(`${f.key}.tmp`, f.key); }
  };
  return { dir, ca, issue, live, install };
}

describe('TlsReloader', () => {
  it('takes new files once they are valid; keeps the old material while the key does not match the certificate', () => {
    const k = pki();
    const a = k.issue(0, 'a'), b = k.issue(0, 'b');
    k.install(0, a);
    const applied: string[] = [];
    const results: string[] = [];
    const rl = new TlsReloader({ name: 'mesh', files: k.live(0), initial: readMaterial(k.live(0)), apply: (m) => { applied.push(new X509Certificate(m.cert).fingerprint256); }, intervalMs: 0, onResult: (r) => results.push(r) });
    expect(rl.certs().map((c) => [c.role, c.subject, c.fingerprint256])).toEqual([['identity', 'CN=party-0', fp(a.cert)], ['ca', 'CN=securenn-dev-ca', fp(k.ca.cert)]]);
    expect(rl.check()).toBe('unchanged');
    // Half a rotation: the new certificate, the old key.
    k.install(0, b, 'cert');
    expect(rl.check()).toBe('invalid');
    expect(rl.check()).toBe('unchanged');
    expect(applied).toEqual([]);
    expect(rl.certs()[0]!.fingerprint256).toBe(fp(a.cert));
    k.install(0, b);
    expect(rl.check()).toBe('reloaded');
    expect(applied).toEqual([fp(b.cert)]);
    expect(rl.certs()[0]!.fingerprint256).toBe(fp(b.cert));
    expect(results).toEqual(['failed', 'ok']);
    // Seconds to expiry from the certificate itself (certs.ts issues for 7 days).
    expect(rl.certs()[0]!.notAfterMs).toBe(Date.parse(new X509Certificate(readFileSync(b.cert)).validTo));
    // Garbage is refused, not taken.
    writeFileSync(k.live(0).cert, 'not a certificate');
    expect(rl.check()).toBe('invalid');
    expect(rl.certs()[0]!.fingerprint256).toBe(fp(b.cert));
  });
});

describe.each(['grpc', 'h2'] as const)('mesh certificates reload without a restart (link %s)', (link) => {
  it('P0 and P1 rotate their certificates on disk; peers that pin the new fingerprints link once the files are replaced', async () => {
    const k = pki();
    const old = [k.issue(0, 'old-0'), k.issue(1, 'old-1')];
    const fresh = [k.issue(0, 'new-0'), k.issue(1, 'new-1')];
    k.install(0, old[0]!); k.install(1, old[1]!);
    // Each pins the other's NEW certificate: nothing links until both present theirs.
    const tls = (p: PartyId): MeshTls => ({ ...readTls(k.live(p) as Required<TlsFiles>), pins: { [1 - p]: fp(fresh[1 - p]!.cert) } as Partial<Record<PartyId, string>> });
    const m0 = new PeerMesh({ party: 0, tls: tls(0), link, listen: { host: '127.0.0.1', port: 0 } });
    const m1 = new PeerMesh({ party: 1, tls: tls(1), link, reconnectMs: { min: 30, max: 100 } });
    opened.push(m0, m1);
    const reloaders = ([0, 1] as PartyId[]).map((p) => new TlsReloader({ name: 'mesh', files: k.live(p), initial: readMaterial(k.live(p)), apply: (m) => [m0, m1][p]!.updateTls({ ...tls(p), ca: m.ca!, cert: m.cert, key: m.key }), intervalMs: 50 }));
    const { port } = await m0.start();
    await m1.start();
    m1.setDialAddress(0, `127.0.0.1:${port}`);
    for (const r of reloaders) r.start();
    try {
      expect(await until(() => m0.isUp(1), 800)).toBe(false);
      k.install(0, fresh[0]!);
      k.install(1, fresh[1]!);
      expect(await until(() => m0.isUp(1) && m1.isUp(0), 5_000)).toBe(true);
      expect(m0.health[1]!.carrier).toBe(link);
    } finally {
      for (const r of reloaders) r.stop();
    }
  });
});

describe('a party server', () => {
  it('reloads its HTTPS certificate; exports certificate expiry, reloads and build info', async () => {
    const k = pki();
    const a = k.issue(0, 'http-a'), b = k.issue(0, 'http-b');
    k.install(0, a);
    const bundles = shareBundles(networkA(), 16);
    const dep: DeploymentConfig = {
      tokens: ['tls-reload-token-0123456789'], logLevel: 'silent', tlsReloadMs: 50,
      parties: [
        { http: { host: '127.0.0.1', port: 0, tls: { cert: k.live(0).cert, key: k.live(0).key } }, grpc: { host: '127.0.0.1', port: 0 }, tls: k.live(0) as Required<TlsFiles>, model: { devFile: 'unused' } },
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
        { http: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
      ],
    };
    const srv = createPartyServer(resolveConfig(dep, 0, k.dir), { model: { kind: 'memory', bundle: bundles[0] }, logger: false });
    opened.push(srv);
    await srv.start();
    const { httpPort } = await srv.listen();
    const served = () => new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: httpPort, path: '/healthz', servername: 'localhost', ca: readFileSync(k.ca.cert), agent: false }, (res) => {
        const c = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
        res.resume();
        resolve(c.fingerprint256);
      });
      req.on('error', reject);
      req.end();
    });
    expect(await served()).toBe(fp(a.cert));
    const metrics = async () => (await srv.app.inject({ method: 'GET', url: '/metrics' })).body;
    const m1 = await metrics();
    const expiry = Number(/^mpc_cert_expiry_seconds\{tls="mesh",role="identity",subject="CN=party-0"\} (-?\d+)$/m.exec(m1)?.[1]);
    const want = (Date.parse(new X509Certificate(readFileSync(a.cert)).validTo) - Date.now()) / 1000;
    expect(Math.abs(expiry - want)).toBeLessThan(5);
    expect(m1).toMatch(/^mpc_cert_expiry_seconds\{tls="http",role="identity",subject="CN=party-0"\} \d+$/m);
    expect(m1).toMatch(/^mpc_cert_expiry_seconds\{tls="mesh",role="ca",subject="CN=securenn-dev-ca"\} \d+$/m);
    const pkgVersion = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(m1).toMatch(new RegExp(`^mpc_build_info\\{version="${pkgVersion.replace(/\./g, '\\.')}",link_version="4",min_link_version="3",node="${process.versions.node.replace(/\./g, '\\.')}",commit="[^"]*"\\} 1$`, 'm'));
    k.install(0, b);
    let seen = '';
    const end = Date.now() + 5_000;
    while (Date.now() < end && seen !== fp(b.cert)) { seen = await served(); await new Promise((r) => setTimeout(r, 50)); }
    expect(seen).toBe(fp(b.cert));
    const m2 = await metrics();
    expect(m2).toMatch(/^mpc_tls_reloads_total\{tls="http",result="ok"\} 1$/m);
    expect(m2).toMatch(/^mpc_tls_reloads_total\{tls="mesh",result="ok"\} 1$/m);
  });
});
