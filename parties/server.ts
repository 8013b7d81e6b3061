/**
 * Assemble one party: fastify app (logger, API, metrics) + Party (mesh,
 * sessions, runs). `start()` starts the mesh and the model load; `listen()`
 * opens the HTTP port; tests use `app.inject()` instead.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server as TlsServer } from 'node:tls';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { PartyId } from '../protocol/ring/types.js';
import { modelSourceOf, type PartyConfig } from './config.js';
import { clientErrorHandler, frameworkErrors, registerApi } from './http.js';
import { METRICS_TYPE } from './http-info.js';
import type { Logger } from './log.js';
import type { MeshOptions } from './mesh.js';
import { LINK_VERSION, MIN_LINK_VERSION } from './link-hello.js';
import { Collected, Counter, partyMetrics } from './metrics.js';
import { DEFAULT_PREPROCESS } from './preprocessing.js';
import type { ModelSource } from './model-source.js';
import { Party } from './party.js';
import { registerRuntimeMetrics } from './runtime-metrics.js';
import { isLoopbackHost, readTls } from './tls.js';
import { readMaterial, TlsReloader, type TlsFiles, type TlsMaterial } from './tls-reload.js';

export interface ServerExtras {
  /** Override the model source of the config (tests: in-memory models). */
  model?: ModelSource;
  /** fastify logger option (default: pino at cfg.logLevel; false in tests). */
  logger?: FastifyServerOptions['logger'];
  onNode?: (party: PartyId, runId: string, name: string, index: number) => void;
  mesh?: Partial<Omit<MeshOptions, 'party' | 'logger' | 'tls'>>;
  longPollMaxMs?: number;
}

export interface PartyServer {
  app: FastifyInstance;
  party: Party;
  start(): Promise<{ grpcPort: number | null }>;
  listen(): Promise<{ httpPort: number; metricsPort?: number }>;
  close(): Promise<void>;
  kill(): void;
}

/** Transport tuning (benchmarks; parties/README.md): PARTY_MESH_WINDOW (HTTP/2 window), PARTY_MESH_CHUNK (frame size), in bytes. */
function meshTuning(): { flowControlWindow?: number; chunkBytes?: number } {
  const n = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
  const w = n(process.env.PARTY_MESH_WINDOW), c = n(process.env.PARTY_MESH_CHUNK);
  return { ...(w ? { flowControlWindow: w } : {}), ...(c ? { chunkBytes: c } : {}) };
}

/** P0's and P1's mesh listener: the gRPC port and the h2 data link's (`grpc.dataPort`, default the gRPC port + 1; 0 with an OS-chosen gRPC port). */
function meshListen(g: { host: string; port: number; dataPort?: number }): { host: string; port: number; dataPort: number } {
  return { host: g.host, port: g.port, dataPort: g.dataPort ?? (g.port === 0 ? 0 : g.port + 1) };
}

/** The build, for mpc_build_info: package version (package.json next to parties/, 'unknown' without it), link versions, Node.js. */
const BUILD_INFO: Record<string, string> = (() => {
  let version = 'unknown';
  try { version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? version; } catch { /* not in this layout */ }
  return { version, link_version: String(LINK_VERSION), min_link_version: String(MIN_LINK_VERSION), node: process.versions.node, commit: process.env.SECURENN_BUILD_COMMIT ?? 'unknown' };
})();

