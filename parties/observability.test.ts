import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PartyId } from '../protocol/ring/types.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { shareBundles } from './model-source.js';
import { createPartyServer, type PartyServer } from './server.js';
import { finishSession, partyTrio, startSession, testCerts, type PartyTrio } from './testing/trio.js';

const F = 13;
const withToken = { authorization: 'Bearer observability-token-0123456789' };
const fetchText = (port: number, p: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
  get({ host: '127.0.0.1', port, path: p }, (res) => { let b = ''; res.setEncoding('utf8'); res.on('data', (c: string) => { b += c; }); res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b })); }).on('error', reject);
});

function depWith(self: DeploymentConfig['parties'][number]): DeploymentConfig {
  return { logLevel: 'silent', parties: [self, { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } }, { http: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } }], insecureLocal: true };
}

describe('/metrics on a port of its own', () => {
  const bundles = shareBundles(networkA(), F);
  let srv: PartyServer | undefined;
  afterAll(async () => { await srv?.close(); });

  it('parties[i].metrics: served there (plain HTTP, GET /metrics only), not on the client API', async () => {
    const dep = depWith({ http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' }, metrics: { host: '127.0.0.1', port: 0 } });
    srv = createPartyServer(resolveConfig(dep, 0, process.cwd(), { tokens: ['observability-token-0123456789'] }), { model: { kind: 'memory', bundle: bundles[0] }, logger: false });
    await srv.start();
    const { metricsPort } = await srv.listen();
    expect(metricsPort).toBeGreaterThan(0);
    const m = await fetchText(metricsPort!, '/metrics');
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/^mpc_build_info\{version="[^"]+",link_version="4",min_link_version="3",node="[^"]+",commit="[^"]*"\} 1$/m);
    expect(m.body).toMatch(/^mpc_model_loaded 1$/m);
    // Runtime metrics, named as prom-client's defaults.
    const num = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(m.body)?.[1]);
    expect(num('process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(num('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(num('nodejs_heap_size_used_bytes')).toBeLessThanOrEqual(num('nodejs_heap_size_total_bytes'));
    expect(num('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(num('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(Math.abs(num('process_start_time_seconds') - (Date.now() / 1000 - process.uptime()))).toBeLessThan(2);
    expect(m.body).toMatch(/^# TYPE nodejs_gc_duration_seconds histogram$/m);
    expect((await fetchText(metricsPort!, '/v1/model')).status).toBe(404);
    // Not a public route of the API any more: without a token 401, with one 404.
    expect((await srv.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await srv.app.inject({ method: 'GET', url: '/metrics', headers: withToken })).statusCode).toBe(404);
  });

  it('without it: on the client API only where that listens on loopback, nowhere when it listens on other addresses', async () => {
    const c = testCerts();
    const mk = (host: string) => createPartyServer(resolveConfig({
      logLevel: 'silent',
      parties: [{ http: { host, port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' }, tls: { ca: c.ca.cert, cert: c.parties[0].cert, key: c.parties[0].key } }, {}, {}] as unknown as DeploymentConfig['parties'],
    }, 0 as PartyId, process.cwd(), { tokens: ['observability-token-0123456789'] }), { model: { kind: 'memory', bundle: bundles[0] }, logger: false });
    const loop = mk('127.0.0.1');
    const wide = mk('0.0.0.0');
    try {
      expect((await loop.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      expect((await wide.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect((await wide.app.inject({ method: 'GET', url: '/metrics', headers: withToken })).statusCode).toBe(404);
    } finally {
      await loop.close();
      await wide.close();
    }
  });
});

describe('run latency by model and output mode, layer time by kind', () => {
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: networkA(), fracBits: F, tls: false }); });
  afterAll(async () => { await t.close(); });

  it('one inference in logits and one in label mode: one run each in mpc_run_duration_seconds, the dense layers in mpc_layer_duration_seconds', async () => {
    const x = uniform(seededPrg(7), 784, 1);
    expect((await finishSession(t, await startSession(t, x, 1, F), F)).ok).toBe(true);
    expect((await finishSession(t, await startSession(t, x, 1, F, { privacy: { outputMode: 'label' } }), F)).ok).toBe(true);
    const metrics = (await t.servers[0].app.inject({ method: 'GET', url: '/metrics' })).body;
    const model = t.modelHash.slice(0, 12);
    expect(metrics).toMatch(new RegExp(`^mpc_run_duration_seconds_count\\{model="${model}",output="logits",result="ok"\\} 1$`, 'm'));
    expect(metrics).toMatch(new RegExp(`^mpc_run_duration_seconds_count\\{model="${model}",output="label",result="ok"\\} 1$`, 'm'));
    // networkA: three dense layers per run (ReLU folded in or its own kind), two runs.
    const dense = Number(/^mpc_layer_duration_seconds_count\{kind="dense"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(dense).toBe(6);
    // The privacy step (argmax of the label run) is not timed per layer.
    expect(metrics).not.toMatch(/mpc_layer_duration_seconds_count\{kind="privacy"\}/);
  });
});
