import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeContexts } from '../testing/run3.js';
import { runMal3, values, type MalRun } from '../testing/cheat.js';
import { isMpcError } from '../errors.js';
import type { Cost } from '../primitives/cost.js';
import type { PartyId } from '../ring/types.js';
import { add128, alloc128, fromBigints, isZero128, liftSigned, scalar128, toBigints, type Vec128 } from './ring128.js';
import { addM, addPublicM, mulPublicM, randomRep, reconstructRep, shareKey, shareMacced, subM, zeroShare, type MShare } from './rep.js';
import { commitWaitRounds, setupCost, type MalSession } from './session.js';
import { addCost } from '../primitives/cost.js';
import { macOf, macOfCost, matmulCostM, matmulM, mulCostM, mulM, randomMacced } from './product.js';
import { openCost, openLow, openLowCost, openM, openTo, openToCost } from './open.js';
import { inputCost, inputM, publicM } from './input.js';
import { macCheck, macCheckCost } from './mac-check.js';

const M128 = (1n << 128n) - 1n;
const mod = (x: bigint): bigint => BigInt.asUintN(128, x);
const big = (n: number): bigint[] => Array.from({ length: n }, () => BigInt('0x' + randomBytes(16).toString('hex')));
/** 0, 1, -1, the largest and smallest 64-bit fixed-point values, 2^64, 2^127, and 2^63 (as lifted values and raw words). */
const EDGES = [0n, 1n, M128, (1n << 63n) - 1n, mod(-(1n << 63n)), 1n << 64n, 1n << 127n, 1n << 63n];

/** Bytes of one labelled step, all parties together. */
const bytesOf = (r: MalRun<unknown>, label: string): number => r.transports.reduce((a, t) => a + (t.steps.get(label)?.bytesSent ?? 0), 0);

/**
 * Cost of op alone: the set-up sends its commitments and makes no round of
 * its own (session.ts: a peer's commitment is received with its first other
 * message), and op's operands are public (local), so the run's rounds and its
 * bytes beyond set-up are op's.
 */
async function costAlone(n: number, op: (s: MalSession, x: MShare, y: MShare) => Promise<unknown>): Promise<Cost> {
  const [u, v] = [fromBigints(big(n)), fromBigints(big(n))];
  const r = await runMal3(async (s) => op(s, publicM(s, u), publicM(s, v)));
  values(r);
  return { rounds: r.rounds - setupCost().rounds, bytes: r.bytes - setupCost().bytes };
}

const own = (s: MalSession, p: PartyId, v: bigint[]): Vec128 | null => (s.party === p ? fromBigints(v) : null);

