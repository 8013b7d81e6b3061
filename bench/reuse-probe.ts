/**
 * Adversarial probe of the buffer reuse (send pool, receive pool, lent scratch buffers) and of the failure paths
 * under concurrency, through real party processes (parties/launch.ts: three processes per deployment, mTLS, the
 * h2 or gRPC mesh link). Not a timing benchmark: it counts verdicts.
 *
 * Per configuration (--configs), one deployment per model (--models: `networkA` MNIST Network A, `conv` the seed
 * CNN's pattern at 12x12 with exact truncation (test/testing/small-cnn.ts), `cnn` the seed CNN 150x125x1), started
 * one after the other and then served at once, each with --clients clients that send, back to back, for --seconds:
 *  - a batch of 1 (half the requests) or 2..4 images (`batch: true`), so the dynamic batcher merges and splits runs
 *    of every size (the pools' buffer sizes vary from run to run);
 *  - 'honest' requests (the client's deadline far away), 'deadline' requests (a deadline drawn around the model's
 *    latency, sent to the parties as deadlineMs: it expires before, during or after the run, mid-layer included),
 *    and 'abort' requests (the client aborts its HTTP requests after a drawn delay; the parties go on with the
 *    session, or it expires);
 *  - with --restart P (0, 1 or 2), party P of the first deployment is killed (SIGKILL) at the middle of the time
 *    budget, with runs in flight, and started again on the same config (its session-id journal included).
 * EVERY answer that comes back is compared with the plaintext forward pass (protocol/reference/forward.ts) of its
 * own input: a wrong answer is a defect; a coded error (MpcError with a registry code) is fine; an uncoded error is
 * counted apart (a defect to look at). After the time budget, each deployment must serve a final round of honest
 * predictions (--final, mixed batch sizes, under another client credential than the load's, so that the load's
 * abandoned sessions do not count against its quota): each one right.
 *
 * Configurations: `default` (h2 link, default frames), `small-frames` (PARTY_MESH_CHUNK=17000, an odd size, and the
 * smallest HTTP/2 window PARTY_MESH_WINDOW=65535: nearly every pooled message goes out in several frames, some with a
 * last frame of <= 4 KiB inlined into its header, the case of the s40 review's early release), `mid-frames`
 * (PARTY_MESH_CHUNK=65536: messages up to 64 KiB in one frame, larger ones in several), `grpc` (mesh.link grpc: no
 * send buffer comes back, the receive pool unused). Batching: windowMs 5, maxBatch 8, 3 runs at once.
 *
 * The draws (actions, batch sizes, deadlines, delays, inputs) come from a seeded PRG (--seed), so a run's schedule is
 * the same every time; what the timing does with it is not.
 *
 *   nice -n 5 npx tsx bench/reuse-probe.ts [--seed 1] [--seconds 60] [--configs default,small-frames,mid-frames,grpc]
 *     [--models networkA,conv] [--clients 4] [--restart P] [--final 6] [--quick-warmup] [--json FILE] [--party-log FILE]
 *
 * --party-log appends every line the party processes print (warn and above: launchLocal's log level) to FILE.
 * Exit status 1 when any answer was wrong, any error uncoded, a final prediction failed, or a party logged
 * E_PROCESS_FAULT (an unhandled rejection or uncaught exception: a crash, whatever the clients saw). Prints one JSON report
 * and one markdown row per (configuration, model).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal, partyNodeArgs, partyProgram, type Launched } from '../parties/launch.js';
import { TEST_WARMUP } from '../parties/testing/quick-warmup.js';
import { isMpcError } from '../protocol/errors.js';
import { isErrorCode } from '../client-sdk/src/errors.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { smallMaxpoolCnn } from '../test/testing/small-cnn.js';

export interface ModelSpec {
  name: string;
  plain: () => ModelIR<FloatTensor>;
  fracBits: number;
  truncation?: 'local' | 'exact';
  tolerance: number;
  /** Deadlines and abort delays are drawn in [lo, hi] ms. */
  window: [number, number];
}

