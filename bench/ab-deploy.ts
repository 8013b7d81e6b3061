/**
 * Two deployments side by side (the A/B method of the development measurements):
 * launches two sets of three party processes as `npm run bench` does
 * (parties/launch.ts, MNIST Network A, the offline phase finishing between
 * predictions), B with other Node options and/or environment for its party
 * processes, and alternates predictions between them, so that both see the
 * same moments of a shared machine's noise. Prints the median end-to-end
 * latency and P0's run time over the last `measure` predictions of each.
 *
 *   npx tsx bench/ab-deploy.ts [--b-args "<Node options of B's parties>"] [--b-env KEY=VALUE]... [--runs 1600] [--measure 300]
 *
 * A's parties run with parties/launch.ts's LOCAL_PARTY_NODE_ARGS (or
 * PARTY_NODE_ARGS if set) and this process's environment; without a B
 * option the run is an A/A run, the noise floor. Each deployment gets half of
 * `runs` (default 1600: 800 each, past most of Network A's warm-up; see
 * BENCHMARKS.md). Example (BENCHMARKS.md, "a lower V8 interrupt budget"):
 *
 *   npx tsx bench/ab-deploy.ts --b-args "--single-threaded-gc --no-incremental-marking --interrupt-budget=8192"
 */
import { performance } from 'node:perf_hooks';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal, partyNodeArgs, type Launched } from '../parties/launch.js';
import { waitPrepIdle } from './prep-wait.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';

const argv = process.argv.slice(2);
let bArgs: string | undefined;
const bEnv: Record<string, string> = {};
let runs = 1600, measure = 300;
for (let i = 0; i < argv.length; i++) {
  const k = argv[i]!, v = argv[i + 1];
  if (v === undefined) throw new Error(`${k}: missing value`);
  if (k === '--b-args') bArgs = v;
  else if (k === '--b-env') { const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(v); if (!m) throw new Error(`--b-env: KEY=VALUE, got '${v}'`); bEnv[m[1]!] = m[2]!; }
  else if (k === '--runs') runs = Number(v);
  else if (k === '--measure') measure = Number(v);
  else throw new Error(`unknown option ${k}`);
  i++;
}
if (!Number.isInteger(runs) || !Number.isInteger(measure) || measure < 1 || 2 * measure > runs) throw new Error('--runs and --measure: integers with 1 <= 2 * measure <= runs');

const model = networkA();
/** Launch with PARTY_NODE_ARGS and extra variables set in this process's environment only while the parties spawn. */
async function launch(nodeArgs: string, env: Record<string, string>): Promise<{ l: Launched; client: PrivateInferenceClient }> {
  const saved = { ...process.env };
  Object.assign(process.env, env, { PARTY_NODE_ARGS: nodeArgs });
  try {
    const l = await launchLocal({ plain: model, fracBits: 16, logLevel: 'warn', batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 }, sessions: { defaultDeadlineMs: 3_600_000, maxDeadlineMs: 3_600_000 }, readyTimeoutMs: 120_000 });
    return { l, client: new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 3_600_000, expectedModelHash: l.modelHash }) };
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const aArgs = partyNodeArgs().join(' ');
const d = [await launch(aArgs, {}), await launch(bArgs ?? aArgs, bEnv)];
const x = uniform(seededPrg(1), 784, 0.5).map((v) => v + 0.5);
const t: [number[], number[]] = [[], []], p0: [number[], number[]] = [[], []];
try {
  for (let i = 0; i < runs; i++) {
    const arm = i % 2;
    const { l, client } = d[arm]!;
    const s = performance.now();
    const r = await client.predict({ data: x, shape: [784] });
    const ms = performance.now() - s;
    if (i >= runs - 2 * measure) {
      t[arm]!.push(ms);
      // The launch's token is also its operator token (parties/launch.ts): it reads the stats of any run at its party.
      const q = await fetch(`${l.urls[0]}/v1/sessions/${r.sessionId}/run`, { headers: { authorization: `Bearer ${l.token}` } });
      if (!q.ok) throw new Error(`GET run stats at P0: ${q.status}`);
      p0[arm]!.push(((await q.json()) as { run: { ms: number } }).run.ms);
    }
    await waitPrepIdle(l.urls[0]);
  }
} finally {
  await Promise.all(d.map((x) => x.l.stop()));
}
const med = (a: number[]): string => { const b = [...a].sort((q, r) => q - r); return b[b.length >> 1]!.toFixed(3); };
const bName = [bArgs !== undefined ? `node options "${bArgs}"` : '', ...Object.entries(bEnv).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(', ') || 'the same (A/A)';
console.log(`Network A, ${runs / 2} predictions per deployment, medians of the last ${measure} each`);
console.log(`A (node options "${aArgs}"): ${med(t[0])} ms end to end, P0 run ${med(p0[0])} ms`);
console.log(`B (${bName}): ${med(t[1])} ms end to end, P0 run ${med(p0[1])} ms`);
process.exit(0);
