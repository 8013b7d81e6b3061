/**
 * Review tests of compare-fold.ts (the comparison's last product folded into
 * BitLT's tree with eps = v + rho opened beside c):
 *  - correctness over many masks: every input of ell = 3..6 repeated, so
 *    that the top block's (c, r) patterns are all drawn with high
 *    probability, for MSB, ReLU and two payloads (argmax's shape), and a mask
 *    made for more payloads than used; MSB and ReLU on random inputs for
 *    ell = 10 to 17, 33, 63 (the other block layouts);
 *  - rho used once: sliceMask's parts hold the parent's own rows of rho and
 *    rho r_S;
 *  - the new offline values are verified: a consistent additive error in
 *    rho or in a product rho r_S (what a cheater gets by altering its
 *    resharing in makeFoldProducts' mulM, both holders of the share agreeing)
 *    changes the result when nothing checks it and is caught by the MAC check
 *    at both honest parties.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runMal3, values } from '../testing/cheat.js';
import { isMpcError } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import { fromBigints, liftSigned, type Vec128 } from './ring128.js';
import { tsKernels } from '../kernels/ts.js';
import { addM, subM } from './rep.js';
import { concatM, sliceM } from './mvec.js';
import { combSignedM, type SignedTerm } from './bit-ops.js';
import { bitLtBlockSizes, blockCoefs, monomialRow } from './bit-lt-quads.js';
import type { MalSession } from './session.js';
import type { MShare } from './rep.js';
import { inputM } from './input.js';
import { openLow } from './open.js';
import { macCheck } from './mac-check.js';
import { compareMaskM, msbM, reluM, sliceMask, timesDreluBody } from './compare.js';
import { foldedTop, foldProducts, foldTopSize, mulPublicVecM } from './compare-fold.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const secret = (s: MalSession, owner: PartyId, xs: bigint[]): Promise<MShare> =>
  inputM(s, owner, s.party === owner ? liftSigned(BigUint64Array.from(xs.map(u64))) : null, xs.length);

/** Every x with |x| < 2^(ell-1), each `reps` times (each with its own mask). */
function everyInput(ell: number, reps: number): bigint[] {
  const half = 1 << (ell - 1), out: bigint[] = [];
  for (let r = 0; r < reps; r++) for (let i = 1 - half; i < half; i++) out.push(BigInt(i));
  return out;
}

describe('compare-fold.ts: MSB, ReLU and two payloads over many masks', () => {
  for (const ell of [3, 4, 5, 6]) {
    it(`ell = ${ell}: every input in range under about 256 masks each pattern of the top block; mask with 2 payloads used for 2, 1 and 0`, async () => {
      const xs = everyInput(ell, Math.max(4, 512 >> (ell - 1))), n = xs.length;
      // Second payload: an index-like value (argmax's iL - iR), here -x + 7.
      const ws = xs.map((x) => 7n - x);
      const r = await runMal3(async (s) => {
        const x = await secret(s, 1, xs), w = await secret(s, 2, ws);
        const masks = await compareMaskM(s, 3 * n, ell, 2);
        const [a, b] = await timesDreluBody(s, x, ell, [x, w], sliceMask(masks, 0, n));
        const relu = await reluM(s, x, ell, sliceMask(masks, n, 2 * n));
        const msb = await msbM(s, x, ell, sliceMask(masks, 2 * n, 3 * n));
        const out = [a!, b!, relu, msb].map(async (v) => Array.from(await openLow(s, v)));
        const res = await Promise.all(out);
        await macCheck(s);
        return res;
      }, { watchdogMs: 60_000 });
      for (const [a, b, relu, msb] of values(r)) {
        expect(a!.map(s64)).toEqual(xs.map((x) => (x >= 0n ? x : 0n)));
        expect(b!.map(s64)).toEqual(xs.map((x, i) => (x >= 0n ? ws[i]! : 0n)));
        expect(relu!.map(s64)).toEqual(xs.map((x) => (x >= 0n ? x : 0n)));
        expect(msb).toEqual(xs.map((x) => (x < 0n ? 1n : 0n)));
      }
    }, 120_000);
  }
});

