/**
 * Abandoned malicious sessions against the session slots, through three real party processes (parties/launch.ts:
 * mTLS, h2 mesh link, security 'malicious', batch.maxConcurrentRuns 2, the config's malicious.clientWaitMs: default).
 * Two clients stop half-way, each with the SDK's default deadline (120 s) sent as deadlineMs: A after its mask
 * request reached P0 only, B after the mask step at the three parties (no input). Then an honest SDK client
 * (PrivateInferenceClient, requireSecurity 'malicious') predicts every second until one prediction succeeds; each
 * prediction is compared with the plaintext forward pass (a wrong answer is a defect, exit 1).
 *   npx tsx bench/abandoned-probe.ts [--limit-s 180]
 * Prints one JSON line: the seconds until the first served prediction, the refusals before it by code, and whether
 * every answer was right. Run it from two checkouts in turn to compare (it uses the checkout it runs from).
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal } from '../parties/launch.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';

const arg = (k: string, d: number): number => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const limitS = arg('--limit-s', 180);
const model: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd2', outputActivation: 'softmax',
  nodes: [
    { kind: 'dense', name: 'd1', inputs: ['input'], units: 6, activation: 'relu', kernel: { shape: [4, 6], data: Float64Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) / 5 - 1) }, bias: { shape: [6], data: Float64Array.from([0.1, -0.2, 0.3, -0.4, 0.5, -0.6]) } },
    { kind: 'dense', name: 'd2', inputs: ['d1'], units: 2, activation: 'linear', kernel: { shape: [6, 2], data: Float64Array.from({ length: 12 }, (_, i) => ((i * 5) % 7) / 3 - 1) }, bias: { shape: [2], data: Float64Array.from([0.25, -0.5]) } },
  ],
};

const l = await launchLocal({ plain: model, fracBits: 13, security: 'malicious', malicious: { poolInferences: 0 }, batch: { maxConcurrentRuns: 2 }, logLevel: 'warn', warmup: { runs: 0 } });
const report: Record<string, unknown> = { utc: new Date().toISOString(), cpu: `${cpus()[0]?.model ?? '?'} x ${cpus().length}`, load: loadavg()[0]!.toFixed(2) };
try {
  const mask = (p: number, id: string) => fetch(`${l.urls[p]}/v1/malicious/${id}/mask?deadlineMs=120000`, { method: 'POST', headers: { authorization: `Bearer ${l.token}`, 'x-session-key': randomBytes(32).toString('base64url') } });
  const a = crypto.randomUUID(), b = crypto.randomUUID();
  const halfA = mask(0, a).then((r) => r.json(), (e: unknown) => ({ error: String(e) }));
  const bAnswers = await Promise.all([0, 1, 2].map((p) => mask(p, b).then((r) => r.status)));
  report.abandonedB = bAnswers;
  const t0 = performance.now();
  const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 30_000, requireSecurity: 'malicious' });
  const refused: Record<string, number> = {};
  let wrong = 0, servedAtS: number | null = null;
  const x = Float64Array.from([0.5, -1, 2, 0.25]);
  const want = plainForward(model, x, 1).data;
  while ((performance.now() - t0) / 1000 < limitS) {
    try {
      const r = await client.predict({ data: x, shape: [4] });
      if (Array.from(r.logits).some((v, k) => Math.abs(v - want[k]!) > 5e-3)) wrong++;
      servedAtS = (performance.now() - t0) / 1000;
      break;
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'uncoded';
      refused[code] = (refused[code] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  report.servedAfterS = servedAtS === null ? null : Number(servedAtS.toFixed(1));
  report.refusedBefore = refused;
  report.wrong = wrong;
  report.abandonedA = await Promise.race([halfA, new Promise((r) => setTimeout(() => r('still open'), 100))]);
  console.log(JSON.stringify(report));
  if (wrong) process.exitCode = 1;
} finally {
  await l.stop();
}
