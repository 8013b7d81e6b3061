/**
 * The malicious mode end to end: three real party processes (parties/launch.ts:
 * throwaway CA, mTLS between the parties, loopback) configured with security
 * 'malicious', serving Network A imported with the replicated weight shares,
 * and the Node SDK over HTTP. P1 is started with the test-only cheating switch
 * (SECURENN_TEST_CHEAT, parties/malicious-desk.ts: it alters one outgoing
 * matmul reshare in its first session): that prediction fails with
 * E_INTEGRITY and no result; the next ones are honest and equal the plaintext
 * reference within the fixed-point tolerance, with the same argmax.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal, type Launched } from '../parties/launch.js';
import { CHEAT_ENV } from '../parties/malicious-desk.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';

const F = 13;
const model = networkA();
const argmax = (v: ArrayLike<number>): number => Array.from(v).reduce((b, x, i, a) => (x > a[b]! ? i : b), 0);

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
    // Every party logs the failed run with E_INTEGRITY (the client stopped at the first answer: wait up to 10 s for the others).
    const failed = (p: number): boolean => lines.some((s) => s.startsWith(`P${p} `) && s.includes('"msg":"malicious run failed"') && s.includes('E_INTEGRITY'));
    const t0 = Date.now();
    while (![0, 1, 2].every(failed) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    for (const p of [0, 1, 2]) expect(failed(p)).toBe(true);
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < 2; i++) {
      const r = await c.predict(input);
      expect(r.model.security).toBe('malicious');
      expect(r.index).toBe(argmax(want));
      expect(Math.max(...Array.from(r.logits, (g, j) => Math.abs(g - want[j]!))) / scale).toBeLessThan(2e-2);
    }
  }, 240_000);
});