describe('compare-fold.ts: the block layouts of ell = 10 to 17, 33, 63 (top block of 2, 3 or 4 bits; [.., 3, 2] for ell = 4q + 1)', () => {
  it('MSB and ReLU on random and edge inputs against the plaintext', async () => {
    for (const ell of [10, 11, 12, 13, 14, 15, 16, 17, 33, 63]) {
      const max = (1n << BigInt(ell - 1)) - 1n;
      const rnd = Array.from({ length: 60 }, () => { const v = BigInt('0x' + randomBytes(8).toString('hex')) & max; return randomBytes(1)[0]! & 1 ? -v : v; });
      const xs = [0n, 1n, -1n, max, -max, 2n, -2n, ...rnd];
      const r = await runMal3(async (s) => {
        const x = await secret(s, 1, xs);
        const out = [await openLow(s, await msbM(s, x, ell)), await openLow(s, await reluM(s, x, ell))].map((v) => Array.from(v));
        await macCheck(s);
        return out;
      });
      for (const [msb, relu] of values(r)) {
        expect(msb, `ell = ${ell}`).toEqual(xs.map((x) => (x < 0n ? 1n : 0n)));
        expect(relu!.map(s64), `ell = ${ell}`).toEqual(xs.map((x) => (x >= 0n ? x : 0n)));
      }
    }
  }, 60_000);
});

describe('compare-fold.ts: rho is used once', () => {
  it('sliceMask gives each part the parent\'s own rows of rho and rho r_S (disjoint parts: no rho serves two comparisons)', async () => {
    const n = 6, ell = 8, k = 2, per = foldProducts(ell);
    const r = await runMal3(async (s) => {
      const mask = await compareMaskM(s, n, ell, k);
      const parts = [[0, 2], [2, 3], [3, 6]] as const;
      for (const [from, to] of parts) {
        const part = sliceMask(mask, from, to), m = to - from;
        expect(part.rho.n).toBe(k * m);
        expect(part.wr.n).toBe(k * per * m);
        for (const [child, parent, rows] of [[part.rho, mask.rho, k], [part.wr, mask.wr, k * per]] as const) {
          for (let row = 0; row < rows; row++) {
            for (const side of ['a', 'b'] as const) {
              expect(Array.from(child.x[side].subarray(4 * row * m, 4 * (row + 1) * m))).toEqual(Array.from(parent.x[side].subarray(4 * (row * n + from), 4 * (row * n + to))));
              expect(Array.from(child.m[side].subarray(4 * row * m, 4 * (row + 1) * m))).toEqual(Array.from(parent.m[side].subarray(4 * (row * n + from), 4 * (row * n + to))));
            }
          }
        }
      }
      // The parent's rho elements are distinct (fresh draws): no two comparisons or payloads share one.
      const seen = new Set<string>();
      for (let e = 0; e < k * n; e++) seen.add(Array.from(mask.rho.x.a.subarray(4 * e, 4 * e + 4)).join(','));
      expect(seen.size).toBe(k * n);
      return true;
    });
    expect(values(r)).toEqual([true, true, true]);
  });
});

/** Add 1 to share x_c (held by P_c as a, by P_{c-1} as b) of element e of v: a consistent error, MAC untouched. */
function bump(s: MalSession, v: MShare, cheater: PartyId, e: number): void {
  const at = 4 * e;
  if (s.party === cheater) v.x.a[at]! += 1;
  if (s.party === (cheater + 2) % 3) v.x.b[at]! += 1;
}

