/**
 * PATE teacher ensembles through three party processes and the Node SDK (the party config's policy: `model.ensemble`
 * with its `noise`; parties/README.md "PATE teacher ensembles"). Three Network A teachers (seeds 2, 3, 4), Laplace
 * noise ε = 1 on the vote counts (L1 sensitivity 2: b = 2, 'discrete-exact': the sum of P0's and P1's draws):
 *   - the label released for one image, drawn 40 times, inside exact binomial bounds (α = 1e-6) of its probability
 *     under argmax(votes + noise), the votes computed in plaintext from the teachers (bench/dp-probe.ts);
 *   - a logits request refused (E_PRIVACY_POLICY); ε charged once per image at each party;
 *   - a party configured with another ε never serves: the links refuse each other (the ensemble's model hash covers
 *     the noise settings) and no party becomes ready.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { writeBundles } from '../model-import/bundle.js';
import { launchLocal, type Launched } from '../parties/launch.js';
import { TEST_WARMUP } from '../parties/testing/quick-warmup.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA } from '../protocol/seed-models.js';
import { binomialBounds, budgets, declaredNoise, DP_C, DP_F, DP_IN, dpImages, noisyArgmaxProbs } from '../bench/dp-probe.js';
import { until } from './testing/deploy.js';

const SEEDS = [2, 3, 4];
const EPS = 1;
const ALPHA = 1e-6;

function teacherDirs(dir: string): string[] {
  return SEEDS.map((seed) => {
    const d = path.join(dir, `teacher-${seed}`);
    writeBundles({ ir: networkA(seed), sourceHash: createHash('sha256').update(`pate teacher ${seed}`).digest('hex'), sourceFile: `teacher-${seed}`, format: 'ir' }, d, { fracBits: DP_F });
    return d;
  });
}

describe('PATE through three party processes', () => {
  let l: Launched;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'e2e-pate-'));
    l = await launchLocal({ ensemble: { teacherDirs: teacherDirs(dir), noise: { mechanism: 'laplace', epsilon: EPS } }, logLevel: 'info', readyTimeoutMs: 60_000, warmup: TEST_WARMUP, privacy: { budget: { epsilon: 1000, delta: 1e-5 } } });
  }, 90_000);
  afterAll(async () => { await l?.stop(); rmSync(dir, { recursive: true, force: true }); });

  it('the noisy-max label follows the declared noise on the teachers\' votes; logits refused; ε once per image', async () => {
    const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 30_000, expectedModelHash: l.modelHash });
    const { x } = dpImages(11, 1, Infinity);
    await expect(client.predict({ data: x, shape: [DP_IN] })).rejects.toMatchObject({ code: 'E_PRIVACY_POLICY' });
    // The votes in plaintext: each teacher's argmax (ties to the lowest class, as the secure argmax).
    const votes = new Float64Array(DP_C);
    for (const seed of SEEDS) {
      const z = plainForward(networkA(seed), Float64Array.from(x), 1).data;
      let best = 0;
      for (let c = 1; c < DP_C; c++) if (z[c]! > z[best]!) best = c;
      votes[best]! += 1;
    }
    const B = 8, S = 5, n = B * S;
    const xs = new Float32Array(B * DP_IN);
    for (let i = 0; i < B; i++) xs.set(x, i * DP_IN);
    const counts = new Array<number>(DP_C).fill(0);
    for (let s = 0; s < S; s++) {
      const r = await client.predict({ data: xs, shape: [B, DP_IN] }, { batch: true, privacy: { outputMode: 'label' } });
      for (const k of r.index) counts[k]! += 1;
    }
    // The declared law: Laplace(2/ε) per count, two draws (P0's and P1's), by our own calibration.
    const noise = declaredNoise({ outputMode: 'label', dp: { mechanism: 'laplace', epsilon: EPS, sensitivity: 2 } });
    const D = 40_000;
    const p = noisyArgmaxProbs(votes, noise, D);
    for (let c = 0; c < DP_C; c++) {
      const m = 5 * Math.sqrt((p[c]! * (1 - p[c]!)) / D) + 1 / D;
      const lo = binomialBounds(n, Math.max(0, p[c]! - m), ALPHA / DP_C)[0], hi = binomialBounds(n, Math.min(1, p[c]! + m), ALPHA / DP_C)[1];
      expect(counts[c], `label ${c}: ${counts[c]} of ${n}, p ${p[c]!.toFixed(3)} (votes [${Array.from(votes)}]), bounds [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo);
      expect(counts[c]).toBeLessThanOrEqual(hi);
    }
    // Without noise the majority label would come every time: outside the bounds.
    const top = votes.indexOf(Math.max(...votes));
    expect(binomialBounds(n, Math.min(1, p[top]! + 5 * Math.sqrt(p[top]! / D) + 1 / D), ALPHA)[1]).toBeLessThan(n);
    const want = JSON.stringify([[n, 0], [n, 0], [n, 0]]);
    const ok = await until(async () => JSON.stringify((await budgets(l.urls, l.token)).map((b) => [b.queries, b.pendingQueries])) === want, 10_000);
    expect(ok, JSON.stringify((await budgets(l.urls, l.token)).map((b) => [b.queries, b.pendingQueries, b.basic.epsilon]))).toBe(true);
    expect((await budgets(l.urls, l.token)).map((b) => b.basic.epsilon)).toEqual([n * EPS, n * EPS, n * EPS]);
  }, 120_000);
});

describe('PATE: a party configured with another ε', () => {
  it('never serves: the links refuse each other, no party becomes ready', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'e2e-pate-mismatch-'));
    const lines: string[] = [];
    try {
      const start = launchLocal({ ensemble: { teacherDirs: teacherDirs(dir), noise: [{ mechanism: 'laplace', epsilon: EPS }, { mechanism: 'laplace', epsilon: EPS }, { mechanism: 'laplace', epsilon: 2 * EPS }] }, logLevel: 'info', readyTimeoutMs: 15_000, warmup: TEST_WARMUP, onLine: (p, line) => lines.push(`P${p} ${line}`) });
      await expect(start).rejects.toThrow(/not ready in time/);
      expect(lines.some((s) => s.startsWith('P2 ') && /E_SETTINGS_MISMATCH|E_MODEL_MISMATCH/.test(s)), lines.filter((s) => s.startsWith('P2 ')).slice(-5).join('\n')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
