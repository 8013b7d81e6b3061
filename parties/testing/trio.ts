/**
 * Test helpers (not a test file): three connected meshes on loopback with
 * OS-chosen ports, mTLS from throwaway certificates by default.
 */
import { shareModelReplicated } from '../../protocol/malicious/weights.js';
import type { ClientCredential } from '../client-auth.js';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OUTPUT_MODE_HEADER, OUTPUT_SHAPE_HEADER, type PrivacyOptions } from '../../protocol/api-contract.js';
import { decode, encode } from '../../protocol/fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { getKernels } from '../../protocol/kernels/index.js';
import type { Budget, PrivacyPolicy } from '../../protocol/privacy/index.js';
import type { PartyId } from '../../protocol/ring/types.js';
import { bytesU64, reconstruct, share, u64Bytes } from '../../protocol/sharing/sharing.js';
import { generateCerts, type CertSet } from '../certs.js';
import { resolveConfig, type CommonSettings, type DeploymentConfig } from '../config.js';
import { shareBundles, type ModelSource, type PateNoise } from '../model-source.js';
import { createPartyServer, type PartyServer } from '../server.js';
import type { FastifyServerOptions } from 'fastify';
import { PeerMesh, type MeshOptions } from '../mesh.js';
import { readTls, type MeshTls } from '../tls.js';
import type { RangeSentinelSetting } from '../range-sentinel.js';

let shared: CertSet | null = null;
/** One certificate set per test process. */
export function testCerts(): CertSet {
  return (shared ??= generateCerts());
}

export function tlsFor(p: PartyId, certs: CertSet = testCerts()): MeshTls {
  return readTls({ ca: certs.ca.cert, cert: certs.parties[p].cert, key: certs.parties[p].key });
}

export type Trio = [PeerMesh, PeerMesh, PeerMesh];

export async function meshTrio(opts: { tls?: boolean; extra?: Partial<MeshOptions> } = {}): Promise<Trio> {
  const useTls = opts.tls ?? true;
  const mk = (p: PartyId) => new PeerMesh({ party: p, tls: useTls ? tlsFor(p) : null, ...(p < 2 ? { listen: { host: '127.0.0.1', port: 0 } } : {}), reconnectMs: { min: 20, max: 200 }, ...opts.extra });
  const ms = [mk(0), mk(1), mk(2)] as Trio;
  const [{ port: p0 }, { port: p1 }] = await Promise.all([ms[0].start(), ms[1].start()]);
  await ms[2].start();
  ms[1].setDialAddress(0, `127.0.0.1:${p0}`);
  ms[2].setDialAddress(0, `127.0.0.1:${p0}`);
  ms[2].setDialAddress(1, `127.0.0.1:${p1}`);
  await Promise.all(ms.map((m) => m.waitAllUp(10_000)));
  return ms;
}

export async function closeAll(ms: readonly { close(): Promise<void> }[]): Promise<void> {
  await Promise.all(ms.map((m) => m.close()));
}

// ---- three in-process party servers (HTTP through inject, gRPC over loopback) ----

