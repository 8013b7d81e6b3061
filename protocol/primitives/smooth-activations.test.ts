import { describe, expect, it } from 'vitest';
import { randomBytes, randomInt } from 'node:crypto';
import { createContext } from '../context.js';
import { p0Bundle, p1Bundle, prepareBundle, scriptBytes, type DealScript } from '../correlated/dealer.js';
import { dealSeeds } from '../correlated/prg.js';
import { MpcError } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import { memoryTransports } from '../transport/memory.js';
import { bilinearDealtBytes } from './matmul.js';
import { comparisonDealtBytes } from './relu-direct.js';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { referenceKernels as ref } from '../kernels/reference.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3, type Run3Options } from '../testing/run3.js';
import type { SmoothActivation } from './approx.js';
import { gelu, geluApprox } from './gelu.js';
import { comparableLimit, costOptionsOf, twinSlackUlps, type PiecewiseActivation } from './piecewise-poly.js';
import { sigmoid, sigmoidApprox } from './sigmoid.js';
import { silu, siluApprox } from './silu.js';
import { tanhApprox } from './tanh.js';

const ACTS: [PiecewiseActivation, (x: number) => number][] = [
  [sigmoidApprox, sigmoid],
  [siluApprox, silu],
  [tanhApprox, Math.tanh],
  [geluApprox, gelu],
];

const grid = (lo: number, hi: number, step: number): number[] => {
  const out: number[] = [];
  for (let x = lo; x <= hi; x += step) out.push(x);
  return out;
};
/** Ring values (f bits) of the edge inputs: 0, +-1 and +-2 ulp, +-1, every breakpoint of |x| on both sides and its neighbours, the largest comparable magnitudes. */
function edgeInputs(act: PiecewiseActivation, f: number, compareBits: 32 | 64): BigUint64Array {
  const one = 1n << BigInt(f), out: bigint[] = [0n, 1n, -1n, 2n, -2n, one, -one];
  for (const b of act.spec.breakpoints) { const B = BigInt(b * 2 ** f); out.push(B, B - 1n, B + 1n, -B, -B - 1n, -B + 1n); }
  const lim = BigInt(Math.floor(comparableLimit(act.spec, f, compareBits) * 2 ** f));
  out.push(lim, -lim, lim - 12345n, -lim + 777n);
  return BigUint64Array.from(out, (v) => BigInt.asUintN(64, v));
}
/** Random reals in [-a, a] at f bits, as ring values. */
const randomReals = (n: number, a: number, f: number): BigUint64Array => encode(Array.from({ length: n }, () => (randomInt(0, 2 ** 47) / 2 ** 47) * 2 * a - a), f);
/** Random ring values of magnitude up to 2^bits. */
const randomRing = (n: number, bits: number): BigUint64Array => BigUint64Array.from({ length: n }, () => BigInt.asUintN(64, BigInt(randomInt(0, 2 ** 47)) * (1n << BigInt(bits - 47)) * (randomInt(0, 2) ? 1n : -1n)));
const cat = (...a: BigUint64Array[]) => BigUint64Array.from(a.flatMap((x) => Array.from(x)));

/** Largest |approx(x) - g(x)| over ring inputs X (f bits), the approximation given as ring values Y. */
function maxErr(X: BigUint64Array, Y: BigUint64Array, f: number, g: (x: number) => number): number {
  const xs = decode(X, f), ys = decode(Y, f);
  let e = 0;
  for (let i = 0; i < xs.length; i++) e = Math.max(e, Math.abs(ys[i]! - g(xs[i]!)));
  return e;
}