describe('malicious arithmetic core (replicated MACed sharing over Z_2^128) against a BigInt reference', () => {
  it('multiplies inputs of two parties elementwise; opened values, the low 64 bits and the MAC check are right; costs match the counters', async () => {
    const xs = [...EDGES, ...big(12)], ys = [...EDGES.slice().reverse(), ...big(12)];
    const n = xs.length;
    const r = await runMal3(async (s) => {
      const x = await inputM(s, 0, own(s, 0, xs), n);
      const y = await inputM(s, 1, own(s, 1, ys), n);
      const z = await mulM(s, x, y);
      const full = await openM(s, z);
      const low = await openLow(s, z);
      await macCheck(s);
      return { full: toBigints(full), low };
    });
    const want = xs.map((x, i) => mod(x * ys[i]!));
    for (const v of values(r)) {
      expect(v.full).toEqual(want);
      expect(Array.from(v.low)).toEqual(want.map((w) => BigInt.asUintN(64, w)));
    }
    expect(bytesOf(r, 'mal.mul')).toBe(mulCostM(n).bytes);
    expect(bytesOf(r, 'mal.macCheck')).toBe(macCheckCost().bytes);
    expect(r.bytes).toEqual(setupCost().bytes + 2 * inputCost(n).bytes + mulCostM(n).bytes + openCost(n).bytes + openLowCost(n).bytes + macCheckCost().bytes);
  });

  it('multiplies matrices (odd shapes, edge entries); the product of fixed-point lifts is right mod 2^64', async () => {
    for (const [m, k, n] of [[1, 1, 1], [2, 3, 4], [3, 5, 2]] as const) {
      const A = [...EDGES, ...big(m * k)].slice(0, m * k), B = [...big(k * n - 1), M128].slice(-k * n);
      const r = await runMal3(async (s) => {
        const X = await inputM(s, 2, own(s, 2, A), m * k);
        const Y = await inputM(s, 0, own(s, 0, B), k * n);
        const Z = await matmulM(s, X, Y, m, k, n);
        const out = await openM(s, Z);
        await macCheck(s);
        return toBigints(out);
      });
      const want = Array.from({ length: m * n }, (_, q) => {
        let t = 0n;
        for (let p = 0; p < k; p++) t += A[Math.floor(q / n) * k + p]! * B[p * n + (q % n)]!;
        return mod(t);
      });
      for (const v of values(r)) expect(v).toEqual(want);
      expect(bytesOf(r, 'mal.matmul')).toBe(matmulCostM(m, n).bytes);
    }
    // Fixed point: lifted signed values, the low 64 bits equal the Z_2^64 product.
    const a = BigUint64Array.from([3n, 0xffffffffffffffffn, 1n << 62n]), b = BigUint64Array.from([0xfffffffffffffffen, 0xffffffffffffffffn, 4n]);
    const r = await runMal3(async (s) => {
      const x = await inputM(s, 1, s.party === 1 ? liftSigned(a) : null, 3);
      const y = await inputM(s, 2, s.party === 2 ? liftSigned(b) : null, 3);
      const low = await openLow(s, await mulM(s, x, y));
      await macCheck(s);
      return Array.from(low);
    });
    for (const v of values(r)) expect(v).toEqual([BigInt.asUintN(64, -6n), 1n, 0n]);
  });

  it('linear operations are local and keep the MAC: 3x - y + c, public values, random MACed masks', async () => {
    const xs = [...EDGES, ...big(4)], ys = big(xs.length), cs = [...big(xs.length - 1), M128];
    const r = await runMal3(async (s) => {
      const x = await inputM(s, 2, own(s, 2, xs), xs.length);
      const y = await inputM(s, 1, own(s, 1, ys), xs.length);
      const before = s.ctx.transport.counters.bytesSent;
      const w = addPublicM(s.party, s.alpha, subM(mulPublicM(x, scalar128(3n)), y), fromBigints(cs));
      const c = addM(publicM(s, fromBigints(cs)), w);
      const local = s.ctx.transport.counters.bytesSent - before;
      const rho = await randomMacced(s, 4);
      const out = [toBigints(await openM(s, w)), toBigints(await openM(s, c))];
      await openM(s, rho);
      await macCheck(s);
      return { out, local };
    });
    for (const v of values(r)) {
      expect(v.local).toBe(0);
      expect(v.out[0]).toEqual(xs.map((x, i) => mod(3n * x - ys[i]! + cs[i]!)));
      expect(v.out[1]).toEqual(xs.map((x, i) => mod(3n * x - ys[i]! + 2n * cs[i]!)));
    }
    expect(bytesOf(r, 'mal.macOf')).toBe(macOfCost(4).bytes);
  });

  it('random and zero sharings from the pair PRGs: the two copies of each share agree, zero shares sum to 0', () => {
    const { contexts } = makeContexts();
    const reps = contexts.map((c) => randomRep(c, 5)) as [ReturnType<typeof randomRep>, ReturnType<typeof randomRep>, ReturnType<typeof randomRep>];
    expect(() => reconstructRep(reps)).not.toThrow();
    const z = contexts.map((c) => zeroShare(c, 7));
    expect(isZero128(add128(add128(z[0]!, z[1]!, alloc128(7)), z[2]!, alloc128(7)))).toBe(true);
    expect(isZero128(z[0]!)).toBe(false);
  });

  it('dealer-side sharing reconstructs value and MAC; a changed copy of a share is E_INTEGRITY', () => {
    const alpha = fromBigints(big(1)), x = fromBigints([...EDGES, ...big(3)]);
    const parts = shareMacced(x, alpha);
    expect(toBigints(reconstructRep([parts[0].x, parts[1].x, parts[2].x]))).toEqual(toBigints(x));
    expect(toBigints(reconstructRep([parts[0].m, parts[1].m, parts[2].m]))).toEqual(toBigints(x).map((v) => mod(v * toBigints(alpha)[0]!)));
    expect(toBigints(reconstructRep(shareKey(alpha)))).toEqual(toBigints(alpha));
    const bad = { a: parts[1].x.a.slice() as Vec128, b: parts[1].x.b };
    bad.a[0]! ^= 1;
    let err: unknown;
    try { reconstructRep([parts[0].x, bad, parts[2].x]); } catch (e) { err = e; }
    expect(isMpcError(err) && err.code === 'E_INTEGRITY' && /copies of share x_1/.test(err.message)).toBe(true);
  });

  it('bad input aborts the session at every party (E_SHAPE at the owner, E_INTEGRITY at the others); later operations refuse at once', async () => {
    const r = await runMal3(async (s) => {
      try {
        return await inputM(s, 0, s.party === 0 ? fromBigints([1n]) : null, 2);
      } finally {
        await expect(openM(s, { n: 0, x: { a: alloc128(0), b: alloc128(0) }, m: { a: alloc128(0), b: alloc128(0) } })).rejects.toMatchObject({ code: 'E_INTEGRITY' });
      }
    });
    expect(r.outcomes.map((o) => (o.status === 'rejected' && isMpcError(o.reason) ? o.reason.code : 'ok'))).toEqual(['E_SHAPE', 'E_INTEGRITY', 'E_INTEGRITY']);
    // A product on operands of other sizes at one party: E_SHAPE there before any message of it, the others abort by the check.
    const r2 = await runMal3(async (s) => {
      const x = publicM(s, fromBigints([1n, 2n, 3n]));
      const z = await matmulM(s, x, publicM(s, fromBigints([4n, 5n, 6n])), s.party === 2 ? 2 : 1, 3, 1);
      await macCheck(s); // P0 may finish the product itself (P1 sent its share first); nothing is released before the check
      return z;
    });
    expect(r2.outcomes.map((o) => (o.status === 'rejected' && isMpcError(o.reason) ? o.reason.code : 'ok'))).toEqual(['E_INTEGRITY', 'E_INTEGRITY', 'E_SHAPE']);
  });

  it('declared costs (rounds, bytes) match the in-memory transport\'s counters, each primitive alone', async () => {
    const n = 5;
    expect(await costAlone(n, async () => undefined)).toEqual({ rounds: 0, bytes: 0 });
    expect(await costAlone(n, (s, x, y) => mulM(s, x, y))).toEqual(mulCostM(n));
    expect(await costAlone(6, (s, x, y) => matmulM(s, x, y, 2, 3, 2))).toEqual(matmulCostM(2, 2));
    expect(await costAlone(n, (s, x) => macOf(s, x.x))).toEqual(macOfCost(n));
    expect(await costAlone(n, (s, x) => openM(s, x))).toEqual(openCost(n));
    expect(await costAlone(n, (s, x) => openTo(s, x.x, 1))).toEqual(openToCost(n));
    expect(await costAlone(n, (s, x) => openLow(s, x))).toEqual(openLowCost(n));
    for (const owner of [0, 1, 2] as PartyId[]) expect(await costAlone(n, (s, x) => inputM(s, owner, s.party === owner ? x.x.a : null, n))).toEqual(inputCost(n));
    // Nothing received before it: the check waits one round for the set-up's commitments (session.ts commitWaitRounds).
    expect(await costAlone(n, (s) => macCheck(s))).toEqual(addCost({ rounds: commitWaitRounds(0), bytes: 0 }, macCheckCost()));
    // The check's cost does not grow with the number of opened values.
    const opened = await costAlone(200, async (s, x) => { await openM(s, x); await macCheck(s); });
    expect(opened).toEqual({ rounds: openCost(200).rounds + macCheckCost().rounds, bytes: openCost(200).bytes + macCheckCost().bytes });
  });

  it('one session runs several MAC checks (each check opens the coin committed in the one before), and keeps computing on checked values', async () => {
    const xs = [...EDGES, ...big(3)], ys = big(xs.length);
    const r = await runMal3(async (s) => {
      const x = await inputM(s, 0, own(s, 0, xs), xs.length);
      const y = await inputM(s, 2, own(s, 2, ys), xs.length);
      const first = await openLow(s, await mulM(s, x, y));
      await macCheck(s);
      const z = await mulM(s, await mulM(s, x, y), y);
      const second = await openLow(s, z);
      await macCheck(s);
      await macCheck(s); // nothing new to check: still passes
      return { first: Array.from(first), second: Array.from(second), checks: s.checks };
    });
    for (const v of values(r)) {
      expect(v.first).toEqual(xs.map((x, i) => BigInt.asUintN(64, x * ys[i]!)));
      expect(v.second).toEqual(xs.map((x, i) => BigInt.asUintN(64, x * ys[i]! * ys[i]!)));
      expect(v.checks).toBe(3);
    }
  });
});