describe('compare-fold.ts: the new offline values are verified by the MAC check', () => {
  // ell = 4: one block, the root is the scaled G of the top block (no constant term), so an error in rho B reaches the
  // output only through foldPayload's sigma (eps B - rho B): ReLU is off by +-1 on the altered element, always.
  const ell = 4, xs = [3n, -2n, 5n, -7n], n = xs.length;
  const run = (cheater: PartyId | null, what: 'rhoB' | 'rho', check: boolean) => runMal3(async (s) => {
    const x = await secret(s, 1, xs);
    const mask = await compareMaskM(s, n, ell, 1);
    if (cheater !== null) {
      const Bm = 1 << (foldTopSize(ell) - 1);
      expect(mask.wr.n).toBe(foldProducts(ell) * n);
      // wr row S - 1 holds rho r_S; S = Bm is rho B. rho: row 0 of mask.rho.
      const target = what === 'rhoB' ? { v: mask.wr, off: (Bm - 1) * n } : { v: mask.rho, off: 0 };
      bump(s, target.v, cheater, target.off + 1);
    }
    const out = Array.from(await openLow(s, await reluM(s, x, ell, mask)));
    if (check) await macCheck(s);
    return out;
  });
  const want = xs.map((x) => (x >= 0n ? x : 0n));

  for (const what of ['rhoB', 'rho'] as const) {
    it(`a consistent error in ${what === 'rhoB' ? 'the fold product rho b_{ell-1}' : 'rho'}: E_INTEGRITY (MAC check) at both honest parties for every cheater${what === 'rhoB' ? '; without the check the ReLU is wrong' : ''}`, async () => {
      expect(values(await run(null, what, true)).map((o) => o.map(s64))).toEqual([want, want, want]);
      for (const cheater of [0, 1, 2] as PartyId[]) {
        const r = await run(cheater, what, true);
        for (const p of ([0, 1, 2] as PartyId[]).filter((q) => q !== cheater)) {
          const o = r.outcomes[p];
          expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code === 'E_INTEGRITY' && /MAC check failed/.test(o.reason.message), `P${cheater} cheats, P${p}: ${String(o.status === 'rejected' ? o.reason : 'output')}`).toBe(true);
        }
        if (what === 'rhoB') {
          const unchecked = await run(cheater, what, false);
          const honest = ([0, 1, 2] as PartyId[]).find((q) => q !== cheater)!;
          const o = unchecked.outcomes[honest];
          expect(o.status, `P${cheater} cheats, no MAC check`).toBe('fulfilled');
          if (o.status === 'fulfilled') {
            const got = o.value.map(s64);
            expect(got[0]).toBe(want[0]);
            expect(got[1] === want[1]! + 1n || got[1] === want[1]! - 1n, `element 1: ${got[1]} vs ${want[1]}`).toBe(true);
          }
        }
      }
    });
  }
});

/** The term-by-term foldedTop this file's fused one replaced (combSignedM per term and share vector): the reference for the bits. */
function foldedTopTerms(s: MalSession, c: Uint8Array, cTop: Uint8Array, b: MShare, w: MShare, ell: number, n: number, pay?: { eps: Vec128[]; rho: MShare; wr: MShare }): { g: MShare; p: MShare | null } {
  const L = bitLtBlockSizes(ell), j = L.length - 1, z = L[j]!, zT = z - 1, Bm = 1 << zT, kk = s.ctx.kernels;
  const co = blockCoefs(c, n, ell - z, zT);
  const sigma = Int8Array.from(cTop, (v) => 1 - 2 * v);
  const row = (S: number): MShare => monomialRow(b, w, L, n, j, S);
  const comb = (terms: SignedTerm[], c0?: Int8Array): MShare => combSignedM(s.party, s.alpha, n, terms, c0, kk);
  const scaled = (kq: Int8Array[]): MShare[] => {
    const sk = kq.map((v) => v.map((x, e) => x * sigma[e]!));
    const subsets = Array.from({ length: Bm }, (_, S) => S);
    const A = comb(subsets.filter((S) => S > 0).map((S) => ({ x: row(S), k: sk[S]! })), sk[0]);
    const Bq = comb(subsets.map((S) => ({ x: row(S | Bm), k: sk[S]! })));
    const D = subM(A, addM(Bq, Bq, kk), kk);
    if (!pay) return [D];
    return pay.eps.map((eps, p) => {
      const rr = (S: number): MShare => (S === 0 ? sliceM(pay.rho, p * n, (p + 1) * n) : sliceM(pay.wr, ((p * (2 * Bm - 1)) + S - 1) * n, ((p * (2 * Bm - 1)) + S) * n));
      const R = comb(subsets.map((S) => ({ x: rr(S), k: sk[S]! })));
      const RB = comb(subsets.map((S) => ({ x: rr(S | Bm), k: sk[S]! })));
      return subM(mulPublicVecM(s, D, eps), subM(R, addM(RB, RB, kk), kk), kk);
    });
  };
  return { g: concatM(scaled(co.kg)), p: j > 0 ? concatM(scaled(co.kp)) : null };
}

