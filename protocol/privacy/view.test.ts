/**
 * View simulation: what each party receives during a secure argmax must not
 * depend on the logits. We run the protocol many times on two inputs with
 * different labels and compare, per party and per message, the distribution
 * of the received bytes (and, for P0/P1, of received + own input share, which
 * would expose a direct opening; for P2, of the sum of the two messages it
 * gets under the same tag from P0 and P1). A loose statistical check, not a
 * proof: the proof is SecureNN's composition of simulators (argmax only calls
 * DReLU and SelectShare, whose outputs are fresh shares). A deliberately leaky
 * variant shows the check has power. Seeds are fixed, so the test is
 * deterministic.
 */
import { describe, expect, it } from 'vitest';
import { Prg } from '../correlated/prg.js';
import type { ContextOptions, PartyContext } from '../context.js';
import { encodeScalar } from '../fixed-point/fixed-point.js';
import { referenceKernels as ref } from '../kernels/reference.js';
import { privateCompare } from '../primitives/private-compare.js';
import { privateCompareRadix4 } from '../primitives/private-compare-radix4.js';
import { reluMaxOfPairs } from '../primitives/relu-max-pairs.js';
import { reluIntoDense } from '../primitives/relu-dense.js';
import { MemoryWeightMasks } from '../correlated/weight-masks.js';
import { truncateExact } from '../primitives/truncate-exact.js';
import { sigmoidApprox } from '../primitives/sigmoid.js';
import { siluApprox } from '../primitives/silu.js';
import type { AShare, PShare, Public } from '../ring/types.js';
import { seededPrg } from '../seed-models.js';
import { recvU64, sendU64 } from '../transport/messages.js';
import { secureArgmax } from './argmax.js';
import { thresholdDecisions } from './decisions.js';
import { goodnessOfFitZ, twoSampleChiSquareZ } from './stats.js';
import { k, recordViews, type ViewMsg } from '../testing/privacy.js';

/** Each party's received messages (protocol/testing/privacy.ts recordViews: the same seeds drawn from g in the same order). */
const views = async (g: Prg, fn: (ctx: PartyContext) => Promise<unknown>, opts: ContextOptions = {}): Promise<[ViewMsg[], ViewMsg[], ViewMsg[]]> => (await recordViews(g, fn, { fracBits: 13, ...opts })).views;

const M = 3, N = 5, RUNS = 150;
const rowsA = [[9, 1, 2, 3, 4], [7, -1, -2, -3, -4], [100, 50, 0, -50, -100]];
const enc = (rows: number[][]) => BigUint64Array.from(rows.flat().map((v) => encodeScalar(v, 13)));
const INPUT_A = enc(rowsA); // labels 0, 0, 0
const INPUT_B = enc([[1, 2, 3, 4, 9.5], [-4, -3, -2, -1, 7.25], [-100, -50, 0, 50, 99]]); // labels 4, 4, 4

const isZp = (tag: string) => tag.endsWith(':d') || tag.endsWith(':xbits');

/**
 * Histogram of a payload: Z_p messages by value (67 bins, all positions
 * together); u64 messages per element position by the top two bits of the
 * element (4 bins per position), so a statistic sees where values sit, not
 * only which values occur.
 */
function hist(into: number[], payload: Uint8Array, zp: boolean): void {
  if (zp) for (const b of payload) into[b]!++;
  else for (let e = 0; e < payload.length / 8; e++) into[4 * e + (payload[8 * e + 7]! >> 6)]!++;
}

type Stats = Map<string, { zp: boolean; h: number[] }>;
function add(s: Stats, key: string, zp: boolean, payload: Uint8Array): void {
  let e = s.get(key);
  if (!e) s.set(key, (e = { zp, h: new Array<number>(zp ? 67 : payload.length / 2).fill(0) }));
  hist(e.h, payload, zp);
}

/** Statistics of RUNS views of one input; `leaky` makes P1 send its input share to P0 first (negative control). */
type Protocol = (ctx: PartyContext, share: AShare) => Promise<unknown>;
const argmaxRun: Protocol = (ctx, share) => secureArgmax(ctx, share, M, N);

