/**
 * A minimal client for the local demo (the real one is client-sdk/): one
 * private prediction on a random image. Shares the fixed-point image between
 * P0 and P1, runs the session at the three parties, reconstructs the logits.
 *
 *   npx tsx parties/demo-client.ts <client.json printed by npm start>
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CreateSessionResponse } from '../protocol/api-contract.js';
import { OUTPUT_SHAPE_HEADER, SESSION_KEY_HEADER } from '../protocol/api-contract.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { softmaxRows } from '../protocol/reference/forward.js';
import { bytesU64, randomU64, reconstruct, share, u64Bytes } from '../protocol/sharing/sharing.js';

const file = process.argv[2];
if (!file) { process.stderr.write('usage: demo-client.ts <client.json>\n'); process.exit(2); }
const cfg = JSON.parse(readFileSync(file, 'utf8')) as { parties: string[]; token: string; modelHash: string };
const auth = { authorization: `Bearer ${cfg.token}` };

async function call(url: string, init: RequestInit): Promise<Response> {
  const r = await fetch(url, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
  if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${r.status} ${await r.text()}`);
  return r;
}

const t0 = performance.now();
const sessionId = randomUUID();
// The session key of each party (32 random bytes): only requests that present it can feed or read the session there.
const keyed = (p: number) => ({ [SESSION_KEY_HEADER]: keys[p]! });
const keys = cfg.parties.map(() => randomBytes(32).toString('base64url'));
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
const logits = decode(reconstruct(getKernels(), y0!, y1!), info.fracBits);
const probs = info.outputActivation === 'softmax' ? softmaxRows(logits, info.outputShape.at(-1)!) : logits;
const labels = info.labels ?? [];
process.stdout.write(`session ${sessionId}: output shape [${shape}], ${Math.round(performance.now() - t0)} ms\n`);
probs.forEach((p, i) => process.stdout.write(`  ${labels[i] ?? `class ${i}`}: ${p.toFixed(4)}\n`));