export const MODELS: Record<string, ModelSpec> = {
  networkA: { name: 'Network A', plain: () => networkA(), fracBits: 16, tolerance: 5e-3, window: [3, 120] },
  conv: { name: 'small CNN 12x12 (exact truncation)', plain: () => smallMaxpoolCnn(12, 70, 0.5), fracBits: 13, truncation: 'exact', tolerance: 5e-3, window: [10, 400] },
  cnn: { name: 'seed CNN MaxPool 150x125x1', plain: () => seedCnn('maxpool2d'), fracBits: 13, tolerance: 0.05, window: [100, 4000] },
};

export interface ConfigSpec {
  link: 'h2' | 'grpc';
  /** Environment of the three party processes (the mesh's frame size and window). */
  env: Record<string, string>;
  /** Environment of one party only (the malicious mode's test-only cheating switch). */
  partyEnv?: Partial<Record<0 | 1 | 2, Record<string, string>>>;
  batch?: { windowMs?: number; maxBatch?: number; maxConcurrentRuns?: number; balance?: boolean };
  security?: 'malicious';
  malicious?: { epochSessions?: number; poolInferences?: number };
}
const BATCH = { windowMs: 5, maxBatch: 8, maxConcurrentRuns: 3 };
export const CONFIGS: Record<string, ConfigSpec> = {
  default: { link: 'h2', env: {} },
  'small-frames': { link: 'h2', env: { PARTY_MESH_CHUNK: '17000', PARTY_MESH_WINDOW: '65535' } },
  'mid-frames': { link: 'h2', env: { PARTY_MESH_CHUNK: '65536', PARTY_MESH_WINDOW: '65535' } },
  grpc: { link: 'grpc', env: {} },
  // Balanced pipelining (batch.balance): runs cut to the demand, 2 at once.
  balanced: { link: 'h2', env: { PARTY_MESH_CHUNK: '17000' }, batch: { maxConcurrentRuns: 2, balance: true } },
  // The malicious mode: an epoch every 7 sessions (the MAC key and the mask pool replaced while sessions run), 3 inferences' masks pooled.
  malicious: { link: 'h2', env: { PARTY_MESH_CHUNK: '17000' }, security: 'malicious', malicious: { epochSessions: 7, poolInferences: 3 }, batch: { maxConcurrentRuns: 6 } },
  // The same with P1 altering one message of its first client session (SECURENN_TEST_CHEAT): that one E_INTEGRITY, the epoch dropped.
  'malicious-cheat': { link: 'h2', env: {}, security: 'malicious', malicious: { epochSessions: 7, poolInferences: 3 }, batch: { maxConcurrentRuns: 6 }, partyEnv: { 1: { NODE_ENV: 'test', SECURENN_TEST_CHEAT: '1:mal:' } } },
};

export interface ProbeOptions {
  seed: number;
  seconds: number;
  configs: string[];
  models: string[];
  clients: number;
  restart?: 0 | 1 | 2;
  final: number;
  quickWarmup: boolean;
  /** Append every party log line (all levels the parties print) to this file, prefixed with the party. */
  partyLog?: string;
  log?: (s: string) => void;
}

export interface Verdicts {
  config: string;
  model: string;
  /** Requests started, by action. */
  started: Record<'honest' | 'deadline' | 'abort', number>;
  /** Images in the requests that came back with an answer. */
  images: number;
  /** Answers equal to their own input's plaintext output (per request), and wrong ones. */
  equal: number;
  wrong: number;
  /** Coded errors by code (the client's own abort as 'aborted'). */
  errors: Record<string, number>;
  /** Uncoded errors by class name. */
  uncoded: Record<string, number>;
  /** Requests by batch size. */
  batches: Record<string, number>;
  /** Final round: right / asked, the codes of those that failed, and the retry-later answers that were asked again. */
  final: { right: number; asked: number; errors: Record<string, number>; retried: Record<string, number> };
  /** Codes in the parties' warn/error log lines (and lines that are not JSON) up to the end of the final round, by party. */
  partyCodes: Record<string, number>[];
  /** A few of those lines: without a code, or with a NOTABLE one. */
  uncodedLines: string[];
  restarted?: number;
}