describe('smooth activations: the approximation and its plaintext twin', () => {
  for (const [act, g] of ACTS) {
    it(`${act.name}: float is within maxAbsError of the true function on [-2^12, 2^12] (dense grid near the pieces)`, () => {
      let e = 0;
      for (const x of [...grid(-16, 16, 2 ** -10), ...grid(-4096, 4096, 0.37)]) e = Math.max(e, Math.abs(act.float(x) - g(x)));
      expect(e).toBeLessThanOrEqual(act.maxAbsError);
      expect(e).toBeGreaterThan(0); // a real approximation, not the function itself
      console.log(`${act.name}: float max error ${e.toExponential(3)}`);
    });
    it(`${act.name}: fixed twin within maxAbsError at f = 13..18 on a dense grid, random reals and edge inputs (both comparison rings)`, () => {
      for (let f = 13; f <= 18; f++) {
        const X = cat(encode(grid(-14, 14, 2 ** -9), f), randomReals(2000, 20, f), edgeInputs(act, f, 32), edgeInputs(act, f, 64), randomRing(200, 31));
        const Y = act.fixed(X, f);
        const e = maxErr(X, Y, f, g);
        expect(e).toBeLessThanOrEqual(act.maxAbsError);
        // silu and gelu: the relative form 1e-3 max(1, |x|) follows from the absolute bound; checked as stated.
        const xs = decode(X, f), ys = decode(Y, f);
        xs.forEach((x, i) => expect(Math.abs(ys[i]! - g(x))).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(x))));
        console.log(`${act.name}: fixed f=${f} max error ${e.toExponential(3)}`);
      }
    });
    it(`${act.name}: the truncations of steps 4-5 move the secure result less than 1/2 ulp from the twin's (so within 1 ulp after rounding)`, () => {
      const slack = twinSlackUlps(act.segments);
      expect(slack).toBeGreaterThan(0);
      expect(slack).toBeLessThan(0.5);
      for (const s of act.segments.slice(0, -1)) for (const c of s.c) expect(Math.abs(c)).toBeLessThan(1); // the centred pieces
    });
    it(`${act.name}: saturates beyond its input range (exactly the tail value)`, () => {
      const f = 16, [lo, hi] = act.inputRange, { symmetry, center, tail } = act.spec;
      expect(lo).toBe(-hi);
      const X = encode([lo - 1, lo - 1000, lo, hi, hi + 0.5, hi + 3000], f);
      const Y = Array.from(decode(act.fixed(X, f), f)), xs = Array.from(decode(X, f));
      const left = symmetry === 'odd' ? center - tail : tail, right = (x: number) => (symmetry === 'odd' ? center + tail : tail + x);
      expect(Y).toEqual([left, left, left, right(xs[3]!), right(xs[4]!), right(xs[5]!)]);
    });
    it(`${act.name}: the twin is folded on |x| (${act.spec.symmetry}): exactly symmetric at f = 13, 16, 18`, () => {
      for (const f of [13, 16, 18]) {
        // x > 0 (at 0 the fold takes sign +1: g(0) = c + h(0), h(0) within the bound of 0, not exactly 0).
        const P = cat(randomReals(1000, 20, f), encode(grid(2 ** -7, 14, 2 ** -7), f), edgeInputs(act, f, 32)).filter((v) => BigInt.asIntN(64, v) > 0n);
        expect(P.length).toBeGreaterThan(2200);
        const N = P.map((v) => BigInt.asUintN(64, -v));
        const yp = act.fixed(P, f), yn = act.fixed(N, f), twiceC = BigInt(act.spec.center * 2 ** (f + 1));
        // odd: g(x) + g(-x) = 2 c; even-relu: g(x) - g(-x) = x.
        P.forEach((x, i) => expect(BigInt.asUintN(64, act.spec.symmetry === 'odd' ? yp[i]! + yn[i]! : yp[i]! - yn[i]!)).toBe(act.spec.symmetry === 'odd' ? twiceC : x));
      }
    });
  }
});

interface SecureCase { f: number; opts: Run3Options; n: number }
const CASES: SecureCase[] = [
  { f: 13, opts: {}, n: 600 },
  { f: 16, opts: { compareBits: 32 }, n: 600 },
  { f: 18, opts: { compareBits: 32, truncation: 'exact' }, n: 400 },
  { f: 14, opts: { comparison: 'securenn', compareBits: 64 }, n: 150 },
  { f: 15, opts: { compareBits: 64, truncation: 'exact' }, n: 300 },
  { f: 17, opts: { compareBits: 32, compareRadix: 2 }, n: 300 },
];

