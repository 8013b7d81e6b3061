/**
 * The cheating-party harness (protocol/testing/cheat.ts, as in
 * cheat.test.ts) on runs of the random bits (randbits.ts) and of the
 * truncation (trunc.ts): one party in turn alters each of its messages
 * (offset, bit flip, replay, another session's message); every honest
 * party ends with E_INTEGRITY and no output, and the next honest run
 * succeeds. The one exception is the MAC check's last message, the confirm
 * (mac-check.ts step 4): the party it goes to aborts, the other may finish
 * with the right output. Runs are kept small (few elements).
 */
import { describe, expect, it } from 'vitest';
import { everyAlteration } from '../testing/cheat-loop.js';
import type { MalSession } from './session.js';
import { macCheck } from './mac-check.js';
import { openLow } from './open.js';
import { randBitsM } from './randbits.js';
import { inputM } from './input.js';
import { fromBigints } from './ring128.js';
import { truncM, truncMaskM } from './trunc.js';

const XS = [-1000n, 999n], F = 4, ELL = 12;
/** floor(x / 2^F) or one more, as the low 64 bits. */
const truncated = (v: bigint[]): void => v.forEach((z, i) => { const d = BigInt.asIntN(64, z) - (XS[i]! >> BigInt(F)); expect(d === 0n || d === 1n).toBe(true); });

type Scenario = { run: (s: MalSession) => Promise<bigint[]>; check: (v: bigint[]) => void };


const SCENARIOS: Record<string, Scenario> = {
  'randBitsM (3 bits), masked opening, MAC check': {
    run: async (s) => {
      const b = await randBitsM(s, 3);
      const out = await openLow(s, b);
      await macCheck(s);
      return Array.from(out);
    },
    check: (v) => { expect(v.length).toBe(3); expect(v.every((b) => b === 0n || b === 1n)).toBe(true); },
  },
  'truncM (2 elements, f = 4, ell = 12) of an input by P0, masked opening, MAC check': {
    run: async (s) => {
      const x = await inputM(s, 0, s.party === 0 ? fromBigints(XS) : null, 2);
      const out = await openLow(s, await truncM(s, x, F, ELL));
      await macCheck(s);
      return Array.from(out);
    },
    check: truncated,
  },
  'truncMaskM ahead of the input (P2), truncM with it, masked opening, MAC check': {
    run: async (s) => {
      const mask = await truncMaskM(s, 2, F, ELL);
      const x = await inputM(s, 2, s.party === 2 ? fromBigints(XS) : null, 2);
      const out = await openLow(s, await truncM(s, x, F, ELL, mask));
      await macCheck(s);
      return Array.from(out);
    },
    check: truncated,
  },
};

/** Every message of every party, each alteration (protocol/testing/cheat-loop.ts), with a property in place of a fixed output: the bits are random. */
async function everyAlterationOf({ run, check }: Scenario): Promise<void> {
  const { cases, confirmCases } = await everyAlteration(run, (v) => check(v), 4);
  expect(cases).toBeGreaterThan(50);
  expect(confirmCases).toBeGreaterThan(0);
}

describe('cheating-party harness on random bits and truncation: one altered message makes every honest party abort', () => {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(`${name}: every message of every party, each alteration`, () => everyAlterationOf(scenario), 120_000);
  }
});
