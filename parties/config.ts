/**
 * Party configuration: one JSON file for the deployment (common settings and
 * a `parties` array with each party's addresses, certificates and model),
 * the party id from `--party` / PARTY_ID, a few environment overrides.
 *
 *   node --import tsx parties/main.ts --party 1 --config deploy.json [--insecure-local]
 *
 * Env: PARTY_ID, PARTY_CONFIG, PARTY_TOKENS (comma-separated: this party's own client tokens), PARTY_INSECURE_LOCAL=1,
 * PARTY_LOG_LEVEL, PARTY_HTTP_PORT, PARTY_GRPC_PORT, PARTY_ACCOUNTANT_FILE.
 */
import type { BackendSpec } from '../runtime/kernels.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpcError } from '../protocol/errors.js';
import type { Budget, Enforcement } from '../protocol/privacy/index.js';
import type { MalComparisons } from '../protocol/malicious/primitives.js';
import type { PartyId } from '../protocol/ring/types.js';
import { DEFAULT_PLAN_AHEAD_MS } from './batcher.js';
import { bad, parseArgs } from './config-args.js';
import type { ClientCredential } from './client-auth.js';
import { modelEntry } from './config-model.js';
import type { PrivacySettings } from './privacy.js';
import { checkDeploymentSchema } from './config-schema.js';
import { hostOf, isLoopbackHost } from './tls.js';
import { DEFAULT_WARMUP, type WarmupOptions } from './warmup.js';
import type { PateNoise } from './model-source.js';

export { modelSourceOf } from './config-model.js';
export { parseArgs } from './config-args.js';

export interface PartyEntry {
  /**
   * HTTP API for clients. Required for this party; a per-organisation config
   * file gives only its own party in full and, for the peers, what this
   * party needs of them: the gRPC address of those it dials (`{}` otherwise).
   */
  http: { host: string; port: number; tls?: { cert: string; key: string; ca?: string; requireClientCert?: boolean } };
  /**
   * gRPC listen address for the higher-id parties (P0, P1); `address` is what
   * peers dial (default host:port). dataPort: with `mesh.link` 'h2' (the
   * default), the port of the h2 data link (same host and mTLS; default
   * port + 1, never an OS-chosen one, so a Service or firewall can name it;
   * the dialers learn it at HELLO and dial it on the host of `address`, so it
   * must be reachable there under the same number).
   */
  grpc?: { host: string; port: number; address?: string; dataPort?: number };
  /**
   * PEM paths: CA (trust bundle: with one organisation per party, the three
   * organisations' CAs, in one file or a list of files), this party's certificate and key; pins: SHA-256
   * fingerprints of the peers' certificates; spkiPins: per peer, the base64
   * SHA-256 of the public keys it may present (`certs.sh spki`); peerCas: per
   * peer, the file of its organisation's CA, which must have issued its
   * certificate (parties/tls.ts).
   */
  tls?: { ca: string | string[]; cert: string; key: string; pins?: Partial<Record<'0' | '1' | '2', string>>; spkiPins?: Partial<Record<'0' | '1' | '2', string[]>>; peerCas?: Partial<Record<'0' | '1' | '2', string>> };
  /**
   * Share model: a model-import bundle directory, a dev file from npm start,
   * or a PATE teacher ensemble: several teacher models (one bundle
   * per hospital) whose noisy-max vote label is all the client gets; `noise`
   * absent = secure majority vote without noise. All three parties must list
   * the same teachers in the same order with the same noise.
   */
  model: SingleModelEntry | { ensemble: { teachers: SingleModelEntry[]; noise?: PateNoise } };
  /**
   * This party's own client credentials: each client holds a different token
   * for each party, and a party knows only the SHA-256 of its own (so the
   * deployment file may be shared). The `id` is the client's identity here.
   */
  clients?: ClientCredential[];
  /**
   * Where to serve GET /metrics (plain HTTP, no token), apart from the client
   * API: a port for the monitoring network only. Without it, /metrics is on
   * the client API where that listens on loopback only (npm start, tests), and
   * nowhere otherwise.
   */
  metrics?: { host: string; port: number };
  /** Static files served at / (P0: the SDK demo page). */
  staticDir?: string;
  /** Extra public files by URL path, e.g. { "/sdk.js": "...", "/config.json": "..." } (the demo's bundle and client config). */
  staticFiles?: Record<string, string>;
}

