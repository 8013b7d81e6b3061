/**
 * The zoo section of BENCHMARKS.md (bench/run.ts with a selection of zoo
 * models, bench/zoo-models.ts): per case the latency against its per-image
 * target, peak RSS per party against the limit, and rounds and bytes per
 * layer kind, summed from the parties' per-layer run stats (the privacy step
 * counts as kind 'privacy'). Pure: unit-tested in report.test.ts.
 */
import { fmtBytes, fmtMs, type CaseResult, type LayerStat, type RunMeta } from './report.js';

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

export function zooMarkdown(meta: RunMeta, cases: CaseResult[], rssLimitBytes: number): string {
  const out: string[] = [];
  out.push(`Command: \`${meta.command}\``);
  out.push('');
  out.push(`Run: ${meta.date}, commit ${meta.commit}; machine: \`nproc\` = ${meta.nproc}, CPU ${meta.cpu}, ${meta.memGiB.toFixed(0)} GiB RAM, Node ${meta.node}, ring kernels: ${meta.kernels}.${meta.loadavg ? ` 1-min load average ${meta.loadavg[0].toFixed(1)} at the start, ${meta.loadavg[1].toFixed(1)} at the end${meta.totalS ? ` of the ${Math.round(meta.totalS)} s run` : ''} (anything above 0 is other work sharing the ${meta.nproc} CPUs).` : ''} Transport: ${meta.transport === 'grpc' ? 'three party processes on loopback, gRPC with mTLS, client = client-sdk over HTTP' : 'in-memory, one process'}.`);
  out.push('');
  out.push('| model | batch | reps | latency median | per image | target per image | peak RSS P0 / P1 / P2 (limit ' + fmtBytes(rssLimitBytes) + ') | sent P0 / P1 / P2 per run | rounds | max abs err |');
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const c of cases) {
    if (c.error) { out.push(`| ${c.label} | ${c.batch} | – | failed: ${c.error.replace(/\|/g, '/')} | | | | | | |`); continue; }
    const target = c.targetMs === undefined ? '–' : `< ${fmtMs(c.targetMs)}: ${verdict(c.perImageMs < c.targetMs)}`;
    const rss = `${c.peakRssBytes.map(fmtBytes).join(' / ')}: ${verdict(c.peakRssBytes.every((b) => b < rssLimitBytes))}`;
    out.push(`| ${c.label} | ${c.batch} | ${c.warmup}+${c.reps} | ${fmtMs(c.latencyMs.median)} | ${fmtMs(c.perImageMs)} | ${target} | ${rss} | ${c.bytesPerParty.map(fmtBytes).join(' / ')} | ${c.rounds} | ${c.maxAbsErr.toExponential(1)} |`);
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
