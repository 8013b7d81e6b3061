/**
 * Pure helpers of the end-to-end benchmark (bench/run.ts): statistics, the
 * markdown section of BENCHMARKS.md and the SVG chart of latency per layer
 * (stacked: compute vs waiting in recv). No I/O here, so it is unit-tested.
 */

/** One layer of one case: medians over the timed repetitions. */
export interface LayerStat {
  name: string;
  kind: string;
  /** Per party (P0, P1, P2): wall ms of the layer, ms blocked in recv, compute = ms - waitMs, bytes sent. */
  parties: { ms: number; waitMs: number; computeMs: number; bytesSent: number }[];
  /** Bytes sent by the three parties together. */
  bytesSent: number;
  /** Lamport rounds of the layer (max over the parties). */
  rounds: number;
}

export interface CaseResult {
  key: string;
  model: string;
  label: string;
  batch: number;
  transport: 'grpc' | 'memory';
  fracBits: number;
  /** Zoo rows: the truncation rule and comparison ring the parties ran with (bench/zoo-precision.ts). */
  truncation?: 'local' | 'exact';
  compareBits?: 32 | 64;
  /** Warm-up runs done (at least --warmup, and until --warmup-s had passed). */
  warmup: number;
  reps: number;
  /** Latency of the case's first run (the first warm-up: before V8 has optimised the code), ms. */
  firstMs: number;
  /** Median latency of each 100 warm-up runs, in order, ms (cases with at least 200 warm-ups). */
  warmupCurveMs?: number[];
  /** End-to-end latency per inference (one predict() of `batch` images), ms. */
  latencyMs: { median: number; p90: number; min: number; max: number; all: number[] };
  perImageMs: number;
  /** Median of P0's protocol run time (secureForward at the party, no HTTP), ms. */
  protocolMs: number;
  /** Bytes each party sent in one run (one batch). */
  bytesPerParty: number[];
  messagesPerParty: number[];
  rounds: number;
  layers: LayerStat[];
  tfjsMs: number;
  /** Median latency / tfjs time for the same batch. */
  ratio: number;
  maxAbsErr: number;
  /** Max abs error after the model's output activation (probabilities); absent in older results. */
  maxAbsProbErr?: number;
  /** maxAbsErr / max |plaintext logit|. */
  maxRelErr: number;
  /** Peak resident set size per party process (grpc) or of the one process (memory), bytes. */
  peakRssBytes: number[];
  /**
   * grpc: the offline phase (parties/preprocessing.ts). runs: timed runs that took P2's dealt randomness
   * from a bundle made before them; offlineMs: mean wall time P0 saw to make one bundle (request to both
   * peers' reports) during the timed part; absent with --prep off.
   */
  prep?: { runs: number; offlineMs: number };
  /** Zoo rows: the per-image latency target at batch 1, ms. */
  targetMs?: number;
  /** grpc: CPU time (user + system) of each party process during one predict(), median over the timed runs, ms (bench/proc-cpu.ts). */
  partyCpuMs?: number[];
  /** grpc: share of the machine's CPUs that other work kept busy during the timed runs (median), 0..1 (bench/proc-cpu.ts). */
  othersCpuShare?: number;
  error?: string;
}