export type SingleModelEntry = { bundleDir: string } | { devFile: string };

export interface CommonSettings {
  /**
   * In the deployment file: bearer tokens valid at all three parties (one
   * token for every party), for loopback development only (`npm start`,
   * tests); refused where this party listens on any other address. From
   * PARTY_TOKENS: this party's own tokens (each party's container gets its own).
   */
  tokens: string[];
  /** Operator bearer tokens: accepted like client tokens, and they also see per-layer run stats (parties/run-view.ts). */
  operatorTokens: string[];
  insecureLocal: boolean;
  /**
   * Batching at P0: windowMs (how long a session waits for company), maxBatch
   * (images per run), maxConcurrentRuns; planAheadMs (default 50, 0 = off):
   * P0 plans a session as soon as its own input is in, without waiting for
   * P1's and P2's reports, and P1 and P2 wait this long for a planned session
   * that has not reached them before they defer the run (parties/run-planner.ts,
   * step 3). balance (default false): once runs have been seen, a batch is
   * full at the recent demand split over maxConcurrentRuns, so back-to-back
   * clients form overlapping runs (parties/batcher.ts); false: window and
   * maxBatch alone.
   */
  batch: { windowMs: number; maxBatch: number; maxConcurrentRuns: number; planAheadMs: number; balance: boolean };
  /**
   * maxSessions: unfinished sessions in all; maxPerClient (default
   * maxSessions / 4): per client identity, so one client cannot take every
   * slot; idJournal: file of the session ids used (relative to the config's
   * folder; '{party}' becomes the party id), so that an id is refused after a
   * restart too; persistent, writable storage.
   */
  sessions: { defaultDeadlineMs: number; maxDeadlineMs: number; maxSessions: number; maxPerClient?: number; retentionMs: number; idJournal?: string };
  /**
   * Client HTTP: requestMs, the longest a request's headers and body may take
   * to arrive (a slow or stalled upload is cut with 408 E_TIMEOUT);
   * keepAliveMs, how long an idle keep-alive connection stays open (default
   * 72 s, fastify's: longer than the clients' agents keep theirs, so a client
   * never sends on a connection the server is closing).
   */
  http: { requestMs: number; keepAliveMs: number };
  cors: { origins: string[] };
  logLevel: string;
  /** Kernel backend: 'auto' (CUDA if present, else CPU), 'cpu', 'cuda', 'native', 'ts' (runtime/kernels.ts). */
  kernels: BackendSpec;
  /**
   * Ring width of the comparisons (ReLU, MaxPool, argmax): 32 (default) is
   * exact while every compared value stays below 2^31 ring units (2^(31-f)
   * in real units: 262144 at f = 13, 32768 at f = 16, 8192 at f = 18); 64 is
   * exact for every value, with 1.7x the comparison traffic. The three parties
   * must agree (the plan carries it).
   */
  compareBits: 32 | 64;
  /**
   * Digits of the PrivateCompare on the 32-bit comparison ring: 4 (default:
   * radix-4 digits, protocol/primitives/private-compare-radix4.ts, half the
   * comparison bytes P0 and P1 send to P2) or 2 (the paper's bits). The three
   * parties must agree (the plan carries it).
   */
  compareRadix: 2 | 4;
  /** Protocol security, 'semi-honest' (default) or 'malicious': docs/MALICIOUS.md, parties/README.md; the three parties must agree. */ security: 'semi-honest' | 'malicious';
  /**
   * Malicious mode only (parties/malicious-desk.ts): epochSessions, client
   * sessions per epoch before a new MAC key and weight MACs (default 1000; a
   * failed check always rotates); poolInferences, inferences whose masks the
   * offline phase keeps ready (0: off; default 2); poolMaxBytes, the most
   * memory the pool may hold at a party (default 256 MiB); comparisons, the
   * domain of the ReLU-family and MaxPool comparisons: 'arithmetic' (default,
   * protocol/malicious/compare.ts) or 'binary' (protocol/malicious/binary/:
   * packed binary shares with verified ANDs: served Network A 3.35 against 7.66 MB
   * with the pool off, more rounds; BENCHMARKS.md). The three parties must agree (link HELLO and the
   * session hello: E_SETTINGS_MISMATCH). clientWaitMs (default 30 s): the longest a session's set-up waits for
   * the other two parties' hellos, and a set-up session for its input (E_TIMEOUT, told to the peers). Any of
   * these with security other than 'malicious' is refused at start (E_BAD_ARGUMENT).
   */
  malicious: { epochSessions: number; poolInferences: number; poolMaxBytes: number; comparisons: MalComparisons; clientWaitMs: number };
  /**
   * Keep the masks of the model's weights across runs (parties/weight-masks.ts):
   * after one build run, a Beaver product with the weights opens only the
   * input's mask (16 bytes per weight less per run); costs 8 bytes per
   * weight of memory at each party. Default true. P0 decides per run.
   */
  keepWeightMasks: boolean;
  /**
   * Run-time range sentinel (parties/range-sentinel.ts): 'auto' (default) for compareBound 'samples-only' / 'unsound-override',
   * 'on' every model, 'off' never; never in malicious mode. Must match at HELLO; with it on, a run carries one client.
   */
  rangeSentinel: 'auto' | 'on' | 'off';
  /**
   * Offline phase (parties/preprocessing.ts): while idle, P2 deals the next
   * run's Beaver triples and comparison masks ahead of it, so a run of a shape
   * seen before sends none of those bytes. enabled (default true); maxBytes:
   * the largest bundle to prepare (bytes P1 holds; default 256 MiB: the seed
   * CNN at batch 8 needs ~100 MiB, VGG16 more and runs live); P1 and P2 hold
   * at most twice that; timeoutMs (default 30 s): a bundle not made by then
   * is dropped. The three parties should agree (P0 decides per run).
   */
  preprocess: { enabled: boolean; maxBytes: number; timeoutMs: number };
  /**
   * Start-up warm-up (parties/warmup.ts): each time its peer links come up,
   * P0 has the three parties run the protocol on the model's shapes with
   * dummy data before they say ready: `runs` runs (0 = off) in turn over `batches`, then
   * `clientRuns` predictions through the client path (parties/warmup-client.ts), at most `maxMs` in
   * all (default 1000 runs, 300 predictions, 15 s, batch [1]). P0's setting decides a round; a
   * party whose own `runs` is 0 does not wait for one. Never client data.
   */
  warmup: WarmupOptions;
  /** Privacy accountant (differentially private outputs): each party keeps its own state file. */
  privacy: PrivacyConfig;
  /**
   * How often (ms) the party reads its certificate, key and CA files again and
   * takes new ones without a restart (parties/tls-reload.ts); 0 = never. Default 10 s.
   */
  tlsReloadMs: number;
  /**
   * What carries the messages between the parties (parties/mesh-h2.ts):
   * link 'h2' (default) a raw HTTP/2 stream under the same mTLS on P0's and
   * P1's `grpc.dataPort`, set up over gRPC (which stays the control plane);
   * 'grpc' the gRPC stream of each pair. The three parties must agree (the
   * links are refused with E_SETTINGS_MISMATCH otherwise). A data port that
   * cannot be reached fails the link with E_PEER_UNAVAILABLE (step
   * link.data, in /readyz), with no fallback to gRPC.
   */
  mesh: { link: 'grpc' | 'h2' };
}

