/**
 * A minimal client for the local demo (the real one is client-sdk/): one
 * private prediction on a random image. Shares the fixed-point image between
 * P0 and P1, runs the session at the three parties, reconstructs the logits.
 *
 *   npx tsx parties/demo-client.ts <the client.json path npm start printed>
 *
 * Exactly one explicit path (no glob: a pattern matching several deployments'
 * files is refused). Before sending anything it checks that the three
 * parties at the file's URLs serve the model hash the file names, so a
 * client.json of another (or a stale) deployment is refused, not used.
 */
import '../runtime/install.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CreateSessionResponse, ModelInfo } from '../protocol/api-contract.js';
import { OUTPUT_SENTINEL_HEADER, OUTPUT_SHAPE_HEADER, SESSION_KEY_HEADER } from '../protocol/api-contract.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { softmaxRows } from '../protocol/reference/forward.js';
import { bytesU64, randomU64, reconstruct, share, u64Bytes } from '../protocol/sharing/sharing.js';

const USAGE = 'usage: npx tsx parties/demo-client.ts <client.json printed by npm start>';
function fail(code: string, msg: string): never {
  process.stderr.write(`demo-client: error ${code}: ${msg}\n`);
  process.exit(2);
}

let positionals: string[] = [];
try {
  ({ positionals } = parseArgs({ args: process.argv.slice(2), strict: true, allowPositionals: true, options: {} }));
} catch (e) {
  fail('E_BAD_ARGUMENT', `${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n${USAGE}`);
}
if (positionals.length !== 1) fail('E_BAD_ARGUMENT', `expected exactly one client.json path, got ${positionals.length}${positionals.length > 1 ? ' (a shell glob matched several deployments: name the one npm start printed)' : ''}\n${USAGE}`);
const file = positionals[0]!;
if (/[*?[]/.test(file)) fail('E_BAD_ARGUMENT', `'${file}' is a pattern, not a path: name the client.json npm start printed`);
let cfg: { parties: string[]; token: string; modelHash: string };
try {
  cfg = JSON.parse(readFileSync(file, 'utf8')) as typeof cfg;
} catch (e) {
  fail('E_BAD_ARGUMENT', `cannot read ${file} as JSON (${(e as NodeJS.ErrnoException).code ?? 'invalid JSON'})`);
}
if (!Array.isArray(cfg.parties) || cfg.parties.length !== 3 || typeof cfg.token !== 'string' || typeof cfg.modelHash !== 'string') fail('E_BAD_ARGUMENT', `${file} is not a client.json of npm start (parties, token, modelHash)`);
const auth = { authorization: `Bearer ${cfg.token}` };

async function call(url: string, init: RequestInit): Promise<Response> {
  let r: Response;
  try {
    r = await fetch(url, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
  } catch {
    fail('E_PEER_UNAVAILABLE', `${url} does not answer: is the deployment of ${file} still running?`);
  }
  if (!r.ok) fail('E_INTERNAL', `${init.method ?? 'GET'} ${url}: ${r.status} ${await r.text()}`);
  return r;
}

// The three parties must serve the model this file was written for.
const served = await Promise.all(cfg.parties.map((u) => call(`${u}/v1/model`, { method: 'GET' }).then((r) => r.json() as Promise<ModelInfo>)));
served.forEach((m, p) => {
  if (m.modelHash !== cfg.modelHash) fail('E_MODEL_MISMATCH', `P${p} at ${cfg.parties[p]} serves model ${m.modelHash.slice(0, 12)}…, ${file} names ${cfg.modelHash.slice(0, 12)}…: this file belongs to another deployment`);
});

const t0 = performance.now();
const sessionId = randomUUID();
// The session key of each party (32 random bytes): only requests that present it can feed or read the session there.
const keys = cfg.parties.map(() => randomBytes(32).toString('base64url'));
const keyed = (p: number) => ({ [SESSION_KEY_HEADER]: keys[p]! });
const created = await Promise.all(cfg.parties.map((u, p) => call(`${u}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json', ...keyed(p) }, body: JSON.stringify({ sessionId, modelHash: cfg.modelHash }) }).then((r) => r.json() as Promise<CreateSessionResponse>)));
const info = created[0]!;
const n = info.inputShape.reduce((a, b) => a * b, 1);
// A random "image" in [0, 1): pixel values from the CSPRNG.
const pixels = Float64Array.from(randomU64(n), (v) => Number(v >> 11n) / 2 ** 53);
const [x0, x1] = share(getKernels(), encode(pixels, info.fracBits));
await Promise.all([x0, x1].map((x, p) => call(`${cfg.parties[p]}/v1/sessions/${sessionId}/input`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', ...keyed(p) }, body: Buffer.from(u64Bytes(x)) })));
const outs = await Promise.all([0, 1].map((p) => call(`${cfg.parties[p]}/v1/sessions/${sessionId}/output`, { method: 'GET', headers: keyed(p) })));
const shape = outs[0]!.headers.get(OUTPUT_SHAPE_HEADER) ?? '';
const [y0, y1] = await Promise.all(outs.map(async (r) => bytesU64(new Uint8Array(await r.arrayBuffer()))));
// Parties that run the range sentinel (parties/range-sentinel.ts): no result without both shares of s, nor with
// s = s_0 + s_1 != 0 mod 2^64 (as the SDK's client-sdk/src/range-sentinel.ts; a missing header is never "in range").
if (info.rangeSentinel === true || served.some((m) => m.rangeSentinel === true)) {
  const s = outs.map((r, p) => {
    const h = r.headers.get(OUTPUT_SENTINEL_HEADER);
    if (h === null || !/^[0-9a-f]{16}$/.test(h)) fail('E_INTERNAL', `P${p} runs the range sentinel but sent ${h === null ? 'no' : 'a malformed'} share of it (${OUTPUT_SENTINEL_HEADER}); the result is refused`);
    return BigInt(`0x${h}`);
  });
  if (BigInt.asUintN(64, s[0]! + s[1]!) !== 0n) fail('E_RANGE_SENTINEL', 'an intermediate value left the comparison ring; the result would be unreliable and is refused');
}
const logits = decode(reconstruct(getKernels(), y0!, y1!), info.fracBits);
const labels = info.labels ?? [];
process.stdout.write(`session ${sessionId}: output shape [${shape}], ${Math.round(performance.now() - t0)} ms\n`);
if (logits.length === 1) {
  // One sigmoid output: the probability of the positive class (labels[1]) is p, of the negative (labels[0]) 1 - p.
  const p = 1 / (1 + Math.exp(-logits[0]!));
  const k = p >= 0.5 ? 1 : 0;
  process.stdout.write(`  prediction: ${labels[k] ?? `class ${k}`} (${((k ? p : 1 - p) * 100).toFixed(2)} %)\n`);
} else {
  const probs = softmaxRows(logits, info.outputShape.at(-1)!);
  const k = probs.indexOf(Math.max(...probs));
  process.stdout.write(`  prediction: ${labels[k] ?? `class ${k}`} (${(probs[k]! * 100).toFixed(2)} %)\n`);
  probs.forEach((p, i) => process.stdout.write(`  ${labels[i] ?? `class ${i}`}: ${p.toFixed(4)}\n`));
}