async function collect(X: BigUint64Array, seed: number, leaky: boolean, protocol: Protocol = argmaxRun, opts: ContextOptions = {}): Promise<{ stats: Stats; shape: string[] }> {
  const stats: Stats = new Map();
  let shape: string[] | null = null;
  for (let run = 0; run < RUNS; run++) {
    const g = seededPrg(seed * 100000 + run);
    const s0 = g.u64(X.length), s1 = new BigUint64Array(X.length);
    k.sub(X, s0, s1);
    const own = [s0, s1, new BigUint64Array(X.length)];
    const v = await views(g, async (ctx) => {
      if (leaky && ctx.party === 1) sendU64(ctx, 0, 'leak', own[1]!);
      if (leaky && ctx.party === 0) await recvU64(ctx, 1, 'leak', X.length);
      return protocol(ctx, own[ctx.party]! as AShare);
    }, opts);
    const sh = v.flatMap((msgs, p) => msgs.map((m) => `P${p}<P${m.from} ${m.tag} ${m.payload.length}`));
    if (shape === null) shape = sh;
    expect(sh).toEqual(shape); // same messages, tags and lengths every run
    v.forEach((msgs, p) => msgs.forEach((m, i) => {
      add(stats, `P${p}#${i} ${m.tag}`, isZp(m.tag), m.payload);
      if (p < 2 && m.payload.length === X.length * 8) {
        // Received + own input share: the secret itself if the message were the other share.
        const sum = new BigUint64Array(X.length);
        k.add(new BigUint64Array(m.payload.slice().buffer), own[p]!, sum);
        add(stats, `P${p}#${i} ${m.tag} +own`, false, new Uint8Array(sum.buffer));
      }
    }));
    // P2: sum of the two messages with the same tag from P0 and P1.
    const from0 = v[2].filter((m) => m.from === 0), from1 = v[2].filter((m) => m.from === 1);
    from0.forEach((m0, i) => {
      const m1 = from1.find((m) => m.tag === m0.tag);
      if (!m1) return;
      if (isZp(m0.tag)) add(stats, `P2 pair#${i} ${m0.tag}`, true, m0.payload.map((b, j) => (b + m1.payload[j]!) % 67));
      else {
        const sum = new BigUint64Array(m0.payload.length / 8);
        k.add(new BigUint64Array(m0.payload.slice().buffer), new BigUint64Array(m1.payload.slice().buffer), sum);
        add(stats, `P2 pair#${i} ${m0.tag}`, false, new Uint8Array(sum.buffer));
      }
    });
  }
  return { stats, shape: shape! };
}

/** Largest two-sample z-score over all statistics (and the statistic). */
function compare(a: Stats, b: Stats): { z: number; key: string } {
  let worst = { z: -Infinity, key: '' };
  for (const [key, e] of a) {
    const z = twoSampleChiSquareZ(e.h, b.get(key)!.h);
    if (z > worst.z) worst = { z, key };
  }
  return worst;
}

