/**
 * The cheating-party harness (protocol/testing/cheat.ts, the loop of
 * cheat.test.ts) on runs of the comparisons: msbM (random bits, the mask,
 * the checked opening of x + r, BitLT, the final XOR) and maxPoolM (which
 * runs reluM, hence dreluM, per level) and argmaxM. One party in turn alters each of
 * its messages (offset, bit flip, replay, another session's message); every
 * honest party ends with E_INTEGRITY and no output, and the next honest run
 * succeeds. The one exception is the MAC check's confirm (mac-check.ts
 * step 4): the party it goes to aborts, the other may finish, with the right
 * output. Runs are small (2 elements, ell = 4) so the loop stays fast.
 */
import { describe, expect, it } from 'vitest';
import type { PartyId } from '../ring/types.js';
import { everyAlteration } from '../testing/cheat-loop.js';
import { liftSigned } from './ring128.js';
import type { MalSession } from './session.js';
import { inputM } from './input.js';
import { openLow } from './open.js';
import { macCheck } from './mac-check.js';
import { msbM } from './compare.js';
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
  'maxPoolM (1x2 image, 1x2 window, ell = 4: one reluM) of P2\'s input, masked opening, MAC check': {
    run: async (s) => {
      const x = await secret(s, 2, [-3n, 3n]);
      const out = await openLow(s, await maxPoolM(s, x, { h: 1, w: 2, c: 1 }, { kh: 1, kw: 2, sh: 1, sw: 2 }, 4));
      await macCheck(s);
      return Array.from(out);
    },
    want: [3n],
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
