/**
 * matmulTruncM (product-trunc.ts): the product and its truncation in one
 * round, against the plaintext floor(XY / 2^f) on random and edge inputs,
 * its declared cost against the counters, the cheating-party harness over
 * every message (the c_i message and its hash included), a targeted
 * alteration of c_{i+2} that leaked a mask bit before the fix, and refusals.
 */
import { randomBytes } from 'node:crypto';
import { createContext } from '../context.js';
import { dealSeeds } from '../correlated/prg.js';
import type { Transport } from '../transport/transport.js';
import { describe, expect, it } from 'vitest';
import { isMpcError } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import { runMal3, values } from '../testing/cheat.js';
import { everyAlteration } from '../testing/cheat-loop.js';
import { fromBigints, toBigints } from './ring128.js';
import { reconstructRep, type MShare } from './rep.js';
import { createMalSession, setupCost, type MalSession } from './session.js';
import { inputCost, inputM } from './input.js';
import { macCheck, macCheckCost } from './mac-check.js';
import { openLow, openM } from './open.js';
import { matmulCostM } from './product.js';
import { matmulTruncCostM, matmulTruncM, matmulTruncOnlineCostM } from './product-trunc.js';
import { truncMaskCostM, truncOnlineCostM } from './trunc.js';
import { addCost } from '../primitives/cost.js';

const signedRand = (bits: number): bigint => {
  const v = BigInt('0x' + randomBytes(8).toString('hex')) & ((1n << BigInt(bits)) - 1n);
  return randomBytes(1)[0]! & 1 ? -v : v;
};
const own = (s: MalSession, p: PartyId, xs: bigint[]) => (s.party === p ? fromBigints(xs.map((x) => BigInt.asUintN(128, x))) : null);
const signed = (zs: [MShare, MShare, MShare]): bigint[] => toBigints(reconstructRep([zs[0].x, zs[1].x, zs[2].x])).map((v) => BigInt.asIntN(128, v));
/** (m x k)(k x n) over the integers. */
const matmul = (X: bigint[], Y: bigint[], m: number, k: number, n: number): bigint[] =>
  Array.from({ length: m * n }, (_, e) => { const i = Math.floor(e / n), j = e % n; let t = 0n; for (let l = 0; l < k; l++) t += X[i * k + l]! * Y[l * n + j]!; return t; });

async function run(X: bigint[], Y: bigint[], m: number, k: number, n: number, f: number, ell: number) {
  const r = await runMal3(async (s) => {
    const x = await inputM(s, 0, own(s, 0, X), m * k);
    const y = await inputM(s, 1, own(s, 1, Y), k * n);
    const before = { ...s.ctx.transport.counters };
    const z = await matmulTruncM(s, x, y, m, k, n, f, ell);
    const after = { ...s.ctx.transport.counters };
    await macCheck(s);
    return { z, bytes: after.bytesSent - before.bytesSent, depth: after.depth - before.depth };
  });
  const v = values(r);
  return { z: signed(v.map((o) => o.z) as [MShare, MShare, MShare]), bytes: v.reduce((t, o) => t + o.bytes, 0), rounds: Math.max(...v.map((o) => o.depth)), total: r };
}

describe('matmulTruncM (product and truncation in one step): floor(XY / 2^f) within one unit', () => {
  it('random and edge inputs for several shapes, f and ell; exact on multiples of 2^f (zero rows / columns)', async () => {
    for (const [m, k, n, f, ell] of [[1, 5, 3, 13, 48], [2, 4, 2, 16, 48], [3, 1, 4, 4, 20], [1, 8, 1, 20, 63]] as const) {
      const xb = Math.floor((ell - 4) / 2) - 1;
      const X = Array.from({ length: m * k }, (_, i) => (i === 0 ? 0n : i === 1 ? (1n << BigInt(xb)) - 1n : signedRand(xb)));
      const Y = Array.from({ length: k * n }, (_, i) => (i === 0 ? -(1n << BigInt(xb)) + 1n : signedRand(xb)));
      const want = matmul(X, Y, m, k, n);
      const { z } = await run(X, Y, m, k, n, f, ell);
      want.forEach((w, e) => {
        const floor = w >> BigInt(f), d = z[e]! - floor;
        expect(d === 0n || d === 1n, `${m}x${k}x${n}, f = ${f}: element ${e} got ${z[e]}, floor ${floor}`).toBe(true);
        if (w % (1n << BigInt(f)) === 0n) expect(z[e]).toBe(floor);
      });
    }
  });

  it('sends its declared cost: 2 rounds and 144 n + 96 bytes online (as matmulM then truncM), plus the mask made inline', async () => {
    const m = 2, k = 3, n = 4, f = 13, ell = 48;
    const { bytes, total } = await run(Array(m * k).fill(5n), Array(k * n).fill(-7n), m, k, n, f, ell);
    expect(bytes).toBe(matmulTruncCostM(m, n, f, ell).bytes);
    // Rounds of the whole run (they add up: each step waits for the one before): set-up, two inputs, the product with its truncation, the MAC check.
    const whole = addCost(setupCost(), inputCost(m * k), inputCost(k * n), matmulTruncCostM(m, n, f, ell), macCheckCost());
    expect(total.rounds).toBe(whole.rounds);
    expect(total.bytes).toBe(whole.bytes);
    expect(matmulTruncCostM(m, n, f, ell)).toEqual(addCost(truncMaskCostM(m * n, f, ell), matmulTruncOnlineCostM(m, n)));
    const separate = addCost(matmulCostM(m, n), truncOnlineCostM(m * n));
    expect(matmulTruncOnlineCostM(m, n)).toEqual(separate);
  });

  it('a wrong shape or parameter is refused at every party (E_SHAPE / E_BAD_ARGUMENT), before any message of the product', async () => {
    for (const [k, f, code] of [[4, 13, 'E_SHAPE'], [3, 0, 'E_BAD_ARGUMENT']] as const) {
      const r = await runMal3(async (s) => {
        const x = await inputM(s, 0, own(s, 0, [1n, 2n, 3n]), 3);
        return matmulTruncM(s, x, x, 1, k, 1, f, 48);
      });
      for (const o of r.outcomes) expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code).toBe(code);
    }
  });
});

