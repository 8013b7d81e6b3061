/**
 * The DP output probe's pieces (bench/e2e-oracle.ts --dp, test/e2e-dp.test.ts): a small model (Network A, 10 logits)
 * with a manifest DP policy served by three party processes, and the checks on what the SDK gets back, derived from
 * the policy's declared numbers with an implementation of our own (not protocol/privacy's):
 *   - noisy logits: released − clip(plaintext logits) against the declared noise CDF (Laplace b = Δ₁/ε; Gaussian
 *     σ = √(2 ln(1.25/δ))·Δ₂/ε for ε < 1, else zCDP σ = Δ₂/√(2ρ), ρ + 2√(ρ ln(1/δ)) = ε; the default 'discrete-exact'
 *     sampler releases the sum of P0's and P1's full-scale draws, 'gamma-split' one draw: protocol/privacy/README.md),
 *     by a Kolmogorov–Smirnov test whose critical value is the DKW bound √(ln(2/α)/(2n)) (false alarm ≤ α);
 *   - noisy labels: the count of each label against its probability under the declared noise (Monte Carlo from
 *     node:crypto), inside exact binomial bounds at level α (the Monte Carlo's own error added);
 *   - the accountant at each party (GET /v1/privacy/budget).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { share, u64Bytes } from '../protocol/sharing/sharing.js';
import { writeBundles } from '../model-import/bundle.js';
import type { PrivacyPolicy } from '../protocol/privacy/index.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { SESSION_KEY_HEADER, type PrivacyBudgetResponse } from '../protocol/api-contract.js';

export const DP_MODEL = networkA();
export const DP_F = 16;
export const DP_IN = 784;
export const DP_C = 10;

/** Bundles of Network A with `policy` in the three manifests (the importer's writer, as mpc-import does). */
export function writeDpBundles(dir: string, policy: PrivacyPolicy | undefined): void {
  writeBundles({ ir: DP_MODEL, sourceHash: createHash('sha256').update('dp-probe: network A').digest('hex'), sourceFile: 'network-a', format: 'ir' }, dir, { fracBits: DP_F, ...(policy ? { privacy: policy } : {}) });
}

/** n images in [0, 1] from a seeded stream, and their plaintext logits clipped to [−clip, clip]. */
export function dpImages(seed: number, n: number, clip: number): { x: Float32Array; ref: Float64Array } {
  const x = Float32Array.from(uniform(seededPrg(seed), n * DP_IN, 1), (v) => (v + 1) / 2);
  const ref = plainForward(DP_MODEL, Float64Array.from(x), n).data.map((v) => Math.max(-clip, Math.min(clip, v)));
  return { x, ref: Float64Array.from(ref) };
}

export interface DeclaredNoise { desc: string; scale: number; cdf: (x: number) => number; variance: number; sample: () => number }

const lapCdf = (x: number, b: number): number => (x < 0 ? 0.5 * Math.exp(x / b) : 1 - 0.5 * Math.exp(-x / b));
/** CDF of the sum of two independent Laplace(b): density (1 + |x|/b) e^(−|x|/b) / (4b). */
const lap2Cdf = (x: number, b: number): number => { const a = Math.abs(x) / b; const tail = 0.5 * (1 + a / 2) * Math.exp(-a); return x < 0 ? tail : 1 - tail; };
// erf by Abramowitz–Stegun 7.1.26 is 1.5e-7 off: far below any KS critical value used here.
const erf = (z: number): number => { const s = Math.sign(z); const a = Math.abs(z); const t = 1 / (1 + 0.3275911 * a); return s * (1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a)); };
const normCdf = (x: number, s: number): number => 0.5 * (1 + erf(x / (s * Math.SQRT2)));

/** A uniform in (0, 1) from node:crypto (53 bits), 64 KiB of CSPRNG bytes at a time. */
let pool = Buffer.alloc(0);
let at = 0;
function u01(): number {
  if (at + 8 > pool.length) { pool = randomBytes(65536); at = 0; }
  const v = ((pool.readUInt32BE(at) >>> 5) * 67108864 + (pool.readUInt32BE(at + 4) >>> 6) + 0.5) / 9007199254740992;
  at += 8;
  return v;
}
const lapDraw = (b: number): number => { const u = u01() - 0.5; return -b * Math.sign(u) * Math.log(1 - 2 * Math.abs(u)); };
const normDraw = (s: number): number => s * Math.sqrt(-2 * Math.log(u01())) * Math.cos(2 * Math.PI * u01());

/** The released noise's law as the policy declares it (our own calibration, not protocol/privacy's). */
export function declaredNoise(policy: PrivacyPolicy): DeclaredNoise {
  const dp = policy.dp!;
  const two = (dp.sampler ?? 'discrete-exact') === 'discrete-exact';
  if (dp.mechanism === 'laplace') {
    const b = dp.sensitivity / dp.epsilon;
    return two
      ? { desc: `Laplace(${b})+Laplace(${b})`, scale: b, cdf: (x) => lap2Cdf(x, b), variance: 4 * b * b, sample: () => lapDraw(b) + lapDraw(b) }
      : { desc: `Laplace(${b})`, scale: b, cdf: (x) => lapCdf(x, b), variance: 2 * b * b, sample: () => lapDraw(b) };
  }
  const delta = dp.delta!;
  const classic = (dp.calibration ?? (dp.epsilon < 1 ? 'classic' : 'zcdp')) === 'classic';
  const L = Math.log(1 / delta);
  const sigma = classic ? (Math.sqrt(2 * Math.log(1.25 / delta)) * dp.sensitivity) / dp.epsilon : dp.sensitivity / Math.sqrt(2 * (Math.sqrt(L + dp.epsilon) - Math.sqrt(L)) ** 2);
  const s = two ? sigma * Math.SQRT2 : sigma;
  return { desc: `N(0, ${s.toPrecision(4)}^2)${two ? ' (two draws of σ ' + sigma.toPrecision(4) + ')' : ''}`, scale: sigma, cdf: (x) => normCdf(x, s), variance: s * s, sample: () => normDraw(s) };
}

