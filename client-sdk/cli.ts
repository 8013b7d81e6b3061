/**
 * Command line for triaging a folder of studies through the three parties:
 *
 *   npx tsx client-sdk/cli.ts predict [options] FILE... | FOLDER...
 *
 * DICOM, JPEG and PNG files (recognised by their bytes, not their names; a
 * folder is searched recursively and other files are left out). One line per
 * file on stdout, in the order given (folders sorted); --json gives one JSON
 * object per line. With more than one file a progress bar goes to stderr.
 * Each file is decoded and secret-shared here: no DICOM header field is sent.
 * Exit status: 0 all predicted, 1 some file failed, 2 bad usage.
 */
import { readFileSync, readdirSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { PrivateInferenceClient, isDicom, type ClientOptions, type Prediction } from './src/index.js';
import { nodeRequestWith } from './src/node-fetch.js';
import { sniffImageFormat } from './src/image/types.js';

const USAGE = `usage: npx tsx client-sdk/cli.ts predict [options] FILE... | FOLDER...
  --client FILE            client config as \`npm start\` writes it (parties, token or tokens, modelHash, ca, clientCert)
  --parties P0,P1,P2       party URLs (instead of --client)
  --token T | --tokens T0,T1,T2
  --expected-model-hash H  refuse any other model (default: the client config's modelHash)
  --ca FILE --cert FILE --key FILE   TLS: private CA, client certificate
  --allow-insecure-http    plain http:// party URLs to hosts that are not loopback, only where something
                           else encrypts the links (a service-mesh sidecar); refused otherwise
  --frame N                frame of multi-frame DICOM files (0-based, default 0)
  --timeout MS             per file (default 120000)
  --json                   one JSON object per line
  --no-progress            no progress bar on stderr`;

class UsageError extends Error {}

interface ClientFile { parties?: string[]; token?: string; tokens?: string[]; modelHash?: string; ca?: string; clientCert?: { cert: string; key: string } }

/** Files to predict: each FILE as given, each FOLDER's DICOM/JPEG/PNG files (by content) sorted, recursively. */
export function collectInputs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    let st;
    try { st = statSync(a); } catch { out.push(a); continue; } // reported as that file's error
    if (!st.isDirectory()) { out.push(a); continue; }
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && isImageFile(p)) out.push(p);
      }
    };
    walk(a);
  }
  return out;
}

function isImageFile(p: string): boolean {
  const head = Buffer.alloc(132);
  let n = 0;
  try { const fd = openSync(p, 'r'); try { n = readSync(fd, head, 0, 132, 0); } finally { closeSync(fd); } } catch { return false; }
  const b = new Uint8Array(head.buffer, head.byteOffset, n);
  return isDicom(b) || sniffImageFormat(b) !== null;
}

function clientOptions(v: Record<string, string | boolean | undefined>): ClientOptions {
  const cfg: ClientFile = typeof v.client === 'string' ? JSON.parse(readFileSync(v.client, 'utf8')) as ClientFile : {};
  const parties = typeof v.parties === 'string' ? v.parties.split(',') : cfg.parties;
  if (!parties || parties.length !== 3) throw new UsageError('predict: give the three party URLs with --parties P0,P1,P2 or --client FILE');
  const tokens = typeof v.tokens === 'string' ? v.tokens.split(',') : cfg.tokens;
  const token = typeof v.token === 'string' ? v.token : cfg.token;
  if (!tokens && !token) throw new UsageError('predict: give --token, --tokens or a --client file with a token');
  const timeout = typeof v.timeout === 'string' ? Number(v.timeout) : undefined;
  if (timeout !== undefined && !(timeout >= 0)) throw new UsageError('predict: --timeout must be a number of milliseconds');
  const ca = typeof v.ca === 'string' ? v.ca : cfg.ca;
  const cert = typeof v.cert === 'string' ? v.cert : cfg.clientCert?.cert;
  const key = typeof v.key === 'string' ? v.key : cfg.clientCert?.key;
  const hash = typeof v['expected-model-hash'] === 'string' ? v['expected-model-hash'] : cfg.modelHash;
  const o: ClientOptions = { parties, ...(tokens ? { tokens } : { token: token! }), ...(timeout !== undefined ? { timeoutMs: timeout } : {}), ...(hash ? { expectedModelHash: hash } : {}), ...(v['allow-insecure-http'] === true ? { allowInsecureHttp: true } : {}) };
  if (ca || cert || key) {
    const tls = { keepAlive: true, ...(ca ? { ca: readFileSync(ca) } : {}), ...(cert ? { cert: readFileSync(cert) } : {}), ...(key ? { key: readFileSync(key) } : {}) };
    o.fetch = nodeRequestWith({ 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent(tls) }) as unknown as ClientOptions['fetch'];
  }
  return o;
}

const pct = (p: number): string => `${(p * 100).toFixed(1)}%`;

/** The decision threshold as the line names it: 0.5, the model's one threshold, or its per-label thresholds. */
const atThreshold = (r: Prediction): string => {
  const t = r.model.decisionThresholds;
  return !t || t.length === 0 ? '>= 0.5' : t.length === 1 ? `>= ${t[0]}` : 'at their thresholds';
};

