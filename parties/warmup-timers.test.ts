import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PartyCore } from './party-core.js';
import { JOIN_GRACE_MS, Warmup } from './warmup.js';

/**
 * Timers of the warm-up's join wait (parties/warmup.ts acks): P0 waits max(maxMs, JOIN_GRACE_MS) for both
 * `warmup-ack`s. A round that ends before them (a lost link, the party closing) must not leave that timer behind:
 * it held the event loop (and a closing party) for up to maxMs. A P0 with fake links and fake timers.
 */
function p0(): { w: Warmup; sent: string[] } {
  const sent: string[] = [];
  const log = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
  const core = {
    party: 0, opts: {}, closed: false, log, model: { info: { fracBits: 16 } },
    mesh: { sendControl: (_to: number, type: string) => { sent.push(type); }, allUp: () => true, isUp: () => true },
  } as unknown as PartyCore;
  return { w: new Warmup(core, { runs: 5, maxMs: 15_000, batches: [1] }, () => false), sent };
}

describe('warm-up join wait (parties/warmup.ts)', () => {
  afterEach(() => { vi.useRealTimers(); });

  it.each(['close', 'link lost'])('a round ended (%s) before both acks clears its join timer', async (how) => {
    vi.useFakeTimers();
    const { w, sent } = p0();
    w.peerChanged(1, true);
    await Promise.resolve();
    expect(sent).toEqual(['warmup', 'warmup']);
    expect(vi.getTimerCount()).toBe(1); // the join wait
    if (how === 'close') w.close(); else w.peerChanged(2, false);
    expect(vi.getTimerCount()).toBe(0);
    expect(w.status.state).toBe('waiting');
  });

  it('no ack within max(maxMs, JOIN_GRACE_MS): the round fails with E_PEER_UNAVAILABLE and no timer is left', async () => {
    vi.useFakeTimers();
    const { w, sent } = p0();
    w.peerChanged(1, true);
    await vi.advanceTimersByTimeAsync(Math.max(15_000, JOIN_GRACE_MS) + 1);
    expect(w.status).toMatchObject({ state: 'failed', code: 'E_PEER_UNAVAILABLE' });
    expect(sent).toEqual(['warmup', 'warmup', 'warmup-end', 'warmup-end']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