/** Kolmogorov–Smirnov distance of the samples from `cdf`, and the DKW critical value at level alpha. */
export function ksCheck(xs: ArrayLike<number>, cdf: (x: number) => number, alpha: number): { n: number; d: number; crit: number; ok: boolean } {
  const s = Float64Array.from(xs).sort();
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) { const F = cdf(s[i]!); d = Math.max(d, F - i / n, (i + 1) / n - F); }
  const crit = Math.sqrt(Math.log(2 / alpha) / (2 * n));
  return { n, d, crit, ok: d <= crit };
}

/** [lo, hi] with P(K < lo) ≤ alpha/2 and P(K > hi) ≤ alpha/2 for K ~ Bin(n, p) (exact, in logs). */
export function binomialBounds(n: number, p: number, alpha: number): [number, number] {
  const lf = (k: number): number => { let s = 0; for (let i = 2; i <= k; i++) s += Math.log(i); return s; };
  const pmf = Array.from({ length: n + 1 }, (_, k) => (p <= 0 ? (k === 0 ? 1 : 0) : p >= 1 ? (k === n ? 1 : 0) : Math.exp(lf(n) - lf(k) - lf(n - k) + k * Math.log(p) + (n - k) * Math.log(1 - p))));
  let lo = 0, acc = 0;
  while (lo < n && acc + pmf[lo]! <= alpha / 2) acc += pmf[lo++]!;
  let hi = n; acc = 0;
  while (hi > 0 && acc + pmf[hi]! <= alpha / 2) acc += pmf[hi--]!;
  return [lo, hi];
}

/** Probability of each label of argmax(ref + noise) (ties impossible in float), by `draws` Monte Carlo draws. */
export function noisyArgmaxProbs(ref: ArrayLike<number>, noise: DeclaredNoise, draws: number): Float64Array {
  const C = ref.length;
  const counts = new Float64Array(C);
  for (let d = 0; d < draws; d++) {
    let best = 0, bv = -Infinity;
    for (let c = 0; c < C; c++) { const v = ref[c]! + noise.sample(); if (v > bv) { bv = v; best = c; } }
    counts[best]! += 1;
  }
  return counts.map((k) => k / draws);
}

/** Each party's accountant view of the client with `token`. */
export async function budgets(urls: readonly string[], token: string): Promise<PrivacyBudgetResponse[]> {
  return Promise.all(urls.map(async (u) => {
    const r = await fetch(`${u}/v1/privacy/budget`, { headers: { authorization: `Bearer ${token}` } });
    if (!r.ok) throw new Error(`budget at ${u}: ${r.status} ${await r.text()}`);
    return (await r.json()) as PrivacyBudgetResponse;
  }));
}

/**
 * A client that skips the SDK's agreement checks (the parties' announced policies): create the session at the three
 * parties, upload the input shares to P0 and P1, read the outputs. Returns each output answer's status and code.
 */
export async function rawPredict(urls: readonly string[], token: string, modelHash: string, x: Float32Array): Promise<{ status: number[]; codes: (string | undefined)[] }> {
  const sessionId = randomUUID();
  const keys = urls.map(() => randomBytes(24).toString('base64url'));
  const h = (p: number, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, [SESSION_KEY_HEADER]: keys[p]!, ...extra });
  for (const [p, u] of urls.entries()) {
    const r = await fetch(`${u}/v1/sessions`, { method: 'POST', headers: h(p, { 'content-type': 'application/json' }), body: JSON.stringify({ sessionId, modelHash, deadlineMs: 20_000 }) });
    if (r.status !== 201) return { status: [r.status], codes: [((await r.json()) as { code?: string }).code] };
  }
  const [x0, x1] = share(getKernels(), encode(Float64Array.from(x), DP_F));
  for (const [p, xs] of [[0, x0], [1, x1]] as const) {
    const r = await fetch(`${urls[p]}/v1/sessions/${sessionId}/input`, { method: 'PUT', headers: h(p, { 'content-type': 'application/octet-stream' }), body: Buffer.from(u64Bytes(xs)) });
    if (r.status !== 200) return { status: [r.status], codes: [((await r.json()) as { code?: string }).code] };
  }
  const outs = await Promise.all([0, 1].map((p) => fetch(`${urls[p]}/v1/sessions/${sessionId}/output?waitMs=20000`, { headers: h(p) })));
  return { status: outs.map((r) => r.status), codes: await Promise.all(outs.map(async (r) => (r.ok ? undefined : ((await r.json()) as { code?: string }).code))) };
}
