/**
 * Launch P0, P1, P2 as three child processes on loopback (npm start and the
 * multi-process test): throwaway certificates, a share model (model-import
 * bundle if available, else dev files), a deployment config, OS-chosen ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { generateCerts, type CertSet } from './certs.js';
import { DEFAULTS, DEMO_DIR, type CommonSettings, type DeploymentConfig, type PartyEntry } from './config.js';
import { modelImport, plainModelHash, shareBundles, writeDevModelFiles, type PateNoise } from './model-source.js';

import type { BackendSpec } from '../runtime/kernels.js';

export interface LaunchOptions {
  /** Plaintext model to share (ignored with bundleDir). */
  plain?: ModelIR<FloatTensor>;
  fracBits?: number;
  /** An existing model-import bundle directory (party0/, party1/, party2/). */
  bundleDir?: string;
  /** Prefer dev files even when model-import is available. */
  devFiles?: boolean;
  insecureLocal?: boolean;
  logLevel?: string;
  batch?: Partial<CommonSettings['batch']>;
  sessions?: Partial<CommonSettings['sessions']>;
  /** Config preprocess (default: the config default, on). */
  preprocess?: Partial<CommonSettings['preprocess']>;
  /** Config warmup (default: the config default, on; parties/warmup.ts). */
  warmup?: Partial<CommonSettings['warmup']>;
  /** Config mesh.link (default: the config default, 'h2'; parties/mesh-h2.ts): on 'h2' P0 and P1 get a data port each, chosen here. */
  meshLink?: 'grpc' | 'h2';
  /** Config compareRadix (default: the config default, 4). */
  compareRadix?: 2 | 4;
  /** Config rangeSentinel (default: the config default, 'auto'; parties/range-sentinel.ts). */
  rangeSentinel?: 'auto' | 'on' | 'off';
  /** Config compareBits (default: the config default, 32); a bundle imported for the 64-bit ring needs 64. */
  compareBits?: 32 | 64;
  /** With `plain`: the bundle's truncation rule (default local); 'exact' refuses to fall back to dev files (they have no rule). */
  truncation?: 'local' | 'exact';
  /** Each log line of a child (raw). */
  onLine?: (party: number, line: string) => void;
  readyTimeoutMs?: number;
  /** Build the SDK browser bundle and write the demo's config.json for P0 to serve (npm start). */
  demoAssets?: boolean;
  /** Config security (default: the config default, 'semi-honest'); 'malicious' with `plain` writes the replicated weight shares too. */
  security?: 'semi-honest' | 'malicious';
  /** Config malicious (epochs, mask pool; default: the config default). */
  malicious?: Partial<CommonSettings['malicious']>;
  /** Config kernels (default: the config default, 'auto': CUDA where a device is usable, else the CPU); 'cuda' requires the device (npm start --gpu). */
  kernels?: BackendSpec;
  /** A PATE ensemble of these model-import bundle directories instead of one model; `noise` one for all, or per party (tests: a party configured otherwise). */
  ensemble?: { teacherDirs: string[]; noise?: PateNoise | [PateNoise | undefined, PateNoise | undefined, PateNoise | undefined] };
  /** Config privacy (accountant budgets, enforcement; default: the config default: 10 per client, opened on first use). */
  privacy?: DeploymentConfig['privacy'];
  /** More loopback client tokens besides the launch's own (tests: a second client with an accountant of its own). */
  extraTokens?: string[];
  /** Extra environment of one party's process (tests: the test-only cheating switch, parties/malicious-desk.ts). */
  env?: Partial<Record<0 | 1 | 2, Record<string, string>>>;
}

export interface Launched {
  dir: string;
  configPath: string;
  certs: CertSet | null;
  token: string;
  modelHash: string;
  modelKind: 'bundle' | 'dev-file';
  /** How the party processes run the program (partyProgram). */
  runtime: 'bundle' | 'tsx';
  urls: [string, string, string];
  children: ChildProcess[];
  stop(): Promise<void>;
}

/** n free TCP ports on 127.0.0.1 (listen on port 0, read, close). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const BUILD_PARTY = new URL('../scripts/build-party.mjs', import.meta.url).href;

/**
 * How each party process runs the program: 'bundle' = `node parties/party.bundle.mjs`,
 * rebuilt from the sources at every launch (scripts/build-party.mjs, ~0.2 s);
 * 'tsx' = `node --import tsx parties/main.ts`. PARTY_RUNTIME=tsx forces the
 * latter; it is also the fallback when the bundle cannot be built (no esbuild).
 * PARTY_BUNDLE=<file> runs that prebuilt bundle as is (the GPU machine's
 * self-contained one, bench/cuda-device.sh).
 * The bundle has a smaller heap, hence shorter mark-compact GCs (seed CNN,
 * batch 8: P2's ~250 -> ~200 ms per run; parties/bundle-entry.ts).
 */