describe('cheating-party harness on matmulTruncM: one altered message makes every honest party abort', () => {
  it('every message of every party (the resharing, the new c_i, the inputs, the MAC check), each alteration', async () => {
    const X = [300n, -200n], Y = [-50n, 70n, 20n, -90n], f = 4, ell = 24;
    const want = matmul(X, Y, 1, 2, 2);
    const counts = await everyAlteration(async (s: MalSession) => {
      const x = await inputM(s, 0, own(s, 0, X), 2);
      const y = await inputM(s, 2, own(s, 2, Y), 4);
      const out = await openLow(s, await matmulTruncM(s, x, y, 1, 2, 2, f, ell));
      await macCheck(s);
      return Array.from(out);
    }, (v) => v.forEach((z, e) => { const d = BigInt.asIntN(64, z) - (want[e]! >> BigInt(f)); expect(d === 0n || d === 1n).toBe(true); }), 6);
    expect(counts.cases).toBeGreaterThan(50);
    expect(counts.confirmCases).toBeGreaterThan(0);
  }, 240_000);
});

describe('an altered c_{i+2} (the share of the opening that only its sender held) never reaches the truncation', () => {
  // Until 2026-12-07 c was used unchecked: P2 adding 2^ell to element 0 of its c_2 to P0 flipped the top bit of
  // c mod 2^(ell+1) at P0 only, so P0's and P1's copies of share 1 of the truncated value differed by
  // +-2^(ell+1-f) [r_top]_1, two candidates given P2's shares. At the next opening P2 received P0's copy (its
  // ':v') and the hash of P1's (':h'), tested both and learned the mask's bit ell, i.e. a carry bit of the secret
  // product. Now P0 checks c_2 against P1's hash first: it aborts in this step and sends nothing derived from c.
  it('P0 aborts (E_INTEGRITY) inside matmulTruncM and sends the cheater no message of the next opening; P1 aborts too', async () => {
    const X = [300n, -200n], Y = [-50n, 70n, 20n, -90n], f = 4, ell = 24;
    const dealt = dealSeeds();
    const sentBy: { to: PartyId; tag: string }[][] = [[], [], []];
    const wrap = (p: PartyId, t: Transport): Transport => ({
      get party() { return t.party; },
      get counters() { return t.counters; },
      get steps() { return t.steps; },
      send(to: PartyId, tag: string, payload: Uint8Array) {
        sentBy[p]!.push({ to, tag });
        if (p === 2 && to === 0 && tag.includes('matmulTrunc') && tag.endsWith(':c')) {
          const out = payload.slice();
          out[ell >> 3]! ^= 1 << (ell & 7); // element 0, bit ell (little-endian words): +-2^ell
          return t.send(to, tag, out);
        }
        return t.send(to, tag, payload);
      },
      recv: (from: PartyId, tag: string) => t.recv(from, tag),
      close: (reason?: Error) => t.close(reason),
    });
    const r = await runMal3(async (s) => {
      const x = await inputM(s, 0, own(s, 0, X), 2);
      const y = await inputM(s, 1, own(s, 1, Y), 4);
      const z = await matmulTruncM(s, x, y, 1, 2, 2, f, ell);
      return openM(s, z); // the next opening: where the cheater compared P0's copy with the hash of P1's
    }, { seeds: (p) => dealt[p], create: (ctx) => createMalSession(createContext(ctx.party, wrap(ctx.party, ctx.transport), dealt[ctx.party])) });
    expect(sentBy[2]!.some((m) => m.to === 0 && m.tag.endsWith(':c')), 'the alteration was made').toBe(true);
    const fromP0 = sentBy[0]!.filter((m) => m.to === 2 && m.tag.includes('open'));
    expect(fromP0, 'P0 sent the cheater a message of the next opening').toEqual([]);
    for (const p of [0, 1] as PartyId[]) expect(r.outcomes[p].status === 'rejected' && isMpcError(r.outcomes[p].reason) && r.outcomes[p].reason.code, `P${p}`).toBe('E_INTEGRITY');
  });
});
