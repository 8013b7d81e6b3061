/**
 * The demo client of deploy/docker-compose.yml: one private prediction with
 * the client SDK against the three parties, then exit (0 on success).
 *
 *   SECURENN_PARTIES=https://party-0:8443,https://party-1:8443,https://party-2:8443 \
 *   SECURENN_TOKENS=<token at P0>,<token at P1>,<token at P2> [SECURENN_MODEL_HASH=<sha256>] [SECURENN_WAIT_MS=120000] \
 *   NODE_EXTRA_CA_CERTS=ca.crt  node --import tsx deploy/client.ts [image.jpg|image.png]
 *
 * Without an image it sends a random tensor of the model's input shape (pixels
 * from the CSPRNG). It first waits (bounded) for the three /readyz. It prints
 * the label, the probabilities and the timing; never the token.
 */
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isMpcError } from '../protocol/errors.js';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';

const env = process.env;
const parties = (env.SECURENN_PARTIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
// The client's own token at each party (SECURENN_TOKENS), or one for all three (SECURENN_TOKEN: development only).
const tokens = env.SECURENN_TOKENS ? env.SECURENN_TOKENS.split(',').map((s) => s.trim()) : env.SECURENN_TOKEN ? [env.SECURENN_TOKEN, env.SECURENN_TOKEN, env.SECURENN_TOKEN] : [];
const waitMs = Number(env.SECURENN_WAIT_MS ?? 120_000);
if (parties.length !== 3 || tokens.length !== 3 || tokens.some((t) => !t)) {
  process.stderr.write('client: set SECURENN_PARTIES (three URLs, P0,P1,P2) and SECURENN_TOKENS (the token at each party, P0,P1,P2)\n');
  process.exit(2);
}

async function waitReady(): Promise<void> {
  const until = Date.now() + waitMs;
  for (;;) {
    const ok = await Promise.all(parties.map((u) => fetch(`${u}/readyz`).then((r) => r.ok, () => false)));
    if (ok.every(Boolean)) return;
    if (Date.now() > until) throw new Error(`parties not ready after ${waitMs} ms (ready: ${ok.map((b, i) => `P${i}=${b}`).join(' ')})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<void> {
  await waitReady();
  const client = new PrivateInferenceClient({ parties, tokens, ...(env.SECURENN_MODEL_HASH ? { expectedModelHash: env.SECURENN_MODEL_HASH } : {}) });
  const image = process.argv[2];
  let input: Uint8Array | { data: Float32Array; shape: number[] };
  if (image) input = new Uint8Array(readFileSync(image));
  else {
    const r = await fetch(`${parties[0]}/v1/model`, { headers: { authorization: `Bearer ${tokens[0]}` } });
    if (!r.ok) throw new Error(`GET /v1/model at P0: ${r.status}`);
    const { inputShape } = (await r.json()) as { inputShape: number[] };
    const n = inputShape.reduce((a, b) => a * b, 1);
    const words = randomFillSync(new Uint32Array(n));
    input = { data: Float32Array.from(words, (w) => w / 2 ** 32), shape: inputShape };
  }
  const t0 = performance.now();
  const p = await client.predict(input);
  process.stdout.write(`session ${p.sessionId}: label ${String(p.label)} in ${Math.round(performance.now() - t0)} ms (probability of that label ${p.probability.toFixed(4)})\n`);
  // One sigmoid output: p is the positive class's (labels[1]), 1 - p the negative's (labels[0]).
  const rows = p.probabilities.length === 1 ? [1 - p.probabilities[0]!, p.probabilities[0]!] : p.probabilities;
  rows.forEach((v, i) => process.stdout.write(`  ${p.model.labels?.[i] ?? `class ${i}`}: ${v.toFixed(4)}\n`));
}

main().catch((e: unknown) => {
  process.stderr.write(`client: ${isMpcError(e) ? `${e.code} ${e.message}` : e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