/** A uniform draw in [0, 1) from a seeded stream (4 bytes a draw). */
function drawer(seed: number): () => number {
  const g = seededPrg(seed);
  return () => { const b = g.bytes(4); return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32; };
}

const ABORT = new Error('probe: aborted by the client');

/** The code of a rejection: registry code, 'aborted' for the probe's own abort, else null (uncoded). */
function codeOf(e: unknown): string | null {
  if (e === ABORT) return 'aborted';
  if (isMpcError(e)) return isErrorCode(e.code) ? e.code : null;
  return null;
}

/** Every logit of every image within the tolerance of its own input's plaintext output. */
function right(plain: ModelIR<FloatTensor>, inputs: Float32Array[], logits: number[][], tol: number): boolean {
  if (logits.length !== inputs.length) return false;
  return inputs.every((x, i) => {
    const want = plainForward(plain, Float64Array.from(x), 1).data;
    const got = logits[i]!;
    return got.length === want.length && got.every((v, k) => Math.abs(v - want[k]!) <= tol);
  });
}

/** Codes whose log lines are kept in the report (a fault, an internal error, messages out of step). */
const NOTABLE = new Set(['E_PROCESS_FAULT', 'E_INTERNAL', 'E_PROTOCOL_DESYNC']);

/** Party log lines at warn or above (and lines that are not JSON): count their codes. */
function codeCounter(logFile?: string): { counts: Record<string, number>[]; samples: string[]; onLine: (p: number, line: string) => void } {
  const counts: Record<string, number>[] = [{}, {}, {}];
  const samples: string[] = [];
  return {
    counts,
    samples,
    onLine: (p, line) => {
      if (logFile) appendFileSync(logFile, `P${p} ${line}\n`);
      const lv = /"level":(\d+)/.exec(line);
      if (lv && Number(lv[1]) < 40) return;
      const code = /"code":"(E_[A-Z_]+)"/.exec(line)?.[1] ?? (lv ? 'uncoded-line' : 'raw-line');
      counts[p]![code] = (counts[p]![code] ?? 0) + 1;
      // A few lines without a code or with a code that says something broke, to read (the parties' logs carry no values).
      // A NOTABLE line is always kept (up to 24 in all): the first uncoded lines must not crowd out a fault's.
      if ((NOTABLE.has(code) && samples.length < 24) || (!code.startsWith('E_') && samples.length < 12)) samples.push(`P${p}: ${line.slice(0, 600)}`);
    },
  };
}

interface Deployment { malicious: boolean; key: string; spec: ModelSpec; plain: ModelIR<FloatTensor>; l: Launched; codes: ReturnType<typeof codeCounter>; finalToken: string; replaced: (ChildProcess | null)[] }

async function readyAll(urls: readonly string[], timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await Promise.all(urls.map((u) => fetch(`${u}/readyz`).then((r) => r.ok, () => false)));
    if (ok.every(Boolean)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Kill party p of a deployment (SIGKILL: no goodbye) and start it again on the same config and state folder. */
async function restartParty(d: Deployment, p: 0 | 1 | 2, env: Record<string, string>): Promise<void> {
  const old = d.replaced[p] ?? d.l.children[p]!;
  const gone = new Promise<void>((r) => { if (old.exitCode !== null || old.signalCode !== null) r(); else old.once('exit', () => r()); });
  old.kill('SIGKILL');
  await gone;
  const program = await partyProgram();
  const child = spawn(process.execPath, [...partyNodeArgs(), ...program.args, '--party', String(p), '--config', d.l.configPath], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env, PARTY_EXIT_WITH_PARENT: '1' } });
  let buf = '';
  const on = (b: Buffer) => { buf += b.toString('utf8'); let i; while ((i = buf.indexOf('\n')) >= 0) { d.codes.onLine(p, buf.slice(0, i)); buf = buf.slice(i + 1); } };
  child.stdout!.on('data', on);
  child.stderr!.on('data', on);
  d.replaced[p] = child;
}

