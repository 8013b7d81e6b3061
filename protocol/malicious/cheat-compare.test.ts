/**
 * The cheating-party harness (protocol/testing/cheat.ts, the loop of
 * cheat.test.ts) on runs of the comparisons: msbM (random bits, the mask,
 * the checked opening of x + r, BitLT, the final XOR) and maxPoolM (which
 * runs reluM, hence dreluM, per level) and argmaxM. One party in turn alters each of
 * its messages (offset, bit flip, replay, another session's message); every
 * honest party ends with E_INTEGRITY and no output, and the next honest run
 * succeeds. The one exception is the MAC check's confirm (mac-check.ts
 * step 4): the party it goes to aborts, the other may finish, with the right
 * output. Runs are small (2 elements, ell = 4; reluM at ell = 8 for one
 * level of the tree above the scaled top block) so the loop stays fast.
 * Last: an altered share of eps (opened with c, compare-fold.ts) makes the
 * honest party receiving it abort in the opening, before the tree.
 */
import { describe, expect, it } from 'vitest';
import { createContext } from '../context.js';
import { dealSeeds } from '../correlated/prg.js';
import { isMpcError } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import type { PartyId } from '../ring/types.js';
import { runMal3 } from '../testing/cheat.js';
import { everyAlteration } from '../testing/cheat-loop.js';
import { liftSigned } from './ring128.js';
import { createMalSession, type MalSession } from './session.js';
import { inputM } from './input.js';
import { openLow } from './open.js';
import { macCheck } from './mac-check.js';
import { compareMaskM, msbM, reluM } from './compare.js';
import { maxPoolM } from './maxpool.js';
import { argmaxM } from './argmax.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const secret = (s: MalSession, owner: PartyId, xs: bigint[]) => inputM(s, owner, s.party === owner ? liftSigned(BigUint64Array.from(xs.map(u64))) : null, xs.length);

const SCENARIOS: Record<string, { run: (s: MalSession) => Promise<bigint[]>; want: bigint[] }> = {
  'msbM (ell = 4) of P1\'s input, masked opening, MAC check': {
    run: async (s) => {
      const out = await openLow(s, await msbM(s, await secret(s, 1, [-3n, 2n]), 4));
      await macCheck(s);
      return Array.from(out);
    },
    want: [1n, 0n],
  },
  'reluM (ell = 8: two blocks of 4, one tree level with the scaled top block) of P1\'s input, masked opening, MAC check': {
    run: async (s) => {
      const out = await openLow(s, await reluM(s, await secret(s, 1, [-3n, 5n]), 8));
      await macCheck(s);
      return Array.from(out);
    },
    want: [0n, 5n],
  },
  'maxPoolM (1x2 image, 1x2 window, ell = 4: one reluM) of P2\'s input, masked opening, MAC check': {
    run: async (s) => {
      const x = await secret(s, 2, [-3n, 3n]);
      const out = await openLow(s, await maxPoolM(s, x, { h: 1, w: 2, c: 1 }, { kh: 1, kw: 2, sh: 1, sw: 2 }, 4));
      await macCheck(s);
      return Array.from(out);
    },
    want: [3n],
  },
  'maxPoolM separable (3x2 image, 2x2 window stride 1 valid, ell = 4: a row of pairs, then adjacent rows; a tie) of P2\'s input, masked opening, MAC check': {
    run: async (s) => {
      const x = await secret(s, 2, [-3n, 2n, 2n, -1n, 0n, 3n]);
      const out = await openLow(s, await maxPoolM(s, x, { h: 3, w: 2, c: 1 }, { kh: 2, kw: 2, sh: 1, sw: 1 }, 4));
      await macCheck(s);
      return Array.from(out).map((v) => BigInt.asIntN(64, v));
    },
    want: [2n, 3n],
  },
  'argmaxM (1 row of 2 classes, ell = 4) of P0\'s input, masked opening, MAC check': {
    run: async (s) => {
      const out = await openLow(s, await argmaxM(s, await secret(s, 0, [1n, 3n]), 1, 2, 4));
      await macCheck(s);
      return Array.from(out);
    },
    want: [1n],
  },
};

describe('cheating-party harness on the comparisons: one altered message makes every honest party abort with E_INTEGRITY', () => {
  for (const [name, { run, want }] of Object.entries(SCENARIOS)) {
    it(`${name}: every message of every party, each alteration`, async () => {
      const { cases, confirmCases } = await everyAlteration(run, (v, label) => expect(v, label).toEqual(want), 10);
      expect(cases).toBeGreaterThan(100);
      expect(confirmCases).toBeGreaterThan(0);
    }, 180_000);
  }
});

// compare-fold.ts opens eps = v + rho in the comparison's opening, beside c = x + r, and the tree's scaled top block
// uses it at once. A cheater that alters only its eps share (the second half of its ':v' of that opening) must make
// the honest party receiving it abort in the opening step, before it sends anything computed from eps.
describe('an altered eps (the payload opened with c, compare-fold.ts) never reaches the tree', () => {
  for (const cheater of [0, 1, 2] as PartyId[]) {
    it(`P${cheater} alters its share of eps_0 to P${(cheater + 2) % 3}: both honest parties abort with E_INTEGRITY, the receiver sends no message of the tree`, async () => {
      const n = 2, ell = 16, victim = ((cheater + 2) % 3) as PartyId;
      const dealt = dealSeeds();
      const armed = [false, false, false];
      const sentBy: { to: PartyId; tag: string }[][] = [[], [], []];
      let altered = false;
      const wrap = (p: PartyId, t: Transport): Transport => ({
        get party() { return t.party; },
        get counters() { return t.counters; },
        get steps() { return t.steps; },
        send(to: PartyId, tag: string, payload: Uint8Array) {
          sentBy[p]!.push({ to, tag });
          if (p === cheater && to === victim && armed[p] && !altered && tag.includes('open') && tag.endsWith(':v')) {
            altered = true;
            const out = payload.slice();
            out[16 * n]! ^= 1; // word n: eps of element 0 (words 0..n-1 are c), low bit
            return t.send(to, tag, out);
          }
          return t.send(to, tag, payload);
        },
        recv: (from: PartyId, tag: string) => t.recv(from, tag),
        close: (reason?: Error) => t.close(reason),
      });
      const marks: number[] = [0, 0, 0];
      const r = await runMal3(async (s) => {
        const x = await secret(s, 1, [5n, -7n]);
        const mask = await compareMaskM(s, n, ell, 1);
        armed[s.party] = true;
        marks[s.party] = sentBy[s.party]!.length;
        const out = await openLow(s, await reluM(s, x, ell, mask));
        await macCheck(s);
        return Array.from(out);
      }, { seeds: (p) => dealt[p], create: (ctx) => createMalSession(createContext(ctx.party, wrap(ctx.party, ctx.transport), dealt[ctx.party])) });
      expect(altered, 'the alteration was made').toBe(true);
      // After the opening's ':v' and ':h', the victim sends nothing but abort notices.
      const after = sentBy[victim]!.slice(marks[victim]).filter((m) => !(m.tag.includes('open') && (m.tag.endsWith(':v') || m.tag.endsWith(':h'))));
      expect(after.every((m) => /abort/i.test(m.tag)), `P${victim} sent ${after.map((m) => m.tag).join(', ')} after the opening`).toBe(true);
      for (const p of ([0, 1, 2] as PartyId[]).filter((q) => q !== cheater)) {
        const o = r.outcomes[p];
        expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code, `P${p}`).toBe('E_INTEGRITY');
      }
    });
  }
});
