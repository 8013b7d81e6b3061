/**
 * A session's view that closes between two operations (its deadline, a peer's mal-drop, a process fault: the
 * parties' SessionTransport.close) must fail the next operation with the close's reason, and leave no promise
 * rejected without a handler: in a party process an unhandled rejection is a process fault (parties/process-fault.ts:
 * E_PROCESS_FAULT, every session in flight failed, exit 70). Found by reading mac-check.ts after the reuse probe's
 * unexplained E_PROCESS_FAULT (BENCHMARKS.md, malicious-cheat): macCheck made the mask's MAC (a promise), then sent
 * its coin, which throws on a closed view before that promise was awaited.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { isMpcError, MpcError } from '../errors.js';
import { plainForward } from '../reference/forward.js';
import { runMal3, type CheatingTransport } from '../testing/cheat.js';
import { fromBigints } from './ring128.js';
import type { PartyId } from '../ring/types.js';
import { maskedInput, reconstructOutput } from '../../client-sdk/src/malicious-io.js';
import { inputM } from './input.js';
import { mulM } from './product.js';
import { macCheck } from './mac-check.js';
import { inputFromClient, inputMask, outputToClient } from './client-io.js';
import type { MalComparisons } from './primitives.js';
import { malForward } from './runner.js';
import { createMalSession, type MalSession } from './session.js';
import { setupEpoch } from './epoch.js';
import { offlineBatch } from './mask-pool.js';
import { MaskRecorder } from './mask-source.js';
import type { PartyContext } from '../context.js';
import { prepareWeights, shareModelReplicated } from './weights.js';

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

describe('a whole malicious inference whose views close after any received message', () => {
  const F = 13;
  const model: ModelIR<FloatTensor> = {
    formatVersion: IR_FORMAT_VERSION, inputShape: [2], output: 'd2', outputActivation: 'linear',
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: 2, activation: 'relu', kernel: { shape: [2, 2], data: Float64Array.from([0.5, -1, 0.25, 0.75]) }, bias: { shape: [2], data: Float64Array.from([0.125, 0]) } },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: 1, activation: 'linear', kernel: { shape: [2, 1], data: Float64Array.from([1.5, -0.5]) } },
    ],
  };
  const parts = shareModelReplicated(model, F);
  const x = Float64Array.from([0.75, -0.5]);


  type Three = [Uint8Array, Uint8Array, Uint8Array];
  /** The client's channel: one message from each party; failed when the views close (the client gets nothing then). */
  function gather(): { put(p: PartyId, m: Uint8Array): void; fail(e: unknown): void; all: Promise<Three> } {
    const got: Uint8Array[] = [];
    let done!: (v: Three) => void, failed!: (e: unknown) => void;
    const all = new Promise<Three>((r, j) => { done = r; failed = j; });
    all.catch(() => undefined);
    return { put: (p, m) => { got[p] = m; if ([0, 1, 2].every((i) => got[i])) done(got as Three); }, fail: (e) => failed(e), all };
  }

  /**
   * Run `body` at the three parties (sessions made by `create`, default createMalSession); when P0 has received its
   * `cut`-th message (0: never), the three views close before P0's protocol code sees it (a peer's mal-drop or a
   * deadline handled in the same turn as that message's delivery): P0 goes on with the payload on a closed view.
   */
  async function withCut<T>(cut: number, body: (s: MalSession) => Promise<T>, opts: { create?: (ctx: PartyContext) => Promise<MalSession>; onCut?: (reason: Error) => void } = {}): Promise<{ outcomes: PromiseSettledResult<T>[]; received: number }> {
    const ts: CheatingTransport[] = [];
    const reason = new MpcError('E_PEER_UNAVAILABLE', 'test: P1 refused or ended this session at its mask step', { party: 1, step: 'mal.mask' });
    let received = 0;
    const r = await runMal3(body, {
      create: (ctx) => {
        const t = ctx.transport as CheatingTransport;
        ts[ctx.party] = t;
        if (ctx.party === 0) {
          const recv = t.recv.bind(t);
          t.recv = async (from, tag) => {
            const p = await recv(from, tag);
            if (++received === cut) { for (const v of ts) closeLikeAView(v, reason); opts.onCut?.(reason); }
            return p;
          };
        }
        return (opts.create ?? createMalSession)(ctx);
      },
    });
    return { outcomes: r.outcomes, received };
  }

  /** A party desk's session: the weights' set-up, the client's mask and masked input (client-io.ts), the forward pass with a MAC check after every layer, the output to the client. */
  function deskSession(comparisons: MalComparisons, cut: number, create?: (ctx: PartyContext) => Promise<MalSession>) {
    const masks = gather(), outs = gather();
    const d = masks.all.then((m) => maskedInput(encode(x, F), m));
    d.catch(() => undefined);
    return withCut(cut, async (s) => {
      const w = await prepareWeights(s, parts[s.party]);
      const { r: mask, forClient } = await inputMask(s, 2);
      masks.put(s.party, forClient);
      const xin = await inputFromClient(s, mask, await d);
      const y = await malForward(s, w, { shape: [1, 2], data: xin }, { comparisons, checkEveryBytes: 1 });
      outs.put(s.party, await outputToClient(s, y.data));
      return decode(reconstructOutput(await outs.all, 1), F)[0]!;
    }, { ...(create ? { create } : {}), onCut: (e) => { masks.fail(e); outs.fail(e); } });
  }

  /** Every cut from 1 to the uncut run's count: no unhandled rejection, P0 fails with the reason (or finishes), every value that comes back is right. */
  async function sweep<T>(run: (cut: number) => Promise<{ outcomes: PromiseSettledResult<T>[]; received: number }>, right: (v: T) => boolean): Promise<void> {
    const whole = await run(0);
    for (const o of whole.outcomes) expect(o.status === 'fulfilled' && right(o.value)).toBe(true);
    expect(whole.received).toBeGreaterThan(10);
    let rejected = 0;
    for (let cut = 1; cut <= whole.received; cut++) {
      const { outcomes } = await run(cut);
      await turns();
      expect({ cut, unhandled }).toEqual({ cut, unhandled: [] });
      // P0 goes on with its cut-th message on a closed view: it fails with the reason at its next send or receive (after
      // the last few messages, already delivered, it may finish first: then right). No party answers wrong.
      const p0 = outcomes[0]!;
      if (p0.status === 'rejected') { rejected++; expect({ cut, code: isMpcError(p0.reason) ? p0.reason.code : String(p0.reason) }).toEqual({ cut, code: 'E_PEER_UNAVAILABLE' }); }
      for (const o of outcomes) if (o.status === 'fulfilled') expect(right(o.value)).toBe(true);
    }
    expect(rejected).toBeGreaterThan(whole.received / 2);
  }

  const want = plainForward(model, x, 1).data[0]!;
  it.each(['arithmetic', 'binary'] as const)('every cut (%s comparisons): each party answers right or fails with the close reason, and no promise is left rejected without a handler', async (comparisons) => {
    await sweep((cut) => deskSession(comparisons, cut), (v) => Math.abs(v - want) < 1e-2);
  }, 120_000);

  it('every cut of an epoch set-up, then of an offline mask batch (the pool\'s, MAC checks included): no promise left rejected without a handler', async () => {
    const recs = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
    const rec = await deskSession('arithmetic', 0, (ctx) => createMalSession(ctx, { masks: recs[ctx.party]! }));
    expect(rec.outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const plan = recs[0]!.plan;
    expect(plan.length).toBeGreaterThan(0);
    await sweep((cut) => withCut(cut, async (s) => (await setupEpoch(s, parts[s.party])).nodes.length), (v) => v === model.nodes.length);
    await sweep((cut) => withCut(cut, async (s) => (await offlineBatch(s, plan, 2, 'b')).length), (v) => v === 2);
  }, 120_000);
});