export function createPartyServer(cfg: PartyConfig, extras: ServerExtras = {}): PartyServer {
  const httpTls = cfg.self.http.tls;
  const longPollMaxMs = extras.longPollMaxMs ?? cfg.sessions.maxDeadlineMs + 5_000;
  // Node checks requestTimeout every connectionsCheckingInterval (default 30 s): check often enough to cut at about the timeout.
  const checking = { connectionsCheckingInterval: Math.min(5_000, Math.max(250, Math.floor(cfg.http.requestMs / 10))) };
  const httpMaterial = httpTls ? readMaterial(httpTls) : null;
  const https = httpMaterial
    ? { https: { ...checking, ...httpMaterial, ...(httpTls!.requireClientCert ? { requestCert: true, rejectUnauthorized: true } : {}) } }
    : { http: checking };
  const app = Fastify({
    logger: extras.logger ?? { level: cfg.logLevel, base: { party: cfg.party } },
    // Our onResponse hook logs one line per request (method, route, status, ms), never bodies or headers.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024,
    // A request's headers and body must arrive within requestMs (a trickled body is cut, with or without a valid
    // token); a connection idle longer than the longest wait for an output (plus a margin) is closed.
    requestTimeout: cfg.http.requestMs,
    connectionTimeout: longPollMaxMs + 10_000,
    keepAliveTimeout: cfg.http.keepAliveMs,
    clientErrorHandler: clientErrorHandler(cfg.party),
    frameworkErrors: frameworkErrors(cfg.party),
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    ...https,
  } as FastifyServerOptions) as unknown as FastifyInstance;

  const metrics = partyMetrics();
  const model: ModelSource = extras.model ?? modelSourceOf(cfg.self.model);
  const t = cfg.self.tls;
  const byParty = <V>(o: Partial<Record<string, V>> | undefined) => (o ? Object.fromEntries(Object.entries(o).map(([k, v]) => [Number(k), v])) as Partial<Record<PartyId, V>> : undefined);
  const tls = cfg.insecureLocal ? null : readTls({ ca: t!.ca, cert: t!.cert, key: t!.key, ...(t?.pins ? { pins: byParty(t.pins)! } : {}), ...(t?.spkiPins ? { spkiPins: byParty(t.spkiPins)! } : {}), ...(t?.peerCas ? { peerCas: byParty(t.peerCas)! } : {}) });
  const party = new Party({
    party: cfg.party,
    model,
    mesh: { tls, dial: cfg.dial, link: cfg.mesh.link, ...(cfg.party < 2 && cfg.self.grpc ? { listen: meshListen(cfg.self.grpc) } : {}), ...meshTuning(), ...extras.mesh },
    batch: cfg.batch,
    sessions: cfg.sessions,
    kernels: cfg.kernels,
    compareBits: cfg.compareBits,
    compareRadix: cfg.compareRadix,
    security: cfg.security,
    malicious: cfg.malicious,
    keepWeightMasks: cfg.keepWeightMasks,
    rangeSentinel: cfg.rangeSentinel,
    preprocess: { ...DEFAULT_PREPROCESS, ...cfg.preprocess },
    warmup: cfg.warmup,
    privacy: cfg.privacySettings,
    logger: app.log as unknown as Logger,
    metrics,
    ...(extras.onNode ? { onNode: extras.onNode } : {}),
  });

  const r = metrics.registry;
  r.register(new Collected('mpc_sessions_active', 'Sessions not finished yet.', 'gauge', () => [[{}, party.store.activeCount]]));
  r.register(new Collected('mpc_runs_in_flight', 'Protocol runs in progress.', 'gauge', () => [[{}, party.activeRuns]]));
  r.register(new Collected('mpc_prep_bundles_ready', 'Preprocessed bundles ready for a next run (P0) or held (P1, P2).', 'gauge', () => [[{}, party.prepPool?.readyCount ?? party.prepHeld?.count ?? 0]]));
  r.register(new Collected('mpc_prep_in_flight', 'Preprocessing requests not yet reported by both peers, or about to be sent after a run (P0).', 'gauge', () => [[{}, party.prepInFlight ? 1 : 0]]));
  r.register(new Collected('mpc_sessions_queued', 'Sessions waiting for a batch (P0).', 'gauge', () => [[{}, party.queuedSessions]]));
  r.register(new Collected('mpc_warmup_runs_total', 'Start-up warm-up runs this party took part in (parties/warmup.ts; not client runs).', 'counter', () => [[{}, party.warmup.totalRuns]]));
  r.register(new Collected('mpc_warmup_state', '1 for the state of the start-up warm-up (waiting, running, done, failed, off); the party is ready only after it.', 'gauge', () => [[{ state: party.warmup.status.state }, 1]]));
  r.register(new Collected('mpc_warmup_duration_seconds', 'Duration of the last warm-up round that ended.', 'gauge', () => [[{}, party.warmup.status.ms / 1000]]));
  r.register(new Collected('mpc_model_loaded', '1 when the share model is loaded.', 'gauge', () => [[{}, party.model ? 1 : 0]]));
  r.register(new Collected('mpc_peer_up', '1 when the link to the peer is up.', 'gauge', () => ([0, 1, 2] as PartyId[]).filter((p) => p !== cfg.party).map((p) => [{ peer: `P${p}` }, party.mesh.isUp(p) ? 1 : 0])));
  const peers = ([0, 1, 2] as PartyId[]).filter((p) => p !== cfg.party);
  r.register(new Collected('mpc_peer_link_version', 'Link version in use with the peer (0 while the link is down; parties/link-hello.ts).', 'gauge', () => peers.map((p) => [{ peer: `P${p}` }, party.mesh.health[p]!.version])));
  r.register(new Collected('mpc_peer_link_ups_total', 'Times the link to the peer came up (a flapping link counts up fast).', 'counter', () => peers.map((p) => [{ peer: `P${p}` }, party.mesh.health[p]!.ups])));
  r.register(new Collected('mpc_peer_link_refused', '1 while the last set-up of the link to the peer was refused, by code (E_LINK_VERSION, E_SETTINGS_MISMATCH, E_PEER_UNAVAILABLE: its h2 data link did not come up; /readyz says which setting or port).', 'gauge', () => peers.flatMap((p) => {
    const e = party.mesh.health[p]!.problem;
    return e && !party.mesh.isUp(p) ? [[{ peer: `P${p}`, code: e.code }, 1] as [Record<string, string>, number]] : [];
  })));
  r.register(new Collected('mpc_link_bytes_sent_total', 'Payload bytes sent to each peer (all frames).', 'counter', () => ([0, 1, 2] as PartyId[]).filter((p) => p !== cfg.party).map((p) => [{ peer: `P${p}` }, party.mesh.stats[p]!.bytesSent])));
  r.register(new Collected('mpc_link_bytes_received_total', 'Payload bytes received from each peer (all frames).', 'counter', () => ([0, 1, 2] as PartyId[]).filter((p) => p !== cfg.party).map((p) => [{ peer: `P${p}` }, party.mesh.stats[p]!.bytesReceived])));

  // Certificates reloaded on file change (tls-reload.ts): the mesh's and the HTTPS API's.
  const reloads = r.register(new Counter('mpc_tls_reloads_total', 'New certificate files found, by material (mesh, http) and result: ok (in use for new handshakes) or failed (refused; the old material stays in use).'));
  const reloaders: TlsReloader[] = [];
  const reloader = (name: string, files: TlsFiles, initial: TlsMaterial, apply: (m: TlsMaterial) => void) =>
    reloaders.push(new TlsReloader({ name, files, initial, apply, intervalMs: cfg.tlsReloadMs, logger: app.log as unknown as Logger, onResult: (result) => reloads.inc({ tls: name, result }) }));
  if (tls) reloader('mesh', cfg.self.tls!, tls, (m) => party.mesh.updateTls({ ...tls, ca: m.ca!, cert: m.cert, key: m.key }));
  if (httpMaterial) reloader('http', httpTls!, httpMaterial, (m) => (app.server as unknown as TlsServer).setSecureContext({ ...m }));
  r.register(new Collected('mpc_cert_expiry_seconds', 'Seconds until each certificate in use expires (negative: expired), by material (mesh, http), role (identity, ca) and subject.', 'gauge', () => {
    const now = Date.now();
    return reloaders.flatMap((rl) => rl.certs().map((c) => [{ tls: rl.name, role: c.role, subject: c.subject }, Math.round((c.notAfterMs - now) / 1000)] as [Record<string, string>, number]));
  }));
  const stopRuntime = registerRuntimeMetrics(r);
  r.register(new Collected('mpc_build_info', 'Always 1: the build (package version), its link version and the lowest it links with, the Node.js version.', 'gauge', () => [[BUILD_INFO, 1]]));

  registerApi(app, party, {
    tokens: cfg.tokens,
    ...(cfg.self.clients ? { clients: cfg.self.clients } : {}),
    operatorTokens: cfg.operatorTokens,
    corsOrigins: cfg.cors.origins,
    ...(cfg.self.staticDir ? { staticDir: cfg.self.staticDir } : {}),
    ...(cfg.self.staticFiles ? { staticFiles: cfg.self.staticFiles } : {}),
    longPollMaxMs,
    requestTimeoutMs: cfg.http.requestMs,
    metricsOnApi: !cfg.self.metrics && isLoopbackHost(cfg.self.http.host),
  });

  // /metrics on a listener of its own (parties[i].metrics): plain HTTP, GET /metrics only, for the monitoring network.
  const metricsServer = cfg.self.metrics ? createHttpServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) { res.writeHead(200, { 'content-type': METRICS_TYPE }).end(r.render()); return; }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }) : null;
  const closeMetrics = () => new Promise<void>((resolve) => { if (!metricsServer?.listening) { resolve(); return; } metricsServer.close(() => resolve()); metricsServer.closeAllConnections(); });

  return {
    app,
    party,
    async start() {
      const started = await party.start();
      for (const rl of reloaders) rl.start();
      return started;
    },
    async listen() {
      await app.listen({ host: cfg.self.http.host, port: cfg.self.http.port });
      const addr = app.server.address();
      let metricsPort: number | undefined;
      if (metricsServer) {
        await new Promise<void>((resolve, reject) => { metricsServer.once('error', reject); metricsServer.listen(cfg.self.metrics!.port, cfg.self.metrics!.host, () => resolve()); });
        const m = metricsServer.address();
        metricsPort = typeof m === 'object' && m ? m.port : cfg.self.metrics!.port;
      } else if (!isLoopbackHost(cfg.self.http.host)) app.log.warn('no metrics listener (parties[i].metrics): /metrics is not served');
      return { httpPort: typeof addr === 'object' && addr ? addr.port : cfg.self.http.port, ...(metricsPort !== undefined ? { metricsPort } : {}) };
    },
    async close() {
      stopRuntime();
      for (const rl of reloaders) rl.stop();
      await closeMetrics();
      await party.close();
      await app.close();
    },
    kill() {
      stopRuntime();
      for (const rl of reloaders) rl.stop();
      void closeMetrics();
      party.kill();
      void app.close();
    },
  };
}