export async function partyProgram(env: NodeJS.ProcessEnv = process.env): Promise<{ runtime: 'bundle' | 'tsx'; args: string[]; note?: string }> {
  // A prebuilt, self-contained bundle (the GPU machine's, bench/cuda-device.sh: no node_modules, so neither tsx nor esbuild there).
  if (env.PARTY_BUNDLE) return { runtime: 'bundle', args: [path.resolve(env.PARTY_BUNDLE)] };
  // tsx's loader by absolute URL: works from `npm start` (tsx) and from vitest workers alike.
  const tsx = { runtime: 'tsx' as const, args: ['--import', import.meta.resolve('tsx'), MAIN] };
  if (env.PARTY_RUNTIME === 'tsx') return tsx;
  if (env.PARTY_RUNTIME !== undefined && env.PARTY_RUNTIME !== 'bundle') throw new Error(`PARTY_RUNTIME must be 'bundle' or 'tsx', got '${env.PARTY_RUNTIME}'`);
  try {
    const { buildPartyBundle } = (await import(BUILD_PARTY)) as { buildPartyBundle(): Promise<string> };
    return { runtime: 'bundle', args: [await buildPartyBundle()] };
  } catch (e) {
    return { ...tsx, note: `could not build parties/party.bundle.mjs (${(e as Error).message.split('\n')[0]}); running the sources through tsx` };
  }
}

/**
 * Node options of each party process: PARTY_NODE_ARGS (space-separated) if
 * set, else LOCAL_PARTY_NODE_ARGS. The three parties launched here share one
 * machine's cores. V8's parallel and concurrent GC threads then compete with
 * the other parties' main threads (seed CNN batch 1 on 2 cores: 609 ms with
 * the default GC, 383 ms single-threaded); and the protocol's large typed
 * arrays (external memory) start a major GC every ~64 MiB allocated, whose
 * incremental marking cost ~30 ms per cycle on a ~19 MiB heap where an
 * atomic one takes ~19 ms, with half as many cycles (P2, batch 8: 73 -> 39
 * major GCs; BENCHMARKS.md). A party on a machine of its own needs neither.
 */
export const LOCAL_PARTY_NODE_ARGS = ['--single-threaded-gc', '--no-incremental-marking'];

export function partyNodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return env.PARTY_NODE_ARGS !== undefined ? env.PARTY_NODE_ARGS.split(' ').filter(Boolean) : [...LOCAL_PARTY_NODE_ARGS];
}

/**
 * What the SDK's demo page loads next to itself (client-sdk/README.md):
 * ./sdk.js (the browser bundle, built into `dir` with client-sdk/build.ts, or
 * client-sdk/dist/browser.js if already built) and ./config.json (party URLs
 * and the token). Returns URL path -> file for P0's staticFiles.
 */
async function demoAssets(dir: string, clientConfig: object): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const cfgFile = path.join(dir, 'demo-config.json');
  writeFileSync(cfgFile, JSON.stringify(clientConfig, null, 2), { mode: 0o600 });
  files['/config.json'] = cfgFile;
  const sdk = path.join(dir, 'sdk.js');
  const buildTs = fileURLToPath(new URL('../client-sdk/build.ts', import.meta.url));
  const prebuilt = fileURLToPath(new URL('../client-sdk/dist/browser.js', import.meta.url));
  try {
    if (!existsSync(buildTs)) throw new Error('no client-sdk/build.ts');
    const mod = (await import(pathToFileURL(buildTs).href)) as { buildBrowserBundle?: (out: string) => Promise<unknown> };
    if (typeof mod.buildBrowserBundle !== 'function') throw new Error('no buildBrowserBundle');
    await mod.buildBrowserBundle(sdk);
    files['/sdk.js'] = sdk;
  } catch {
    if (existsSync(prebuilt)) files['/sdk.js'] = prebuilt;
  }
  // The DICOM codecs the browser SDK fetches next to sdk.js for compressed DICOM files (client-sdk/README.md).
  try {
    files['/dicom-codecs.wasm'] = createRequire(import.meta.url).resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm');
  } catch { /* not installed: uncompressed DICOM, JPEG and PNG still work */ }
  return files;
}

