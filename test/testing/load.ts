/**
 * Load generator (not a test file), used by test/load.test.ts and
 * bench/load.ts: N concurrent clients, each a PrivateInferenceClient of its
 * own, each sending predictions one after the other until a time budget ends.
 * Every request carries a distinct input (client i, request j -> its own PRG
 * seed) and its result is checked against the plaintext forward pass of that
 * same input, so a lost, crossed or duplicated result is counted, not missed.
 * Party memory is sampled from /proc/<pid>/status (VmRSS) while it runs.
 *
 * `checkAfter`: the plaintext forward passes run after the time budget, not
 * between a client's requests (every result is still checked, against its
 * own input): on a small machine the clients' process shares the cores with
 * the parties, and the seed CNN's float64 forward pass would otherwise take
 * CPU from the parties and count against their throughput.
 * CPU: each party's user + system time (/proc/<pid>/stat) and the clients'
 * process's own over the load, so a report says whether the cores were busy.
 */
import { readFileSync } from 'node:fs';
import { PrivateInferenceClient } from '../../client-sdk/src/index.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { isMpcError } from '../../protocol/errors.js';
import { plainForward } from '../../protocol/reference/forward.js';
import { seededPrg, uniform } from '../../protocol/seed-models.js';

export interface LoadOptions {
  urls: readonly string[];
  token: string;
  modelHash?: string;
  plain: ModelIR<FloatTensor>;
  /** Concurrent clients. */
  clients: number;
  /** No new request starts after this (ms); the ones in flight finish. */
  durationMs: number;
  /** Requests keep starting after durationMs until this many have started (a loaded machine still tests enough; default 0). */
  minStarted?: number;
  /** Largest |secure - plaintext| accepted per logit. */
  tolerance: number;
  /** Per-request client deadline (ms). */
  timeoutMs?: number;
  /** Party process ids whose RSS is sampled. */
  pids?: readonly number[];
  sampleMs?: number;
  /** Check the results against the plaintext model after the time budget (default: right after each result). */
  checkAfter?: boolean;
}

export interface LoadReport {
  clients: number;
  durationS: number;
  started: number;
  ok: number;
  errors: Record<string, number>;
  /** Results whose logits do not match their own input's plaintext output. */
  wrong: number;
  /** Session ids seen more than once. */
  duplicates: number;
  /** Requests started but never settled. */
  lost: number;
  throughput: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Per party: RSS before the load, peak during it, and at the end (MiB). */
  rssMiB: { before: number; peak: number; end: number }[];
  /** CPU seconds (user + system) during the load: per party (pids order), and the clients' process. */
  cpuS: { parties: number[]; clients: number };
}

/** User + system CPU seconds of a process so far (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms); NaN if gone. */
export function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

const quantile = (sorted: number[], q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const n = o.plain.inputShape.reduce((a, b) => a * b, 1);
  const pids = o.pids ?? [];
  const rss = pids.map((pid) => { const v = rssMiB(pid); return { before: v, peak: v, end: v }; });
  const sampler = setInterval(() => pids.forEach((pid, i) => { const v = rssMiB(pid); if (v > rss[i]!.peak) rss[i]!.peak = v; }), o.sampleMs ?? 200);
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const sessions = new Map<string, number>();
  let started = 0, ok = 0, wrong = 0, settled = 0;
  const toCheck: { data: Float32Array; logits: ArrayLike<number> }[] = [];
  const check = (data: Float32Array, logits: ArrayLike<number>): boolean => {
    const want = plainForward(o.plain, Float64Array.from(data), 1).data;
    return logits.length === want.length && Array.from(logits).every((v, k) => Math.abs(v - want[k]!) <= o.tolerance);
  };
  const cpu0 = pids.map(cpuSeconds), own0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + o.durationMs;

  const oneClient = async (i: number): Promise<void> => {
    const client = new PrivateInferenceClient({ parties: o.urls, token: o.token, timeoutMs: o.timeoutMs ?? 60_000, ...(o.modelHash ? { expectedModelHash: o.modelHash } : {}) });
    for (let j = 0; performance.now() < end || started < (o.minStarted ?? 0); j++) {
      // A distinct input per (client, request): seed = i * 2^20 + j.
      const x = uniform(seededPrg(i * 1_048_576 + j + 1), n, 1).map((v) => (v + 1) / 2);
      const data = Float32Array.from(x);
      started += 1;
      const s = performance.now();
      try {
        const r = await client.predict({ data, shape: o.plain.inputShape });
        latencies.push(performance.now() - s);
        sessions.set(r.sessionId, (sessions.get(r.sessionId) ?? 0) + 1);
        if (o.checkAfter) toCheck.push({ data, logits: r.logits });
        else if (check(data, r.logits)) ok += 1;
        else wrong += 1;
      } catch (e) {
        const code = isMpcError(e) ? e.code : e instanceof Error ? e.name : 'unknown';
        errors[code] = (errors[code] ?? 0) + 1;
      } finally {
        settled += 1;
      }
    }
  };

  await Promise.all(Array.from({ length: o.clients }, (_, i) => oneClient(i)));
  const elapsed = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(own0);
  const cpu = pids.map((pid, i) => cpuSeconds(pid) - cpu0[i]!);
  clearInterval(sampler);
  for (const t of toCheck) { if (check(t.data, t.logits)) ok += 1; else wrong += 1; }
  pids.forEach((pid, i) => { rss[i]!.end = rssMiB(pid); });
  const sorted = latencies.slice().sort((a, b) => a - b);
  return {
    clients: o.clients,
    durationS: elapsed,
    started,
    ok,
    errors,
    wrong,
    duplicates: [...sessions.values()].filter((c) => c > 1).length,
    lost: started - settled,
    throughput: ok / elapsed,
    latencyMs: { p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? NaN, mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length) },
    rssMiB: rss,
    cpuS: { parties: cpu, clients: (own.user + own.system) / 1e6 },
  };
}
