/**
 * The zoo section of BENCHMARKS.md (bench/run.ts with a selection of zoo
 * models, bench/zoo-models.ts): per case the latency against its per-image
 * target (met; or, missed while other work took the CPUs, "not shown" with
 * the CPU floor from the parties' CPU time, bench/proc-cpu.ts; or not met),
 * each party's CPU time, peak RSS per party against the limit, and rounds and bytes per
 * layer kind, summed from the parties' per-layer run stats (the privacy step
 * counts as kind 'privacy'). Pure: unit-tested in report.test.ts.
 */
import { fmtBytes, fmtMs, type CaseResult, type LayerStat, type RunMeta } from './report.js';
import { precisionLabel } from './zoo-precision.js';

export interface KindStat { kind: string; layers: number; rounds: number; bytesSent: number; ms: number }

/** Layers of a case grouped by kind (in order of first appearance): count, rounds, bytes (all parties), P0 wall ms. */
export function byKind(layers: readonly LayerStat[]): KindStat[] {
  const m = new Map<string, KindStat>();
  for (const l of layers) {
    const k = l.kind || 'unknown';
    const e = m.get(k) ?? { kind: k, layers: 0, rounds: 0, bytesSent: 0, ms: 0 };
    e.layers++;
    e.rounds += l.rounds;
    e.bytesSent += l.bytesSent;
    e.ms += l.parties[0]?.ms ?? 0;
    m.set(k, e);
  }
  return [...m.values()];
}

const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');

/** Other work above this share of the CPUs during the timed runs makes a missed target "not shown" rather than "not met". */
export const LOADED_SHARE = 0.1;

/**
 * A lower bound of the per-image wall time on `nproc` idle CPUs from the parties' CPU time: no party finishes before
 * its own CPU time, and the three together cannot use more than nproc CPUs. NaN without CPU times.
 */
export function cpuFloorMs(c: Pick<CaseResult, 'partyCpuMs' | 'batch'>, nproc: number): number {
  const cpu = c.partyCpuMs;
  if (!cpu || cpu.length === 0 || cpu.some((v) => !Number.isFinite(v))) return NaN;
  return Math.max(...cpu, cpu.reduce((a, b) => a + b, 0) / nproc) / c.batch;
}

/** The target cell: met; or, missed while other work took a share of the CPUs, "not shown" with the CPU floor; or not met. */
export function targetVerdict(c: CaseResult, nproc: number): string {
  if (c.targetMs === undefined) return '–';
  const head = `< ${fmtMs(c.targetMs)}: `;
  if (c.perImageMs < c.targetMs) return `${head}met`;
  const floor = cpuFloorMs(c, nproc);
  const floorNote = Number.isFinite(floor) ? `; CPU floor ${fmtMs(floor)} ${floor < c.targetMs ? 'is under' : 'is over'} it` : '';
  if ((c.othersCpuShare ?? 0) >= LOADED_SHARE) return `${head}not shown (machine loaded${floorNote})`;
  return `${head}**not met**${floorNote}`;
}

export function zooMarkdown(meta: RunMeta, cases: CaseResult[], rssLimitBytes: number): string {
  const out: string[] = [];
  out.push(`Command: \`${meta.command}\``);
  out.push('');
  out.push(`Run: ${meta.date}, commit ${meta.commit}; machine: \`nproc\` = ${meta.nproc}, CPU ${meta.cpu}, ${meta.memGiB.toFixed(0)} GiB RAM, Node ${meta.node}, ring kernels: ${meta.kernels}.${meta.loadavg ? ` 1-min load average ${meta.loadavg[0].toFixed(1)} at the start, ${meta.loadavg[1].toFixed(1)} at the end${meta.totalS ? ` of the ${Math.round(meta.totalS)} s run` : ''} (anything above 0 is other work sharing the ${meta.nproc} CPUs).` : ''} Transport: ${meta.transport === 'grpc' ? 'three party processes on loopback, gRPC with mTLS, client = client-sdk over HTTP' : 'in-memory, one process'}.`);
  out.push('');
  out.push('Party CPU is each party process\'s user + system time during one `predict()` (median of the timed runs, from /proc); the CPU floor is the wall time those would need at least on ' + meta.nproc + ' idle CPUs (max of the largest party\'s CPU time and the three parties\' sum over ' + meta.nproc + '), per image; "others" is the share of the CPUs that other work kept busy during the timed runs. A target missed while others took ' + (100 * LOADED_SHARE).toFixed(0) + '% or more is "not shown", not "not met".');
  out.push('');
  out.push('| model | batch | reps | latency median | per image | target per image | party CPU P0 / P1 / P2 | CPU floor | others | peak RSS P0 / P1 / P2 (limit ' + fmtBytes(rssLimitBytes) + ') | sent P0 / P1 / P2 per run | rounds | max abs err: logits (probabilities) |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of cases) {
    if (c.error) { out.push(`| ${c.label} | ${c.batch} | – | failed: ${c.error.replace(/\|/g, '/')} | | | | | | | | | |`); continue; }
    const target = targetVerdict(c, meta.nproc);
    const cpu = c.partyCpuMs ? c.partyCpuMs.map(fmtMs).join(' / ') : '–';
    const others = c.othersCpuShare === undefined ? '–' : `${(100 * c.othersCpuShare).toFixed(0)}%`;
    const rss = `${c.peakRssBytes.map(fmtBytes).join(' / ')}: ${verdict(c.peakRssBytes.every((b) => b < rssLimitBytes))}`;
    out.push(`| ${c.label}${c.truncation ? ` (${precisionLabel(c)})` : ''} | ${c.batch} | ${c.warmup}+${c.reps} | ${fmtMs(c.latencyMs.median)} | ${fmtMs(c.perImageMs)} | ${target} | ${cpu} | ${fmtMs(cpuFloorMs(c, meta.nproc))} | ${others} | ${rss} | ${c.bytesPerParty.map(fmtBytes).join(' / ')} | ${c.rounds} | ${c.maxAbsErr.toExponential(1)}${c.maxAbsProbErr !== undefined ? ` (${c.maxAbsProbErr.toExponential(1)})` : ''} |`);
  }
  out.push('');
  out.push('### Rounds and bytes per layer kind');
  out.push('');
  out.push('Sums over the layers of each kind of one run (medians of the repetitions for the time): rounds are the Lamport depth the layers add (their sum is the run\'s depth), bytes are sent by the three parties together, time is P0\'s wall time.');
  for (const c of cases) {
    if (c.error) continue;
    out.push('');
    out.push(`#### ${c.label}, batch ${c.batch}`);
    out.push('');
    out.push('| kind | layers | rounds | sent (all parties) | wall (P0) |');
    out.push('|---|---|---|---|---|');
    for (const k of byKind(c.layers)) out.push(`| ${k.kind} | ${k.layers} | ${k.rounds} | ${fmtBytes(k.bytesSent)} | ${fmtMs(k.ms)} |`);
  }
  return out.join('\n');
}
