/**
 * One case of the differential fuzz (bench/protocol-fuzz.ts, fuzz.test.ts):
 * a random model (fuzz-graphs.ts) run through secureForward in process under
 * one protocol setting and one input sharing, against the fixed-point
 * simulation (ir-kit/forward.ts with fixedArith) and the float reference.
 *
 * Tolerance. The protocol's truncations land on floor or floor + 1, the
 * simulation's on nearest; the spread between the simulation rounded to
 * nearest and to floor or stochastically (six draws) measures how much the
 * model amplifies one rounding (at each output element), so a result is in
 * tolerance when |secure - sim| <= 8 spread + 64 ulp at every element.
 * Anything larger is a candidate defect.
 */
import { decode, encode } from '../fixed-point/fixed-point.js';
import { getKernels } from '../kernels/index.js';
import type { FloatTensor, ModelIR } from '../ir.js';
import { fixedArith, floatArith, type FixedRisk } from '../ir-kit/arith.js';
import { forwardIR, forwardReals } from '../ir-kit/forward.js';
import { secureForward } from '../layers/runner.js';
import { shareModel } from '../layers/share-model.js';
import { sizeOf } from '../layers/types.js';
import type { AShare } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { FuzzRng, layerTags, randomInput, randomModel } from './fuzz-graphs.js';
import { run3, shareFor3, type Run3Options } from './run3.js';

export interface FuzzSetting { name: string; opts: Run3Options & { fracBits: number }; batch: number }

/** The protocol settings the fuzz draws from. */
export function fuzzSettings(): FuzzSetting[] {
  const out: FuzzSetting[] = [];
  for (const f of [13, 20]) for (const batch of [1, 3]) {
    out.push({ name: `securenn/64 local f${f} N${batch}`, opts: { fracBits: f, comparison: 'securenn' }, batch });
    out.push({ name: `direct/64 local f${f} N${batch}`, opts: { fracBits: f, comparison: 'direct' }, batch });
    out.push({ name: `direct/64 exact f${f} N${batch}`, opts: { fracBits: f, comparison: 'direct', truncation: 'exact' }, batch });
    out.push({ name: `direct/32 r2 local f${f} N${batch}`, opts: { fracBits: f, comparison: 'direct', compareBits: 32, compareRadix: 2 }, batch });
    out.push({ name: `direct/32 r4 exact f${f} N${batch}`, opts: { fracBits: f, comparison: 'direct', compareBits: 32, compareRadix: 4, truncation: 'exact' }, batch });
  }
  return out;
}

/** How the input is shared between P0 and P1 (P1's share; P0 holds x - s). */
export const INPUT_SHARINGS = ['random', '(x, 0)', '(0, x)', '(x - 2^63, 2^63)', '(x + 1, 2^64 - 1)', 'random, low 32 bits 0'] as const;
export type InputSharing = (typeof INPUT_SHARINGS)[number];

function shareInput(x: BigUint64Array, how: InputSharing, r: FuzzRng): [AShare, AShare, AShare] {
  if (how === 'random') return shareFor3(x);
  const n = x.length, s1 = new BigUint64Array(n), s0 = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    const s = how === '(x, 0)' ? 0n : how === '(0, x)' ? x[i]! : how === '(x - 2^63, 2^63)' ? 1n << 63n : how === '(x + 1, 2^64 - 1)' ? (1n << 64n) - 1n
      : (BigInt(Math.floor(r.u() * 2 ** 32)) << 32n);
    s1[i] = s;
    s0[i] = BigInt.asUintN(64, x[i]! - s);
  }
  return [s0 as AShare, s1 as AShare, new BigUint64Array(n) as AShare];
}

