/**
 * A session's view that closes between two operations (its deadline, a peer's mal-drop, a process fault: the
 * parties' SessionTransport.close) must fail the next operation with the close's reason, and leave no promise
 * rejected without a handler: in a party process an unhandled rejection is a process fault (parties/process-fault.ts:
 * E_PROCESS_FAULT, every session in flight failed, exit 70). Found by reading mac-check.ts after the reuse probe's
 * unexplained E_PROCESS_FAULT (BENCHMARKS.md, malicious-cheat): macCheck made the mask's MAC (a promise), then sent
 * its coin, which throws on a closed view before that promise was awaited.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MpcError } from '../errors.js';
import { runMal3, type CheatingTransport } from '../testing/cheat.js';
import { fromBigints } from './ring128.js';
import { inputM } from './input.js';
import { mulM } from './product.js';
import { macCheck } from './mac-check.js';

/** What SessionTransport.close(reason) does to a view: pending and later receives reject, later sends throw, with `reason`. */
function closeLikeAView(t: CheatingTransport, reason: Error): void {
  t.close(reason);
  t.send = () => { throw reason; };
}

let unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => { unhandled.push(e); };
beforeEach(() => { unhandled = []; process.on('unhandledRejection', onUnhandled); });
afterEach(() => { process.off('unhandledRejection', onUnhandled); });
const turns = async (): Promise<void> => { for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 20)); };

describe('malicious MAC check on a view closed before it starts', () => {
  it('rejects with the close reason, and no promise is left rejected without a handler', async () => {
    const reason = new MpcError('E_DEADLINE', 'test: the session passed its deadline', { party: 0 });
    const r = await runMal3(async (s) => {
      const x = await inputM(s, 0, s.party === 0 ? fromBigints([3n, 5n]) : null, 2);
      await mulM(s, x, x);
      if (s.party !== 0) return 'idle';
      // The view closes between two operations (a timer or a peer's control message, on the event loop's turn).
      await new Promise((res) => setImmediate(res));
      closeLikeAView(s.ctx.transport as CheatingTransport, reason);
      await macCheck(s);
      return 'checked';
    });
    expect(r.outcomes[0]).toEqual({ status: 'rejected', reason });
    expect(r.outcomes.slice(1).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    await turns();
    expect(unhandled).toEqual([]);
  });
});
