/**
 * The malicious mode end to end: three real party processes (parties/launch.ts:
 * throwaway CA, mTLS between the parties, loopback) configured with security
 * 'malicious', serving Network A imported with the replicated weight shares,
 * and the Node SDK over HTTP. P1 is started with the test-only cheating switch
 * (SECURENN_TEST_CHEAT, parties/malicious-desk.ts: it alters one outgoing
 * matmul reshare in its first session): that prediction fails with
 * E_INTEGRITY and no result; the next ones are honest and equal the plaintext
 * reference within the fixed-point tolerance, with the same argmax.
 *
 * Second deployment: P1 started with the switch's offline scope
 * (`1@offline:mal:mul`, parties/malicious-cheat.ts): it alters one product
 * reshare of its first OFFLINE mask batch (made after the first prediction,
 * which records the plan). That batch fails its MAC check with E_INTEGRITY at
 * every party, no entry of it exists, the epoch is discarded
 * (docs/MALICIOUS.md "Epochs and the offline phase"); the next prediction is
 * right, in a new epoch with its masks made inline; the new epoch's (honest)
 * batch then fills the pool and the prediction after uses it.
 *
 * Third deployment: config malicious.comparisons 'binary' (the comparisons in
 * protocol/malicious/binary/), P1 altering its first AND message: E_INTEGRITY
 * at every party, no result; the next predictions through the unchanged SDK
 * equal the plaintext, every run logged with comparisons 'binary'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient, type Prediction } from '../client-sdk/src/index.js';
import { launchLocal, type Launched } from '../parties/launch.js';
import { CHEAT_ENV } from '../parties/malicious-desk.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';

const F = 13;
const model = networkA();
const argmax = (v: ArrayLike<number>): number => Array.from(v).reduce((b, x, i, a) => (x > a[b]! ? i : b), 0);

/** Every party logs the failed run with E_INTEGRITY (the client stopped at the first answer: wait up to 10 s for the others). */
async function expectRunFailedAtEveryParty(lines: string[]): Promise<void> {
  const failed = (p: number): boolean => lines.some((s) => s.startsWith(`P${p} `) && s.includes('"msg":"malicious run failed"') && s.includes('E_INTEGRITY'));
  const t0 = Date.now();
  while (![0, 1, 2].every(failed) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
  for (const p of [0, 1, 2]) expect(failed(p)).toBe(true);
}

describe("security 'malicious': three party processes with mTLS, Network A, a cheating P1", () => {
  let l: Launched | undefined;
  const lines: string[] = [];
  beforeAll(async () => {
    l = await launchLocal({ plain: model, fracBits: F, security: 'malicious', logLevel: 'info', env: { 1: { [CHEAT_ENV]: '1:mal:matmul' } }, onLine: (p, line) => lines.push(`P${p} ${line}`), readyTimeoutMs: 90_000 });
  }, 120_000);
  afterAll(async () => { await l?.stop(); });

  it('the cheated prediction is E_INTEGRITY with no result; then honest predictions equal the plaintext reference (same argmax)', async () => {
    expect(l!.modelKind).toBe('bundle');
    const c = new PrivateInferenceClient({ parties: l!.urls, token: l!.token, timeoutMs: 120_000 });
    const x = uniform(seededPrg(9), 784, 0.5).map((v) => v + 0.5);
    const want = plainForward(model, x, 1).data;
    const input = { data: Float32Array.from(x), shape: [784] };
    await expect(c.predict(input, { requireSecurity: 'malicious' })).rejects.toMatchObject({ code: 'E_INTEGRITY', status: 502 });
    await expectRunFailedAtEveryParty(lines);
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < 2; i++) {
      const r = await c.predict(input);
      expect(r.model.security).toBe('malicious');
      expect(r.index).toBe(argmax(want));
      expect(Math.max(...Array.from(r.logits, (g, j) => Math.abs(g - want[j]!))) / scale).toBeLessThan(2e-2);
    }
  }, 240_000);
});

interface Logged { p: number; j: Record<string, unknown> }

