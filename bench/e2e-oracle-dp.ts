/**
 * `npx tsx bench/e2e-oracle.ts --dp [--dp-images 1024] [--dp-labels 256]`: the DP output probe's big run (the CI
 * run is test/e2e-dp.test.ts; the checks are bench/dp-probe.ts). For each manifest policy below, Network A served
 * by three party processes (mTLS), the Node SDK at batch 8:
 *   - noisy logits of --dp-images images (10 logits each): KS distance of released − clip(plaintext) from the
 *     declared law, with the DKW critical value at α = 1e-6, and the variance ratio;
 *   - --dp-labels label requests on one image: label counts against the declared noisy argmax (exact binomial
 *     bounds at α = 1e-6 / 10, Monte Carlo 200,000 draws);
 *   - the accountants: queries at each party = images released (ε each), nothing pending.
 * One entry has no policy in the manifest: the client asks for the DP noise per request. --dp-only S: the entries
 * whose name contains S.
 * Prints one line per policy and a verdict; any failed check is a DIFFERENT line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal } from '../parties/launch.js';
import { TEST_WARMUP } from '../parties/testing/quick-warmup.js';
import type { PrivacyPolicy } from '../protocol/privacy/index.js';
import { binomialBounds, budgets, declaredNoise, DP_C, DP_IN, dpImages, ksCheck, noisyArgmaxProbs, writeDpBundles } from './dp-probe.js';

/** `policy`: the law the answers must follow; in the manifest unless `requestOnly` (then the model has none and the client asks for it). */
const POLICIES: { name: string; policy: PrivacyPolicy; clip: number; requestOnly?: boolean }[] = [
  { name: 'laplace discrete-exact', clip: 1, policy: { outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 2, sensitivity: 20, clip: 1 } } },
  { name: 'laplace discrete-exact, b 0.5 (labels informative)', clip: 1, policy: { outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 40, sensitivity: 20, clip: 1 } } },
  { name: 'laplace gamma-split', clip: 2, policy: { outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 8, sensitivity: 40, clip: 2, sampler: 'gamma-split' } } },
  { name: 'gaussian classic', clip: 1, policy: { outputMode: 'logits', dp: { mechanism: 'gaussian', epsilon: 0.5, delta: 1e-5, sensitivity: 6.33, clip: 1 } } },
  { name: 'request-only laplace (no policy in the manifest)', clip: 1, requestOnly: true, policy: { outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 2, sensitivity: 20, clip: 1 } } },
  { name: 'gaussian zcdp', clip: 1, policy: { outputMode: 'logits', dp: { mechanism: 'gaussian', epsilon: 4, delta: 1e-6, sensitivity: 6.33, clip: 1 } } },
];
const ALPHA = 1e-6;
const B = 8;

export async function dpMain(argv: string[]): Promise<void> {
  const num = (n: string, d: number): number => { const i = argv.indexOf(`--${n}`); return i >= 0 ? Number(argv[i + 1]) : d; };
  const images = Math.ceil(num('dp-images', 1024) / B) * B, labels = Math.ceil(num('dp-labels', 256) / B) * B;
  const t0 = performance.now();
  let bad = 0;
  const oi = argv.indexOf('--dp-only');
  const only = oi >= 0 ? argv[oi + 1]! : '';
  const chosen = POLICIES.filter((q) => q.name.includes(only));
  for (const { name, policy, clip, requestOnly } of chosen) {
    const dir = mkdtempSync(path.join(tmpdir(), 'e2e-oracle-dp-'));
    writeDpBundles(path.join(dir, 'bundle'), requestOnly ? undefined : policy);
    const privacy = requestOnly ? { dp: policy.dp! } : {};
    const l = await launchLocal({ bundleDir: path.join(dir, 'bundle'), logLevel: 'warn', readyTimeoutMs: 60_000, warmup: TEST_WARMUP, privacy: { budget: { epsilon: 1e7, delta: 0.5 } } });
    try {
      const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 60_000, expectedModelHash: l.modelHash });
      const noise = declaredNoise(policy);
      const diffs: number[] = [];
      for (let s = 0; s < images / B; s++) {
        const { x, ref } = dpImages(1000 + s, B, clip);
        const r = await client.predict({ data: x, shape: [B, DP_IN] }, { batch: true, privacy });
        r.logits.flat().forEach((v, i) => diffs.push(v - ref[i]!));
      }
      const ks = ksCheck(diffs, noise.cdf, ALPHA);
      // Power: the same samples against the law at 1.25x the scale (the sensitivity 1.25x) must be rejected.
      const wrong = ksCheck(diffs, declaredNoise({ ...policy, dp: { ...policy.dp!, sensitivity: policy.dp!.sensitivity * 1.25 } }).cdf, ALPHA);
      const varRatio = diffs.reduce((a, v) => a + v * v, 0) / diffs.length / noise.variance;
      // Labels: one image, its noisy argmax drawn `labels` times.
      const { x, ref } = dpImages(7, 1, clip);
      const xs = new Float32Array(B * DP_IN);
      for (let i = 0; i < B; i++) xs.set(x, i * DP_IN);
      const counts = new Array<number>(DP_C).fill(0);
      for (let s = 0; s < labels / B; s++) for (const k of (await client.predict({ data: xs, shape: [B, DP_IN] }, { batch: true, privacy: { ...privacy, outputMode: 'label' } })).index) counts[k]! += 1;
      const D = 200_000;
      const p = noisyArgmaxProbs(ref, noise, D);
      const off: string[] = [];
      for (let c = 0; c < DP_C; c++) {
        const m = 5 * Math.sqrt((p[c]! * (1 - p[c]!)) / D) + 1 / D;
        const lo = binomialBounds(labels, Math.max(0, p[c]! - m), ALPHA / DP_C)[0], hi = binomialBounds(labels, Math.min(1, p[c]! + m), ALPHA / DP_C)[1];
        if (counts[c]! < lo || counts[c]! > hi) off.push(`label ${c}: ${counts[c]} not in [${lo}, ${hi}]`);
      }
      // The accountants: every image released once, at every party, nothing left pending (P2 commits last).
      let q: number[][] = [];
      for (let i = 0; i < 50; i++) { q = (await budgets(l.urls, l.token)).map((b) => [b.queries, b.pendingQueries]); if (q.every(([, pd]) => pd === 0)) break; await new Promise((r) => setTimeout(r, 100)); }
      const want = images + labels;
      const budgetOk = q.every(([n, pd]) => n === want && pd === 0);
      const ok = ks.ok && off.length === 0 && budgetOk;
      if (wrong.ok) console.log(`  (low power: the law at 1.25x the scale is not rejected, KS ${wrong.d.toFixed(4)})`);
      if (!ok) bad++;
      console.log(`${ok ? 'equal' : 'DIFFERENT'} ${name}: ${noise.desc}; logits n=${ks.n} KS ${ks.d.toFixed(4)} (crit ${ks.crit.toFixed(4)} at 1e-6; at 1.25x scale ${wrong.d.toFixed(4)}) var ratio ${varRatio.toFixed(3)}; labels n=${labels} counts [${counts.join(',')}] p [${Array.from(p, (v) => v.toFixed(3)).join(',')}]${off.length ? ` OFF ${off.join('; ')}` : ''}; queries ${JSON.stringify(q)} (want ${want}, 0 pending)`);
    } finally {
      await l.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`\ne2e-oracle --dp: ${chosen.length} policies, ${images} images of noisy logits and ${labels} labels each, ${((performance.now() - t0) / 1000).toFixed(0)} s; DIFFERENT ${bad}`);
}
