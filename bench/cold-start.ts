/**
 * Cold start: the latency of a freshly started deployment's first
 * predictions against its warm latency, with and without the parties'
 * start-up warm-up (parties/warmup.ts).
 *
 *   npx tsx bench/cold-start.ts [--model networkA,cnn-maxpool] [--rounds 1] [--client-warmup N]
 *                               [--after N] [--warmup-runs R] [--warmup-ms M] [--no-write]
 *   (`npm run bench` runs it too, after its cases, unless --no-cold-start)
 *
 * Per model: first a throwaway deployment warms this client up (the SDK's
 * code is JIT-compiled too: --client-warmup predictions, default 500 for
 * Network A, 30 for the CNN), so that what follows measures the parties.
 * Then, per round, two fresh deployments one after the other: warm-up off
 * (`warmup.runs` 0) and on (`--warmup-runs`, `--warmup-ms`; default the
 * config default). On each: the time until the three /readyz say ready, the
 * first prediction, the median of the first 100, and the "warm" median: the
 * last 100 of --after predictions (default 1000 for Network A, 200 for the
 * CNN; BENCHMARKS.md: Network A's latency falls over its first ~1000). The
 * target: first-100 median within 1.5x of the warm median. Predictions at
 * batch 1, back to back, each after the offline phase of the previous one
 * is done (as `npm run bench` measures), the first after the one that the
 * warm-up asks for (parties/warmup.ts: a bundle of the warmed shape).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { sizeOf } from '../protocol/layers/types.js';
import { networkA, seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { launchLocal } from '../parties/launch.js';
import type { WarmupOptions } from '../parties/warmup.js';
import { median, replaceSection } from './report.js';
import { waitPrepIdle } from './prep-wait.js';

interface Spec { label: string; make: () => ModelIR<FloatTensor>; fracBits: number; clientWarmup: number; after: number }
export const COLD_MODELS: Record<string, Spec> = {
  networkA: { label: 'MNIST Network A', make: () => networkA(), fracBits: 16, clientWarmup: 500, after: 1000 },
  'cnn-maxpool': { label: 'seed CNN MaxPool 150x125x1', make: () => seedCnn('maxpool2d'), fracBits: 13, clientWarmup: 30, after: 200 },
};

export interface ColdRow { model: string; warmup: 'off' | 'on'; readyMs: number; warmupRuns: number; warmupClientRuns: number; warmupMs: number; firstMs: number; firstPrep: boolean; firstRunMs: number; first100Ms: number; warmMs: number; ratio: number; n: number }

const log = (s: string): void => { process.stderr.write(`${s}\n`); };

async function deployment(spec: Spec, warmup: Partial<WarmupOptions>, n: number, clientWarm?: boolean): Promise<{ ms: number[]; readyMs: number; warmupRuns: number; warmupClientRuns: number; warmupMs: number; first: { preprocessed: boolean; ms: number } }> {
  const model = spec.make();
  const t0 = performance.now();
  const l = await launchLocal({
    plain: model, fracBits: spec.fracBits, logLevel: 'warn', warmup,
    batch: { windowMs: 0, maxBatch: 8, maxConcurrentRuns: 1 }, sessions: { defaultDeadlineMs: 600_000, maxDeadlineMs: 600_000 }, readyTimeoutMs: 600_000,
  });
  const readyMs = performance.now() - t0;
  try {
    const rz = (await (await fetch(`${l.urls[0]}/readyz`)).json()) as { warmup?: { runs: number; clientRuns?: number; ms: number } };
    const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 600_000, expectedModelHash: l.modelHash });
    const x = uniform(seededPrg(11), sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);
    // The offline phase of the warmed-up shape (parties/warmup.ts) finishes before the first prediction, as after an idle moment.
    await waitPrepIdle(l.urls[0]);
    const ms: number[] = [];
    let first = { preprocessed: false, ms: NaN };
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const { sessionId } = await client.predict({ data: x, shape: model.inputShape });
      ms.push(performance.now() - t);
      // P0's record of the first run (operator token): whether it took a preprocessed bundle, and P0's protocol time.
      if (i === 0) first = await firstRun(l.urls[0], l.token, sessionId);
      await waitPrepIdle(l.urls[0]);
      if (!clientWarm && (i === 0 || (i + 1) % 100 === 0)) log(`  prediction ${i + 1}: ${ms[i]!.toFixed(1)} ms (median so far of the last 100: ${median(ms.slice(-100)).toFixed(2)} ms)`);
    }
    return { ms, readyMs, warmupRuns: rz.warmup?.runs ?? 0, warmupClientRuns: rz.warmup?.clientRuns ?? 0, warmupMs: rz.warmup?.ms ?? 0, first };
  } finally {
    await l.stop();
  }
}

async function firstRun(url: string, token: string, sessionId: string): Promise<{ preprocessed: boolean; ms: number }> {
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`${url}/v1/sessions/${sessionId}/run`, { headers: { authorization: `Bearer ${token}` } });
    if (r.ok) { const { run } = (await r.json()) as { run: { preprocessed?: boolean; ms: number } }; return { preprocessed: run.preprocessed === true, ms: run.ms }; }
    await new Promise((res) => setTimeout(res, 20));
  }
  return { preprocessed: false, ms: NaN };
}

export async function coldStart(keys: string[], o: { rounds?: number; clientWarmup?: number; after?: number; warmup?: Partial<WarmupOptions> } = {}): Promise<ColdRow[]> {
  const rows: ColdRow[] = [];
  for (const key of keys) {
    const spec = COLD_MODELS[key];
    if (!spec) throw new Error(`cold start: unknown model '${key}' (known: ${Object.keys(COLD_MODELS).join(', ')})`);
    const cw = o.clientWarmup ?? spec.clientWarmup, after = Math.max(200, o.after ?? spec.after);
    log(`cold start ${key}: warming this client up on a throwaway deployment (${cw} predictions)`);
    await deployment(spec, { runs: 0 }, cw, true);
    for (let r = 0; r < (o.rounds ?? 1); r++) {
      for (const mode of ['off', 'on'] as const) {
        log(`cold start ${key}, round ${r + 1}, warm-up ${mode}: fresh deployment, ${after} predictions`);
        const d = await deployment(spec, mode === 'off' ? { runs: 0 } : { ...o.warmup }, after);
        const first100 = median(d.ms.slice(0, 100)), warm = median(d.ms.slice(-100));
        rows.push({ model: spec.label, warmup: mode, readyMs: d.readyMs, warmupRuns: d.warmupRuns, warmupClientRuns: d.warmupClientRuns, warmupMs: d.warmupMs, firstMs: d.ms[0]!, firstPrep: d.first.preprocessed, firstRunMs: d.first.ms, first100Ms: first100, warmMs: warm, ratio: first100 / warm, n: after });
        log(`  ready after ${(d.readyMs / 1000).toFixed(1)} s (warm-up ${d.warmupRuns} runs${d.warmupClientRuns ? ` + ${d.warmupClientRuns} through the client path` : ''}, ${(d.warmupMs / 1000).toFixed(1)} s); first ${d.ms[0]!.toFixed(1)} ms (P0's run ${d.first.ms.toFixed(1)} ms${d.first.preprocessed ? ', preprocessed' : ', live'}), first-100 median ${first100.toFixed(2)} ms, warm median ${warm.toFixed(2)} ms: ${(first100 / warm).toFixed(2)}x`);
      }
    }
  }
  return rows;
}

const f = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

export function coldMarkdown(rows: ColdRow[], command: string, cpu: string, load: [number, number]): string {
  const out = [
    `Cold start (\`${command}\`, ${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} x ${cpu}, 1-minute load ${load[0].toFixed(1)} → ${load[1].toFixed(1)}: a shared machine): each row a freshly started deployment (three party processes, mTLS, batch 1, back to back), the client already warm. "ready" is from launch until the three /readyz say ready (certificates, model import, processes, links and, with warm-up, the warm-up); "warm" is the median of the deployment's last 100 of its first N predictions. Target: first-100 median within 1.5x of warm.`,
    '',
    '| model | warm-up | ready after | warm-up runs (time) | first prediction (P0\'s run; dealing) | first-100 median | warm median (last 100 of N) | first-100 / warm |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.model} | ${r.warmup} | ${(r.readyMs / 1000).toFixed(1)} s | ${r.warmup === 'on' ? `${r.warmupRuns}${r.warmupClientRuns ? ` + ${r.warmupClientRuns} client-path` : ''} (${(r.warmupMs / 1000).toFixed(1)} s)` : '–'} | ${f(r.firstMs)} ms (${f(r.firstRunMs)} ms; ${r.firstPrep ? 'preprocessed' : 'live'}) | ${f(r.first100Ms)} ms | ${f(r.warmMs)} ms (N = ${r.n}) | ${r.ratio.toFixed(2)}x${r.ratio <= 1.5 ? '' : ' (over 1.5x)'} |`),
  ];
  return out.join('\n');
}

export function writeColdSection(md: string): void {
  const url = new URL('../BENCHMARKS.md', import.meta.url);
  let doc = '# Benchmarks\n';
  try { doc = readFileSync(url, 'utf8'); } catch { /* new file */ }
  if (!doc.includes('<!-- bench:cold:begin -->')) doc = doc.replace('<!-- bench:run:end -->', '<!-- bench:run:end -->\n\n<!-- bench:cold:begin -->\n<!-- bench:cold:end -->');
  writeFileSync(url, replaceSection(doc, '<!-- bench:cold:begin -->', '<!-- bench:cold:end -->', md));
}

