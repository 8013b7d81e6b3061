/**
 * One party per organisation (deploy/k8s-org/party-{0,1,2}): each party's own
 * manifests, checked without a cluster, and the three organisations' files
 * checked together.
 *  - per party: the Kubernetes, cert-manager, external-secrets and Prometheus
 *    Operator schemas (strictly); no key or token in any file; the party's own
 *    config file resolves for it alone with the paths its pod mounts; the
 *    network shape of its place in the mesh (parties/config.ts: a party dials
 *    the lower ids, so P0 only listens, P1 listens and dials P0, P2 only dials);
 *  - across the three: the settings that must agree, each dial address against
 *    the dialled party's load balancer (name, port, address), each listener's
 *    admitted addresses against its dialers' egress addresses, and the mesh
 *    certificates' usages: three meshes link with certificates carrying
 *    exactly the usages the manifests request, each from its own CA.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createCa, type KeyPair } from '../parties/certs.js';
import { resolveConfig, type DeploymentConfig } from '../parties/config.js';
import { PeerMesh } from '../parties/mesh.js';
import { readTls, type MeshTls } from '../parties/tls.js';
import type { PartyId } from '../protocol/ring/types.js';
import { DEPLOY, until } from './testing/deploy.js';
import { strictK8s, validateK8s, type Obj } from './testing/k8s.js';

const PARTIES = [0, 1, 2] as PartyId[];
const TOKENS = { tokens: ['org-token-0123456789abcdef'], operatorTokens: ['org-operator-0123456789abcdef'] };

type Peer = { ipBlock?: { cidr: string }; namespaceSelector?: unknown; podSelector?: unknown };
type Rule = { ports: { port: string | number; protocol: string }[]; from?: Peer[]; to?: Peer[] };
type Policy = { metadata: { annotations?: Record<string, string> }; spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: Rule[]; egress: Rule[] } };
type Lb = { metadata: { annotations?: Record<string, string> }; spec: { type: string; externalTrafficPolicy: string; loadBalancerIP?: string; loadBalancerSourceRanges: string[]; selector: Record<string, string>; ports: { name: string; port: number; targetPort: string; protocol: string }[] } };
type Container = { env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[]; ports: { name: string; containerPort: number }[]; volumeMounts: { name: string; mountPath: string }[] };
type Sts = { spec: { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; volumes: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[] } } } };
type MeshCert = { spec: { secretName: string; commonName: string; dnsNames: string[]; usages: string[]; issuerRef: { name: string; kind: string } } };

/** Each party's place in the mesh and its organisation (the names its files use). */
const TOPOLOGY = [
  { p: 0 as PartyId, org: 'hospital-a', dials: [] as PartyId[], dialledBy: [1, 2] as PartyId[] },
  { p: 1 as PartyId, org: 'hospital-b', dials: [0] as PartyId[], dialledBy: [2] as PartyId[] },
  { p: 2 as PartyId, org: 'hospital-c', dials: [0, 1] as PartyId[], dialledBy: [] as PartyId[] },
];