export interface TrioOptions {
  /** The model every party serves (its weights shared between P0 and P1)... */
  plain?: ModelIR<FloatTensor>;
  /** ...or a PATE ensemble of these teachers (each shared separately), with optional noise on the votes. */
  ensemble?: { teachers: ModelIR<FloatTensor>[]; noise?: PateNoise };
  fracBits: number;
  batch?: Partial<CommonSettings['batch']>;
  sessions?: Partial<CommonSettings['sessions']>;
  onNode?: (party: PartyId, runId: string, name: string, index: number) => void;
  staticDir?: string;
  staticFiles?: Record<string, string>;
  tls?: boolean;
  longPollMaxMs?: number;
  /** fastify logger option per party (default: none). */
  logger?: (p: PartyId) => FastifyServerOptions['logger'];
  /** The model's privacy policy (manifest). */
  policy?: PrivacyPolicy;
  /** Accountants: state files <dir>/privacy-accountant-p<i>.json (opened at start); without it, unique temp files opened on first use. */
  privacy?: { dir: string; budget?: Budget };
  /** Config keepWeightMasks (default: the config default). */
  keepWeightMasks?: boolean;
  /** Config malicious (epoch rotation, mask pool; default: the config default). */
  malicious?: Partial<CommonSettings['malicious']>;
  /** Config preprocess (default: the config default, on). */
  preprocess?: Partial<CommonSettings['preprocess']>;
  /** Shared tokens besides TEST_TOKEN (loopback). */
  tokens?: string[];
  /** Each party's own client credentials (parties[i].clients). */
  clients?: [ClientCredential[], ClientCredential[], ClientCredential[]];
  /** Config http (request timeout, keep-alive). */
  http?: Partial<CommonSettings['http']>;
  /** Config warmup (default here: { runs: 0 }, off; parties/warmup.ts). */
  warmup?: Partial<CommonSettings['warmup']>;
  /** Config security (default: the config default, 'semi-honest'). */
  security?: CommonSettings['security'];
  /** The manifest's requires (what the model requires of the parties). */
  requires?: { security?: 'malicious' };
  /** The manifest's outputCompareBits / outputCompareBound (model-import/output-bound.ts; absent: an older bundle's). */
  outputCompare?: { bits: 32 | 64; bound: 'sound' | 'samples-only' };
  /**
   * The manifest's truncation (default: absent, local). 'exact' for a model whose products are too large for the local
   * rule (mpc-import's limit: 1e-6 expected wrong elements per inference, fixed-sim.ts risk), as mpc-import would choose.
   */
  truncation?: 'local' | 'exact';
  /** The manifest's compareBound and inputRange (what the import's comparison ring rests on; a raw tensor's declared range). */
  compareBound?: 'sound' | 'samples-only' | 'unsound-override';
  inputRange?: [number, number];
  /** Config rangeSentinel (parties/range-sentinel.ts; default: the config default, 'auto'); one per party to make them differ. */
  rangeSentinel?: RangeSentinelSetting | [RangeSentinelSetting, RangeSentinelSetting, RangeSentinelSetting];
  /** Give each party the malicious mode's replicated weight shares (default: when security is 'malicious'). */
  replicated?: boolean;
}

export interface PartyTrio {
  servers: [PartyServer, PartyServer, PartyServer];
  token: string;
  modelHash: string;
  close(): Promise<void>;
}

export const TEST_TOKEN = 'test-token-0123456789abcdef';
/** An operator's token (config operatorTokens): sees per-layer run stats (parties/run-view.ts). */
export const TEST_OPERATOR_TOKEN = 'test-operator-0123456789abcdef';