export interface PrivacyConfig {
  /**
   * State file of this party's accountant; '{party}' becomes the party id;
   * relative to the config file's folder. Must be on persistent, writable
   * storage. Default data/privacy-accountant-p{party}.json.
   */
  accountantFile?: string;
  /** Budget of every client (default epsilon 10, delta 1e-5). */
  budget: Budget;
  /** Per-client budgets, by client id (GET /v1/privacy/budget reports a token's id). */
  budgets?: Record<string, Budget>;
  /** Admission rule (default 'best' = min(basic, RDP)). */
  enforce?: Enforcement;
}

export interface DeploymentConfig extends Omit<Partial<CommonSettings>, 'privacy' | 'batch' | 'http' | 'warmup' | 'mesh' | 'malicious'> {
  mesh?: Partial<CommonSettings['mesh']>;
  malicious?: Partial<CommonSettings['malicious']>;
  parties: [PartyEntry, PartyEntry, PartyEntry];
  http?: Partial<CommonSettings['http']>;
  /** Missing fields take DEFAULTS.batch. */
  batch?: Partial<CommonSettings['batch']>;
  privacy?: Partial<PrivacyConfig>;
  /** Missing fields take DEFAULTS.warmup. */
  warmup?: Partial<WarmupOptions>;
}

export interface PartyConfig extends CommonSettings {
  party: PartyId;
  self: PartyEntry;
  /** gRPC addresses of the parties this one dials (lower ids). */
  dial: Partial<Record<PartyId, string>>;
  /** Base dir for relative paths in the config file. */
  baseDir: string;
  /** The accountant of this party (absolute file). */
  privacySettings: PrivacySettings;
}