export interface FuzzCase {
  seed: number;
  setting: string;
  sharing: InputSharing;
  tags: string[];
  magnitude: string;
  inputKind: string;
  /**
   * 'ok'; 'defect' (secure far from the simulation); 'risk' (far, but the
   * local truncation's documented failure, |x| / 2^64 per truncated element,
   * summed over the run, is at least RISK_FLOOR and a rerun with fresh
   * shares came out right, or the run expects one failure or more);
   * 'skipped' (out of the setting's range); 'error' (threw).
   */
  verdict: 'ok' | 'defect' | 'risk' | 'skipped' | 'error';
  /** Expected number of local-truncation failures in the run (FixedRisk: products when truncation is local, divisions always). */
  risk: number;
  /** |secure - sim| at the element furthest out of its tolerance, and that tolerance. */
  err: number;
  tol: number;
  /** max |sim - float| (precision, not a protocol defect; reported only). */
  simVsFloat: number;
  detail?: string;
  model: ModelIR<FloatTensor>;
  x: Float64Array;
}

/** A mismatch in a run expected to see this many local-truncation failures or more is put down to them. */
export const RISK_FLOOR = 1e-4;
/** Reruns of a mismatch at risk. */
export const RISK_RERUNS = 3;

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };

/** Largest |value| over every node of the float forward pass. */
function peak(model: ModelIR<FloatTensor>, x: Float64Array, N: number): number {
  let m = maxAbs(x);
  forwardIR(model, x, N, floatArith, (_n, v) => { m = Math.max(m, maxAbs(v.data)); });
  return m;
}

/** Run case `seed`: the model, input, setting and sharing are all drawn from the seed. */
export interface FuzzCaseOptions {
  setting?: string;
  sharing?: InputSharing;
  /** log2 of the margin kept below the 32-bit comparison ring's range 2^(31 - f) reals (default 4; the bench's --margin). */
  marginBits?: number;
  /** Skip (verdict 'skipped') a case whose expected number of local-truncation failures exceeds this (tests: a seeded sample that cannot fail by chance). */
  maxRisk?: number;
  /** Change the reconstructed output before the comparison (the test that the check can fail). */
  tamper?: (out: Float64Array) => void;
}

