/**
 * `npm start`: a local three-party demo on loopback with mTLS between the
 * parties. Generates throwaway certificates, shares a demo pneumonia model
 * (the seed CNN with random weights, or `--bundle DIR` from model-import),
 * starts P0, P1, P2 as child processes and prints how to call them.
 *
 *   npm start [-- --bundle DIR] [--insecure-local] [--quiet] [--client-json FILE] [--warmup-runs N] [--gpu]
 *
 * Arguments are parsed strictly (node:util parseArgs): an unknown or
 * misspelt option (`--bundel`) stops with exit status 2 before anything
 * starts, instead of silently serving the demo model. The client config
 * (URLs, token, model hash) goes to --client-json FILE, or client.json in
 * this deployment's own temporary folder; its path is printed, and it is
 * removed when the parties stop. A --client-json FILE that exists already
 * (another deployment's) is refused before anything starts. --warmup-runs N
 * caps the parties' start-up warm-up (config warmup.runs, parties/warmup.ts;
 * default 1000 runs or 15 s, 0 turns it off): they say ready after it.
 * --gpu runs the three parties on the CUDA kernels (config kernels 'cuda',
 * runtime/cuda-addon.ts); without a usable device it stops with exit status
 * 2 and the reason (addon not built, no device) before anything starts.
 * Without it the parties use the config default, 'auto': CUDA where a device
 * is usable, else the CPU kernels.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { seedCnn } from '../protocol/seed-models.js';
import { DEMO_DIR } from './config.js';
import { cudaStatus } from '../runtime/cuda-addon.js';
import { launchLocal } from './launch.js';

const USAGE = 'usage: npm start [-- --bundle DIR] [--insecure-local] [--quiet] [--client-json FILE] [--warmup-runs N] [--gpu]';

function startArgs(argv: string[]): { bundle?: string; insecure: boolean; quiet: boolean; clientJson?: string; warmupRuns?: number; gpu: boolean } {
  try {
    const { values: v } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: {
      bundle: { type: 'string' }, 'insecure-local': { type: 'boolean' }, quiet: { type: 'boolean' }, 'client-json': { type: 'string' }, 'warmup-runs': { type: 'string' }, gpu: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    } });
    if (v.help) { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    const runs = v['warmup-runs'];
    if (runs !== undefined && !/^\d{1,7}$/.test(runs)) throw new Error(`--warmup-runs must be a whole number of runs (0 turns the warm-up off), got '${runs}'`);
    return { ...(v.bundle !== undefined ? { bundle: v.bundle } : {}), insecure: v['insecure-local'] === true, quiet: v.quiet === true, gpu: v.gpu === true, ...(v['client-json'] !== undefined ? { clientJson: path.resolve(v['client-json']) } : {}), ...(runs !== undefined ? { warmupRuns: Number(runs) } : {}) };
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    const arg = /'([^']+)'/.exec(m)?.[1];
    const code = (e as { code?: string }).code;
    const what = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' ? `unknown argument '${arg ?? m}'` : m.split('\n')[0];
    process.stderr.write(`start: error E_BAD_ARGUMENT: ${what}\n${USAGE}\n`);
    process.exit(2);
  }
}

const args = startArgs(process.argv.slice(2));
const quiet = args.quiet;

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
function show(party: number, line: string): void {
  let text = line;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const { level, time: _t, pid: _p, hostname: _h, msg, party: _party, reqId: _r, ...rest } = o;
    if (quiet && typeof level === 'number' && level < 40) return;
    const kv = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
    text = `${LEVELS[level as number] ?? level} ${String(msg ?? '')} ${kv}`;
  } catch { /* not JSON: print as is */ }
  process.stdout.write(`[P${party}] ${text}\n`);
}

/** The refusal of a --client-json FILE that exists (another deployment's, or a stale one): exit 2. */
function clientJsonTaken(file: string, why: string): never {
  process.stderr.write(`start: error E_CONFLICT: cannot write the client config ${file} (${why}): remove it or choose another --client-json\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { bundle, insecure } = args;
  // Before anything starts: the file may still be checked again below (another start may take it meanwhile).
  if (args.clientJson && existsSync(args.clientJson)) clientJsonTaken(args.clientJson, 'EEXIST');
  // --gpu: the three parties on the CUDA kernels (config kernels 'cuda'), or say why not before anything starts.
  if (args.gpu) {
    const cuda = cudaStatus();
    if (!cuda.device) {
      process.stderr.write(`start: error E_NATIVE: --gpu: the parties cannot run on a GPU here: ${cuda.reason ?? 'no usable CUDA device'}\n`);
      process.exit(2);
    }
    process.stdout.write(`--gpu: the three parties use the CUDA kernels on ${cuda.device.name}\n`);
  }
  process.stdout.write(`starting three parties (${insecure ? 'insecure loopback' : 'mTLS'}), model: ${bundle ? `bundle ${bundle}` : 'demo seed CNN (random weights, 150x125x1)'}...\n`);
  const l = await launchLocal({ ...(bundle ? { bundleDir: bundle } : { plain: seedCnn('maxpool2d', 1), fracBits: 13 }), insecureLocal: insecure, onLine: show, demoAssets: true, ...(args.gpu ? { kernels: 'cuda' as const } : {}), ...(args.warmupRuns !== undefined ? { warmup: { runs: args.warmupRuns } } : {}) });
  const clientFile = args.clientJson ?? path.join(l.dir, 'client.json');
  try {
    // An explicit path that exists may be another deployment's: never overwrite it.
    writeFileSync(clientFile, JSON.stringify({ parties: l.urls, token: l.token, modelHash: l.modelHash, ca: l.certs?.ca.cert, clientCert: l.certs?.client }, null, 2), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    await l.stop();
    clientJsonTaken(clientFile, (e as NodeJS.ErrnoException).code ?? 'error');
  }
  const demo = existsSync(DEMO_DIR) ? `${l.urls[0]}/  (client-sdk/demo)` : `(none: client-sdk/demo/ does not exist yet; P0 will serve it at ${l.urls[0]}/ when it does)`;
  process.stdout.write([
    '',
    'SecureNN private inference: three parties ready',
    `  P0 ${l.urls[0]}   P1 ${l.urls[1]}   P2 ${l.urls[2]}`,
    `  bearer token  ${l.token}`,
    `  model hash    ${l.modelHash}  (${l.modelKind})`,
    `  demo page     ${demo}`,
    `  client config ${clientFile}`,
    `  certificates  ${l.certs ? l.certs.dir : '(insecure-local: none)'}`,
    '',
    'Try:',
    `  curl ${l.urls[0]}/readyz`,
    `  curl -H 'Authorization: Bearer ${l.token}' ${l.urls[0]}/v1/model`,
    `  npx tsx parties/demo-client.ts ${clientFile}     # one private prediction on a random image`,
    `  curl ${l.urls[0]}/metrics`,
    '',
    'Ctrl-C stops the parties and removes the temporary files.',
    '',
  ].join('\n'));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping...\n');
    // A client config left behind would point at a deployment that is gone.
    rmSync(clientFile, { force: true });
    void l.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (const [i, c] of l.children.entries()) c.on('exit', (code, sig) => { if (!stopping) { process.stdout.write(`P${i} exited (${code ?? sig}); stopping the others\n`); stop(); } });
}

main().catch((e: unknown) => {
  process.stderr.write(`start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
