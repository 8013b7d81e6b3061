/**
 * Secrets.
 *  - Randomness only from a CSPRNG: no Math.random or other non-cryptographic
 *    generator anywhere in the sources (TypeScript and native); the generators
 *    that are used are node:crypto, Web Crypto and AES-128-CTR keyed from them;
 *    the seeded test PRG is not reachable from the party or client runtime.
 *  - Party logs hold no input, weight or output value: three party processes
 *    at log level trace serve predictions and bad requests; their whole output
 *    is searched for the values (plaintext and share words) and the token.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal, type Launched } from '../parties/launch.js';
import { TEST_WARMUP } from '../parties/testing/quick-warmup.js';
import { TEST_SESSION_KEY } from '../parties/testing/trio.js';
import { SESSION_KEY_HEADER } from '../protocol/api-contract.js';
import type { FloatTensor } from '../protocol/ir.js';
import { bytesU64 } from '../protocol/sharing/sharing.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { ROOT } from './testing/deploy.js';

const SOURCE_DIRS = ['protocol', 'parties', 'model-import', 'client-sdk/src', 'client-sdk/build.ts', 'deploy', 'bench', 'scripts', 'test'];

function walk(p: string, out: string[] = []): string[] {
  const abs = path.join(ROOT, p);
  let st;
  try { st = statSync(abs); } catch { return out; }
  if (st.isFile()) { out.push(p); return out; }
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    // Build outputs are not sources (their sources are scanned): dist/, build/, the party bundle (scripts/build-party.mjs).
    if (e.name === 'node_modules' || e.name === 'dist' || e.name === 'build' || e.name.startsWith('.') || /\.bundle\.mjs($|\.)/.test(e.name)) continue;
    walk(path.join(p, e.name), out);
  }
  return out;
}

/** Source text without comments (good enough for a grep: strings keep their content). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

describe('randomness only from a CSPRNG', () => {
  const files = SOURCE_DIRS.flatMap((d) => walk(d));
  const ts = files.filter((f) => /\.(ts|mts|mjs|js)$/.test(f));
  const native = files.filter((f) => /\.(cc|cpp|c|h|hpp|cu|cuh)$/.test(f));

  it('no Math.random or non-cryptographic generator in the TypeScript/JavaScript sources', () => {
    expect(ts.length).toBeGreaterThan(100);
    const bad: string[] = [];
    const patterns = [/\bMath\s*\.\s*random\b/, /\bMath\s*\[\s*['"`]random['"`]\s*\]/, /\bpseudoRandomBytes\b/, /from\s+['"](seedrandom|random-js|random|chance|@faker-js\/faker|faker|pure-rand|mersenne-twister)['"]/, /require\(\s*['"](seedrandom|random-js|random|chance|mersenne-twister)['"]\s*\)/];
    // (This file names the patterns in its strings; it is the one file not scanned.)
    for (const f of ts.filter((x) => x !== 'test/secrets.test.ts')) {
      const c = code(readFileSync(path.join(ROOT, f), 'utf8'));
      for (const p of patterns) if (p.test(c)) bad.push(`${f}: ${p}`);
    }
    expect(bad).toEqual([]);
    // The scan does find one.
    expect(patterns[0]!.test(code('const r = Math.random();'))).toBe(true);
  });

  it('no rand()/srand()/mt19937/curand or other non-cryptographic generator in the native sources', () => {
    expect(native.length).toBeGreaterThan(3);
    const bad: string[] = [];
    const patterns = [/\b(s?rand|rand_r|random|srandom|drand48|lrand48|erand48)\s*\(/, /\b(mt19937|mt19937_64|minstd_rand0?|default_random_engine|ranlux\w*|knuth_b|random_device)\b/, /\bcurand\w*/];
    for (const f of native) {
      const c = code(readFileSync(path.join(ROOT, f), 'utf8'));
      for (const p of patterns) if (p.test(c)) bad.push(`${f}: ${p}`);
    }
    expect(bad).toEqual([]);
  });

  it('the generators in use are cryptographic: node:crypto, Web Crypto, AES-128-CTR keyed from them', () => {
    const read = (f: string) => code(readFileSync(path.join(ROOT, f), 'utf8'));
    const prg = read('protocol/correlated/prg.ts');
    expect(prg).toMatch(/createCipheriv\('aes-128-ctr'/);
    expect(prg).toMatch(/new Prg\(randomBytes\(16\)\)/);
    expect(read('protocol/kernels/native/prg.cc')).toMatch(/_mm_aesenc(last)?_si128/);
    expect(read('protocol/sharing/sharing.ts')).toMatch(/getRandomValues/);
    expect(read('client-sdk/src/ring.ts')).toMatch(/from '..\/..\/protocol\/sharing\/sharing.js'/);
    expect(read('protocol/privacy/random-source.ts')).toMatch(/randomFillSync/);
    // Every production file that draws randomness imports it from node:crypto or uses Web Crypto.
    const drawers = ts.filter((f) => !/\.test\.ts$|^test\/|^bench\/|testing/.test(f)).filter((f) => /\b(randomBytes|randomFillSync|randomUUID|randomInt|getRandomValues)\b/.test(read(f)));
    expect(drawers.length).toBeGreaterThan(5);
    for (const f of drawers) expect(/from 'node:crypto'|globalThis as \{ crypto|crypto\.getRandomValues/.test(readFileSync(path.join(ROOT, f), 'utf8')), f).toBe(true);
  });

  it('the seeded test PRG (protocol/testing) is not reachable from the party program or the client SDK', () => {
    const reach = (entries: string[]): Set<string> => {
      const seen = new Set<string>();
      const todo = [...entries];
      while (todo.length) {
        const f = todo.pop()!;
        if (seen.has(f)) continue;
        seen.add(f);
        const text = readFileSync(path.join(ROOT, f), 'utf8');
        for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
          const target = path.normalize(path.join(path.dirname(f), m[1]!)).replace(/\.js$/, '.ts');
          try { if (statSync(path.join(ROOT, target)).isFile()) todo.push(target); } catch { /* not a TS source */ }
        }
      }
      return seen;
    };
    // model-import/bundle.ts is loaded by URL (parties/model-source.ts), so it is an entry of its own.
    const party = reach(['parties/main.ts', 'model-import/bundle.ts']);
    const client = reach(['client-sdk/src/index.ts', 'client-sdk/src/browser.ts']);
    expect(party.has('parties/party.ts') && party.has('protocol/correlated/prg.ts')).toBe(true);
    expect(client.has('client-sdk/src/ring.ts')).toBe(true);
    for (const set of [party, client]) expect([...set].filter((f) => f.includes('testing') || f.endsWith('.test.ts'))).toEqual([]);
  });
});