export const cpuName = (): string => /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';

// The file name too: in a bundle of another entry (bench/cuda-device.sh packs bench/run.ts) import.meta.url is the bundle's.
if (import.meta.url === `file://${process.argv[1]}` && /cold-start\.[mc]?[jt]s$/.test(process.argv[1] ?? '')) {
  const argv = process.argv.slice(2);
  const opt = (n: string): string | undefined => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : undefined; };
  const num = (n: string): number | undefined => (opt(n) === undefined ? undefined : Number(opt(n)));
  const keys = (opt('--model') ?? 'networkA,cnn-maxpool').split(',');
  const warmup: Partial<WarmupOptions> = { ...(num('--warmup-runs') !== undefined ? { runs: num('--warmup-runs')! } : {}), ...(num('--warmup-ms') !== undefined ? { maxMs: num('--warmup-ms')! } : {}) };
  const load0 = loadavg()[0]!;
  coldStart(keys, { rounds: num('--rounds') ?? 1, ...(num('--client-warmup') !== undefined ? { clientWarmup: num('--client-warmup')! } : {}), ...(num('--after') !== undefined ? { after: num('--after')! } : {}), warmup }).then((rows) => {
    const md = coldMarkdown(rows, `npx tsx bench/cold-start.ts${argv.length ? ` ${argv.join(' ')}` : ''}`, cpuName(), [load0, loadavg()[0]!]);
    process.stdout.write(`${md}\n`);
    if (!argv.includes('--no-write')) writeColdSection(md);
    process.exit(0);
  }, (e: unknown) => { console.error(e); process.exit(1); });
}
