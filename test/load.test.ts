/**
 * Load: 100 concurrent clients (client SDK, real HTTP on loopback)
 * against three party processes (mTLS mesh), for a bounded time. Every
 * request has its own input and its result is checked against the plaintext
 * output of that input: none lost, crossed or duplicated; no errors; party
 * memory stays bounded. Throughput and p99 latency are printed; bench/load.ts
 * runs the same load longer and writes them to BENCHMARKS.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchLocal, type Launched } from '../parties/launch.js';
import { TEST_WARMUP } from '../parties/testing/quick-warmup.js';
import { networkA } from '../protocol/seed-models.js';
import { runLoad } from './testing/load.js';

const model = networkA();
const DURATION_MS = Number(process.env.LOAD_TEST_MS ?? 8_000);

describe('100 concurrent clients for a bounded time', () => {
  let l: Launched;
  beforeAll(async () => {
    l = await launchLocal({ plain: model, fracBits: 16, logLevel: 'warn', readyTimeoutMs: 60_000, warmup: TEST_WARMUP, batch: { windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2 } });
  });
  afterAll(async () => { await l?.stop(); });

  it('no lost, crossed or duplicated results, no errors, bounded memory', async () => {
    const pids = l.children.map((c) => c.pid!);
    const r = await runLoad({ urls: l.urls, token: l.token, modelHash: l.modelHash, plain: model, clients: 100, durationMs: DURATION_MS, tolerance: 5e-3, timeoutMs: 60_000, pids });
    console.info(`[load] ${r.clients} clients, ${r.durationS.toFixed(1)} s: ${r.ok} ok (${r.throughput.toFixed(1)}/s), latency p50 ${r.latencyMs.p50.toFixed(0)} ms p99 ${r.latencyMs.p99.toFixed(0)} ms max ${r.latencyMs.max.toFixed(0)} ms; ` +
      `RSS MiB ${r.rssMiB.map((m, i) => `P${i} ${m.before.toFixed(0)}->${m.peak.toFixed(0)}`).join(', ')}; errors ${JSON.stringify(r.errors)}`);
    expect(r.started).toBeGreaterThanOrEqual(100);
    expect(r.lost).toBe(0);
    expect(r.wrong).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(r.errors).toEqual({});
    expect(r.ok).toBe(r.started);
    // Every client finished its last request within the per-request deadline of the budget.
    expect(r.durationS * 1000).toBeLessThan(DURATION_MS + 60_000);
    expect(r.latencyMs.p99).toBeLessThan(30_000);
    // Memory: each party stays under 1 GiB and grows by less than 400 MiB under this load.
    for (const m of r.rssMiB) {
      expect(m.peak).toBeLessThan(1024);
      expect(m.peak - m.before).toBeLessThan(400);
    }
    // Nothing left in flight at the parties afterwards.
    for (const u of l.urls.slice(0, 2)) {
      const text = await (await fetch(`${u}/metrics`)).text();
      expect(text).toMatch(/^mpc_sessions_active 0$/m);
      expect(text).toMatch(/^mpc_runs_in_flight 0$/m);
    }
  });
});