describe("security 'malicious': three party processes with mTLS, Network A, P1 cheats in an offline mask batch", () => {
  let l: Launched | undefined;
  const logs: Logged[] = [];
  beforeAll(async () => {
    l = await launchLocal({
      plain: model, fracBits: F, security: 'malicious', logLevel: 'info', malicious: { poolInferences: 1 },
      env: { 1: { [CHEAT_ENV]: '1@offline:mal:mul' } },
      onLine: (p, line) => { if (line.startsWith('{')) { try { logs.push({ p, j: JSON.parse(line) as Record<string, unknown> }); } catch { /* not a log line */ } } },
      readyTimeoutMs: 90_000,
    });
  }, 120_000);
  afterAll(async () => { await l?.stop(); });

  const msgs = (msg: string): Logged[] => logs.filter((e) => e.j.msg === msg);
  /** Wait (bounded) until `msg` was logged by each of the three parties `k` times. */
  async function logged(msg: string, k: number, ms = 60_000): Promise<void> {
    const t0 = Date.now();
    const enough = (): boolean => [0, 1, 2].every((p) => msgs(msg).filter((e) => e.p === p).length >= k);
    while (!enough() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 50));
    expect(enough(), `${msg} x${k} at every party`).toBe(true);
  }

  it('the cheated batch fails its MAC check at every party, none of its masks is used, the epoch is dropped; the next predictions are right (new epoch, masks inline, then from the new pool)', async () => {
    const c = new PrivateInferenceClient({ parties: l!.urls, token: l!.token, timeoutMs: 120_000 });
    const x = uniform(seededPrg(9), 784, 0.5).map((v) => v + 0.5);
    const want = plainForward(model, x, 1).data;
    const input = { data: Float32Array.from(x), shape: [784] };
    const scale = Math.max(...Array.from(want, Math.abs));
    const right = (r: Prediction): void => {
      expect(r.model.security).toBe('malicious');
      expect(r.index).toBe(argmax(want));
      expect(Math.max(...Array.from(r.logits, (g, j) => Math.abs(g - want[j]!))) / scale).toBeLessThan(2e-2);
    };
    // 1. Honest: sets up epoch 1, records the plan; then batch 0 of epoch 1 runs, with P1's alteration.
    right(await c.predict(input, { requireSecurity: 'malicious' }));
    await logged('malicious run done', 1);
    const epoch1 = msgs('malicious run done')[0]!.j.epoch as string;
    await logged('malicious offline batch failed', 1);
    const failed = msgs('malicious offline batch failed');
    for (const e of failed) {
      expect(e.j.code).toBe('E_INTEGRITY');
      expect(e.j.epoch).toBe(epoch1);
      expect(e.j.batch).toBe(0);
    }
    // Where: in the batch's MAC check. The batch's makers (random MACed values and bits, products) open nothing, so its only
    // opening is the MAC check's step 2, the checked opening of u = rho + sum chi'_j v_j over every value made (mac-check.ts).
    // The altered reshare left P0's copy of P1's share unequal to P1's own: P2 sees it at that opening (open.ts: the share from
    // P0 and the hash from P1 disagree); P0 and P1 abort in the check's next step on P2's abort notice.
    const byParty = [0, 1, 2].map((p) => failed.find((e) => e.p === p)!.j);
    expect(byParty[2]!.step).toMatch(/^open#\d+$/);
    expect(byParty[2]!.err).toMatch(/disagree/);
    const k = /^check#(\d+):/.exec(String(byParty[0]!.step))?.[1];
    expect(k).toBeDefined();
    expect(String(byParty[1]!.step)).toMatch(new RegExp(`^check#${k}:`));
    expect(Number(/\d+/.exec(String(byParty[2]!.step))![0])).toBeGreaterThan(Number(k));
    await logged('malicious epoch discarded', 1);
    expect(msgs('malicious offline batch done')).toEqual([]);
    // 2. The next prediction: a new epoch (the hello shows no common one), masks made inline (no entry of the failed batch exists).
    right(await c.predict(input));
    await logged('malicious run done', 2);
    const second = msgs('malicious run done').slice(3);
    expect(second.map((e) => e.j.pooled)).toEqual([false, false, false]);
    expect(new Set(second.map((e) => e.j.epoch)).size).toBe(1);
    expect(second[0]!.j.epoch).not.toBe(epoch1);
    await logged('malicious epoch set up', 2);
    // 3. The new epoch's batch is honest (the switch fires once): it fills the pool, and the next prediction takes its masks from it.
    await logged('malicious offline batch done', 1);
    right(await c.predict(input));
    await logged('malicious run done', 3);
    const third = msgs('malicious run done').slice(6);
    expect(third.map((e) => [e.j.pooled, e.j.epoch])).toEqual(second.map((e) => [true, e.j.epoch]));
    expect(msgs('malicious offline batch failed')).toHaveLength(3);
  }, 240_000);
});

describe("security 'malicious' with malicious.comparisons 'binary': three party processes with mTLS, Network A, P1 alters its first AND message", () => {
  let l: Launched | undefined;
  const lines: string[] = [];
  beforeAll(async () => {
    l = await launchLocal({ plain: model, fracBits: F, security: 'malicious', logLevel: 'info', malicious: { comparisons: 'binary', poolInferences: 1 }, env: { 1: { [CHEAT_ENV]: '1:mal:andB' } }, onLine: (p, line) => lines.push(`P${p} ${line}`), readyTimeoutMs: 90_000 });
  }, 120_000);
  afterAll(async () => { await l?.stop(); });

  it('the cheated prediction is E_INTEGRITY at every party with no result; then the SDK (unchanged) reconstructs the plaintext reference, the runs logged in the binary domain', async () => {
    const c = new PrivateInferenceClient({ parties: l!.urls, token: l!.token, timeoutMs: 120_000 });
    const x = uniform(seededPrg(9), 784, 0.5).map((v) => v + 0.5);
    const want = plainForward(model, x, 1).data;
    const input = { data: Float32Array.from(x), shape: [784] };
    await expect(c.predict(input, { requireSecurity: 'malicious' })).rejects.toMatchObject({ code: 'E_INTEGRITY', status: 502 });
    await expectRunFailedAtEveryParty(lines);
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < 3; i++) {
      const r = await c.predict(input);
      expect(r.index).toBe(argmax(want));
      expect(Math.max(...Array.from(r.logits, (g, j) => Math.abs(g - want[j]!))) / scale).toBeLessThan(2e-2);
    }
    const done = lines.filter((s) => s.includes('"msg":"malicious run done"'));
    expect(done.length).toBeGreaterThanOrEqual(3);
    for (const s of done) expect(JSON.parse(s.slice(3))).toMatchObject({ comparisons: 'binary' });
  }, 240_000);
});