/** One organisation's directory, parsed. */
function loadParty(p: PartyId) {
  const dir = path.join(DEPLOY, 'k8s-org', `party-${p}`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  const texts = Object.fromEntries(files.map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
  const objects: Obj[] = files.flatMap((f) => parseAllDocuments(texts[f]!).map((d) => d.toJS() as Obj));
  const find = <T>(kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as unknown as T;
  const sts = find<Sts>('StatefulSet', `party-${p}`);
  const c = sts.spec.template.spec.containers[0]!;
  const mounts = Object.fromEntries(c.volumeMounts.map((m) => [m.name, m.mountPath]));
  const port = (name: string) => c.ports.find((x) => x.name === name)?.containerPort;
  const dep = JSON.parse(find<{ data: Record<string, string> }>('ConfigMap', `party-${p}-config`).data['deploy.json']!) as DeploymentConfig;
  const cfg = resolveConfig(dep, p, mounts.config!, TOKENS);
  return { files, texts, objects, find, sts, c, podLabels: sts.spec.template.metadata.labels, mounts, port, dep, cfg, np: find<Policy>('NetworkPolicy', `party-${p}`), lb: find<Lb | undefined>('Service', `party-${p}-mesh`) };
}

const grpcRules = (rules: Rule[]) => rules.filter((r) => r.ports.some((x) => x.port === 'grpc' || x.port === 9443));

describe.each(TOPOLOGY.map((t) => [t.p, t.org, t] as const))('deploy/k8s-org/party-%i (%s): one party alone in its organisation\'s cluster', (_p, _org, { p, org, dials, dialledBy }) => {
  const P = loadParty(p);
  const listens = dialledBy.length > 0;

  it('validates against the Kubernetes, cert-manager, external-secrets and Prometheus Operator schemas, strictly', async () => {
    expect(P.files).toEqual(['config.yaml', 'monitoring.yaml', `party-${p}.yaml`, 'secrets.yaml']);
    expect(P.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      `Certificate/party-${p}-api`, `Certificate/party-${p}-mesh`, `ConfigMap/party-${p}-config`, `ExternalSecret/party-${p}-client-tokens`, `ExternalSecret/party-${p}-operator-tokens`,
      `Issuer/${org}-ca`, `NetworkPolicy/party-${p}`, `PodDisruptionBudget/party-${p}`, `Service/party-${p}`, ...(listens ? [`Service/party-${p}-mesh`] : []), `ServiceMonitor/party-${p}`, `StatefulSet/party-${p}`,
    ].sort());
    for (const o of P.objects) await validateK8s(o);
    // The strict check reaches into the custom resources too: a misspelt key among the objects is caught.
    const typo = JSON.parse(JSON.stringify(P.find<Obj>('Certificate', `party-${p}-mesh`))) as Obj & { spec: Record<string, unknown> };
    typo.spec.secretNmae = typo.spec.secretName;
    const errors = strictK8s([...P.objects, typo]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/secretNmae/);
    const badType = JSON.parse(JSON.stringify(P.find<Obj>('ExternalSecret', `party-${p}-client-tokens`))) as Obj & { spec: Record<string, unknown> };
    badType.spec.data = 'tokens';
    await expect(validateK8s(badType)).rejects.toThrow(/data/);
  });

  it('no private key or token in any file; every Secret is referenced, made by cert-manager or external-secrets', () => {
    expect(Object.values(P.texts).join('\n')).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    expect(P.objects.some((o) => o.kind === 'Secret')).toBe(false);
    const certs = P.objects.filter((o) => o.kind === 'Certificate') as unknown as MeshCert[];
    const volSecrets = P.sts.spec.template.spec.volumes.flatMap((v) => (v.secret ? [v.secret.secretName] : []));
    expect(volSecrets.sort()).toEqual(certs.map((x) => x.spec.secretName).sort());
    for (const x of certs) expect(x.spec.issuerRef).toEqual({ name: `${org}-ca`, kind: 'Issuer' });
    // The mesh certificate is what parties/tls.ts checks: CN party-<p>, no other party named; a TLS server
    // certificate only where the party listens, a client certificate only where it dials.
    const mesh = P.find<MeshCert>('Certificate', `party-${p}-mesh`);
    expect(mesh.spec).toMatchObject({ secretName: `party-${p}-tls`, commonName: `party-${p}` });
    expect(mesh.spec.usages.includes('server auth')).toBe(listens);
    expect(mesh.spec.usages.includes('client auth')).toBe(dials.length > 0);
    expect(mesh.spec.dnsNames).toContain(`party-${p}`);
    expect(mesh.spec.dnsNames.filter((d) => /^party-\d$/.test(d) && d !== `party-${p}`)).toEqual([]);
    const ext = P.objects.filter((o) => o.kind === 'ExternalSecret') as unknown as { spec: { target: { name: string }; data: { secretKey: string }[] } }[];
    for (const e of P.c.env.filter((x) => x.valueFrom)) {
      const ref = e.valueFrom!.secretKeyRef;
      expect(ext.some((x) => x.spec.target.name === ref.name && x.spec.data.some((d) => d.secretKey === ref.key)), `${e.name} from ${ref.name}`).toBe(true);
    }
    expect(P.c.env.map((e) => e.name)).toEqual(expect.arrayContaining(['PARTY_TOKENS', 'PARTY_OPERATOR_TOKENS']));
    expect(P.c.env.find((e) => e.name === 'PARTY_ID')?.value).toBe(String(p));
  });

  it(`its own config file resolves for P${p} only, with the paths the pod mounts, its own CA and the peers' CAs`, () => {
    const { cfg, mounts } = P;
    for (const q of PARTIES.filter((x) => x !== p)) expect(() => resolveConfig(P.dep, q, mounts.config!, TOKENS)).toThrow(new RegExp(`parties\\[${q}\\]\\.http is required`));
    const t = cfg.self.tls!;
    expect(path.dirname(t.cert)).toBe(mounts.tls);
    expect(path.dirname(t.key)).toBe(mounts.tls);
    expect(Array.isArray(t.ca) && t.ca.map((f) => path.dirname(f))).toEqual([mounts.tls, mounts.peers, mounts.peers]);
    const peers = PARTIES.filter((q) => q !== p);
    expect(Object.keys(t.peerCas ?? {}).sort()).toEqual(peers.map(String));
    for (const f of Object.values(t.peerCas ?? {})) expect(path.dirname(f!)).toBe(mounts.peers);
    // The documented command makes the peer-CA ConfigMap with exactly the files the config names.
    const names = peers.map((q) => path.basename(t.peerCas![String(q) as '0']!));
    expect(P.texts['secrets.yaml']).toContain(`kubectl create configmap party-${p}-peer-cas ${names.map((n) => `--from-file=${n}`).join(' ')}`);
    expect(P.sts.spec.template.spec.volumes.find((v) => v.name === 'peers')?.configMap?.name).toBe(`party-${p}-peer-cas`);
    expect(P.sts.spec.template.spec.volumes.find((v) => v.name === 'config')?.configMap?.name).toBe(`party-${p}-config`);
    expect(path.dirname(cfg.self.http.tls!.cert)).toBe(mounts['api-tls']);
    expect('bundleDir' in cfg.self.model && cfg.self.model.bundleDir.startsWith(`${mounts.model}/`)).toBe(true);
    expect(path.dirname(cfg.privacySettings.accountantFile)).toBe(mounts.state);
    expect(P.port('http')).toBe(cfg.self.http.port);
    expect(P.port('metrics')).toBe(cfg.self.metrics?.port);
    // gRPC: a listen port where peers dial this party, none where it only dials.
    expect(P.port('grpc')).toBe(cfg.self.grpc?.port);
    expect(cfg.self.grpc !== undefined).toBe(listens);
    expect(Object.keys(cfg.dial).map(Number)).toEqual(dials);
    // Of the peers, the file holds only the gRPC address of those this party dials.
    for (const q of peers) expect(P.dep.parties[q]).toEqual(dials.includes(q) ? { grpc: expect.any(Object) } : {});
    expect(P.sts.spec.replicas).toBe(1);
  });

  it(listens
    ? `the peers that dial P${p} reach gRPC through a LoadBalancer that keeps their address; NetworkPolicy by ipBlock; a PodDisruptionBudget`
    : `no gRPC listener, mesh Service or LoadBalancer; egress by ipBlock to the parties it dials; a PodDisruptionBudget`, () => {
    const { np, lb, podLabels } = P;
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels)) expect(podLabels[k]).toBe(v);
    const grpcIn = grpcRules(np.spec.ingress);
    if (listens) {
      expect(lb!.spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
      // The gRPC port and the h2 data port (mesh.link 'h2', the default), each under the number the party listens on:
      // the dialers dial the data port the party names at HELLO on the load balancer's name.
      const dataPort = P.cfg.self.grpc!.dataPort!;
      expect(P.dep.parties[p].grpc!.dataPort, 'the data port is named in the config, not left to the default').toBe(dataPort);
      expect(lb!.spec.ports).toEqual([{ name: 'grpc', port: P.cfg.self.grpc!.port, targetPort: 'grpc', protocol: 'TCP' }, { name: 'mesh-data', port: dataPort, targetPort: 'mesh-data', protocol: 'TCP' }]);
      expect(P.port('mesh-data')).toBe(dataPort);
      for (const [k, v] of Object.entries(lb!.spec.selector)) expect(podLabels[k]).toBe(v);
      // gRPC only from the dialers' addresses (one each), the same the load balancer admits; no podSelector (no pod of another cluster matches one).
      expect(grpcIn).toHaveLength(1);
      // The data port is admitted by the same rule, from the same addresses, as the gRPC port.
      expect(grpcIn[0]!.ports).toEqual([{ port: 'grpc', protocol: 'TCP' }, { port: 'mesh-data', protocol: 'TCP' }]);
      expect(grpcIn[0]!.from!.every((f) => f.ipBlock && !f.podSelector && !f.namespaceSelector)).toBe(true);
      expect(grpcIn[0]!.from!.map((f) => f.ipBlock!.cidr)).toEqual(lb!.spec.loadBalancerSourceRanges);
      expect(lb!.spec.loadBalancerSourceRanges).toHaveLength(dialledBy.length);
    } else {
      expect(lb).toBeUndefined();
      expect(P.objects.filter((o) => o.kind === 'Service').map((o) => (o.spec as { type?: string }).type ?? 'ClusterIP')).toEqual(['ClusterIP']);
      expect(grpcIn).toEqual([]);
      expect(P.c.ports.map((x) => x.name)).toEqual(['http', 'metrics']);
    }
    // Egress: to an ipBlock per dialled party on the port it dials and on the h2 data port (gRPC port + 1 here, as each
    // dialled party names it: checked against its own file below), and DNS; nothing else (P0: DNS only).
    const grpcPorts = [...new Set(dials.map((q) => Number(P.dep.parties[q].grpc!.port)))];
    const dialPorts = [...grpcPorts, ...grpcPorts.map((x) => x + 1)];
    const toPeers = np.spec.egress.filter((r) => r.to?.some((x) => x.ipBlock));
    expect(toPeers.flatMap((r) => r.to!.map((x) => x.ipBlock?.cidr))).toHaveLength(dials.length);
    expect(toPeers.flatMap((r) => r.to!).every((x) => x.ipBlock && !x.podSelector && !x.namespaceSelector)).toBe(true);
    expect(np.spec.egress.flatMap((r) => r.ports.map((x) => `${x.port}/${x.protocol}`)).sort()).toEqual(['53/TCP', '53/UDP', ...dialPorts.map((x) => `${x}/TCP`)].sort());
    // A dialer records the address its connections leave from, for the parties it dials to admit.
    expect(np.metadata.annotations?.['securenn/egress-cidrs'] !== undefined).toBe(dials.length > 0);
    // The API from the ingress controller's namespace, /metrics from the monitoring namespace only.
    expect(np.spec.ingress.find((r) => r.ports.some((x) => x.port === 'http'))?.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }]);
    expect(np.spec.ingress.find((r) => r.ports.some((x) => x.port === 'metrics'))?.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    expect(np.spec.ingress).toHaveLength(listens ? 3 : 2);
    const pdb = P.find<{ spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget', `party-${p}`);
    expect(pdb.spec.minAvailable).toBe(1);
    for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) expect(podLabels[k]).toBe(v);
    // The ServiceMonitor scrapes the metrics port of the Service that has one.
    const sm = P.find<{ spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } }>('ServiceMonitor', `party-${p}`);
    const svc = P.find<{ metadata: { labels: Record<string, string> }; spec: { ports: { name: string; targetPort: string }[] } }>('Service', `party-${p}`);
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    expect(svc.spec.ports.find((x) => x.name === 'metrics')?.targetPort).toBe('metrics');
  });
});

