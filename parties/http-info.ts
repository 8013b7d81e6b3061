/**
 * The other routes of the client API (http.ts registers them):
 *   GET  /v1/model                    ModelInfo
 *   GET  /v1/privacy/budget           the caller's privacy budget at this party (PrivacyBudgetResponse)
 *   GET  /healthz, /readyz, /metrics  (no token)
 *   GET  /*                           static demo files (P0, if configured; plus /sdk.js, /config.json)
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { API_VERSION, type PrivacyBudgetResponse } from '../protocol/api-contract.js';
import { ERROR_CODES, MpcError } from '../protocol/errors.js';
import type { Party } from './party.js';

export interface InfoRouteOptions {
  /** GET /metrics on this (client) API: only without a metrics listener of its own, on loopback (server.ts). */
  metricsOnApi: boolean;
  staticDir?: string;
  /** Extra public files by URL path (served before staticDir). */
  staticFiles?: Record<string, string>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.wasm': 'application/wasm', '.map': 'application/json', '.txt': 'text/plain; charset=utf-8',
};

export const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function registerInfoRoutes(app: FastifyInstance, party: Party, opts: InfoRouteOptions): void {
  const v = `/${API_VERSION}`;
  const metrics = party.metrics;

  app.get(`${v}/model`, async () => ({ ...party.modelInfo(), party: party.party }));

  // The caller's privacy budget at this party (its accountant: spent, pending, remaining epsilon).
  app.get(`${v}/privacy/budget`, async (req): Promise<PrivacyBudgetResponse> => {
    const client = req.clientId;
    return { party: party.party, client, ...(await party.privacyReport(client)) };
  });

  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok', party: party.party }));

  app.get('/readyz', { config: { public: true } }, async (_req, reply) => {
    const r = party.readiness();
    const refused = Object.entries(r.peerProblems ?? {}).map(([p, e]) => `${p} refused: ${e.code} ${e.message}`);
    return reply.code(r.ready ? 200 : ERROR_CODES.E_NOT_READY.http).send(r.ready ? { ...r, party: party.party } : { ...r, party: party.party, code: r.fault ?? 'E_NOT_READY', message: r.fault ? 'process fault: exiting for a restart' : !r.modelLoaded ? 'model not loaded' : !Object.values(r.peers).every(Boolean) ? `peers not connected${refused.length ? ` (${refused.join('; ')})` : ''}` : 'warming up' });
  });

  if (opts.metricsOnApi) app.get('/metrics', { config: { public: true } }, async (_req, reply) => reply.type(METRICS_TYPE).send(metrics.registry.render()));

  const sendFile = async (reply: FastifyReply, file: string, name: string) => {
    const body = await readFile(file).catch(() => null);
    if (!body) throw new MpcError('E_NOT_FOUND', `no such file: ${name}`);
    return reply.type(MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream').header('cache-control', 'no-cache').send(body);
  };
  for (const [url, file] of Object.entries(opts.staticFiles ?? {})) {
    app.get(url, { config: { public: true } }, async (_req, reply) => sendFile(reply, file, url));
  }
  if (opts.staticDir) {
    const root = path.resolve(opts.staticDir);
    app.get<{ Params: { '*': string } }>('/*', { config: { public: true } }, async (req, reply) => {
      let rel: string;
      try { rel = decodeURIComponent(req.params['*'] ?? ''); } catch { throw new MpcError('E_NOT_FOUND', 'no such file'); }
      let file = path.resolve(root, rel || 'index.html');
      if (file !== root && !file.startsWith(root + path.sep)) throw new MpcError('E_NOT_FOUND', 'no such file');
      const st = await stat(file).catch(() => null);
      if (st?.isDirectory()) file = path.join(file, 'index.html');
      return sendFile(reply, file, `/${rel}`);
    });
  }
}