describe('smooth activations over shares (three parties in-process)', () => {
  for (const [act, g] of ACTS) for (const { f, opts, n } of CASES) {
    const tag = `f=${f} ${opts.comparison ?? 'direct'} ${opts.compareBits ?? 64}-bit${opts.compareRadix === 2 ? ' radix 2' : ''} ${opts.truncation ?? 'local'} truncation`;
    it(`${act.name} (${tag}): within 1 ulp of the twin, within maxAbsError of the true function, costs what it declares`, async () => {
      const bits = opts.compareBits ?? 64;
      const [lo, hi] = act.inputRange;
      const X = cat(encode(grid(lo - 1, hi + 1, (hi - lo + 2) / n), f), randomReals(n / 2, hi + 3, f), edgeInputs(act, f, bits));
      const xs = shareFor3(X);
      const r = await run3((ctx) => act.secure(ctx, xs[ctx.party], f, 'act'), { ...opts, fracBits: f });
      const got = reconstruct(ref, r.results[0], r.results[1]), want = act.fixed(X, f);
      let maxUlp = 0n;
      got.forEach((v, i) => { const d = BigInt.asIntN(64, v - want[i]!); maxUlp = d > maxUlp ? d : -d > maxUlp ? -d : maxUlp; });
      expect(maxUlp).toBeLessThanOrEqual(1n);
      expect(maxErr(X, got, f, g)).toBeLessThanOrEqual(act.maxAbsError);
      expect(r.results[2]).toEqual(new BigUint64Array(X.length));
      expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(act.cost(X.length, f, { comparison: 'direct', compareBits: 64, compareRadix: 4, truncation: 'local', ...opts }));
      expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
      console.log(`${act.name} ${tag}: n=${X.length} rounds ${r.rounds} bytes/element ${r.bytes / X.length} max |secure - fixed| ${maxUlp} ulp, max error ${maxErr(X, got, f, g).toExponential(3)}`);
    });
  }
  for (const truncation of ['local', 'exact'] as const) {
    it(`at the 32-bit comparison ring's own limits (|x| up to 2^31 ring units, beyond comparableLimit; ${truncation} truncation): the saturated value of the float reference; beyond them a wrong one, which the importer's range check keeps out`, async () => {
      const f = 16, top = 1n << 31n;
      // +-(2^31 - 1), -2^31, and values just inside: |x| < 2^31 ring units is the ring's range (a comparison of t - B_k >= -B_k stays in it too).
      const inside = [top - 1n, -(top - 1n), -top, top - 12345n, -(top - 777n)];
      // 2^31 (positive, read as negative mod 2^32) and 2^32 - 3 (read as -3): outside, silently wrong.
      const outside = [top, (1n << 32n) - 3n];
      const X = BigUint64Array.from([...inside, ...outside], (v) => BigInt.asUintN(64, v)), xs = decode(X, f);
      for (const [act, g] of ACTS) {
        const sh = shareFor3(X);
        const r = await run3((ctx) => act.secure(ctx, sh[ctx.party], f, 'act'), { fracBits: f, compareBits: 32, truncation });
        const got = decode(reconstruct(ref, r.results[0], r.results[1]), f);
        for (let i = 0; i < inside.length; i++) expect(Math.abs(got[i]! - g(xs[i]!)), `${act.name}(${xs[i]})`).toBeLessThanOrEqual(act.maxAbsError);
        for (let i = inside.length; i < X.length; i++) expect(Math.abs(got[i]! - g(xs[i]!)), `${act.name}(${xs[i]}) beyond the ring`).toBeGreaterThan(0.5);
      }
    });
  }
  it('fixedDraw (the importer\'s stochastic twin) has the secure result\'s distribution: within 1 ulp of the twin, the same mean offset from it', async () => {
    const f = 13, n = 4000;
    for (const act of [siluApprox, sigmoidApprox]) {
      const X = randomReals(n, 9, f), xs = shareFor3(X);
      const r = await run3((ctx) => act.secure(ctx, xs[ctx.party], f, 'act'), { fracBits: f, compareBits: 32 });
      const secure = reconstruct(ref, r.results[0], r.results[1]), twin = act.fixed(X, f), draw = act.fixedDraw!(X, f);
      const offset = (y: BigUint64Array) => { let s = 0; y.forEach((v, i) => { const d = Number(BigInt.asIntN(64, v - twin[i]!)); expect(Math.abs(d)).toBeLessThanOrEqual(1); s += d; }); return s / n; };
      const a = offset(secure), b = offset(draw);
      console.log(`${act.name} f=${f}: mean offset from the twin, secure ${a.toFixed(4)} ulp, fixedDraw ${b.toFixed(4)} ulp`);
      expect(Math.abs(a - b)).toBeLessThan(0.05); // two means of n values in {-1, 0, 1}: sd below 0.016 each
    }
  });
  it('cost: declared for the context a run used (costOptionsOf), per element, and the interface default is the library default', async () => {
    const n = 64, X = encode(grid(-5, 5, 10 / n).slice(0, n), 13), xs = shareFor3(X);
    let declared: unknown;
    const r = await run3(async (ctx) => { declared = siluApprox.cost(n, 13, costOptionsOf(ctx)); return siluApprox.secure(ctx, xs[ctx.party], 13, 's'); }, { compareBits: 32, compareRadix: 2 });
    expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(declared);
    const plain: SmoothActivation = siluApprox; // the registry's interface: cost(n, f) with the library's defaults
    expect(plain.cost(n, 13)).toEqual(siluApprox.cost(n, 13, { comparison: 'direct', compareBits: 64, compareRadix: 4, truncation: 'local' }));
    expect(siluApprox.cost(2 * n, 13).bytes).toBe(2 * siluApprox.cost(n, 13).bytes);
  });
  for (const act of [siluApprox, sigmoidApprox]) {
    it(`${act.name} (${act.spec.symmetry}) runs from a preprocessed bundle (correlated/dealer.ts): same result within 1 ulp, the dealt bytes leave the run, same rounds`, async () => {
      const f = 14, n = 300, K = act.spec.breakpoints.length, odd = act.spec.symmetry === 'odd';
      const X = cat(randomReals(n, 12, f), edgeInputs(act, f, 32)), xs = shareFor3(X), m = X.length;
      const script: DealScript = [];
      const live = await run3((ctx) => act.secure(ctx, xs[ctx.party], f, 'act'), { compareBits: 32, fracBits: f, dealScript: script });
      // The sign (even-relu: a ReLU of x; odd: a DReLU of x and the product d x), K comparisons of |x|, the two
      // products of the cubic, and for odd functions the sign's product at the end.
      const dealt = comparisonDealtBytes(m, 32) + comparisonDealtBytes(m * K, 32) + bilinearDealtBytes({ sizeZ: 3 * m }) + bilinearDealtBytes({ sizeZ: m })
        + (odd ? 2 * bilinearDealtBytes({ sizeZ: m }) : 0);
      expect(scriptBytes(script)).toBe(dealt);
      const s02 = randomBytes(16), s12 = randomBytes(16);
      const { forP1, p2 } = prepareBundle(ref, script, s02, s12);
      const bundles = [p0Bundle(s02), p1Bundle(s12, forP1), p2];
      const ts = memoryTransports(), seeds = dealSeeds();
      const ctxs = ([0, 1, 2] as PartyId[]).map((p) => createContext(p, ts[p], seeds[p], { compareBits: 32, fracBits: f, bundle: bundles[p]! }));
      const pre = await Promise.all(ctxs.map((c) => act.secure(c, xs[c.party], f, 'act')));
      const want = act.fixed(X, f);
      for (const got of [reconstruct(ref, live.results[0], live.results[1]), reconstruct(ref, pre[0]!, pre[1]!)]) {
        got.forEach((v, i) => expect(Math.abs(Number(BigInt.asIntN(64, v - want[i]!)))).toBeLessThanOrEqual(1));
      }
      const cost = act.cost(m, f, { compareBits: 32 });
      expect(live.bytes).toBe(cost.bytes);
      expect(ts.reduce((a, t) => a + t.counters.bytesSent, 0)).toBe(cost.bytes - dealt);
      expect(Math.max(...ts.map((t) => t.counters.depth))).toBe(cost.rounds);
      expect(bundles[1]!.items.size + bundles[2]!.items.size).toBe(0);
    });
  }
  it('refuses fractional bits outside the fixed-point range with a coded error', () => {
    for (const [act] of ACTS) {
      let err: unknown;
      try { act.fixed(BigUint64Array.of(0n), 7); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(MpcError);
      expect((err as MpcError).code).toBe('E_BAD_ARGUMENT');
    }
  });
});