export interface RunMeta {
  date: string;
  command: string;
  nproc: number;
  cpu: string;
  memGiB: number;
  node: string;
  kernels: string;
  commit: string;
  transport: 'grpc' | 'memory';
  /** 1-minute load average when the run started and when it ended (other work on the machine shows here). */
  loadavg?: [number, number];
  /** Wall time of the whole benchmark, s. */
  totalS?: number;
  /** grpc: how the party processes ran the program (parties/launch.ts partyProgram). */
  partyRuntime?: 'bundle' | 'tsx';
  /** mesh.link of the parties (grpc transport; absent: grpc). */
  meshLink?: 'grpc' | 'h2';
  /** grpc: 'wait' (the offline phase runs, and finishes between inferences) or 'off' (disabled at the parties). */
  prep?: 'wait' | 'off';
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Nearest-rank percentile (p in (0, 100]): the smallest value with at least p% of the samples at or below it. */
export const percentile = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

export function latencyStats(all: readonly number[]): CaseResult['latencyMs'] {
  return { median: median(all), p90: percentile(all, 90), min: Math.min(...all), max: Math.max(...all), all: [...all] };
}

/** Milliseconds with sensible precision. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtBytes(b: number): string {
  if (!Number.isFinite(b)) return '–';
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(1)} KiB`;
  return `${b} B`;
}

const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(0)}%` : '–');

/** Layers worth showing: everything except free reshapes (flatten, reshape). */
export const shownLayers = (c: CaseResult): LayerStat[] => c.layers.filter((l) => l.kind !== 'flatten' && l.kind !== 'reshape');

/** One line per case: which layers (by kind) took the time, and how much of it was waiting. */
export function dominance(c: CaseResult, nproc?: number): string {
  const total = c.layers.reduce((s, l) => s + l.parties[0]!.ms, 0);
  const wait = c.layers.reduce((s, l) => s + l.parties[0]!.waitMs, 0);
  const byKind = new Map<string, number>();
  for (const l of c.layers) byKind.set(l.kind, (byKind.get(l.kind) ?? 0) + l.parties[0]!.ms);
  const kinds = [...byKind.entries()].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms >= 0.05 * total).map(([k, ms]) => `${k} ${pct(ms, total)}`).join(', ');
  const top = [...c.layers].sort((a, b) => b.parties[0]!.ms - a.parties[0]!.ms)[0];
  const busiest = top ? top.parties.map((p, i) => [i, p.computeMs] as const).sort((a, b) => b[1] - a[1])[0]! : null;
  const topText = top && busiest ? `; slowest layer ${top.name} (${fmtMs(top.parties[0]!.ms)}, ${pct(top.parties[0]!.waitMs, top.parties[0]!.ms)} waiting at P0, most compute at P${busiest[0]}: ${fmtMs(busiest[1])}, ${fmtBytes(top.bytesSent)} sent)` : '';
  const busy = c.layers.reduce((s, l) => s + l.parties.reduce((a, p) => a + p.computeMs, 0), 0);
  const cpu = total > 0 ? `; the three parties computed ${fmtMs(busy)} together, ${(busy / total).toFixed(1)}x the wall time${nproc ? ` (nproc = ${nproc})` : ''}` : '';
  return `**${c.label}, batch ${c.batch}**: ${kinds} of P0's protocol time; P0 waited in recv ${pct(wait, total)} of it${topText}${cpu}.`;
}

