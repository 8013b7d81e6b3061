/**
 * The party process's fault policy (parties/process-fault.ts) in real party processes: a party started with the
 * test-only switch SECURENN_TEST_FAULT raises an unhandled rejection (P1) or an uncaught exception (P0) on the turn
 * after it accepts its first client input, with that session in flight. The party must log exactly one line coded
 * E_PROCESS_FAULT (event, class; not the error's message), answer the client's waiting request with E_PROCESS_FAULT,
 * and exit with status 70; the other two stay up, not ready (the peer is missing); the client gets a coded error,
 * never an answer. Without a handler (before) the process died with Node's default (exit 1, stack on stderr, no code).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal, type Launched } from '../parties/launch.js';
import { FAULT_ENV, FAULT_EXIT_STATUS } from '../parties/process-fault.js';
import { TEST_WARMUP } from '../parties/testing/quick-warmup.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { until } from './testing/deploy.js';

const model = networkA();

describe('a party process that meets an unhandled rejection or an uncaught exception', () => {
  let l: Launched | undefined;
  afterEach(async () => { await l?.stop(); l = undefined; });

  for (const [party, kind, event] of [[1, 'rejection', 'unhandledRejection'], [0, 'exception', 'uncaughtException']] as const) {
    it(`P${party}, ${event}: one coded line, its session failed with E_PROCESS_FAULT, exit ${FAULT_EXIT_STATUS}; the others stay up, not ready`, async () => {
      const lines: { p: number; line: string }[] = [];
      l = await launchLocal({ plain: model, fracBits: 16, logLevel: 'info', readyTimeoutMs: 60_000, warmup: TEST_WARMUP, env: { [party]: { NODE_ENV: 'test', [FAULT_ENV]: `${kind}@input` } }, onLine: (p, line) => lines.push({ p, line }) });
      const child = l.children[party]!;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 20_000, expectedModelHash: l.modelHash });
      const x = { data: Float32Array.from(uniform(seededPrg(7), 784, 1), (v) => (v + 1) / 2), shape: [784] };
      const err = await client.predict(x).then(() => null, (e: unknown) => e as { code?: string });
      expect(err, 'the faulted party\'s session was answered').not.toBeNull();
      expect(['E_PROCESS_FAULT', 'E_PEER_UNAVAILABLE']).toContain(err!.code);
      expect(await exited).toBe(FAULT_EXIT_STATUS);
      // The faulted party failed the session in flight with the code (its waiting request answers with it, unless the
      // SDK had already given up on it after another party's error).
      expect(lines.some((r) => r.p === party && r.line.includes('"msg":"session failed"') && r.line.includes('"code":"E_PROCESS_FAULT"'))).toBe(true);
      const faultLines = lines.filter((r) => r.p === party && r.line.includes('"code":"E_PROCESS_FAULT"') && r.line.includes('"msg":"process fault'));
      expect(faultLines, lines.filter((r) => r.p === party).slice(-8).map((r) => r.line).join('\n')).toHaveLength(1);
      const f = JSON.parse(faultLines[0]!.line) as Record<string, unknown>;
      expect(f).toMatchObject({ level: 50, code: 'E_PROCESS_FAULT', event, party, errorClass: 'TypeError' });
      expect(faultLines[0]!.line).not.toContain('test fault');
      // The other two: alive, healthy, not ready while the faulted party is missing.
      for (const p of [0, 1, 2].filter((q) => q !== party)) {
        expect(l.children[p]!.exitCode).toBeNull();
        expect((await fetch(`${l.urls[p]}/healthz`)).status).toBe(200);
        expect(await until(async () => (await fetch(`${l!.urls[p]}/readyz`)).status === 503, 5_000)).toBe(true);
      }
    }, 90_000);
  }
});