describe('deploy/k8s-org: the three organisations\' files agree', () => {
  const all = PARTIES.map(loadParty);

  it('the settings that must agree (compareBits, compareRadix, mesh.link) are set in each file, equal', () => {
    for (const k of ['compareBits', 'compareRadix'] as const) {
      for (const P of all) expect(P.dep[k], `${k} at P${P.cfg.party}`).toBeDefined();
      expect(new Set(all.map((P) => P.cfg[k])).size, k).toBe(1);
    }
    for (const P of all) expect(P.dep.mesh?.link, `mesh.link at P${P.cfg.party}`).toBe('h2');
    // Those that should agree (a warning at link set-up otherwise) resolve equal too.
    expect(new Set(all.map((P) => JSON.stringify([P.cfg.keepWeightMasks, P.cfg.preprocess]))).size).toBe(1);
    // Three organisations, three CAs.
    expect(new Set(all.flatMap((P) => P.objects.filter((o) => o.kind === 'Issuer').map((o) => o.metadata.name))).size).toBe(3);
  });

  it('each dial address is the dialled party\'s load balancer: its DNS name and port, its address in the dialer\'s egress policy', () => {
    let links = 0;
    for (const D of all) {
      for (const [qs, addr] of Object.entries(D.cfg.dial)) {
        const Q = all[Number(qs)]!;
        const [host, port] = [addr!.slice(0, addr!.lastIndexOf(':')), Number(addr!.slice(addr!.lastIndexOf(':') + 1))];
        const lb = Q.lb!;
        expect(lb, `P${qs} has a load balancer for P${D.cfg.party}`).toBeDefined();
        expect(lb.metadata.annotations?.['external-dns.alpha.kubernetes.io/hostname'], `P${D.cfg.party} dials P${qs} at ${addr}`).toBe(host);
        expect(lb.spec.ports.find((x) => x.name === 'grpc')?.port, `P${D.cfg.party} dials P${qs} at ${addr}`).toBe(port);
        // The load balancer forwards to the port the dialled party listens on.
        expect(Q.port(lb.spec.ports[0]!.targetPort)).toBe(Q.cfg.self.grpc!.port);
        // The dialer's egress policy lets it reach that address on that port, and on the data port the dialled party
        // names at HELLO (its own config), which its load balancer forwards under the same number.
        const rule = D.np.spec.egress.find((r) => r.to?.some((x) => x.ipBlock?.cidr === `${lb.spec.loadBalancerIP}/32`));
        expect(rule?.ports.map((x) => x.port), `P${D.cfg.party}'s egress to P${qs}`).toContain(port);
        const dataPort = Q.cfg.self.grpc!.dataPort!;
        expect(rule?.ports.map((x) => x.port), `P${D.cfg.party}'s egress to P${qs}'s data port`).toContain(dataPort);
        expect(lb.spec.ports.find((x) => x.name === 'mesh-data')?.port).toBe(dataPort);
        expect(Q.port(lb.spec.ports.find((x) => x.name === 'mesh-data')!.targetPort)).toBe(dataPort);
        links++;
      }
    }
    expect(links).toBe(3);
  });

  it('each listener admits exactly its dialers\' egress addresses (NetworkPolicy and loadBalancerSourceRanges)', () => {
    for (const Q of all.filter((x) => x.lb)) {
      const dialers = all.filter((D) => String(Q.cfg.party) in D.cfg.dial);
      const want = dialers.flatMap((D) => D.np.metadata.annotations!['securenn/egress-cidrs']!.split(',').map((s) => s.trim())).sort();
      expect(want.length).toBeGreaterThan(0);
      expect([...Q.lb!.spec.loadBalancerSourceRanges].sort(), `P${Q.cfg.party}`).toEqual(want);
      expect(grpcRules(Q.np.spec.ingress).flatMap((r) => r.from!.map((f) => f.ipBlock!.cidr)).sort()).toEqual(want);
      // The data port: admitted by exactly the gRPC port's rule (no other rule names it).
      const dataRules = Q.np.spec.ingress.filter((r) => r.ports.some((x) => x.port === 'mesh-data'));
      expect(dataRules).toEqual(grpcRules(Q.np.spec.ingress));
    }
    // No listener admits an address no dialer declared (P0 admits P1's and P2's, P1 admits P2's).
    expect(all.map((P) => P.lb?.spec.loadBalancerSourceRanges.length ?? 0)).toEqual([2, 1, 0]);
  });
});