describe('party logs hold no input, weight or output value', () => {
  const model = networkA();
  let l: Launched;
  const lines: string[] = [];
  const needles = new Map<string, string>();
  const add = (what: string, s: string) => { if (s.length >= 8) needles.set(s, what); };
  const addWords = (what: string, bytes: Uint8Array, max = 256) => {
    const words = bytesU64(new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + (bytes.byteLength & ~7))));
    for (const w of words.slice(0, max)) {
      add(what, w.toString());
      add(what, w.toString(16).padStart(16, '0'));
      add(what, BigInt.asIntN(64, w).toString());
    }
    const b = Buffer.from(bytes);
    for (let i = 0; i + 24 <= Math.min(b.length, 1536); i += 24) { add(what, b.subarray(i, i + 24).toString('base64')); add(what, b.subarray(i, i + 24).toString('hex')); }
  };

  beforeAll(async () => {
    l = await launchLocal({ plain: model, fracBits: 16, logLevel: 'trace', readyTimeoutMs: 60_000, warmup: TEST_WARMUP, onLine: (_p, line) => lines.push(line) });
  });
  afterAll(async () => { await l?.stop(); });

  it('serves predictions and refuses bad requests at log level trace; no value and no token in any log line', async () => {
    // A fetch that records the shares the client sends and receives.
    const recording = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith('/input') && init?.body) {
        const b = init.body;
        addWords('input share', b instanceof Uint8Array ? b : new Uint8Array(b as ArrayBuffer));
      }
      const r = await fetch(input, init);
      if (url.includes('/output') && r.status === 200) {
        const bytes = new Uint8Array(await r.clone().arrayBuffer());
        addWords('output share', bytes);
      }
      return r;
    };
    const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, fetch: recording, timeoutMs: 30_000 });
    for (const seed of [1, 2, 3]) {
      const x = Float32Array.from(uniform(seededPrg(seed), 784, 1), (v) => (v + 1) / 2);
      for (const v of x.slice(0, 200)) add('input', String(v));
      const r = await client.predict({ data: x, shape: [784] });
      for (const v of r.logits) add('output', String(v));
      for (const v of r.probabilities) add('output', String(v));
    }
    // Bad requests: a share of the wrong length (its words must not be echoed), a wrong token.
    const sid = crypto.randomUUID();
    for (const u of l.urls) await fetch(`${u}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${l.token}`, [SESSION_KEY_HEADER]: TEST_SESSION_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: sid }) });
    const bad = new Uint8Array(crypto.getRandomValues(new Uint8Array(784 * 8 - 8)));
    addWords('rejected share', bad);
    expect((await fetch(`${l.urls[0]}/v1/sessions/${sid}/input`, { method: 'PUT', headers: { authorization: `Bearer ${l.token}`, [SESSION_KEY_HEADER]: TEST_SESSION_KEY, 'content-type': 'application/octet-stream' }, body: bad })).status).toBe(400);
    expect((await fetch(`${l.urls[1]}/v1/model`, { headers: { authorization: 'Bearer not-the-token-at-all-0000' } })).status).toBe(401);

    // Weights: the plaintext model and the share words of P0's and P1's bundles.
    for (const n of model.nodes) if ('kernel' in n) for (const v of (n.kernel as FloatTensor).data.slice(0, 200)) add('weight', String(v));
    for (const p of [0, 1]) addWords(`weight share P${p}`, readFileSync(path.join(l.dir, 'bundle', `party${p}`, 'weights.bin')).subarray(0, 4096));
    add('token', l.token);

    await new Promise((r) => setTimeout(r, 300));
    expect(lines.some((s) => s.includes('"msg":"run done"'))).toBe(true);
    expect(lines.some((s) => s.includes('"level":10') || s.includes('"level":20'))).toBe(true);
    expect(needles.size).toBeGreaterThan(3000);
    const kinds = new Map<string, number>();
    for (const what of needles.values()) kinds.set(what, (kinds.get(what) ?? 0) + 1);
    for (const k of ['input', 'input share', 'output', 'output share', 'rejected share', 'weight', 'weight share P0', 'weight share P1', 'token']) expect(kinds.get(k) ?? 0, k).toBeGreaterThan(0);
    const all = lines.join('\n');
    const found = [...needles].filter(([s]) => all.includes(s)).map(([s, what]) => `${what}: ${s}`);
    expect(found).toEqual([]);
    // Nor anything shaped like a dumped buffer.
    expect(all).not.toMatch(/"type":"Buffer"|\[(\s*\d+\s*,){16,}/);
  });
});
