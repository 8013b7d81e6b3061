/**
 * Helpers for the end-to-end suite (not a test file): the shared
 * fixtures (read in place from ../shared/fixtures, never copied), model
 * import through model-import's command line into a temp dir, three real
 * party processes (parties/launch.ts: mTLS on 127.0.0.1, OS-chosen ports)
 * with their stdout/stderr lines captured, a fetch that records the shares
 * the SDK sends and receives, and the secrets a log must not contain.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PrivateInferenceClient, type ClientOptions } from '../../client-sdk/src/index.js';
import type { BundleManifest } from '../../model-import/bundle.js';
import { launchLocal, type Launched, type LaunchOptions } from '../../parties/launch.js';
import { TEST_WARMUP } from '../../parties/testing/quick-warmup.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { fixedPointU64, SecretIndex, u64Words } from './log-scan.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = path.resolve(ROOT, '..', 'shared', 'fixtures');
export const KERAS = path.join(FIXTURES, 'keras');
export const XRAY = path.join(FIXTURES, 'xray');
export const haveFixtures = existsSync(KERAS) && existsSync(XRAY);
export const LABELS = ['NORMAL', 'PNEUMONIA'];

/** The 38 real X-rays, NORMAL/ then PNEUMONIA/, sorted. */
export function allXrays(): string[] {
  return ['NORMAL', 'PNEUMONIA'].flatMap((d) => readdirSync(path.join(XRAY, d)).filter((f) => /\.jpe?g$/i.test(f)).sort().map((f) => path.join(XRAY, d, f)));
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

// ---- model import (the real CLI) ----

export interface Imported {
  dir: string;
  bundleDir: string;
  manifest: BundleManifest;
  stdout: string;
  ms: number;
  cleanup(): void;
}

const execFileP = promisify(execFile);
const MPC_IMPORT = path.join(ROOT, 'model-import', 'bin', 'mpc-import.mjs');

/** `mpc-import MODEL --out <tmp>/bundle ARGS...` (no agreement report unless asked for). */
export async function importWithCli(model: string, args: string[] = []): Promise<Imported> {
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-import-'));
  const bundleDir = path.join(dir, 'bundle');
  const t0 = performance.now();
  try {
    const r = await execFileP(process.execPath, [MPC_IMPORT, model, '--out', bundleDir, '--no-progress', ...(args.includes('--random') || args.includes('--samples') ? [] : ['--random', '0']), ...args], { cwd: ROOT, maxBuffer: 64 << 20, timeout: 300_000 });
    const manifest = JSON.parse(readFileSync(path.join(bundleDir, 'party0', 'manifest.json'), 'utf8')) as BundleManifest;
    return { dir, bundleDir, manifest, stdout: r.stdout, ms: performance.now() - t0, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const x = e as { stderr?: string; stdout?: string; message?: string };
    throw new Error(`mpc-import ${path.basename(model)} failed: ${x.stderr || x.stdout || x.message}`);
  }
}

// ---- three party processes ----

export interface PartyLog { party: number; line: string }

export interface Parties {
  launched: Launched;
  urls: [string, string, string];
  token: string;
  /** Every stdout/stderr line of P0, P1, P2, in arrival order. */
  logs: PartyLog[];
  stop(): Promise<void>;
}

/**
 * P0, P1, P2 as child processes serving a model-import bundle, mTLS between
 * them, log level trace. The start-up warm-up (parties/warmup.ts) runs on
 * every model with a small budget (TEST_WARMUP: 2 runs, 3 s; opts.warmup
 * overrides) and must not fail.
 */
export async function startParties(bundleDir: string, opts: Partial<LaunchOptions> = {}): Promise<Parties> {
  const logs: PartyLog[] = [];
  let launched: Launched;
  try {
    launched = await launchLocal({
      bundleDir,
      logLevel: 'trace',
      readyTimeoutMs: 90_000,
      warmup: TEST_WARMUP,
      ...opts,
      onLine: (party, line) => { logs.push({ party, line }); opts.onLine?.(party, line); },
    });
  } catch (e) {
    throw new Error(`parties did not start: ${e instanceof Error ? e.message : String(e)}\n${logTail(logs)}`);
  }
  if (launched.certs === null) throw new Error('expected mTLS between the parties');
  for (const url of launched.urls) {
    const w = ((await (await fetch(`${url}/readyz`)).json()) as { warmup?: { state: string; code?: string; message?: string } }).warmup;
    if (w?.state === 'failed') { await launched.stop(); throw new Error(`start-up warm-up failed at ${url}: ${w.code} ${w.message}\n${logTail(logs)}`); }
  }
  return { launched, urls: launched.urls, token: launched.token, logs, stop: () => launched.stop() };
}

/**
 * The warm-up budget of a launch whose model's first warm-up run does not
 * fit TEST_WARMUP's 3 s (the zoo's DenseNet-121 and EfficientNet-B0, the
 * ONNX MobileNetV2 and DenseNet-121: 14 s and more per run here;
 * nakul-pneumonia256 and aryan-pneumonia: no run completed within 3 s here
 * either, BENCHMARKS.md): that run is cut with either budget, so 1 s ends the
 * warm-up the same way (state done, no run completed, the build run cut)
 * 2 s sooner per launch.
 */
export const CUT_WARMUP = Object.freeze({ ...TEST_WARMUP, maxMs: 1_000 });

/** P0's warm-up ended as CUT_WARMUP expects: done, no run completed, its run cut by the budget. */
export async function expectWarmupCut(p: Parties): Promise<void> {
  const w = ((await (await fetch(`${p.urls[0]}/readyz`)).json()) as { warmup?: { state: string; runs: number; cut?: boolean; stop?: string } }).warmup;
  if (w?.state !== 'done' || w.runs !== 0 || w.cut !== true || w.stop !== 'budget') {
    throw new Error(`expected P0's warm-up cut by its budget with no run completed (CUT_WARMUP is meant for models whose run does not fit it), got ${JSON.stringify(w)}`);
  }
}

/** The last lines of each party (for failure messages). */
export function logTail(logs: readonly PartyLog[], n = 15): string {
  return [0, 1, 2].map((p) => logs.filter((l) => l.party === p).slice(-n).map((l) => `P${p} ${l.line.slice(0, 400)}`).join('\n')).join('\n');
}

// ---- what the SDK sends and receives ----

export interface Capture {
  /** session id -> [x_0 bytes sent to P0, x_1 bytes sent to P1] */
  inputs: Map<string, [Uint8Array | undefined, Uint8Array | undefined]>;
  /** session id -> [y_0 from P0, y_1 from P1] */
  outputs: Map<string, [Uint8Array | undefined, Uint8Array | undefined]>;
}

/** A fetch for the SDK that keeps a copy of every input share it uploads and every output share it downloads. */
export function capturingFetch(urls: readonly string[]): { fetch: typeof fetch; capture: Capture } {
  const capture: Capture = { inputs: new Map(), outputs: new Map() };
  const put = (m: Capture['inputs'], id: string, party: number, b: Uint8Array) => {
    const e = m.get(id) ?? [undefined, undefined];
    e[party as 0 | 1] = b;
    m.set(id, e);
  };
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    const party = urls.findIndex((u) => url.startsWith(u));
    const m = /\/v1\/sessions\/([^/?]+)\/(input|output)/.exec(url);
    const body: unknown = init?.body;
    if (m && m[2] === 'input' && body instanceof Uint8Array && (party === 0 || party === 1)) put(capture.inputs, m[1]!, party, body.slice());
    const res = await fetch(input, init);
    if (m && m[2] === 'output' && res.status === 200 && (party === 0 || party === 1) && !(res.headers.get('content-type') ?? '').includes('json')) {
      put(capture.outputs, m[1]!, party, new Uint8Array(await res.clone().arrayBuffer()));
    }
    return res;
  }) as typeof fetch;
  return { fetch: f, capture };
}