// ---- the mesh certificates' usages, live --------------------------------------------

const opened: PeerMesh[] = [];
afterEach(async () => { await Promise.all(opened.splice(0).map((m) => m.close())); });

/** A certificate with exactly a cert-manager Certificate's usages, CN and DNS names, issued by `ca` (openssl CLI). */
function issueAs(dir: string, ca: KeyPair, cert: MeshCert['spec']): KeyPair {
  const ku: Record<string, string> = { 'digital signature': 'digitalSignature', 'key encipherment': 'keyEncipherment' };
  const eku: Record<string, string> = { 'server auth': 'serverAuth', 'client auth': 'clientAuth' };
  for (const u of cert.usages) expect(u in ku || u in eku, `usage '${u}' mapped`).toBe(true);
  const kp = { cert: path.join(dir, `${cert.commonName}.crt`), key: path.join(dir, `${cert.commonName}.key`) };
  const csr = path.join(dir, `${cert.commonName}.csr`);
  const ext = path.join(dir, `${cert.commonName}.ext`);
  writeFileSync(ext, [
    'basicConstraints=CA:FALSE',
    `keyUsage=critical,${cert.usages.filter((u) => u in ku).map((u) => ku[u]).join(',')}`,
    `extendedKeyUsage=${cert.usages.filter((u) => u in eku).map((u) => eku[u]).join(',')}`,
    `subjectAltName=${cert.dnsNames.map((d) => `DNS:${d}`).join(',')}`,
  ].join('\n'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', kp.key, '-out', csr, '-subj', `/CN=${cert.commonName}`]);
  run(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', '2', '-extfile', ext, '-out', kp.cert]);
  return kp;
}

/** Three meshes on loopback, each with its organisation's CA and a certificate of the given usages; whether all links come up. */
async function linkOrgs(specs: MeshCert['spec'][], ms: number): Promise<boolean> {
  const root = mkdtempSync(path.join(tmpdir(), 'securenn-org-eku-'));
  const orgs = PARTIES.map((p) => {
    const dir = path.join(root, `org-${p}`);
    mkdirSync(dir);
    const ca = createCa(dir, `org-${p}-ca`);
    return { ca, party: issueAs(dir, ca, specs[p]!) };
  });
  const tls = PARTIES.map((p): MeshTls => readTls({
    ca: orgs.map((o) => o.ca.cert), cert: orgs[p]!.party.cert, key: orgs[p]!.party.key,
    peerCas: Object.fromEntries(PARTIES.filter((q) => q !== p).map((q) => [q, orgs[q]!.ca.cert])),
  }));
  const ms3 = PARTIES.map((p) => new PeerMesh({ party: p, tls: tls[p]!, ...(p < 2 ? { listen: { host: '127.0.0.1', port: 0 } } : {}), reconnectMs: { min: 20, max: 100 } }));
  opened.push(...ms3);
  const [{ port: g0 }, { port: g1 }] = await Promise.all([ms3[0]!.start(), ms3[1]!.start()]);
  await ms3[2]!.start();
  ms3[1]!.setDialAddress(0, `127.0.0.1:${g0}`);
  ms3[2]!.setDialAddress(0, `127.0.0.1:${g0}`);
  ms3[2]!.setDialAddress(1, `127.0.0.1:${g1}`);
  return until(() => ms3.every((m) => m.allUp()), ms, 20);
}

describe('deploy/k8s-org: the mesh certificates as the manifests request them', () => {
  const specs = PARTIES.map((p) => loadParty(p).find<MeshCert>('Certificate', `party-${p}-mesh`).spec);

  it('three organisations\' meshes link with exactly the requested usages (P0 server auth only, P2 client auth only)', async () => {
    expect(specs.map((s) => s.usages.filter((u) => u.endsWith(' auth')))).toEqual([['server auth'], ['server auth', 'client auth'], ['client auth']]);
    expect(await linkOrgs(specs, 6_000)).toBe(true);
  });

  it('the usages matter: P2\'s (client auth only) on P0, a listener, and no link to P0 comes up', async () => {
    const swapped = [{ ...specs[0]!, usages: specs[2]!.usages }, specs[1]!, specs[2]!];
    expect(await linkOrgs(swapped, 2_000)).toBe(false);
  });
});