export async function fuzzCase(seed: number, only: FuzzCaseOptions = {}): Promise<FuzzCase> {
  const r = new FuzzRng(seed);
  const { model, magnitude } = randomModel(r);
  const settings = fuzzSettings();
  // Both drawn whatever `only` says, so a seed draws the same input under any override.
  const drawnSetting = r.pick(settings), drawnSharing = r.pick(INPUT_SHARINGS);
  const st = only.setting ? settings.find((s) => s.name === only.setting) : drawnSetting;
  if (!st) throw new Error(`fuzz: no setting named '${only.setting}'`);
  const sharing = only.sharing ?? drawnSharing;
  // Forward options: a small comparison limit forces the runner's chunked calls; ReLU before MaxPool where the model has it.
  const limit = r.u() < 0.3 ? r.int(1, 7) : undefined, reluAfterMaxPool = r.u() < 0.75;
  const f = st.opts.fracBits, N = st.batch, size = sizeOf(model.inputShape);
  // Values must stay inside the comparison ring's range (|x| < 2^(l-1-f) reals, margin 2^4) and exact in float64 sims.
  const bound = st.opts.compareBits === 32 ? 2 ** (31 - f - (only.marginBits ?? 4)) : 2 ** 16;
  let amp = r.pick([1, 1, 4, bound / 8]);
  let { x, kind } = randomInput(r, size, N, amp);
  const base: Omit<FuzzCase, 'verdict' | 'err' | 'tol' | 'simVsFloat' | 'risk'> = { seed, setting: `${st.name}${limit ? ` limit ${limit}` : ''}${reluAfterMaxPool ? '' : ' relu-in-place'}`, sharing, tags: layerTags(model), magnitude, inputKind: kind, model, x };
  let p = peak(model, x, N);
  for (let i = 0; i < 8 && p > bound; i++) { amp /= 4; x = x.map((v) => v / 4); p = peak(model, x, N); }
  if (p > bound) return { ...base, x, verdict: 'skipped', risk: 0, err: 0, tol: 0, simVsFloat: 0, detail: `peak ${p.toExponential(2)} > ${bound}` };
  base.x = x;
  const fr: FixedRisk = { products: 0, divisions: 0 };
  const sim = forwardReals(model, x, N, fixedArith({ fracBits: f, risk: fr })).data;
  const risk = (st.opts.truncation === 'exact' ? 0 : fr.products) + fr.divisions;
  if (only.maxRisk !== undefined && risk > only.maxRisk) return { ...base, verdict: 'skipped', risk, err: 0, tol: 0, simVsFloat: 0, detail: `risk ${risk.toExponential(1)} > ${only.maxRisk}` };
  const simFloor = forwardReals(model, x, N, fixedArith({ fracBits: f, rounding: 'floor' })).data;
  const float = forwardReals(model, x, N, floatArith).data;
  const ulp = 2 ** -f;
  // The spread over the other roundings: floor, and six stochastic draws (which also draw the smooth activations' own
  // rounding, fixedDraw, that a product by a large value amplifies).
  const spread = new Float64Array(sim.length);
  for (const other of [simFloor, ...[0, 1, 2, 3, 4, 5].map(() => forwardReals(model, x, N, fixedArith({ fracBits: f, rounding: 'stochastic' })).data)]) {
    for (let i = 0; i < sim.length; i++) spread[i] = Math.max(spread[i]!, Math.abs(sim[i]! - other[i]!));
  }
  // Per element: 8 times its spread, plus 64 ulp.
  const tolAt = (i: number) => 8 * spread[i]! + 64 * ulp;
  const k = getKernels();
  const xs = shareInput(encode(x, f), sharing, r);
  /** One secure run (fresh weight sharings, masks and triples; the same input sharing): its output and largest error. */
  const secure = async () => {
    const parts = shareModel(k, model, f);
    const res = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party]! }, { reluAfterMaxPool, ...(limit ? { maxComparisonsPerCall: limit } : {}) }), st.opts);
    const got = decode(reconstruct(k, res.results[0].data, res.results[1].data), f);
    only.tamper?.(got);
    // The element furthest out of its tolerance (largest error / tolerance).
    let worst = got.length === sim.length ? 0 : Infinity, at = 0;
    // A NaN ratio (a NaN output, or an infinite simulated value) counts as out of tolerance, and stays the worst.
    for (let i = 0; i < sim.length; i++) { const q = Math.abs(got[i]! - sim[i]!) / tolAt(i); if (!(q <= worst) && worst !== Infinity) { worst = Number.isNaN(q) ? Infinity : q; at = i; } }
    return { got, out: worst > 1, err: Math.abs(got[at]! - sim[at]!), tol: tolAt(at), at };
  };
  let run: Awaited<ReturnType<typeof secure>>;
  // A mismatch in a run at risk is rerun: the local truncation fails at random (fresh shares), a defect every time.
  // 'risk' only when a rerun comes out right, or the run expects a failure more often than not (risk >= 1).
  let reruns = 0, recovered = false;
  try {
    run = await secure();
    while (run.out && risk >= RISK_FLOOR && reruns < RISK_RERUNS && !recovered) {
      reruns++;
      const again = await secure();
      if (!again.out) recovered = true; else run = again;
    }
  } catch (e) {
    return { ...base, verdict: 'error', risk, err: Infinity, tol: 0, simVsFloat: 0, detail: e instanceof Error ? `${(e as { code?: string }).code ?? ''} ${e.message}` : String(e) };
  }
  const { got, err, tol, at, out } = run;
  let simVsFloat = 0;
  for (let i = 0; i < sim.length; i++) simVsFloat = Math.max(simVsFloat, Math.abs(sim[i]! - float[i]!));
  const verdict = !out ? 'ok' : risk >= RISK_FLOOR && (recovered || risk >= 1) ? 'risk' : 'defect';
  return { ...base, verdict, risk, err, tol, simVsFloat, ...(verdict !== 'ok' ? { detail: `${reruns ? `${reruns} rerun(s)${recovered ? ', one in tolerance' : ', none in tolerance'}; ` : ''}output[${at}]: secure ${got[at]}, sim ${sim[at]}, float ${float[at]}` } : {}) };
}
