/**
 * bench/reuse-probe.ts, briefly: three party processes (the small CNN, exact truncation) on the smallest HTTP/2 window
 * and 17000-byte frames (most pooled messages in several frames), 3 clients for 6 s with batches of 1 to 4 images,
 * deadlines that expire mid-run and aborted requests, P2 killed and restarted at the middle; every answer equals its
 * own input's plaintext output, every error is coded, and the restarted deployment serves a final round right.
 * The probe's full sittings are in BENCHMARKS.md ("Buffer reuse and failure paths under concurrency").
 */
import { describe, expect, it } from 'vitest';
import { row, runProbe } from './reuse-probe.js';

describe('reuse probe (bench/reuse-probe.ts), a short sitting', () => {
  it('small frames, mixed batches, deadlines, aborts and a restarted P2: no wrong answer, no uncoded error, the final round right', async () => {
    const lines: string[] = [];
    const [v] = await runProbe({ seed: 3, seconds: 6, configs: ['small-frames'], models: ['conv'], clients: 3, final: 3, quickWarmup: true, restart: 2, log: (s) => lines.push(s) });
    console.info(`[reuse-probe] ${row(v!)}`);
    expect(v!.restarted).toBe(2);
    // The seeded schedule asks for every action and batch sizes above 1 (the draws do not depend on the timing: the three
    // clients' first requests are an abort, a deadline and an honest one, client 0's second a batch of 4). How many answers
    // come back depends on the load (the kill at 3 s fails the runs in flight); the final round's are checked below.
    expect(v!.started.honest).toBeGreaterThan(0);
    expect(v!.started.deadline).toBeGreaterThan(0);
    expect(v!.started.abort).toBeGreaterThan(0);
    expect(Object.keys(v!.batches).some((k) => Number(k) > 1)).toBe(true);
    expect(v!.equal + v!.wrong).toBeLessThanOrEqual(v!.started.honest + v!.started.deadline + v!.started.abort);
    expect(v!.wrong).toBe(0);
    expect(v!.uncoded).toEqual({});
    expect(v!.final.asked).toBe(3);
    expect(v!.final.right).toBe(3);
    expect(v!.partyCodes.some((m) => (m.E_PROCESS_FAULT ?? 0) > 0)).toBe(false);
  }, 240_000);
});
