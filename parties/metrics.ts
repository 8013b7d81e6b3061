/**
 * A small Prometheus registry writing the text exposition format (0.0.4):
 * counters, histograms and gauges/counters computed at scrape time.
 */
type Labels = Record<string, string | number>;

const NEEDS_ESC = /[\\\n"]/;
// Label values are nearly always plain (route, method, status, code): test once before the three replacements.
const esc = (v: string): string => (NEEDS_ESC.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v);
/** The label pairs without braces ('' for none). */
const labelBody = (l: Labels): string => Object.keys(l).map((k) => `${k}="${esc(String(l[k]))}"`).join(',');
const fmtLabels = (l: Labels): string => { const b = labelBody(l); return b ? `{${b}}` : ''; };
const fmtNum = (v: number): string => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');

interface Metric { render(): string }

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; v: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = fmtLabels(labels);
    const e = this.values.get(key);
    if (e) e.v += by;
    else this.values.set(key, { labels, v: by });
  }
  get(labels: Labels = {}): number { return this.values.get(fmtLabels(labels))?.v ?? 0; }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, e] of this.values) lines.push(`${this.name}${k} ${fmtNum(e.v)}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; body: string; counts: number[]; sum: number; count: number }>();
  /** The buckets' `le` values as written. */
  private readonly les: string[];
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) { this.les = buckets.map(fmtNum); }
  observe(labels: Labels, v: number): void {
    const key = fmtLabels(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, body: labelBody(labels), counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.counts[i]! += 1;
    s.sum += v;
    s.count += 1;
  }
  count(labels: Labels = {}): number { return this.series.get(fmtLabels(labels))?.count ?? 0; }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    // Each series' label text is made once (at its first observation), the buckets' once per histogram: a scrape
    // formats no labels (it took ~0.5 ms per render before, polled after every prediction by the benchmarks).
    for (const s of this.series.values()) {
      const open = `${this.name}_bucket{${s.body ? `${s.body},` : ''}le="`, labels = s.body ? `{${s.body}}` : '';
      for (let i = 0; i < this.les.length; i++) lines.push(`${open}${this.les[i]}"} ${s.counts[i]}`);
      lines.push(`${open}+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${labels} ${fmtNum(s.sum)}`);
      lines.push(`${this.name}_count${labels} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** A gauge (or counter) whose samples are read at scrape time. */
export class Collected implements Metric {
  constructor(readonly name: string, readonly help: string, readonly type: 'gauge' | 'counter', private readonly collect: () => [Labels, number][]) {}
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [l, v] of this.collect()) lines.push(`${this.name}${fmtLabels(l)} ${fmtNum(v)}`);
    return lines.join('\n');
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  register<M extends Metric>(m: M): M { this.metrics.push(m); return m; }
  render(): string { return this.metrics.map((m) => m.render()).join('\n') + '\n'; }
}

const exp = (start: number, factor: number, n: number): number[] => Array.from({ length: n }, (_, i) => start * factor ** i);

/** The party's metrics. */
export function partyMetrics() {
  const r = new Registry();
  return {
    registry: r,
    httpRequests: r.register(new Counter('mpc_http_requests_total', 'HTTP requests by method, route and status.')),
    httpLatency: r.register(new Histogram('mpc_http_request_duration_seconds', 'HTTP request latency (long polls included).', exp(0.001, 2.5, 12))),
    errors: r.register(new Counter('mpc_errors_total', 'Errors by MpcError code and where they were reported (http, session).')),
    runs: r.register(new Counter('mpc_runs_total', 'Protocol runs (batches) by result: ok, failed, deferred (a planned session had not reached P1 or P2; parties/run-planner.ts step 3).')),
    inferences: r.register(new Counter('mpc_inferences_total', 'Images inferred (sum of batch sizes of successful runs).')),
    runDuration: r.register(new Histogram('mpc_run_duration_seconds', 'Wall time of one protocol run (one batch), by model (hash, first 12 hex digits), output mode (logits, label, ...; mixed: sessions of several modes in the batch) and result.', exp(0.005, 2, 16))),
    layerDuration: r.register(new Histogram('mpc_layer_duration_seconds', 'Wall time of one layer of a successful run at this party, by layer kind (conv2d, dense, relu, maxpool2d, ...). The privacy step (clip, noise, argmax) is left out: its time grows with the noise drawn.', exp(0.0005, 2, 16))),
    runBytes: r.register(new Histogram('mpc_run_bytes_sent', 'Protocol bytes this party sent in one run (one batch).', exp(1024, 4, 14))),
    imageBytes: r.register(new Histogram('mpc_inference_bytes_sent', 'Protocol bytes this party sent per image (run bytes / images).', exp(1024, 4, 14))),
    runRounds: r.register(new Histogram('mpc_run_rounds', 'Lamport rounds of one run.', [8, 16, 32, 64, 128, 256, 512, 1024, 2048])),
    batchImages: r.register(new Histogram('mpc_run_batch_images', 'Images per protocol run.', [1, 2, 4, 8, 16, 32, 64])),
    prepRuns: r.register(new Counter('mpc_prep_total', 'Preprocessing (bundles of P2\'s dealt randomness made ahead of runs) by result: P0 ready, failed or timeout (both peers reported); P1, P2 ok or failed (their part).')),
    prepDuration: r.register(new Histogram('mpc_prep_duration_seconds', 'Wall time to make one bundle (P0: request to both reports; P1, P2: their part).', exp(0.01, 2, 14))),
    batchSessions: r.register(new Histogram('mpc_run_batch_sessions', 'Sessions per protocol run.', [1, 2, 4, 8, 16, 32, 64])),
  };
}

export type PartyMetrics = ReturnType<typeof partyMetrics>;
