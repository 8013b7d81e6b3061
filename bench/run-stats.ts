/**
 * Helpers of bench/run.ts: the statistics of a case's repetitions and the
 * parties' run stats it reads after each inference.
 */
import type { LayerRecord, RunRecord } from '../parties/party.js';
import type { PrepStats } from './prep-wait.js';
import { median, type LayerStat } from './report.js';
import { applyOutputActivation } from '../model-import/output.js';
import type { OutputActivation } from '../protocol/ir.js';

/** Max abs error of got against want, and that over max |want|. */
export function errors(got: ArrayLike<number>, want: Float64Array): { abs: number; rel: number } {
  let abs = 0, scale = 0;
  for (let i = 0; i < want.length; i++) { abs = Math.max(abs, Math.abs(got[i]! - want[i]!)); scale = Math.max(scale, Math.abs(want[i]!)); }
  return { abs, rel: scale > 0 ? abs / scale : abs };
}

/** errors() on the logits, and `prob`: max abs error after the model's output activation (softmax / sigmoid), what issue 20's 1e-3 is about. */
export function outputErrors(got: ArrayLike<number>, want: Float64Array, N: number, act: OutputActivation): { abs: number; rel: number; prob: number } {
  const p = applyOutputActivation(Float64Array.from(got), N, act), q = applyOutputActivation(want, N, act);
  return { ...errors(got, want), prob: errors(p, Float64Array.from(q)).abs };
}

/** Per-layer medians over repetitions; runs[r][p] = layers of party p in repetition r. */
export function layerMedians(runs: LayerRecord[][][]): LayerStat[] {
  const first = runs[0]!;
  return first[0]!.map((l, i) => {
    const parties = [0, 1, 2].map((p) => {
      const ms = median(runs.map((r) => r[p]![i]!.ms));
      const waitMs = median(runs.map((r) => r[p]![i]!.waitMs));
      // compute = wall - wait of the medians, so that the two parts add up to the wall time shown.
      return { ms, waitMs, computeMs: Math.max(0, ms - waitMs), bytesSent: first[p]![i]!.bytesSent };
    });
    return { name: l.name, kind: l.kind, parties, bytesSent: parties.reduce((s, p) => s + p.bytesSent, 0), rounds: Math.max(...[0, 1, 2].map((p) => first[p]![i]!.rounds)) };
  });
}

/** Medians of each full 100 warm-up latencies, in order (none below 200 warm-ups). */
export function warmupCurve(ms: readonly number[]): number[] {
  if (ms.length < 200) return [];
  const out: number[] = [];
  for (let i = 0; i + 100 <= ms.length; i += 100) out.push(median(ms.slice(i, i + 100)));
  return out;
}

/** P0's mean time per bundle made between two prepStats readings. */
export const offlineMs = (a: PrepStats, b: PrepStats): number => (b.made > a.made ? (1000 * (b.seconds - a.seconds)) / (b.made - a.made) : NaN);

/** The party's full stats of a run: `token` is the launch's, also its operator token (parties/launch.ts). */
export async function partyRun(url: string, token: string, sessionId: string): Promise<{ run: RunRecord; process: { maxRssBytes: number } }> {
  // P2 (and sometimes P0/P1) records its run a moment after the client has its output: retry briefly.
  for (let i = 0; ; i++) {
    const r = await fetch(`${url}/v1/sessions/${sessionId}/run`, { headers: { authorization: `Bearer ${token}` } });
    if (r.ok) return (await r.json()) as { run: RunRecord; process: { maxRssBytes: number } };
    if (r.status !== 404 || i >= 500) throw new Error(`GET run stats at ${url}: ${r.status} ${await r.text()}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
