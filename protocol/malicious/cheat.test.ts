/**
 * Security with abort (issue 25, docs/MALICIOUS.md): one party in turn alters
 * one of its messages (a random offset, a bit flip, a replay of its previous
 * message, or the same message from another session), for every message it
 * sends in a run of each primitive (set-up, input, product, matrix product,
 * opening, masked opening, MAC check). Every honest party must end with
 * E_INTEGRITY and return nothing, and a following honest run on fresh
 * sessions must succeed.
 *
 * The one exception is the last message of the run, the MAC check's confirm
 * (mac-check.ts step 4): the honest party it is sent to aborts; the other may
 * finish, and then with the right output (agreement on an abort needs a
 * broadcast, see mac-check.ts; the client, which needs all three parties,
 * gets no prediction).
 */
import { describe, expect, it } from 'vitest';
import { createContext } from '../context.js';
import { dealSeeds } from '../correlated/prg.js';
import { isMpcError } from '../errors.js';
import { mulShares } from '../primitives/matmul.js';
import type { AShare, PartyId } from '../ring/types.js';
import { CheatingTransport, runMal3, type Tamper } from '../testing/cheat.js';
import { everyAlteration } from '../testing/cheat-loop.js';
import { shareFor3 } from '../testing/run3.js';
import { randomU64s } from '../testing/values.js';
import { reconstruct } from '../sharing/sharing.js';
import { getKernels } from '../kernels/index.js';
import { memoryTransports } from '../transport/memory.js';
import { fromBigints, liftSigned, low64, scalar128, type Vec128 } from './ring128.js';
import { addPublicM, mulPublicM, subM } from './rep.js';
import type { MalSession } from './session.js';
import { matmulM, mulM } from './product.js';
import { openLow, openM } from './open.js';
import { inputM, publicM } from './input.js';
import { macCheck } from './mac-check.js';

type Scenario = (s: MalSession) => Promise<bigint[]>;

const X = BigUint64Array.from([5n, 0xffffffffffffffffn, 1n << 62n, 0n]), Y = BigUint64Array.from([7n, 3n, 0xfffffffffffffff0n, 9n]);
const own = (s: MalSession, p: PartyId, v: BigUint64Array): Vec128 | null => (s.party === p ? liftSigned(v) : null);

const SCENARIOS: Record<string, { run: Scenario; want: bigint[] }> = {
  'input (P0, P1), product, masked opening, MAC check': {
    run: async (s) => {
      const z = await mulM(s, await inputM(s, 0, own(s, 0, X), 4), await inputM(s, 1, own(s, 1, Y), 4));
      const out = await openLow(s, z);
      await macCheck(s);
      return Array.from(out);
    },
    want: Array.from(X, (x, i) => BigInt.asUintN(64, x * Y[i]!)),
  },
  'input (P2, P0), matrix product 2x2 by 2x2, opening, MAC check': {
    run: async (s) => {
      const Z = await matmulM(s, await inputM(s, 2, own(s, 2, X), 4), await inputM(s, 0, own(s, 0, Y), 4), 2, 2, 2);
      const out = await openM(s, Z);
      await macCheck(s);
      return Array.from(low64(out));
    },
    want: [0, 1, 2, 3].map((q) => {
      const i = q >> 1, j = q & 1;
      return BigInt.asUintN(64, X[2 * i]! * Y[j]! + X[2 * i + 1]! * Y[2 + j]!);
    }),
  },
  'two MAC checks in one session (the second opens coins committed in the first)': {
    run: async (s) => {
      const x = await inputM(s, 2, own(s, 2, X), 4);
      await macCheck(s);
      const out = await openLow(s, await mulM(s, x, x));
      await macCheck(s);
      return Array.from(out);
    },
    want: Array.from(X, (x) => BigInt.asUintN(64, x * x)),
  },
  'public value, input (P1), linear operations, opening, MAC check': {
    run: async (s) => {
      const x = await inputM(s, 1, own(s, 1, X), 4);
      const w = addPublicM(s.party, s.alpha, subM(mulPublicM(x, scalar128(3n)), publicM(s, liftSigned(Y))), fromBigints([1n, 2n, 3n, 4n]));
      const out = await openM(s, w);
      await macCheck(s);
      return Array.from(low64(out));
    },
    want: Array.from(X, (x, i) => BigInt.asUintN(64, 3n * x - Y[i]! + BigInt(i + 1))),
  },
};