export function sdkClient(p: Parties, extra: Partial<ClientOptions> = {}): PrivateInferenceClient {
  return new PrivateInferenceClient({ parties: p.urls, token: p.token, timeoutMs: 600_000, ...extra });
}

/** x_0 + x_1 mod 2^64 of captured shares. */
export function addShares(a: Uint8Array, b: Uint8Array): BigUint64Array {
  const x = u64Words(a);
  const y = u64Words(b);
  const out = new BigUint64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = BigInt.asUintN(64, x[i]! + y[i]!);
  return out;
}

// ---- secrets ----

/** Every weight and bias of the float model. */
export function weightValues(ir: ModelIR<FloatTensor>): Float64Array {
  const parts: ArrayLike<number>[] = [];
  for (const n of ir.nodes) {
    if ('kernel' in n) { parts.push(n.kernel.data); if (n.bias) parts.push(n.bias.data); }
    if (n.kind === 'rescaling') parts.push([n.scale, n.offset]);
  }
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/**
 * The index of what must not be logged for one model and one client run:
 * weights (real values at >= 7 significant digits, their fixed-point encodings,
 * P0's and P1's weight shares from the bundle), pixel/input values, outputs
 * (logits and probabilities) and every captured input/output share. The token
 * must not appear; the model hash and import id may.
 */
export function secretsFor(o: {
  ir: ModelIR<FloatTensor>;
  imported: Imported;
  inputs: ArrayLike<number>[];
  outputs: ArrayLike<number>[];
  capture?: Capture;
  token: string;
}): SecretIndex {
  const f = o.imported.manifest.fracBits;
  const w = weightValues(o.ir);
  const idx = new SecretIndex()
    .allow(o.imported.manifest.modelHash)
    .allow(o.imported.manifest.importId)
    .forbid('bearer token', o.token)
    .addReals({ name: 'weight', values: w, minSignificant: 7 })
    .addU64('weight encoding', fixedPointU64(w, f))
    .addU64('P0 weight share', u64Words(readFileSync(path.join(o.imported.bundleDir, 'party0', 'weights.bin'))))
    .addU64('P1 weight share', u64Words(readFileSync(path.join(o.imported.bundleDir, 'party1', 'weights.bin'))));
  // Inputs: distinct values only (images have at most 256 levels per scaling).
  const distinct = new Set<number>();
  for (const x of o.inputs) for (let i = 0; i < x.length; i++) distinct.add(x[i]!);
  // A logger may print a pixel as the float32 the SDK computed or as the double k/255.
  for (const v of [...distinct]) { const k = Math.round(v * 255); if (Math.abs(v * 255 - k) < 1e-4) distinct.add(k / 255); }
  const vals = Float64Array.from(distinct);
  idx.addReals({ name: 'input value', values: vals.filter((v) => v !== 0 && v !== 1 && Math.abs(v) !== 255), minSignificant: 5 });
  const outs = o.outputs.flatMap((y) => Array.from(y));
  idx.addReals({ name: 'output value', values: outs, minSignificant: 4 });
  idx.addU64('output encoding', fixedPointU64(outs, f));
  const shares: [string, Capture['inputs'] | undefined][] = [['input share', o.capture?.inputs], ['output share', o.capture?.outputs]];
  for (const [name, m] of shares) {
    for (const pair of m?.values() ?? []) for (const b of pair) if (b) idx.addU64(name, u64Words(b));
  }
  return idx;
}