async function stopDeployment(d: Deployment): Promise<void> {
  for (const c of d.replaced) if (c && c.exitCode === null && c.signalCode === null) { const g = new Promise((r) => c.once('exit', r)); c.kill('SIGTERM'); await Promise.race([g, new Promise((r) => setTimeout(r, 3_000))]); c.kill('SIGKILL'); }
  await d.l.stop();
}

/** One client's requests until `end` (performance.now()); each answer's check is pushed to `pending`, run after the load. */
async function clientLoop(d: Deployment, v: Verdicts, seed: number, end: number, pending: (() => void)[]): Promise<void> {
  const draw = drawer(seed);
  const client = new PrivateInferenceClient({ parties: d.l.urls, token: d.l.token, timeoutMs: 30_000, expectedModelHash: d.l.modelHash, ...(d.malicious ? { requireSecurity: 'malicious' as const } : {}) });
  const n = d.plain.inputShape.reduce((a, b) => a * b, 1);
  for (let j = 0; performance.now() < end; j++) {
    const u = draw();
    const action: 'honest' | 'deadline' | 'abort' = u < 0.6 ? 'honest' : u < 0.8 ? 'deadline' : 'abort';
    const k = draw() < 0.5 ? 1 : 2 + Math.floor(draw() * 3);
    const [lo, hi] = d.spec.window;
    const ms = Math.round(lo + (hi - lo) * draw() ** 2);
    const inputs = Array.from({ length: k }, (_, i) => Float32Array.from(uniform(seededPrg(seed * 65_536 + j * 8 + i + 1), n, 1), (x) => (x + 1) / 2));
    v.started[action] += 1;
    v.batches[k] = (v.batches[k] ?? 0) + 1;
    const ctl = new AbortController();
    const timer = action === 'abort' ? setTimeout(() => ctl.abort(ABORT), ms) : undefined;
    // An aborted request's sessions stay at the parties until their deadline: a short one, so they do not hold the quota long.
    const opts = { signal: ctl.signal, ...(action === 'deadline' ? { timeoutMs: ms } : action === 'abort' ? { timeoutMs: Math.max(2_000, 4 * hi) } : {}) };
    try {
      const logits = k === 1
        ? [(await client.predict({ data: inputs[0]!, shape: d.plain.inputShape }, opts)).logits]
        : (await client.predict(inputs.map((data) => ({ data, shape: d.plain.inputShape })), { ...opts, batch: true })).logits;
      v.images += k;
      // Checked after the load (the plaintext passes would take the parties' CPU).
      pending.push(() => { if (right(d.plain, inputs, logits, d.spec.tolerance)) v.equal += 1; else v.wrong += 1; });
    } catch (e) {
      const c = codeOf(e);
      if (c) v.errors[c] = (v.errors[c] ?? 0) + 1;
      else { const name = e instanceof Error ? e.constructor.name : typeof e; v.uncoded[name] = (v.uncoded[name] ?? 0) + 1; }
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
/** Codes that say "retry later" (the load's abandoned sessions may hold the quota or the malicious desk's slots until their deadlines). */
const RETRY_LATER = new Set(['E_OVERLOADED', 'E_QUOTA', 'E_NOT_READY', 'E_PEER_UNAVAILABLE']);

/**
 * Final round: `count` honest predictions of mixed batch sizes under the final credential, two at a time; one answered
 * with a retry-later code is asked again (a fresh session) for up to 90 s, and counted in `retried`.
 */
async function finalRound(d: Deployment, v: Verdicts, seed: number, count: number): Promise<void> {
  const client = new PrivateInferenceClient({ parties: d.l.urls, token: d.finalToken, timeoutMs: 120_000, expectedModelHash: d.l.modelHash, ...(d.malicious ? { requireSecurity: 'malicious' as const } : {}) });
  const n = d.plain.inputShape.reduce((a, b) => a * b, 1);
  const one = async (j: number): Promise<void> => {
    const k = 1 + (j % 3);
    const inputs = Array.from({ length: k }, (_, i) => Float32Array.from(uniform(seededPrg(seed * 65_536 + 60_000 + j * 8 + i), n, 1), (x) => (x + 1) / 2));
    v.final.asked += 1;
    const until = performance.now() + 90_000;
    for (;;) {
      try {
        const logits = k === 1
          ? [(await client.predict({ data: inputs[0]!, shape: d.plain.inputShape })).logits]
          : (await client.predict(inputs.map((data) => ({ data, shape: d.plain.inputShape })), { batch: true })).logits;
        if (right(d.plain, inputs, logits, d.spec.tolerance)) v.final.right += 1;
        else v.final.errors.wrong = (v.final.errors.wrong ?? 0) + 1;
        return;
      } catch (e) {
        const c = codeOf(e) ?? `uncoded ${e instanceof Error ? e.constructor.name : typeof e}`;
        if (RETRY_LATER.has(c) && performance.now() < until) { v.final.retried[c] = (v.final.retried[c] ?? 0) + 1; await new Promise((r) => setTimeout(r, 500)); continue; }
        v.final.errors[c] = (v.final.errors[c] ?? 0) + 1;
        return;
      }
    }
  };
  for (let j = 0; j < count; j += 2) await Promise.all([one(j), ...(j + 1 < count ? [one(j + 1)] : [])]);
}

export async function runProbe(o: ProbeOptions): Promise<Verdicts[]> {
  const log = o.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const out: Verdicts[] = [];
  for (const [ci, cname] of o.configs.entries()) {
    const cfg = CONFIGS[cname];
    if (!cfg) throw new Error(`reuse-probe: unknown configuration '${cname}' (${Object.keys(CONFIGS).join(', ')})`);
    const deps: Deployment[] = [];
    try {
      for (const key of o.models) {
        const spec = MODELS[key];
        if (!spec) throw new Error(`reuse-probe: unknown model '${key}' (${Object.keys(MODELS).join(', ')})`);
        const plain = spec.plain();
        const codes = codeCounter(o.partyLog);
        const finalToken = randomBytes(24).toString('base64url');
        const env = (p: 0 | 1 | 2) => ({ ...cfg.env, ...cfg.partyEnv?.[p] });
        const l = await launchLocal({
          plain, fracBits: spec.fracBits, ...(spec.truncation ? { truncation: spec.truncation } : {}), meshLink: cfg.link, logLevel: 'warn',
          batch: { ...BATCH, ...cfg.batch }, sessions: { maxPerClient: 64 }, extraTokens: [finalToken],
          ...(cfg.security ? { security: cfg.security, malicious: cfg.malicious ?? {} } : {}),
          ...(o.quickWarmup ? { warmup: TEST_WARMUP } : {}), readyTimeoutMs: 240_000, onLine: codes.onLine, env: { 0: env(0), 1: env(1), 2: env(2) },
        });
        deps.push({ malicious: cfg.security === 'malicious', key, spec, plain, l, codes, finalToken, replaced: [null, null, null] });
        log(`reuse-probe: ${cname} / ${key}: parties ready (${l.urls.join(' ')})`);
      }
      const t0 = performance.now(), end = t0 + o.seconds * 1000;
      const verdicts = deps.map((d): Verdicts => ({ config: cname, model: d.key, started: { honest: 0, deadline: 0, abort: 0 }, images: 0, equal: 0, wrong: 0, errors: {}, uncoded: {}, batches: {}, final: { right: 0, asked: 0, errors: {}, retried: {} }, partyCodes: [], uncodedLines: [] }));
      const checks: (() => void)[] = [];
      const loops = deps.flatMap((d, di) => Array.from({ length: o.clients }, (_, c) => clientLoop(d, verdicts[di]!, o.seed * 1000 + ci * 100 + di * 10 + c, end, checks)));
      let restart: Promise<void> = Promise.resolve();
      if (o.restart !== undefined) {
        const p = o.restart;
        restart = new Promise<void>((r) => setTimeout(r, (o.seconds * 1000) / 2)).then(async () => {
          log(`reuse-probe: ${cname} / ${deps[0]!.key}: killing P${p} mid-run`);
          await restartParty(deps[0]!, p, { ...cfg.env, ...cfg.partyEnv?.[p] });
          verdicts[0]!.restarted = p;
        });
      }
      await Promise.all([...loops, restart]);
      for (const c of checks) c();
      // The parties must serve afterwards: ready (the restarted one too), then the final round.
      for (const [di, d] of deps.entries()) {
        const ready = await readyAll(d.l.urls, 180_000);
        if (!ready) verdicts[di]!.final.errors['not ready'] = 1;
        await finalRound(d, verdicts[di]!, o.seed * 1000 + ci * 100 + di * 10, o.final);
        verdicts[di]!.partyCodes = structuredClone(d.codes.counts);
        verdicts[di]!.uncodedLines = [...d.codes.samples];
        log(`reuse-probe: ${JSON.stringify(verdicts[di])}`);
      }
      out.push(...verdicts);
    } finally {
      for (const d of deps) await stopDeployment(d);
    }
  }
  return out;
}

/** A markdown row of one (configuration, model). */
export function row(v: Verdicts): string {
  const n = v.started.honest + v.started.deadline + v.started.abort;
  const errs = Object.entries(v.errors).sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${c}`).join(', ') || 'none';
  const unc = Object.entries(v.uncoded).map(([k, c]) => `${k} ${c}`).join(', ') || '0';
  const pc = v.partyCodes.map((m, i) => `P${i}: ${Object.entries(m).map(([k, c]) => `${k} ${c}`).join(', ') || '-'}`).join('; ');
  const fe = [...Object.entries(v.final.errors).map(([k, c]) => `${k} ${c}`), ...Object.entries(v.final.retried).map(([k, c]) => `${k} ${c} retried`)].join(', ');
  return `| ${v.config} | ${v.model}${v.restarted !== undefined ? ` (P${v.restarted} killed, restarted)` : ''} | ${n} (${v.started.honest} / ${v.started.deadline} / ${v.started.abort}) | ${Object.entries(v.batches).map(([k, c]) => `${c}×${k}`).join(' ')} | ${v.equal} (${v.images} images) | **${v.wrong}** | ${errs} | ${unc} | ${v.final.right} / ${v.final.asked}${fe ? ` (${fe})` : ''} | ${pc} |`;
}

export const ROW_HEAD = [
  '| config | model | requests (honest / deadline / abort) | by batch size | answers equal to their plaintext | wrong | coded errors | uncoded | final round right | party log codes (warn+) |',
  '|---|---|---|---|---|---|---|---|---|---|',
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, def: string): string => { const i = args.indexOf(name); return i >= 0 && args[i + 1] ? args[i + 1]! : def; };
  const r = opt('--restart', '');
  const o: ProbeOptions = {
    seed: Number(opt('--seed', '1')), seconds: Number(opt('--seconds', '60')),
    configs: opt('--configs', 'default,small-frames,mid-frames,grpc').split(','), models: opt('--models', 'networkA,conv').split(','),
    clients: Number(opt('--clients', '4')), final: Number(opt('--final', '6')), quickWarmup: args.includes('--quick-warmup'),
    ...(r ? { restart: Number(r) as 0 | 1 | 2 } : {}), ...(opt('--party-log', '') ? { partyLog: opt('--party-log', '') } : {}),
  };
  const load0 = loadavg()[0]!;
  const t0 = new Date().toISOString();
  process.stdout.write(`reuse-probe: ${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, ${t0}, load ${load0.toFixed(1)}, ${JSON.stringify(o)}\n`);
  const vs = await runProbe(o);
  process.stdout.write(`load ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}, ${t0} -> ${new Date().toISOString()}\n`);
  process.stdout.write(`${[...ROW_HEAD, ...vs.map(row)].join('\n')}\n`);
  const json = opt('--json', '');
  if (json) writeFileSync(json, JSON.stringify(vs, null, 2));
  const bad = vs.some((v) => v.wrong > 0 || Object.keys(v.uncoded).length > 0 || v.final.right !== v.final.asked || v.partyCodes.some((m) => (m.E_PROCESS_FAULT ?? 0) > 0));
  if (bad) process.exitCode = 1;
}

if (process.argv[1] && /reuse-probe\.ts$/.test(process.argv[1])) {
  main().catch((e: unknown) => { process.stderr.write(`reuse-probe: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`); process.exit(1); });
}