describe('cheating-party harness: one altered message makes every honest party abort with E_INTEGRITY', () => {
  for (const [name, { run, want }] of Object.entries(SCENARIOS)) {
    it(`${name}: every message of every party, each alteration`, async () => {
      const { cases, confirmCases, noOps } = await everyAlteration(run, (v, label) => expect(v, label).toEqual(want), 4);
      expect(cases).toBeGreaterThan(50);
      expect(confirmCases).toBeGreaterThan(0);
      expect(noOps).toBeLessThan(cases / 4);
    }, 120_000);
  }

  it('a cheater that computes with a wrong share of its own (copies consistent, so no opening notices) is caught by the MAC check at both honest parties', async () => {
    for (const [cheater, op] of ([0, 1, 2] as PartyId[]).flatMap((p) => [[p, 'mul'], [p, 'matmul']] as const)) {
      const r = await runMal3(async (s) => {
        const x = await inputM(s, 0, own(s, 0, X), 4), y = await inputM(s, 1, own(s, 1, Y), 4);
        if (s.party === cheater) x.x.a[4]! ^= 1; // element 1 of its share x_i, low bit; its MAC share untouched
        const out = await openLow(s, op === 'mul' ? await mulM(s, x, y) : await matmulM(s, x, y, 2, 2, 2));
        await macCheck(s);
        return Array.from(out);
      });
      for (const p of ([0, 1, 2] as PartyId[]).filter((q) => q !== cheater)) {
        const o = r.outcomes[p];
        expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code === 'E_INTEGRITY' && /MAC check failed/.test(o.reason.message), `P${cheater} cheats in ${op}, P${p}: ${String(o.status === 'rejected' ? o.reason : 'output')}`).toBe(true);
      }
    }
  });

  it('an input owner that sends different masked values to the two others is caught by the confirm round\'s view comparison', async () => {
    const { run } = SCENARIOS['public value, input (P1), linear operations, opening, MAC check']!;
    const honest = await runMal3(run);
    const index = honest.transports[1].sent.findIndex((m) => m.tag.endsWith(':d'));
    const r = await runMal3(run, { plan: { cheater: 1, index, tamper: 'offset' } });
    for (const p of [0, 2] as const) {
      const o = r.outcomes[p];
      expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code === 'E_INTEGRITY', String(o.status)).toBe(true);
    }
  });

  it('the semi-honest product is not protected: an offset on P2\'s Beaver correction changes the result and nobody notices', async () => {
    const k = getKernels();
    const x = randomU64s(4), y = randomU64s(4);
    const [x0, x1, x2] = shareFor3(x), [y0, y1, y2] = shareFor3(y);
    const mem = memoryTransports(), seeds = dealSeeds();
    const ts = mem.map((t, p) => new CheatingTransport(t, p === 2 ? { cheater: 2, index: 0, tamper: 'offset' as Tamper } : undefined));
    const xs = [x0, x1, x2], ys = [y0, y1, y2];
    const out = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => mulShares(createContext(p, ts[p]!, seeds[p]!), xs[p]! as AShare, ys[p]! as AShare)));
    expect(ts[2]!.altered).toBeDefined();
    const z = reconstruct(k, out[0]!, out[1]!);
    expect(Array.from(z)).not.toEqual(Array.from(x, (v, i) => BigInt.asUintN(64, v * y[i]!)));
  });
});