export const DEFAULTS: CommonSettings = {
  tokens: [],
  operatorTokens: [],
  insecureLocal: false,
  batch: { windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2, planAheadMs: DEFAULT_PLAN_AHEAD_MS, balance: false },
  sessions: { defaultDeadlineMs: 60_000, maxDeadlineMs: 600_000, maxSessions: 1_000, retentionMs: 300_000 },
  http: { requestMs: 30_000, keepAliveMs: 72_000 },
  cors: { origins: [] },
  logLevel: 'info',
  kernels: 'auto',
  compareBits: 32,
  compareRadix: 4, security: 'semi-honest',
  malicious: { epochSessions: 1000, poolInferences: 2, poolMaxBytes: 256 * 2 ** 20, comparisons: 'arithmetic', clientWaitMs: 30_000 },
  keepWeightMasks: true,
  rangeSentinel: 'auto',
  preprocess: { enabled: true, maxBytes: 256 * 2 ** 20, timeoutMs: 30_000 },
  warmup: { ...DEFAULT_WARMUP },
  privacy: { budget: { epsilon: 10, delta: 1e-5 } },
  tlsReloadMs: 10_000,
  mesh: { link: 'h2' },
};

export const DEFAULT_ACCOUNTANT_FILE = 'data/privacy-accountant-p{party}.json';

/** client-sdk/demo next to parties/ (served by P0 when it exists). */
export const DEMO_DIR = fileURLToPath(new URL('../client-sdk/demo/', import.meta.url));

const int = (v: unknown, name: string, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`${name} must be an integer in ${min}..${max}`);
  return v;
};

const budget = (b: unknown, name: string): Budget => {
  const v = b as Partial<Budget> | undefined;
  if (typeof v !== 'object' || v === null || typeof v.epsilon !== 'number' || !Number.isFinite(v.epsilon) || v.epsilon < 0 || typeof v.delta !== 'number' || !(v.delta >= 0 && v.delta < 1)) bad(`${name} must be { epsilon >= 0, 0 <= delta < 1 }`);
  return { epsilon: v.epsilon, delta: v.delta };
};