describe('compare-fold.ts foldedTop: the fused signed sums (blockComb128) equal the term-by-term sums bit for bit', () => {
  const shares = (x: MShare): number[][] => [x.x.a, x.x.b, x.m.a, x.m.b].map((v) => Array.from(v));
  it.each([['native kernels (when built)', false], ['the TS loops', true]] as const)('random public bits (all top-block patterns), edge eps, 0 to 2 payloads of a 2-payload mask, ell = 3 to 6, 9, 13, 32, 33, 63 (%s)', async (_name, ts) => {
    const r = await runMal3(async (s) => {
      const sk = ts ? ({ party: s.party, alpha: s.alpha, ctx: { ...s.ctx, kernels: tsKernels } } as unknown as MalSession) : s;
      const diffs: string[] = [];
      for (const ell of [3, 4, 5, 6, 9, 13, 32, 33, 63]) {
        const n = 40, mask = await compareMaskM(s, n, ell, 2);
        // Public bits from a seed every party knows (the same at the three).
        const pub = createHash('sha256').update(`fold-${ell}`).digest();
        const cBits = Uint8Array.from({ length: (ell - 1) * n }, (_, i) => (pub[i % 32]! >> (i % 8)) & 1 ^ (i * 7 % 3 === 0 ? 1 : 0));
        const cTop = Uint8Array.from({ length: n }, (_, e) => (e >> 1) & 1);
        const edge = [0n, 1n, (1n << 128n) - 1n, 1n << 127n, 1n << 64n, (1n << 64n) - 1n];
        const eps = [0, 1].map((p) => fromBigints(Array.from({ length: n }, (_, e) => edge[(e + p) % edge.length]! ^ BigInt(e * 977 + p))));
        for (const k of [0, 1, 2]) {
          const pay = k > 0 ? { eps: eps.slice(0, k), rho: mask.rho, wr: mask.wr } : undefined;
          const got = foldedTop(sk, cBits, cTop, mask.b, mask.w, ell, n, pay), want = foldedTopTerms(s, cBits, cTop, mask.b, mask.w, ell, n, pay);
          if (JSON.stringify(shares(got.g)) !== JSON.stringify(shares(want.g))) diffs.push(`ell ${ell} k ${k}: G`);
          if ((got.p === null) !== (want.p === null) || (got.p && JSON.stringify(shares(got.p)) !== JSON.stringify(shares(want.p!)))) diffs.push(`ell ${ell} k ${k}: P`);
        }
      }
      return diffs;
    }, { watchdogMs: 60_000 });
    expect(values(r)).toEqual([[], [], []]);
  }, 60_000);
});

describe('compare-fold.ts foldedTop: the fused sums at the edges of the element count and payloads (bit for bit)', () => {
  const shares = (x: MShare): number[][] => [x.x.a, x.x.b, x.m.a, x.m.b].map((v) => Array.from(v));
  it.each([['native kernels (when built)', false], ['the TS loops', true]] as const)('n = 1, 2, 7; ell = 2, 5, 64; 0 to 4 payloads of a 4-payload mask (%s)', async (_name, ts) => {
    const r = await runMal3(async (s) => {
      const sk = ts ? ({ party: s.party, alpha: s.alpha, ctx: { ...s.ctx, kernels: tsKernels } } as unknown as MalSession) : s;
      const diffs: string[] = [];
      for (const n of [1, 2, 7]) {
        for (const ell of [2, 5, 64]) {
          const mask = await compareMaskM(s, n, ell, 4);
          const pub = createHash('sha256').update(`fold-edge-${n}-${ell}`).digest();
          const cBits = Uint8Array.from({ length: (ell - 1) * n }, (_, i) => (pub[i % 32]! >> (i % 8)) & 1);
          const cTop = Uint8Array.from({ length: n }, (_, e) => (pub[(e + 5) % 32]! >> 3) & 1);
          const edge = [(1n << 128n) - 1n, 1n << 127n, 0n, 1n, (1n << 64n) - 1n];
          const eps = [0, 1, 2, 3].map((p) => fromBigints(Array.from({ length: n }, (_, e) => edge[(e + p) % edge.length]!)));
          for (const k of [0, 1, 3, 4]) {
            const pay = k > 0 ? { eps: eps.slice(0, k), rho: mask.rho, wr: mask.wr } : undefined;
            const got = foldedTop(sk, cBits, cTop, mask.b, mask.w, ell, n, pay), want = foldedTopTerms(s, cBits, cTop, mask.b, mask.w, ell, n, pay);
            if (got.g.n !== want.g.n || JSON.stringify(shares(got.g)) !== JSON.stringify(shares(want.g))) diffs.push(`n ${n} ell ${ell} k ${k}: G`);
            if ((got.p === null) !== (want.p === null) || (got.p && JSON.stringify(shares(got.p)) !== JSON.stringify(shares(want.p!)))) diffs.push(`n ${n} ell ${ell} k ${k}: P`);
          }
        }
      }
      return diffs;
    }, { watchdogMs: 60_000 });
    expect(values(r)).toEqual([[], [], []]);
  }, 60_000);
});