/** The one line for a prediction: the label with its probability; the positive findings; the mask's positive fraction. */
export function textLine(file: string, r: Prediction): string {
  if (r.kind === 'multi-label') {
    const pos = r.findings!.filter((f) => f.positive);
    return `${file}\t${pos.length} of ${r.findings!.length} findings ${atThreshold(r)}${pos.length ? ': ' + pos.map((f) => `${f.label} ${pct(f.probability)}`).join(', ') : ` (top: ${r.findings![0]!.label} ${pct(r.findings![0]!.probability)})`}`;
  }
  if (r.kind === 'mask') {
    const m = r.mask!, c = m.shape.at(-1)!;
    // A sigmoid mask decides each element (channel) at its threshold; a softmax mask gives a class per pixel.
    const what = m.classes.length === m.probabilities.length ? `${c === 1 ? 'pixels' : 'elements'} ${atThreshold(r)}` : 'pixels of a class other than 0';
    return `${file}\tmask ${m.shape.join('x')}: ${pct(m.positiveFraction)} of ${what}`;
  }
  return `${file}\t${r.label} ${pct(r.probability)}`;
}

export function jsonLine(file: string, r: Prediction): string {
  const base = { file, ok: true, kind: r.kind, label: r.label, probability: r.probability, sessionId: r.sessionId, modelHash: r.model.modelHash };
  if (r.kind === 'mask') return JSON.stringify({ ...base, mask: { shape: r.mask!.shape, positiveFraction: r.mask!.positiveFraction } });
  return JSON.stringify({ ...base, probabilities: r.probabilities, ...(r.findings ? { findings: r.findings } : {}) });
}

function errorFields(e: unknown): { code: string; reason?: string; message: string } {
  const x = e as { code?: unknown; reason?: unknown; message?: unknown };
  if (typeof x?.code === 'string' && !x.code.startsWith('E_')) return { code: 'E_BAD_ARGUMENT', message: `cannot read the file (${x.code})` }; // fs errors: ENOENT, EISDIR, EACCES
  return { code: typeof x?.code === 'string' ? x.code : 'E_INTERNAL', ...(typeof x?.reason === 'string' ? { reason: x.reason } : {}), message: typeof x?.message === 'string' ? x.message : String(e) };
}

function bar(done: number, total: number, failed: number, tty: boolean): string {
  const width = 30, filled = Math.round((done / total) * width);
  return `${tty ? '\r' : ''}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${failed ? ` (${failed} failed)` : ''}${tty ? '' : '\n'}`;
}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WriteStream | NodeJS.WritableStream = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'predict') { err.write(`${USAGE}\n`); return 2; }
  let v: Record<string, string | boolean | undefined>, files: string[];
  try {
    const parsed = parseArgs({
      args: rest, allowPositionals: true, strict: true,
      options: {
        client: { type: 'string' }, parties: { type: 'string' }, token: { type: 'string' }, tokens: { type: 'string' }, 'expected-model-hash': { type: 'string' },
        ca: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, frame: { type: 'string' }, timeout: { type: 'string' },
        json: { type: 'boolean' }, 'no-progress': { type: 'boolean' }, 'allow-insecure-http': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
    v = parsed.values;
    if (v.help) { out.write(`${USAGE}\n`); return 0; }
    if (parsed.positionals.length === 0) throw new UsageError('predict: no FILE or FOLDER given');
    files = collectInputs(parsed.positionals);
    if (files.length === 0) throw new UsageError('predict: no DICOM, JPEG or PNG file found');
  } catch (e) {
    err.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const frame = typeof v.frame === 'string' ? Number(v.frame) : undefined;
  if (frame !== undefined && !(Number.isInteger(frame) && frame >= 0)) { err.write(`predict: --frame must be an integer >= 0\n${USAGE}\n`); return 2; }
  let client: PrivateInferenceClient;
  try {
    client = new PrivateInferenceClient(clientOptions(v));
  } catch (e) {
    err.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const tty = (err as NodeJS.WriteStream).isTTY === true;
  const progress = files.length > 1 && v['no-progress'] !== true;
  let failed = 0;
  if (progress) err.write(bar(0, files.length, 0, tty));
  for (const [i, file] of files.entries()) {
    try {
      const r = await client.predict(new Uint8Array(readFileSync(file)), frame !== undefined ? { dicom: { frame } } : {});
      out.write(`${v.json ? jsonLine(file, r) : textLine(file, r)}\n`);
    } catch (e) {
      failed++;
      const f = errorFields(e);
      out.write(v.json ? `${JSON.stringify({ file, ok: false, error: f })}\n` : `${file}\tERROR ${f.code}${f.reason ? ` ${f.reason}` : ''}: ${f.message}\n`);
    }
    if (progress) err.write(bar(i + 1, files.length, failed, tty));
  }
  if (progress && tty) err.write('\n');
  return failed ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => { process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`); process.exitCode = 2; });
}