/**
 * Starts the deployment; when a party dies at start-up because a port chosen by freePorts() was taken in the
 * meantime (another process bound it between our close and the party's listen), it starts once more on new ports.
 */
export async function launchLocal(opts: LaunchOptions): Promise<Launched> {
  try {
    return await launchOnce(opts);
  } catch (e) {
    if (!(e instanceof PortTakenError)) throw e;
    opts.onLine?.(e.party, `launchLocal: ${e.message}; starting again on new ports`);
    return await launchOnce(opts);
  }
}

/** A party exited at start-up with EADDRINUSE in its output. */
class PortTakenError extends Error {
  constructor(readonly party: 0 | 1 | 2, message: string) { super(message); }
}

async function launchOnce(opts: LaunchOptions): Promise<Launched> {
  const dir = mkdtempSync(path.join(tmpdir(), 'securenn-local-'));
  const certs = opts.insecureLocal ? null : generateCerts(path.join(dir, 'certs'), true);
  const f = opts.fracBits ?? 13;
  let models: PartyEntry['model'][];
  let modelHash = '';
  let modelKind: Launched['modelKind'] = 'dev-file';
  if (opts.ensemble) {
    const e = opts.ensemble;
    models = ([0, 1, 2] as const).map((p) => {
      const noise = Array.isArray(e.noise) ? e.noise[p] : e.noise;
      return { ensemble: { teachers: e.teacherDirs.map((d) => ({ bundleDir: path.resolve(d) })), ...(noise ? { noise } : {}) } };
    });
    modelKind = 'bundle';
  } else if (opts.bundleDir) {
    models = [0, 1, 2].map(() => ({ bundleDir: path.resolve(opts.bundleDir!) }));
    modelKind = 'bundle';
  } else {
    if (!opts.plain) throw new Error('launchLocal: give `plain` or `bundleDir`');
    modelHash = plainModelHash(opts.plain);
    const mi = opts.devFiles ? null : await modelImport();
    let bundleDir: string | null = null;
    if (mi?.writeBundles) {
      try {
        bundleDir = path.join(dir, 'bundle');
        mi.writeBundles({ ir: opts.plain, sourceHash: modelHash, sourceFile: 'demo-model', format: 'ir' }, bundleDir, { fracBits: f, ...(opts.security === 'malicious' ? { replicated: true } : {}), ...(opts.truncation ? { truncation: opts.truncation } : {}), ...(opts.compareBits ? { compareBits: opts.compareBits } : {}) });
      } catch (e) {
        // Dev files carry no replicated weight shares: a malicious party would refuse them at load; the import's own error says why.
        if (opts.security === 'malicious') throw e;
        opts.onLine?.(0, `launchLocal: model-import could not write the bundles (${(e as Error).message.split('\n')[0]}); dev files instead`);
        bundleDir = null;
      }
    }
    if (bundleDir) {
      models = [0, 1, 2].map(() => ({ bundleDir: bundleDir! }));
      modelKind = 'bundle';
    } else {
      if (opts.truncation === 'exact') throw new Error('launchLocal: exact truncation needs a model-import bundle, and it could not be written');
      models = writeDevModelFiles(dir, shareBundles(opts.plain, f, modelHash)).map((devFile) => ({ devFile }));
    }
  }
  const [h0, h1, h2, g0, g1, d0, d1] = await freePorts(7) as [number, number, number, number, number, number, number];
  const h2Link = (opts.meshLink ?? DEFAULTS.mesh.link) === 'h2';
  const token = randomBytes(24).toString('base64url');
  const http = [h0, h1, h2];
  const tlsOf = (p: 0 | 1 | 2) => (certs ? { tls: { ca: certs.ca.cert, cert: certs.parties[p].cert, key: certs.parties[p].key } } : {});
  const dep: DeploymentConfig = {
    tokens: [token, ...(opts.extraTokens ?? [])],
    // Local launches (benchmarks, demo) are run by their operator: the token also sees per-layer run stats.
    operatorTokens: [token],
    insecureLocal: opts.insecureLocal ?? false,
    logLevel: opts.logLevel ?? 'info',
    cors: { origins: [`http://127.0.0.1:${h0}`, `http://localhost:${h0}`] },
    ...(opts.batch ? { batch: { ...{ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2 }, ...opts.batch } } : {}),
    ...(opts.compareRadix ? { compareRadix: opts.compareRadix } : {}),
    ...(opts.compareBits ? { compareBits: opts.compareBits } : {}),
    ...(opts.rangeSentinel ? { rangeSentinel: opts.rangeSentinel } : {}),
    ...(opts.security ? { security: opts.security } : {}),
    ...(opts.malicious ? { malicious: opts.malicious } : {}),
    ...(opts.meshLink ? { mesh: { link: opts.meshLink } } : {}),
    ...(opts.kernels ? { kernels: opts.kernels } : {}),
    ...(opts.preprocess ? { preprocess: { enabled: true, maxBytes: 256 * 2 ** 20, timeoutMs: 30_000, ...opts.preprocess } } : {}),
    ...(opts.warmup ? { warmup: opts.warmup } : {}),
    ...(opts.privacy ? { privacy: opts.privacy } : {}),
    // Used session ids are journalled in the deployment's folder: a restarted party still refuses them.
    sessions: { ...DEFAULTS.sessions, ...(opts.sessions ? { defaultDeadlineMs: 120_000, ...opts.sessions } : {}), idJournal: 'state/session-ids-p{party}.log' },
    parties: [
      { http: { host: '127.0.0.1', port: h0 }, grpc: { host: '127.0.0.1', port: g0, ...(h2Link ? { dataPort: d0 } : {}) }, ...tlsOf(0), model: models[0]!, staticDir: DEMO_DIR },
      { http: { host: '127.0.0.1', port: h1 }, grpc: { host: '127.0.0.1', port: g1, ...(h2Link ? { dataPort: d1 } : {}) }, ...tlsOf(1), model: models[1]! },
      { http: { host: '127.0.0.1', port: h2 }, ...tlsOf(2), model: models[2]! },
    ],
  };
  if (opts.demoAssets) {
    const files = await demoAssets(dir, { parties: http.map((port) => `http://127.0.0.1:${port}`), token, ...(modelHash ? { expectedModelHash: modelHash } : {}) });
    dep.parties[0].staticFiles = files;
  }
  const configPath = path.join(dir, 'deploy.json');
  writeFileSync(configPath, JSON.stringify(dep, null, 2), { mode: 0o600 });
  mkdirSync(path.join(dir, 'logs'), { recursive: true });

  const program = await partyProgram();
  if (program.note) opts.onLine?.(0, program.note);
  const tails: [string[], string[], string[]] = [[], [], []];
  const children = ([0, 1, 2] as const).map((p) => {
    const child = spawn(process.execPath, [...partyNodeArgs(), ...program.args, '--party', String(p), '--config', configPath], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env?.[p], PARTY_EXIT_WITH_PARENT: '1' },
    });
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        if (!line.trim()) continue;
        // The party's last lines (its logs carry no share values) explain a death at start-up.
        tails[p].push(line); if (tails[p].length > 8) tails[p].shift();
        opts.onLine?.(p, line);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    return child;
  });
  const urls = http.map((port) => `http://127.0.0.1:${port}`) as [string, string, string];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
      const t = setTimeout(() => { c.kill('SIGKILL'); }, 3_000);
      c.once('exit', () => { clearTimeout(t); resolve(); });
      c.kill('SIGTERM');
    })));
    rmSync(dir, { recursive: true, force: true });
  };

  // Wait until the three /readyz answer 200 (bounded), or a child dies.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  try {
    for (;;) {
      const dead = children.findIndex((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead >= 0) {
        await Promise.race([once(children[dead]!, 'close'), new Promise((r) => setTimeout(r, 500))]); // its last output
        const tail = tails[dead as 0 | 1 | 2].join('\n').slice(-1500);
        const msg = `P${dead} exited during start-up (code ${children[dead]!.exitCode}); its last lines:\n${tail}`;
        throw /EADDRINUSE/.test(tail) ? new PortTakenError(dead as 0 | 1 | 2, msg) : new Error(msg);
      }
      const ok = await Promise.all(urls.map((u) => fetch(`${u}/readyz`).then((r) => r.ok, () => false)));
      if (ok.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error('parties not ready in time');
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  if (!modelHash) modelHash = ((await (await fetch(`${urls[0]}/v1/model`, { headers: { authorization: `Bearer ${token}` } })).json()) as { modelHash: string }).modelHash;
  return { dir, configPath, certs, token, modelHash, modelKind, runtime: program.runtime, urls, children, stop };
}