export async function partyTrio(o: TrioOptions): Promise<PartyTrio> {
  const certs = o.tls === false ? null : testCerts();
  if (!o.plain === !o.ensemble) throw new Error('partyTrio: give either plain or ensemble');
  const bundles = o.plain ? shareBundles(o.plain, o.fracBits, undefined, o.policy) : null;
  if (bundles && o.requires) for (const b of bundles) b.manifest.requires = o.requires;
  if (bundles && o.outputCompare) for (const b of bundles) Object.assign(b.manifest, { outputCompareBits: o.outputCompare.bits, outputCompareBound: o.outputCompare.bound });
  if (bundles && o.truncation === 'exact') for (const b of bundles) b.manifest.truncation = 'exact';
  if (bundles && o.compareBound) for (const b of bundles) b.manifest.compareBound = o.compareBound;
  if (bundles && o.inputRange) for (const b of bundles) b.manifest.inputRange = o.inputRange;
  if (bundles && o.plain && (o.replicated ?? o.security === 'malicious')) shareModelReplicated(o.plain, o.fracBits).forEach((r, p) => { bundles[p]!.replicated = r; });
  const teacherBundles = o.ensemble ? o.ensemble.teachers.map((m) => shareBundles(m, o.fracBits)) : [];
  const sourceOf = (p: PartyId): ModelSource => (bundles
    ? { kind: 'memory', bundle: bundles[p] }
    : { kind: 'ensemble', teachers: teacherBundles.map((b) => ({ kind: 'memory' as const, bundle: b[p] })), ...(o.ensemble!.noise ? { noise: o.ensemble!.noise } : {}) });
  const lazyDir = path.join(tmpdir(), 'securenn-test-privacy', randomUUID());
  const tlsOf = (p: 0 | 1 | 2) => (certs ? { tls: { ca: certs.ca.cert, cert: certs.parties[p].cert, key: certs.parties[p].key } } : {});
  const dep: DeploymentConfig = {
    tokens: [TEST_TOKEN, ...(o.tokens ?? [])],
    operatorTokens: [TEST_OPERATOR_TOKEN],
    insecureLocal: o.tls === false,
    ...(o.http ? { http: o.http } : {}),
    logLevel: 'silent',
    cors: { origins: ['http://demo.local'] },
    batch: { windowMs: 5, maxBatch: 8, maxConcurrentRuns: 4, ...o.batch },
    ...(o.keepWeightMasks !== undefined ? { keepWeightMasks: o.keepWeightMasks } : {}),
    ...(o.security ? { security: o.security } : {}),
    ...(o.malicious ? { malicious: o.malicious } : {}),
    ...(o.preprocess ? { preprocess: { enabled: true, maxBytes: 256 * 2 ** 20, timeoutMs: 30_000, ...o.preprocess } } : {}),
    warmup: o.warmup ?? { runs: 0 },
    sessions: { defaultDeadlineMs: 30_000, maxDeadlineMs: 60_000, maxSessions: 100, retentionMs: 60_000, ...o.sessions },
    ...(o.privacy ? { privacy: { accountantFile: path.join(o.privacy.dir, 'privacy-accountant-p{party}.json'), ...(o.privacy.budget ? { budget: o.privacy.budget } : {}) } } : {}),
    parties: [
      { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, ...tlsOf(0), model: { devFile: 'unused' }, ...(o.clients ? { clients: o.clients[0] } : {}), ...(o.staticDir ? { staticDir: o.staticDir } : {}), ...(o.staticFiles ? { staticFiles: o.staticFiles } : {}) },
      { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, ...tlsOf(1), model: { devFile: 'unused' }, ...(o.clients ? { clients: o.clients[1] } : {}) },
      { http: { host: '127.0.0.1', port: 0 }, ...tlsOf(2), model: { devFile: 'unused' }, ...(o.clients ? { clients: o.clients[2] } : {}) },
    ],
  };
  const servers: PartyServer[] = [];
  try {
    for (const p of [0, 1, 2] as PartyId[]) {
      const cfg = resolveConfig(dep, p, process.cwd());
      if (!o.privacy) cfg.privacySettings.accountantFile = path.join(lazyDir, `p${p}.json`);
      if (o.rangeSentinel) cfg.rangeSentinel = Array.isArray(o.rangeSentinel) ? o.rangeSentinel[p] : o.rangeSentinel;
      const srv = createPartyServer(cfg, {
        model: sourceOf(p),
        logger: o.logger ? o.logger(p) : false,
        mesh: { reconnectMs: { min: 20, max: 200 } },
        ...(o.onNode ? { onNode: o.onNode } : {}),
        ...(o.longPollMaxMs ? { longPollMaxMs: o.longPollMaxMs } : {}),
      });
      servers.push(srv);
      const { grpcPort } = await srv.start();
      // As main.ts: a party whose model did not load starts no mesh; waiting for its links would only say they never came up.
      if (srv.party.modelError) throw srv.party.modelError;
      if (grpcPort !== null) dep.parties[p].grpc!.port = grpcPort;
    }
    await Promise.all(servers.map((s) => s.party.mesh.waitAllUp(10_000)));
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()));
    throw e;
  }
  return {
    servers: servers as [PartyServer, PartyServer, PartyServer],
    token: TEST_TOKEN,
    modelHash: servers[0]!.party.model?.info.modelHash ?? '',
    close: async () => { await Promise.all(servers.map((s) => s.close())); },
  };
}