/** The markdown section between the bench:run markers. */
export function markdown(meta: RunMeta, cases: CaseResult[], chartPath: string): string {
  const out: string[] = [];
  out.push(`Command: \`${meta.command}\``);
  out.push('');
  out.push(`Run: ${meta.date}, commit ${meta.commit}; machine: \`nproc\` = ${meta.nproc}, CPU ${meta.cpu}, ${meta.memGiB.toFixed(0)} GiB RAM, Node ${meta.node}, ring kernels: ${meta.kernels}. ${meta.loadavg ? `1-min load average ${meta.loadavg[0].toFixed(1)} at the start, ${meta.loadavg[1].toFixed(1)} at the end${meta.totalS ? ` of the ${Math.round(meta.totalS)} s run` : ''} (anything above 0 is other work sharing the ${meta.nproc} CPUs). ` : ''}Transport: ${meta.transport === 'grpc' ? `three party processes (parties/main.ts${meta.partyRuntime === 'bundle' ? ', run as the bundle parties/party.bundle.mjs' : meta.partyRuntime === 'tsx' ? ', run through tsx' : ''}) on loopback, ${meta.meshLink === 'h2' ? 'gRPC (control) and the h2 data link (mesh.link h2, parties/mesh-h2.ts)' : 'gRPC'} with mTLS between them, client = client-sdk PrivateInferenceClient over HTTP` : 'in-memory, three parties in one process'}.`);
  out.push('');
  out.push('Latency is one `predict()` of the whole batch as the client sees it (sessions at the three parties, share upload, protocol run, output download), after the warm-up ("reps" = warm-up runs + timed runs, by default 100 timed runs for Network A, whose runs take milliseconds, and 10 for the others: at least 2 warm-ups, and warm-ups for at least 3 s except VGG16, since V8 optimises the protocol code only after many runs; Network A at least 1000 warm-ups, since its latency falls over the first thousands of predictions after the parties start, most in the first ~500: its warm-up curve is below the table); "first run" is the first warm-up of the case, the latency before that optimisation; "protocol" is P0\'s run time alone. Traffic and rounds are per run (one batch). "tfjs" is plaintext `@tensorflow/tfjs` (CPU backend, float32) on the same input and batch; the ratio is secure median / tfjs. Error: max |secure − plainForward| over all logits and repetitions (float64 reference, protocol/reference/forward.ts).');
  out.push('');
  if (meta.prep === 'wait') out.push('Offline phase (parties/preprocessing.ts): after a run, the idle parties have P2 deal the next run of the same shape ahead of it (its Beaver triples and comparison masks); the benchmark waits until that is done before the next inference, as after an idle moment in service. "offline" is the mean time one such bundle took, with the number of timed runs that used one; latency, traffic and the per-layer numbers are those of the online run. With `--prep off` every run deals live.');
  else if (meta.prep === 'off') out.push('Offline phase off (`--prep off`): P2 deals every Beaver triple and comparison mask during the run.');
  if (meta.prep) out.push('');
  out.push('| model | batch | reps | latency median | p90 | per image | first run | protocol (P0) | offline (runs from it) | tfjs | secure/plain | sent P0 / P1 / P2 per run | rounds | max abs err (rel) | peak RSS P0 / P1 / P2 |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of cases) {
    if (c.error) { out.push(`| ${c.label} | ${c.batch} | – | failed: ${c.error.replace(/\|/g, '/')} | | | | | | | | | | | |`); continue; }
    const off = !c.prep ? '–' : c.prep.runs === 0 ? `live (0/${c.reps})` : `${fmtMs(c.prep.offlineMs)} (${c.prep.runs}/${c.reps})`;
    out.push(`| ${c.label} | ${c.batch} | ${c.warmup}+${c.reps} | ${fmtMs(c.latencyMs.median)} | ${fmtMs(c.latencyMs.p90)} | ${fmtMs(c.perImageMs)} | ${Number.isFinite(c.firstMs) ? fmtMs(c.firstMs) : '–'} | ${fmtMs(c.protocolMs)} | ${off} | ${fmtMs(c.tfjsMs)} | ${c.ratio.toFixed(c.ratio < 10 ? 1 : 0)}x | ${c.bytesPerParty.map(fmtBytes).join(' / ')} | ${c.rounds} | ${c.maxAbsErr.toExponential(1)} (${c.maxRelErr.toExponential(1)}) | ${c.peakRssBytes.map(fmtBytes).join(' / ')}${c.peakRssBytes.length === 1 ? ' (one process)' : ''} |`);
  }
  out.push('');
  const curves = cases.filter((c) => !c.error && c.warmupCurveMs?.length);
  for (const c of curves) out.push(`Warm-up of ${c.label}, batch ${c.batch} (median latency of each 100 warm-up runs of the case, in order; batch 1 is the first case after the parties start): ${c.warmupCurveMs!.map(fmtMs).join(', ')}.`);
  if (curves.length) out.push('');
  out.push(`Chart: [latency per layer, compute vs waiting](${chartPath}) ![latency per layer](${chartPath})`);
  out.push('');
  out.push('### What dominated (from these numbers)');
  out.push('');
  for (const c of cases) if (!c.error) out.push(`- ${dominance(c, meta.nproc)}`);
  out.push('');
  out.push('### Per layer');
  out.push('');
  out.push('Medians over the repetitions, per layer. "wall" is P0\'s time from the end of the previous layer to the end of this one; "wait" is the part P0 spent blocked in `recv` (network, serialisation and waiting for the peers to compute); compute = wall − wait, per party. Traffic: bytes sent by the three parties together. Rounds: the Lamport depth the layer adds (max over the parties); the total is the run\'s depth.');
  for (const c of cases) {
    if (c.error) continue;
    out.push('');
    out.push(`#### ${c.label}, batch ${c.batch}`);
    out.push('');
    out.push('| layer | kind | wall (P0) | share | P0 compute | P0 wait | P1 compute | P2 compute | sent (all parties) | rounds |');
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    const total = c.layers.reduce((s, l) => s + l.parties[0]!.ms, 0);
    for (const l of c.layers) {
      const [p0, p1, p2] = l.parties;
      out.push(`| ${l.name} | ${l.kind} | ${fmtMs(p0!.ms)} | ${pct(p0!.ms, total)} | ${fmtMs(p0!.computeMs)} | ${fmtMs(p0!.waitMs)} | ${fmtMs(p1!.computeMs)} | ${fmtMs(p2!.computeMs)} | ${fmtBytes(l.bytesSent)} | ${l.rounds} |`);
    }
    const sum = (f: (l: LayerStat) => number) => c.layers.reduce((s, l) => s + f(l), 0);
    out.push(`| **total** | | ${fmtMs(total)} | | ${fmtMs(sum((l) => l.parties[0]!.computeMs))} | ${fmtMs(sum((l) => l.parties[0]!.waitMs))} | ${fmtMs(sum((l) => l.parties[1]!.computeMs))} | ${fmtMs(sum((l) => l.parties[2]!.computeMs))} | ${fmtBytes(sum((l) => l.bytesSent))} | ${c.rounds} (run) |`);
  }
  return out.join('\n');
}

