/**
 * Where a Network A prediction spends its time as the client sees it (the SDK's
 * progress stages), with and without createWithInput (the development
 * measurement of the one-request session set-up):
 *
 *   npx tsx bench/sdk-stages.ts [warm-up = 300] [timed = 100]
 *
 * Launches the parties as `npm run bench` does, then for createWithInput true,
 * false, true, false (alternating: the parties keep warming up, so the order
 * matters): `warm-up` predictions, then `timed` ones, and prints the median
 * total and the median time to each stage ('uploading' ends when the shares
 * and, with createWithInput, the sessions are sent; 'computing' ends with both
 * output shares).
 */
import { performance } from 'node:perf_hooks';
import { PrivateInferenceClient, type ProgressStage } from '../client-sdk/src/index.js';
import { launchLocal } from '../parties/launch.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';

const warm = Number(process.argv[2] ?? 300), timed = Number(process.argv[3] ?? 100);
if (!Number.isInteger(warm) || warm < 0 || !Number.isInteger(timed) || timed < 1) throw new Error('usage: bench/sdk-stages.ts [warm-up >= 0] [timed >= 1]');
const model = networkA();
const l = await launchLocal({ plain: model, fracBits: 16, logLevel: 'warn', batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 }, sessions: { defaultDeadlineMs: 60_000, maxDeadlineMs: 60_000 }, readyTimeoutMs: 60_000 });
const median = (a: number[]): string => [...a].sort((x, y) => x - y)[a.length >> 1]!.toFixed(2);
const x = uniform(seededPrg(1), 784, 0.5).map((v) => v + 0.5);
try {
  for (const createWithInput of [true, false, true, false]) {
    const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 60_000, expectedModelHash: l.modelHash, createWithInput });
    const stages = new Map<ProgressStage, number[]>();
    const total: number[] = [];
    for (let i = 0; i < warm + timed; i++) {
      let last = 0;
      const t = performance.now();
      await client.predict({ data: x, shape: [784] }, {
        onProgress: (e) => { if (i >= warm) { const a = stages.get(e.stage) ?? []; a.push(e.elapsedMs - last); stages.set(e.stage, a); } last = e.elapsedMs; },
      });
      if (i >= warm) total.push(performance.now() - t);
    }
    // Each stage's time is from the previous progress event to this one.
    console.log(`createWithInput ${createWithInput}: total ${median(total)} ms; ${[...stages].map(([k, v]) => `to ${k} ${median(v)}`).join(', ')} ms (${timed} runs after ${warm})`);
  }
} finally {
  await l.stop();
}
process.exit(0);
