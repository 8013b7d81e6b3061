/**
 * The cheating-party harness's loop (tests only, vitest): every message of
 * every party, each alteration (protocol/testing/cheat.ts), with the checks
 * the malicious mode promises: every honest party ends with E_INTEGRITY, and
 * the next honest run on fresh sessions succeeds. The one exception is the
 * last message, the MAC check's confirm (mac-check.ts): the party it reaches
 * aborts, the other honest one may output the right value.
 */
import { expect } from 'vitest';
import { isMpcError } from '../errors.js';
import type { MalSession } from '../malicious/session.js';
import type { PartyId } from '../ring/types.js';
import { runMal3, TAMPERS, values, type MalRun } from './cheat.js';

/** A party's outcome as a code: 'output', or its error's code. */
export const outcomeCode = (o: PromiseSettledResult<unknown>): string => (o.status === 'fulfilled' ? 'output' : isMpcError(o.reason) ? o.reason.code : String(o.reason));

export interface AlterationCounts {
  /** Alterations that changed a message. */
  cases: number;
  /** Of them, alterations of the confirm. */
  confirmCases: number;
  /** Alterations that changed nothing (a replay of an identical message). */
  noOps: number;
}

/**
 * Runs `run` honestly (each party's result passed to `check`), then once per
 * (cheating party, message index, alteration) with that message altered, and
 * asserts the verdicts above. `minMessages`: each party must send more than
 * this many messages (so the loop covers the protocol, not a stub).
 * `rotate`: one alteration per message instead of each (for longer runs).
 */
export async function everyAlteration<T>(run: (s: MalSession) => Promise<T>, check: (v: T, label: string) => void, minMessages: number, opts: { rotate?: boolean } = {}): Promise<AlterationCounts> {
  const honest = await runMal3(run);
  for (const v of values(honest)) check(v, 'honest run');
  const other = await runMal3(run); // the 'session' alteration's source
  const counts: AlterationCounts = { cases: 0, confirmCases: 0, noOps: 0 };
  for (const cheater of [0, 1, 2] as PartyId[]) {
    const count = honest.transports[cheater].sent.length;
    expect(count).toBeGreaterThan(minMessages);
    for (let index = 0; index < count; index++) {
      // rotate: one alteration per message, rotating over TAMPERS (longer runs, as cheat-runner.test.ts), else each alteration.
      for (const tamper of opts.rotate ? [TAMPERS[(index + cheater) % TAMPERS.length]!] : TAMPERS) {
        const r: MalRun<T> = await runMal3(run, { plan: { cheater, index, tamper, otherSession: other.transports[cheater].sent } });
        const alt = r.transports[cheater].altered;
        if (!alt) { counts.noOps++; continue; }
        counts.cases++;
        const label = `P${cheater} ${tamper} message ${index} '${alt.tag}' to P${alt.to}`;
        const honestParties = ([0, 1, 2] as PartyId[]).filter((p) => p !== cheater);
        if (alt.tag.endsWith(':confirm')) {
          counts.confirmCases++;
          expect(outcomeCode(r.outcomes[alt.to]), label).toBe('E_INTEGRITY');
          const o = r.outcomes[honestParties.find((p) => p !== alt.to)!];
          if (o.status === 'fulfilled') check(o.value, label);
          else expect(outcomeCode(o), label).toBe('E_INTEGRITY');
        } else {
          for (const p of honestParties) expect(outcomeCode(r.outcomes[p]), `${label}: P${p}`).toBe('E_INTEGRITY');
        }
        // The next honest run, on fresh sessions, succeeds.
        for (const v of values(await runMal3(run))) check(v, `${label}: the next honest run`);
      }
    }
  }
  return counts;
}