/** The session key the in-process tests use for every session (SESSION_KEY_HEADER; a real client draws one per party and session). */
export const TEST_SESSION_KEY = 'test-session-key-0123456789abcdefghijklmnop';
export const auth = { authorization: `Bearer ${TEST_TOKEN}`, 'x-session-key': TEST_SESSION_KEY };

/** What a client does (as the SDK will): create at the three parties, upload shares to P0 and P1 (`beforeP1Upload` runs between the two uploads). */
export async function startSession(t: PartyTrio, x: Float64Array, N: number, f: number, extra: { deadlineMs?: number; sessionId?: string; privacy?: PrivacyOptions; beforeP1Upload?: () => Promise<void>; requestNonce?: readonly (string | undefined)[] } = {}): Promise<string> {
  const sessionId = extra.sessionId ?? randomUUID();
  for (const [p, s] of t.servers.entries()) {
    const nonce = extra.requestNonce?.[p];
    const r = await s.app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId, batch: N, modelHash: t.modelHash, ...(extra.deadlineMs ? { deadlineMs: extra.deadlineMs } : {}), ...(extra.privacy ? { privacy: extra.privacy } : {}), ...(nonce ? { requestNonce: nonce } : {}) } });
    if (r.statusCode !== 201) throw new Error(`create at P${t.servers.indexOf(s)}: ${r.statusCode} ${r.body}`);
  }
  const [x0, x1] = share(getKernels(), encode(x, f));
  for (const [p, xs] of [[0, x0], [1, x1]] as const) {
    if (p === 1) await extra.beforeP1Upload?.();
    const r = await t.servers[p].app.inject({ method: 'PUT', url: `/v1/sessions/${sessionId}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(u64Bytes(xs)) });
    if (r.statusCode !== 200) throw new Error(`input at P${p}: ${r.statusCode} ${r.body}`);
  }
  return sessionId;
}

export interface Outcome {
  ok: boolean; status: number[]; codes: (string | undefined)[];
  /** 'logits' mode. */
  logits?: Float64Array;
  shape?: string;
  /** x-output-mode of P0's answer. */
  mode?: string;
  /** 'label' / 'label+confidence' modes: the reconstructed class index (and bucket) per image. */
  labels?: number[];
  buckets?: number[];
}

/** Long-poll the outputs at P0 and P1 and reconstruct (logits, or labels and buckets). */
export async function finishSession(t: PartyTrio, sessionId: string, f: number): Promise<Outcome> {
  const rs = await Promise.all([0, 1].map((p) => t.servers[p]!.app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}/output`, headers: auth })));
  const status = rs.map((r) => r.statusCode);
  if (!status.every((s) => s === 200)) return { ok: false, status, codes: rs.map((r) => (r.statusCode === 200 ? undefined : (JSON.parse(r.body) as { code: string }).code)) };
  const [y0, y1] = rs.map((r) => bytesU64(new Uint8Array(r.rawPayload)));
  const mode = String(rs[0]!.headers[OUTPUT_MODE_HEADER] ?? 'logits');
  const base = { ok: true, status, codes: [], shape: String(rs[0]!.headers[OUTPUT_SHAPE_HEADER]), mode };
  const y = reconstruct(getKernels(), y0!, y1!);
  if (mode === 'label') return { ...base, labels: Array.from(y, Number) };
  if (mode === 'label+confidence') return { ...base, labels: Array.from(y.filter((_, i) => i % 2 === 0), Number), buckets: Array.from(y.filter((_, i) => i % 2 === 1), Number) };
  return { ...base, logits: decode(y, f) };
}