/** Replace the text between `begin` and `end` in `doc` (or append the block). */
export function replaceSection(doc: string, begin: string, end: string, body: string): string {
  const block = `${begin}\n${body}\n${end}`;
  const i = doc.indexOf(begin), j = doc.indexOf(end);
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + end.length);
  return `${doc.replace(/\s*$/, '')}\n\n${block}\n`;
}

const xmlEsc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** 1, 2, 5 x 10^k tick step giving about `n` ticks over [0, max]. */
export function niceStep(max: number, n = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

const tickLabel = (v: number, step: number): string => {
  if (step >= 1000) return `${v / 1000} s`;
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  return `${v.toFixed(digits)} ms`;
};

export const COLORS = { compute: '#3b6fb6', wait: '#f0a33a' } as const;

/**
 * Horizontal stacked bars, one panel per case (each with its own time axis),
 * one bar per layer: P0's compute and P0's time blocked in recv.
 */
export function svgChart(meta: Pick<RunMeta, 'date' | 'nproc' | 'cpu' | 'transport'>, cases: CaseResult[]): string {
  const W = 1100, left = 250, right = 150, plotW = W - left - right;
  const rowH = 22, barH = 15, panelHead = 34, axisH = 40, gap = 26;
  const parts: string[] = [];
  let y = 0;
  const text = (x: number, yy: number, s: string, attrs = ''): string => `<text x="${x}" y="${yy}" ${attrs}>${xmlEsc(s)}</text>`;
  // Title and legend.
  parts.push(text(20, 30, 'Secure inference: latency per layer at P0, compute vs waiting in recv', 'class="title"'));
  parts.push(text(20, 52, `${meta.transport === 'grpc' ? 'three party processes, gRPC + mTLS on loopback' : 'in-memory transport, one process'} · ${meta.nproc} x ${meta.cpu} · ${meta.date.slice(0, 10)} · medians over repetitions; each panel has its own time axis`, 'class="sub"'));
  const ly = 76;
  parts.push(`<rect x="20" y="${ly - 12}" width="16" height="14" fill="${COLORS.compute}"/>`);
  parts.push(text(42, ly, 'compute at P0 (wall − wait)', 'class="legend"'));
  parts.push(`<rect x="290" y="${ly - 12}" width="16" height="14" fill="${COLORS.wait}"/>`);
  parts.push(text(312, ly, 'P0 waiting in recv (network + peers\' compute)', 'class="legend"'));
  y = ly + 24;
  for (const c of cases) {
    if (c.error) continue;
    const layers = shownLayers(c);
    const max = Math.max(...layers.map((l) => l.parties[0]!.ms), 1e-3);
    const step = niceStep(max);
    const axisMax = Math.ceil(max / step) * step;
    const sx = (v: number) => left + (v / axisMax) * plotW;
    const total = c.layers.reduce((s, l) => s + l.parties[0]!.ms, 0);
    parts.push(text(20, y + 22, `${c.label}, batch ${c.batch}: layers at P0 sum to ${fmtMs(total)}; end-to-end median ${fmtMs(c.latencyMs.median)}`, 'class="panel"'));
    const top = y + panelHead;
    const bottom = top + layers.length * rowH;
    for (let v = 0; v <= axisMax + step / 2; v += step) {
      const x = sx(v);
      parts.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" class="grid"/>`);
      parts.push(text(x, bottom + 16, tickLabel(v, step), 'class="tick" text-anchor="middle"'));
    }
    layers.forEach((l, i) => {
      const by = top + i * rowH + (rowH - barH) / 2;
      const p0 = l.parties[0]!;
      const wait = Math.min(Math.max(0, p0.waitMs), p0.ms), comp = p0.ms - wait;
      parts.push(text(left - 8, by + barH - 3, `${l.name} (${l.kind})`, 'class="label" text-anchor="end"'));
      parts.push(`<rect x="${left}" y="${by.toFixed(1)}" width="${(sx(comp) - left).toFixed(2)}" height="${barH}" fill="${COLORS.compute}"><title>${xmlEsc(`${l.name}: compute ${fmtMs(comp)}`)}</title></rect>`);
      parts.push(`<rect x="${sx(comp).toFixed(2)}" y="${by.toFixed(1)}" width="${(sx(comp + wait) - sx(comp)).toFixed(2)}" height="${barH}" fill="${COLORS.wait}"><title>${xmlEsc(`${l.name}: waiting ${fmtMs(wait)}`)}</title></rect>`);
      parts.push(text(sx(comp + wait) + 6, by + barH - 3, `${fmtMs(p0.ms)} (${p0.ms > 0 ? Math.round((100 * wait) / p0.ms) : 0}% wait)`, 'class="value"'));
    });
    parts.push(`<line x1="${left}" y1="${bottom}" x2="${left + plotW}" y2="${bottom}" class="axis"/>`);
    parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" class="axis"/>`);
    parts.push(text(left + plotW / 2, bottom + 32, 'time per layer at P0', 'class="axislabel" text-anchor="middle"'));
    y = bottom + axisH + gap;
  }
  const H = y;
  const style = `<style>
text { font-family: 'DejaVu Sans', Arial, Helvetica, sans-serif; fill: #222; }
.title { font-size: 20px; font-weight: bold; }
.sub { font-size: 12.5px; fill: #555; }
.legend { font-size: 14px; }
.panel { font-size: 15px; font-weight: bold; }
.label { font-size: 12.5px; }
.value { font-size: 12px; fill: #333; }
.tick { font-size: 11.5px; fill: #555; }
.axislabel { font-size: 12.5px; fill: #444; }
.grid { stroke: #e3e3e3; stroke-width: 1; }
.axis { stroke: #888; stroke-width: 1; }
</style>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n${style}\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}
