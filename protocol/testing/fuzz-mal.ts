/**
 * The differential fuzz's malicious-mode sample (bench/protocol-fuzz.ts
 * --malicious): a random model (fuzz-graphs.ts) the malicious runner accepts
 * (checkMaliciousModel), MACed weights and input, malForward, the output
 * opened after the MAC check; every party must open the same values, within
 * fuzz-run.ts's tolerance of the fixed-point simulation (f = 13, the
 * context's default). Models it refuses count as 'skipped'.
 */
import { decode, encode } from '../fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR } from '../ir.js';
import { fixedArith, floatArith, SCALE_BITS, type FixedRisk } from '../ir-kit/arith.js';
import { forwardIR, forwardReals } from '../ir-kit/forward.js';
import { sizeOf } from '../layers/types.js';
import { inputM } from '../malicious/input.js';
import { macCheck } from '../malicious/mac-check.js';
import { openLow } from '../malicious/open.js';
import { liftSigned } from '../malicious/ring128.js';
import { checkMaliciousModel, malForward, MAL_COMPARE_BITS } from '../malicious/runner.js';
import type { MalSession } from '../malicious/session.js';
import { SCALED_TRUNC_ELL } from '../malicious/ranges.js';
import { prepareWeights, shareModelReplicated } from '../malicious/weights.js';
import { runMal3, values } from './cheat.js';
import { FuzzRng, layerTags, randomInput, randomModel } from './fuzz-graphs.js';
import { RISK_FLOOR } from './fuzz-run.js';

const F = 13;

export interface MalFuzzCase {
  seed: number;
  tags: string[];
  verdict: 'ok' | 'defect' | 'risk' | 'skipped' | 'error';
  err: number;
  tol: number;
  risk: number;
  detail?: string;
  model: ModelIR<FloatTensor>;
}

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };

/** Run `model` on x (batch N) in malicious mode at f = 13; the three parties' opened outputs (after the MAC check). */
export async function malOpen(model: ModelIR<FloatTensor>, x: Float64Array, N: number): Promise<[Float64Array, Float64Array, Float64Array]> {
  const parts = shareModelReplicated(model, F), n = N * sizeOf(model.inputShape);
  const run = await runMal3(async (s: MalSession) => {
    const w = await prepareWeights(s, parts[s.party]);
    const xin = await inputM(s, 0, s.party === 0 ? liftSigned(encode(x, F)) : null, n);
    const y = await malForward(s, w, { shape: [N, ...model.inputShape], data: xin });
    const low = await openLow(s, y.data);
    await macCheck(s);
    return decode(low, F);
  }, { watchdogMs: 60_000 });
  return values(run);
}

/** Case `seed` in malicious mode (the same model as fuzz-run.ts's case `seed`; its own input draw, batch 1). */
export async function malFuzzCase(seed: number): Promise<MalFuzzCase> {
  const r = new FuzzRng(seed);
  const { model } = randomModel(r);
  const tags = layerTags(model);
  try { checkMaliciousModel(model, F); } catch (e) {
    return { seed, tags, verdict: 'skipped', err: 0, tol: 0, risk: 0, detail: (e as Error).message, model };
  }
  // Every value within the tightest documented precondition, with a margin of 2^2: truncM by 24 bits (pools, Average,
  // Rescaling, bilinear, slopes) needs |x 2^24| < 2^(SCALED_TRUNC_ELL - 1) (ranges.ts), since it is 57 (it was 48, far
  // below the comparisons' range: a GlobalAveragePooling2D over values near 7000 at f = 13 opened -1242.3 for 6949.7)
  // no tighter than the comparisons' 2^(MAL_COMPARE_BITS - 2) ring units.
  const bound = Math.min(2 ** (MAL_COMPARE_BITS - 2 - F - 4), 2 ** (SCALED_TRUNC_ELL - 1 - SCALE_BITS - F - 2));
  let { x } = randomInput(r, sizeOf(model.inputShape), 1, r.pick([1, 4, bound / 2]));
  const peak = (v: Float64Array) => { let m = maxAbs(v); forwardIR(model, v, 1, floatArith, (_n, y) => { m = Math.max(m, maxAbs(y.data)); }); return m; };
  for (let i = 0; i < 8 && peak(x) > bound; i++) x = x.map((v) => v / 4);
  if (peak(x) > bound) return { seed, tags, verdict: 'skipped', err: 0, tol: 0, risk: 0, detail: 'out of range', model };
  const fr: FixedRisk = { products: 0, divisions: 0 };
  const sim = forwardReals(model, x, 1, fixedArith({ fracBits: F, risk: fr })).data;
  const simFloor = forwardReals(model, x, 1, fixedArith({ fracBits: F, rounding: 'floor' })).data;
  let outs: [Float64Array, Float64Array, Float64Array];
  try {
    outs = await malOpen(model, x, 1);
  } catch (e) {
    return { seed, tags, verdict: 'error', err: Infinity, tol: 0, risk: 0, detail: `${(e as { code?: string }).code ?? ''} ${(e as Error).message}`, model };
  }
  const [got, o1, o2] = outs;
  if (o1.some((v, i) => v !== got[i]) || o2.some((v, i) => v !== got[i])) return { seed, tags, verdict: 'defect', err: Infinity, tol: 0, risk: 0, detail: 'parties opened different outputs', model };
  // fuzz-run.ts's tolerance: per element, 8 times the spread over the other roundings (floor, six stochastic draws) + 64 ulp.
  const spread = new Float64Array(sim.length);
  for (const other of [simFloor, ...[0, 1, 2, 3, 4, 5].map(() => forwardReals(model, x, 1, fixedArith({ fracBits: F, rounding: 'stochastic' })).data)]) {
    for (let i = 0; i < sim.length; i++) spread[i] = Math.max(spread[i]!, Math.abs(sim[i]! - other[i]!));
  }
  const tolAt = (i: number) => 8 * spread[i]! + 64 * 2 ** -F;
  let worst = got.length === sim.length ? 0 : Infinity, at = 0;
  // A NaN ratio counts as out of tolerance and stays the worst (fuzz-run.ts).
  for (let i = 0; i < sim.length; i++) { const q = Math.abs(got[i]! - sim[i]!) / tolAt(i); if (!(q <= worst) && worst !== Infinity) { worst = Number.isNaN(q) ? Infinity : q; at = i; } }
  const err = Math.abs(got[at]! - sim[at]!), tol = tolAt(at);
  // The malicious truncation is probabilistic too (trunc.ts); divisions and products both count.
  const risk = fr.products + fr.divisions;
  const verdict = worst <= 1 ? 'ok' : risk >= RISK_FLOOR ? 'risk' : 'defect';
  return { seed, tags, verdict, err, tol, risk, model, ...(verdict !== 'ok' ? { detail: `output[${at}]: malicious ${got[at]}, sim ${sim[at]}` } : {}) };
}