/** Resolve one party's configuration from a deployment config object. */
export function resolveConfig(dep: DeploymentConfig, party: PartyId, baseDir: string, over: Partial<CommonSettings> = {}): PartyConfig {
  if (!Array.isArray(dep.parties) || dep.parties.length !== 3) bad('`parties` must list the three parties');
  checkDeploymentSchema(dep);
  const c: CommonSettings = {
    ...DEFAULTS, ...dep, ...over,
    batch: { ...DEFAULTS.batch, ...dep.batch, ...over.batch },
    sessions: { ...DEFAULTS.sessions, ...dep.sessions, ...over.sessions },
    http: { ...DEFAULTS.http, ...dep.http, ...over.http },
    cors: { ...DEFAULTS.cors, ...dep.cors, ...over.cors },
    preprocess: { ...DEFAULTS.preprocess, ...dep.preprocess, ...over.preprocess },
    warmup: { ...DEFAULTS.warmup, ...dep.warmup, ...over.warmup },
    privacy: { ...DEFAULTS.privacy, ...dep.privacy, ...over.privacy },
    mesh: { ...DEFAULTS.mesh, ...dep.mesh, ...over.mesh },
    malicious: { ...DEFAULTS.malicious, ...dep.malicious, ...over.malicious },
  };
  const pc = c.privacy;
  if (pc.accountantFile !== undefined && (typeof pc.accountantFile !== 'string' || pc.accountantFile === '')) bad('privacy.accountantFile must be a path');
  if (pc.enforce !== undefined && !['best', 'basic', 'rdp'].includes(pc.enforce)) bad("privacy.enforce must be 'best', 'basic' or 'rdp'");
  const privacySettings: PrivacySettings = {
    accountantFile: path.resolve(baseDir, (pc.accountantFile ?? DEFAULT_ACCOUNTANT_FILE).replaceAll('{party}', String(party))),
    budget: budget(pc.budget, 'privacy.budget'),
    ...(pc.budgets ? { budgets: Object.fromEntries(Object.entries(pc.budgets).map(([id, b]) => [id, budget(b, `privacy.budgets.${id}`)])) } : {}),
    ...(pc.enforce ? { enforce: pc.enforce } : {}),
    eager: dep.privacy !== undefined || over.privacy !== undefined,
  };
  const self = dep.parties[party];
  if (c.compareBits !== 32 && c.compareBits !== 64) bad('compareBits must be 32 or 64');
  if (c.compareRadix !== 2 && c.compareRadix !== 4) bad('compareRadix must be 2 or 4');
  if (typeof c.keepWeightMasks !== 'boolean') bad('keepWeightMasks must be true or false');
  if (c.rangeSentinel !== 'auto' && c.rangeSentinel !== 'on' && c.rangeSentinel !== 'off') bad('rangeSentinel must be auto, on or off');
  if (typeof c.preprocess.enabled !== 'boolean') bad('preprocess.enabled must be true or false');
  int(c.preprocess.maxBytes, 'preprocess.maxBytes', 0, 2 ** 40);
  int(c.preprocess.timeoutMs, 'preprocess.timeoutMs', 1, 3_600_000);
  int(c.malicious.epochSessions, 'malicious.epochSessions', 1, 1_000_000_000);
  int(c.malicious.poolInferences, 'malicious.poolInferences', 0, 4096);
  int(c.malicious.poolMaxBytes, 'malicious.poolMaxBytes', 0, 2 ** 40);
  if (c.malicious.comparisons !== 'arithmetic' && c.malicious.comparisons !== 'binary') bad("malicious.comparisons must be 'arithmetic' or 'binary'");
  int(c.malicious.clientWaitMs, 'malicious.clientWaitMs', 100, 3_600_000);
  // A setting the configured mode never applies is refused, not ignored: malicious.comparisons 'binary' without security 'malicious' ran semi-honest.
  const malSet = Object.keys({ ...dep.malicious, ...over.malicious });
  if (c.security !== 'malicious' && malSet.length) bad(`malicious.${malSet[0]} is set, but security is '${c.security}': the malicious settings apply only with security 'malicious' (set it, or remove them)`);
  if (c.security === 'malicious' && c.rangeSentinel === 'on') bad("rangeSentinel 'on' with security 'malicious': the malicious mode runs no range sentinel (README); use 'auto' or 'off'");
  int(c.warmup.runs, 'warmup.runs', 0, 1_000_000);
  int(c.warmup.maxMs, 'warmup.maxMs', 1, 3_600_000);
  if (c.warmup.clientRuns !== undefined) int(c.warmup.clientRuns, 'warmup.clientRuns', 0, 1_000_000);
  if (!Array.isArray(c.warmup.batches) || c.warmup.batches.length === 0) bad('warmup.batches must list at least one batch size');
  for (const b of c.warmup.batches) int(b, 'warmup.batches[]', 1, 4096);
  int(c.batch.windowMs, 'batch.windowMs', 0, 60_000);
  int(c.batch.maxBatch, 'batch.maxBatch', 1, 4096);
  int(c.batch.maxConcurrentRuns, 'batch.maxConcurrentRuns', 1, 1024);
  int(c.batch.planAheadMs, 'batch.planAheadMs', 0, 60_000);
  if (typeof c.batch.balance !== 'boolean') bad('batch.balance must be true or false');
  int(c.sessions.defaultDeadlineMs, 'sessions.defaultDeadlineMs', 1, c.sessions.maxDeadlineMs);
  int(c.sessions.maxSessions, 'sessions.maxSessions', 1, 1_000_000);
  if (c.sessions.maxPerClient !== undefined) int(c.sessions.maxPerClient, 'sessions.maxPerClient', 1, c.sessions.maxSessions);
  if (c.sessions.idJournal !== undefined && (typeof c.sessions.idJournal !== 'string' || c.sessions.idJournal === '')) bad('sessions.idJournal must be a path');
  int(c.tlsReloadMs, 'tlsReloadMs', 0, 3_600_000);
  if (c.mesh.link !== 'grpc' && c.mesh.link !== 'h2') bad("mesh.link must be 'grpc' or 'h2'");
  int(c.http.requestMs, 'http.requestMs', 1_000, 3_600_000);
  int(c.http.keepAliveMs, 'http.keepAliveMs', 100, 600_000);
  if (!Array.isArray(c.operatorTokens) || c.operatorTokens.some((t) => typeof t !== 'string' || t.length < 16)) bad('`operatorTokens` must be a list of bearer tokens of 16+ characters');
  if (!self || typeof self.http !== 'object') bad(`parties[${party}].http is required (this party's client API)`);
  if (self.model === undefined) bad(`parties[${party}].model is required (this party's share bundle)`);
  int(self.http?.port, `parties[${party}].http.port`, 0, 65535);
  if (self.metrics) int(self.metrics.port, `parties[${party}].metrics.port`, 0, 65535);
  for (const [q, list] of Object.entries(self.tls?.spkiPins ?? {})) if (Number(q) === party || list!.some((x) => !/^[A-Za-z0-9+/]{43}=$/.test(x))) bad(`parties[${party}].tls.spkiPins.${q} must pin a peer with base64 SHA-256 values (certs.sh spki)`);
  if (self.tls?.peerCas && String(party) in self.tls.peerCas) bad(`parties[${party}].tls.peerCas names this party itself`);
  if (!Array.isArray(c.tokens) || c.tokens.some((t) => typeof t !== 'string' || t.length < 16)) bad('`tokens` must list client bearer tokens of 16+ characters');
  const clients = self.clients ?? [];
  if (!Array.isArray(clients) || clients.some((k) => typeof k?.id !== 'string' || !/^[A-Za-z0-9._:@-]{1,64}$/.test(k.id) || typeof k.tokenSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(k.tokenSha256))) bad(`parties[${party}].clients must list { id (1-64 of A-Z a-z 0-9 . _ : @ -), tokenSha256 (64 lower-case hex digits) }`);
  if (new Set(clients.map((k) => k.id)).size !== clients.length || new Set(clients.map((k) => k.tokenSha256)).size !== clients.length) bad(`parties[${party}].clients: each id and each tokenSha256 may appear once`);
  if (c.tokens.length === 0 && clients.length === 0) bad(`no client credentials: give parties[${party}].clients (or PARTY_TOKENS), or \`tokens\` for loopback development`);
  // One token for all three parties lets each party act as the client at the others: loopback development only.
  const sharedTokens = Array.isArray(dep.tokens) && dep.tokens.length > 0 && over.tokens === undefined;
  if (sharedTokens && !isLoopbackHost(self.http.host)) bad(`\`tokens\` in the deployment file is one token for all three parties, for loopback development only (parties[${party}].http.host is '${self.http.host}'); give each party its own credentials: parties[${party}].clients or PARTY_TOKENS`);
  // The same for operators: an operator token in the shared file would be valid at the other organisations' parties.
  const sharedOperators = Array.isArray(dep.operatorTokens) && dep.operatorTokens.length > 0 && over.operatorTokens === undefined;
  if (sharedOperators && !isLoopbackHost(self.http.host)) bad(`\`operatorTokens\` in the deployment file are valid at all three parties, for loopback development only (parties[${party}].http.host is '${self.http.host}'); give each party its own in PARTY_OPERATOR_TOKENS`);
  const dial: Partial<Record<PartyId, string>> = {};
  for (const p of [0, 1] as PartyId[]) {
    if (p >= party) continue;
    const g = dep.parties[p].grpc;
    if (!g) bad(`parties[${p}].grpc is required (P${party} dials it)`);
    dial[p] = g.address ?? `${g.host}:${g.port}`;
  }
  if (party < 2 && !self.grpc) bad(`parties[${party}].grpc is required (higher parties dial it)`);
  if (self.grpc?.dataPort !== undefined) {
    int(self.grpc.dataPort, `parties[${party}].grpc.dataPort`, 0, 65535);
    if (self.grpc.dataPort !== 0 && self.grpc.dataPort === self.grpc.port) bad(`parties[${party}].grpc.dataPort must differ from grpc.port`);
  } else if (c.mesh.link === 'h2' && party < 2 && self.grpc?.port === 65535) bad(`parties[${party}].grpc.port is 65535: the h2 data link's default port (grpc.port + 1) does not exist; set parties[${party}].grpc.dataPort`);
  if (c.insecureLocal) {
    const hosts = [self.http.host, ...(self.grpc ? [self.grpc.host] : []), ...Object.values(dial).map((a) => hostOf(a!))];
    const off = hosts.find((h) => !isLoopbackHost(h));
    if (off) bad(`--insecure-local allows loopback addresses only, got '${off}'`);
  } else if (!self.tls) bad(`parties[${party}].tls is required (mTLS between parties); use --insecure-local only for loopback development`);
  const abs = (p: string): string => path.resolve(baseDir, p);
  const entry: PartyEntry = {
    ...self,
    ...(self.tls ? { tls: { ...self.tls, ca: typeof self.tls.ca === 'string' ? abs(self.tls.ca) : self.tls.ca.map(abs), cert: abs(self.tls.cert), key: abs(self.tls.key), ...(self.tls.peerCas ? { peerCas: Object.fromEntries(Object.entries(self.tls.peerCas).map(([q, f]) => [q, abs(f)])) } : {}) } } : {}),
    model: modelEntry(self.model, `parties[${party}].model`, abs),
    ...(clients.length ? { clients: clients.map((k) => ({ id: k.id, tokenSha256: k.tokenSha256 })) } : {}),
    ...(self.staticDir ? { staticDir: abs(self.staticDir) } : {}),
    ...(self.staticFiles ? { staticFiles: Object.fromEntries(Object.entries(self.staticFiles).map(([u, f]) => [u.startsWith('/') ? u : `/${u}`, abs(f)])) } : {}),
  };
  const sessions = c.sessions.idJournal ? { ...c.sessions, idJournal: path.resolve(baseDir, c.sessions.idJournal.replaceAll('{party}', String(party))) } : c.sessions;
  return { ...c, sessions, party, self: entry, dial, baseDir, privacySettings };
}