describe('no single party\'s view depends on the input (secure argmax, simulated views)', () => {
  it('P0, P1 and P2 receive the same messages with indistinguishable contents on inputs with labels 0 and 4; u64 messages look uniform', async () => {
    const A = await collect(INPUT_A, 1, false), B = await collect(INPUT_B, 2, false);
    expect(B.shape).toEqual(A.shape);
    expect(new Set(A.shape.map((s) => s.slice(0, 2)))).toEqual(new Set(['P0', 'P1', 'P2']));
    const worst = compare(A.stats, B.stats);
    expect(worst.z, worst.key).toBeLessThan(5);
    // Every u64 message's bytes are uniform (each received share is masked).
    for (const [key, e] of A.stats) if (!e.zp && !key.includes('+own') && !key.startsWith('P2 pair')) expect(goodnessOfFitZ(e.h, new Array<number>(e.h.length).fill(1 / 4 / (e.h.length / 4))), key).toBeLessThan(5);
  });

  // Per-element decisions (decisions.ts: multi-label heads, sigmoid masks): every decision 1 with bucket 2
  // against every decision 0 with bucket 0, per-label thresholds and margins; the same statistics as above.
  it('threshold decisions: every party\'s view is the same for all-positive and all-negative logits (decisions 1 / 0, buckets 2 / 0)', async () => {
    const decide: Protocol = (ctx, share) => thresholdDecisions(ctx, share, { thresholds: [0.5, 0.9, 0.2, 0.5, 0.7], confidenceThresholds: [1, 3] });
    const DA = enc([[9, 12, 8, 40, 5], [7, 6.5, 4, 3.5, 100], [20, 30, 9, 11, 13]]);
    const DB = enc([[-9, -12, -8, -40, -5], [-7, -6.5, -4, -3.5, -100], [-20, -30, -9, -11, -13]]);
    const A = await collect(DA, 31, false, decide), B = await collect(DB, 32, false, decide);
    expect(B.shape).toEqual(A.shape);
    expect(new Set(A.shape.map((x) => x.slice(0, 2)))).toEqual(new Set(['P0', 'P1', 'P2']));
    const worst = compare(A.stats, B.stats);
    expect(worst.z, worst.key).toBeLessThan(5);
    for (const [key, e] of A.stats) if (!e.zp && !key.includes('+own') && !key.startsWith('P2 pair')) expect(goodnessOfFitZ(e.h, new Array<number>(e.h.length).fill(1 / 4 / (e.h.length / 4))), key).toBeLessThan(5);
  });

  // Smooth activations (primitives/piecewise-poly.ts, folded on |x|): the sign (odd: DReLU of x and an opened
  // Beaver product; even-relu: a ReLU of x), K comparisons of |x|, the pieces' products; inputs of opposite signs,
  // in different pieces and in the tails. The same statistics as above.
  for (const [act, seed] of [[sigmoidApprox, 41], [siluApprox, 43]] as const) {
    it(`${act.name} (${act.spec.symmetry} fold): every party's view is the same for inputs of opposite signs in different pieces; u64 messages look uniform`, async () => {
      const SA = enc([[-9, -3, -1, -0.01, 0], [0.5, 2, 4, 7, 11], [-11, -7, -4, -2, -0.5]]);
      const SB = enc([[8, 2.5, 0.75, 0.01, -0.001], [-100, -5, -2.5, -1.5, -0.25], [30, 6.5, 3, 1.25, 0.125]]);
      const run: Protocol = (ctx, share) => act.secure(ctx, share, 13, act.name);
      const A = await collect(SA, seed, false, run), B = await collect(SB, seed + 1, false, run);
      expect(B.shape).toEqual(A.shape);
      expect(new Set(A.shape.map((x) => x.slice(0, 2)))).toEqual(new Set(['P0', 'P1', 'P2']));
      const worst = compare(A.stats, B.stats);
      expect(worst.z, worst.key).toBeLessThan(5);
      for (const [key, e] of A.stats) if (!e.zp && !key.includes('+own') && !key.startsWith('P2 pair')) expect(goodnessOfFitZ(e.h, new Array<number>(e.h.length).fill(1 / 4 / (e.h.length / 4))), key).toBeLessThan(5);
    });
  }

  // ReLU fused into a MaxPool pair pass (relu-max-pairs.ts): the 4x4 elements' signs and the 12 vertical pairs'
  // differences compared in one call; P0, P1 see the opened c (elements in full, differences mod 2^32 on the narrow
  // ring) and their shares of P2's dealt values, P2 only PrivateCompare's messages. Inputs with opposite signs and
  // opposite orders of every pair (ties and zeros in A only).
  for (const compareBits of [32, 64] as const) {
    it(`ReLU(max) of pairs, ${compareBits}-bit ring: every party's view is the same for inputs of opposite signs and orders; u64 messages look uniform`, async () => {
      const PA = enc([[3, -2, 0, 5], [3, -2, 0, -5], [-1, -1, 7, 7], [0.5, -0.5, 2, -9]]);
      const PB = enc([[-3, 2, 4, -5], [-6, 8, -1, 5], [1, 0.25, -7, -8], [-0.5, 9, -2, 11]]);
      const iX = Uint32Array.from({ length: 12 }, (_, i) => i), iY = iX.map((v) => v + 4);
      const run: Protocol = (ctx, share) => reluMaxOfPairs(ctx, share, iX, iY);
      const A = await collect(PA, 51 + compareBits, false, run, { compareBits }), B = await collect(PB, 52 + compareBits, false, run, { compareBits });
      expect(B.shape).toEqual(A.shape);
      expect(new Set(A.shape.map((x) => x.slice(0, 2)))).toEqual(new Set(['P0', 'P1', 'P2']));
      // P2 receives PrivateCompare's d only (and, on the 64-bit ring, nothing else).
      expect(A.shape.filter((x) => x.startsWith('P2')).every((x) => x.includes('.pc:d'))).toBe(true);
      const worst = compare(A.stats, B.stats);
      expect(worst.z, worst.key).toBeLessThan(5);
      for (const [key, e] of A.stats) if (!e.zp && !key.includes('+own') && !key.startsWith('P2 pair')) expect(goodnessOfFitZ(e.h, new Array<number>(e.h.length).fill(1 / 4 / (e.h.length / 4))), key).toBeLessThan(5);
    });
  }

  // ReLU fused into the next dense layer (relu-dense.ts): P1 also gets its shares of R = r B, M = z B, N = w B with
  // P2's (z, w); P0 draws its shares; nothing new reaches P2. Fixed weights and kept mask over the runs, as in service.
  for (const compareBits of [32, 64] as const) {
    it(`ReLU fused into a dense layer, ${compareBits}-bit ring: every party's view is the same for inputs of opposite signs; u64 messages look uniform`, async () => {
      const K = 4, Nd = 3;
      const wg = seededPrg(77), W = wg.u64(K * Nd), Bm = wg.u64(K * Nd), F = new BigUint64Array(K * Nd), Y0 = wg.u64(K * Nd), Y1 = new BigUint64Array(K * Nd);
      ref.sub(W, Bm, F); ref.sub(W, Y0, Y1);
      const masks = new MemoryWeightMasks().session('use');
      masks.set('w0', F); masks.set('w1', F); masks.set('w2', Bm);
      const ys = [Y0, Y1, new BigUint64Array(K * Nd)];
      const run: Protocol = (ctx, share) => reluIntoDense(ctx, share, ys[ctx.party]!, 4, K, Nd, `w${ctx.party}`, 'act');
      const DA = enc([[3, -2, 0, 5], [3, -2, 0, -5], [-1, -1, 7, 7], [0.5, -0.5, 2, -9]]);
      const DB = enc([[-3, 2, -4, -5], [-6, 8, 1, 5], [1, 0.25, -7, -8], [-0.5, 9, -2, 11]]);
      const A = await collect(DA, 61 + compareBits, false, run, { compareBits, weightMasks: masks }), B = await collect(DB, 62 + compareBits, false, run, { compareBits, weightMasks: masks });
      expect(B.shape).toEqual(A.shape);
      expect(A.shape.filter((x) => x.startsWith('P2')).every((x) => x.includes('.pc:d'))).toBe(true);
      expect(A.shape.some((x) => x.startsWith('P1<P2 act:z,w,RMN'))).toBe(true);
      const worst = compare(A.stats, B.stats);
      expect(worst.z, worst.key).toBeLessThan(5);
      for (const [key, e] of A.stats) if (!e.zp && !key.includes('+own') && !key.startsWith('P2 pair')) expect(goodnessOfFitZ(e.h, new Array<number>(e.h.length).fill(1 / 4 / (e.h.length / 4))), key).toBeLessThan(5);
    });
  }

  it('the same check detects a leaky variant in which P1 sends its share to P0', async () => {
    const A = await collect(INPUT_A, 3, true), B = await collect(INPUT_B, 4, true);
    const worst = compare(A.stats, B.stats);
    expect(worst.key).toMatch(/leak \+own/);
    expect(worst.z).toBeGreaterThan(20);
  });

  it('exact truncation (truncate-exact.ts): P2\'s messages from P0 and P1, their sum, and P1\'s message from P2 are indistinguishable for very different x (0 and +-2^61 vs +-2^40); all look uniform', async () => {
    const big = (v: bigint) => BigInt.asUintN(64, v);
    const XA = BigUint64Array.from([0n, 1n, big(-1n), 1n << 61n, big(-(1n << 61n)), 5n << 13n, 0n, 0n, big(-(1n << 61n)), 1n << 61n, 7n, 0n, 0n, 0n, 0n]);
    const XB = BigUint64Array.from([1n << 40n, big(-(1n << 40n)), 1n << 40n, big(-(1n << 40n)), 3n, 1n << 40n, big(-7n), 1n << 40n, 2n, big(-(1n << 40n)), 1n << 20n, 9n, big(-(1n << 40n)), 1n << 40n, 1n]);
    const trunc: Protocol = (ctx, share) => truncateExact(ctx, share, 13);
    const A = await collect(XA, 21, false, trunc), B = await collect(XB, 22, false, trunc);
    expect(B.shape).toEqual(A.shape);
    expect(A.shape.some((x) => x.startsWith('P2<P0')) && A.shape.some((x) => x.startsWith('P2<P1')) && A.shape.some((x) => x.startsWith('P1<P2'))).toBe(true);
    expect([...A.stats.keys()].some((key) => key.startsWith('P2 pair'))).toBe(true);
    const worst = compare(A.stats, B.stats);
    expect(worst.z, worst.key).toBeLessThan(5);
    for (const [key, e] of A.stats) if (!e.zp) expect(goodnessOfFitZ(e.h, new Array<number>(e.h.length).fill(1 / 4 / (e.h.length / 4))), key).toBeLessThan(5);
  });

  // P0 and P1 send d^j = s * c^j; without the zero-sharing mask P2 could form
  // d^0 / d^1 = c^0 / c^1 (s cancels), a function of r and of the bit shares it dealt.
  // Guards the fix in protocol/primitives/private-compare.ts (P0 adds m, P1 subtracts it).
  it('P2 cannot tell the top bit of r in PrivateCompare from the ratio of its two messages', async () => {
    const n = 1500;
    const g = seededPrg(77);
    const x = g.u64(n), r = g.u64(n);
    const xb0 = g.zp(n * 64), xb1 = new Uint8Array(n * 64);
    ref.bitShareZp(x, xb0, xb1);
    const beta = g.bits(n); // P0 and P1's common random bit, unknown to P2
    const v = await views(g, (ctx) => privateCompare(ctx, n, (ctx.party === 0 ? xb0 : xb1) as PShare, r as Public, beta, 'pc'));
    const d0 = v[2].find((m) => m.from === 0)!.payload, d1 = v[2].find((m) => m.from === 1)!.payload;
    const inv = (a: number) => { for (let b = 1; b < 67; b++) if ((a * b) % 67 === 1) return b; return 0; };
    const mod = (a: number) => ((a % 67) + 67) % 67;
    // P2's guess "r_63 = 0": for beta = 0 the top position has c^0 = -x^0_63, c^1 = 1 - x^1_63 (if r_63 = 0);
    // for beta = 1, c^0 = x^0_63, c^1 = x^1_63 + 1 (if bit 63 of r + 1 is 0). P2 dealt the x shares.
    const hit = [[0, 0], [0, 0]];
    for (let e = 0; e < n; e++) {
      const ratios = new Set<number>();
      for (let i = 0; i < 64; i++) if (d1[e * 64 + i]) ratios.add((d0[e * 64 + i]! * inv(d1[e * 64 + i]!)) % 67);
      const x0 = xb0[e * 64 + 63]!, x1 = xb1[e * 64 + 63]!;
      const has = (a: number, b: number) => mod(b) !== 0 && ratios.has((mod(a) * inv(mod(b))) % 67);
      hit[Number(r[e]! >> 63n)]![has(-x0, 1 - x1) || has(x0, x1 + 1) ? 1 : 0]!++;
    }
    // Without a leak the guess is independent of r_63 (the output beta XOR (x > r) is uniform).
    expect(twoSampleChiSquareZ(hit[0]!, hit[1]!)).toBeLessThan(5);
  });

  it('the same holds for the narrow PrivateCompare (width 32, the 32-bit comparison ring): P2 sees 32 masked positions per element', async () => {
    const n = 1500;
    const g = seededPrg(78);
    const low31 = (a: BigUint64Array) => a.map((v) => v & 0x7fffffffn);
    const x = low31(g.u64(n)), r = low31(g.u64(n));
    const wide0 = g.zp(n * 64), wide1 = new Uint8Array(n * 64);
    ref.bitShareZp(x, wide0, wide1);
    const compact = (w: Uint8Array) => { const o = new Uint8Array(n * 32); for (let e = 0; e < n; e++) o.set(w.subarray(e * 64, e * 64 + 32), e * 32); return o; };
    const xb0 = compact(wide0), xb1 = compact(wide1);
    const beta = g.bits(n);
    const v = await views(g, (ctx) => privateCompare(ctx, n, (ctx.party === 0 ? xb0 : xb1) as PShare, r as Public, beta, 'pc', 32));
    const d0 = v[2].find((m) => m.from === 0)!.payload, d1 = v[2].find((m) => m.from === 1)!.payload;
    expect(d0.length).toBe(n * 32);
    const inv = (a: number) => { for (let b = 1; b < 67; b++) if ((a * b) % 67 === 1) return b; return 0; };
    const mod = (a: number) => ((a % 67) + 67) % 67;
    // As above, on the top position that depends on r (bit 30).
    const hit = [[0, 0], [0, 0]];
    for (let e = 0; e < n; e++) {
      const ratios = new Set<number>();
      for (let i = 0; i < 32; i++) if (d1[e * 32 + i]) ratios.add((d0[e * 32 + i]! * inv(d1[e * 32 + i]!)) % 67);
      // Position 31 holds shares of 0 (x, r < 2^31): its w shares x^j_31 enter the suffix of position 30.
      const x0 = xb0[e * 32 + 30]!, x1 = xb1[e * 32 + 30]!, y0 = xb0[e * 32 + 31]!, y1 = xb1[e * 32 + 31]!;
      const has = (a: number, b: number) => mod(b) !== 0 && ratios.has((mod(a) * inv(mod(b))) % 67);
      hit[Number((r[e]! >> 30n) & 1n)]![has(-x0 + y0, 1 - x1 + y1) || has(x0 + y0, x1 + 1 + y1) ? 1 : 0]!++;
    }
    expect(twoSampleChiSquareZ(hit[0]!, hit[1]!)).toBeLessThan(5);
  });

  // The radix-4 PrivateCompare (primitives/private-compare-radix4.ts): the same ratio attack on the top
  // digit, and the two facts the header's argument rests on: the zero (if any) sits at a uniform position
  // of the 16, and the nonzero sums d_i are uniform on Z_p^*, whatever r is.
  it('radix-4 PrivateCompare: P2 cannot tell the top digit of r from its messages; zero position and nonzero sums uniform', async () => {
    const n = 1500;
    const g = seededPrg(79);
    const low31 = (a: BigUint64Array) => a.map((v) => v & 0x7fffffffn);
    const x = low31(g.u64(n)), r = low31(g.u64(n));
    const xl0 = g.zp(n * 48), xl1 = new Uint8Array(n * 48);
    ref.digitShareZp16(x, xl0, xl1);
    const beta = g.bits(n);
    const v = await views(g, (ctx) => privateCompareRadix4(ctx, n, ctx.party === 0 ? xl0 : xl1, r as Public, beta, 'pc'));
    const d0 = v[2].find((m) => m.from === 0)!.payload, d1 = v[2].find((m) => m.from === 1)!.payload;
    expect([d0.length, d1.length]).toEqual([n * 16, n * 16]);
    const inv = (a: number) => { for (let b = 1; b < 67; b++) if ((a * b) % 67 === 1) return b; return 0; };
    const mod = (a: number) => ((a % 67) + 67) % 67;
    // Top digit 15 (bits 30, 31): r < 2^31, so r_15 is 0 or 1. For beta = 0 and v_15 = 0, c^j_15 = L^j_15[0];
    // P2 dealt the L shares, so without the zero-sharing mask the ratio L^0/L^1 would show up exactly when r_15 = 0.
    const hit = [[0, 0], [0, 0]];
    const zeroAt = new Array<number>(16).fill(0);
    const nonzero = new Array<number>(66).fill(0);
    for (let e = 0; e < n; e++) {
      const ratios = new Set<number>();
      for (let i = 0; i < 16; i++) {
        const a = d0[e * 16 + i]!, b = d1[e * 16 + i]!;
        if (b) ratios.add((a * inv(b)) % 67);
        const sum = (a + b) % 67;
        if (sum === 0) zeroAt[i]!++; else nonzero[sum - 1]!++;
      }
      const l0 = xl0[e * 48 + 15]!, l1 = xl1[e * 48 + 15]!; // L_15[0] (planar layout: entry 16 u + i)
      hit[Number((r[e]! >> 30n) & 1n)]![mod(l1) !== 0 && ratios.has((mod(l0) * inv(mod(l1))) % 67) ? 1 : 0]!++;
    }
    expect(twoSampleChiSquareZ(hit[0]!, hit[1]!)).toBeLessThan(5);
    expect(zeroAt.reduce((a, b) => a + b, 0)).toBeGreaterThan(n / 3); // about half the elements have their zero
    expect(goodnessOfFitZ(zeroAt, new Array(16).fill(1 / 16))).toBeLessThan(5);
    expect(goodnessOfFitZ(nonzero, new Array(66).fill(1 / 66))).toBeLessThan(5);
  });
});