/** From argv + env + the config file. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): PartyConfig {
  const args = parseArgs(argv);
  const partyStr = args.party ?? env.PARTY_ID;
  if (partyStr === undefined || !['0', '1', '2'].includes(partyStr)) bad('party id (--party or PARTY_ID) must be 0, 1 or 2');
  const party = Number(partyStr) as PartyId;
  const file = args.config ?? env.PARTY_CONFIG;
  if (!file) bad('a config file (--config or PARTY_CONFIG) is required');
  if (!existsSync(file)) bad(`config file ${file} not found`);
  let dep: DeploymentConfig;
  try { dep = JSON.parse(readFileSync(file, 'utf8')) as DeploymentConfig; } catch (e) { throw new MpcError('E_BAD_ARGUMENT', `config: ${path.basename(file)} is not valid JSON`, { cause: e }); }
  checkDeploymentSchema(dep, path.basename(file));
  const over: Partial<CommonSettings> = {};
  if (args.insecureLocal || env.PARTY_INSECURE_LOCAL === '1') over.insecureLocal = true;
  if (env.PARTY_OPERATOR_TOKENS) over.operatorTokens = env.PARTY_OPERATOR_TOKENS.split(',').map((t) => t.trim()).filter(Boolean);
  if (env.PARTY_TOKENS) over.tokens = env.PARTY_TOKENS.split(',').map((t) => t.trim()).filter(Boolean);
  if (env.PARTY_LOG_LEVEL) over.logLevel = env.PARTY_LOG_LEVEL;
  if (env.PARTY_ACCOUNTANT_FILE) over.privacy = { ...DEFAULTS.privacy, ...dep.privacy, accountantFile: env.PARTY_ACCOUNTANT_FILE } as PrivacyConfig;
  const cfg = resolveConfig(dep, party, path.dirname(path.resolve(file)), over);
  if (env.PARTY_HTTP_PORT) cfg.self = { ...cfg.self, http: { ...cfg.self.http, port: Number(env.PARTY_HTTP_PORT) } };
  if (env.PARTY_GRPC_PORT && cfg.self.grpc) cfg.self = { ...cfg.self, grpc: { ...cfg.self.grpc, port: Number(env.PARTY_GRPC_PORT) } };
  return cfg;
}
