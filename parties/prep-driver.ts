/**
 * The offline phase at run time (parties/preprocessing.ts has the pools and
 * the bundle format): P0 asks P1 and P2 for a bundle of a run's shape while
 * idle; P2 deals it from the script it recorded in a live run of that shape,
 * P1 receives its part; each reports to P0, which then plans the next run of
 * that shape with the bundle instead of live dealing.
 */
import { randomBytes } from 'node:crypto';
import { MpcError } from '../protocol/errors.js';
import { p1Bundle, prepareBundle, scriptBytes } from '../protocol/correlated/dealer.js';
import { sendPooled } from '../protocol/transport/messages.js';
import { kernelsFor } from '../runtime/kernels.js';
import type { PartyId } from '../protocol/ring/types.js';
import { asMpcError, UUID, type PartyCore } from './party-core.js';
import { DEFAULT_PREPROCESS, PrepHoldings, PrepPool, type PreprocessOptions } from './preprocessing.js';
import type { SessionTransport } from './session-transport.js';

/** How long after a run P0 waits before it asks for the next bundle. */
const PREP_AFTER_RUN_MS = 3;

export class PrepDriver {
  /** P0: bundles ready at the peers. */
  readonly pool: PrepPool | null;
  /** P1, P2: their parts, and P2's recorded scripts. */
  readonly held: PrepHoldings | null;
  /** P0: shapes to ask a bundle for once idle (after PREP_AFTER_RUN_MS), in the order their runs ended. */
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  /** `busy`: P0 is not idle (a run going, or sessions queued). */
  constructor(private readonly c: PartyCore, private readonly busy: () => boolean) {
    this.pool = c.party === 0 ? new PrepPool(this.opts) : null;
    this.held = c.party === 0 ? null : new PrepHoldings(this.opts);
  }

  get opts(): PreprocessOptions { return this.c.opts.preprocess ?? DEFAULT_PREPROCESS; }

  /** P0: a bundle is being made, or about to be asked for (metric mpc_prep_in_flight). */
  get inFlight(): boolean { return this.pending.size > 0 || (this.pool?.inFlight ?? false); }

  /**
   * P0: ask for the next bundles a moment after a run (PREP_AFTER_RUN_MS: the sessions' HTTP answers, and the
   * client reading them, go before P2 deals), one shape at a time while idle; a busy party tries again after its
   * next run, a finished bundle (or its timeout) after it.
   */
  schedule(key?: string): void {
    if (key !== undefined) this.pending.add(key);
    if (this.timer || this.pending.size === 0 || this.c.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.busyNow() || this.pool!.inFlight) return;
      for (const k of this.pending) {
        this.pending.delete(k);
        if (this.maybeAsk(k)) return;
      }
    }, PREP_AFTER_RUN_MS);
    this.timer.unref();
  }

  /** P0: not idle for preprocessing (closed, a run going, or sessions queued). */
  private busyNow(): boolean { return this.c.closed || this.busy(); }

  /** P0: if idle and no bundle of this shape is ready or in flight, ask P1 and P2 for one; whether it asked. */
  private maybeAsk(key: string): boolean {
    const pool = this.pool!;
    if (this.busyNow() || !pool.wanted(key)) return false;
    const { prepId, s02 } = pool.start(key, (id) => { this.c.metrics.prepRuns.inc({ result: 'timeout' }); this.sendDrop(id); this.schedule(); });
    try {
      this.c.mesh.sendControl(1, 'prep', { prepId, key });
      this.c.mesh.sendControl(2, 'prep', { prepId, key, seed: Buffer.from(s02).toString('base64') });
    } catch {
      this.drop();
    }
    return true;
  }

  /** P0: P1 or P2 reported its part of a bundle (control 'prepared'). */
  reported(from: PartyId, b: Record<string, unknown>): void {
    if (typeof b.prepId !== 'string') return;
    const r = this.pool!.reported(from, b.prepId, b.ok === true, typeof b.bytes === 'number' ? b.bytes : 0, typeof b.reason === 'string' ? b.reason : undefined);
    if (!r) return;
    const m = this.c.metrics;
    m.prepRuns.inc({ result: r.result });
    if (r.result === 'ready') m.prepDuration.observe({}, r.ms / 1000);
    else this.sendDrop(b.prepId);
    this.c.log.info({ prep: b.prepId, result: r.result, ms: Math.round(r.ms), bytes: r.bytes, ...(typeof b.reason === 'string' ? { reason: b.reason } : {}) }, 'preprocessing');
    this.schedule();
  }

  sendDrop(prepId: string): void {
    for (const p of [1, 2] as PartyId[]) { try { this.c.mesh.sendControl(p, 'prep-drop', { prepId }); } catch { /* link down: the peer drops its pool itself */ } }
  }

  /** Empty this party's pool (P0: and tell the peers to drop theirs). */
  drop(): void {
    if (this.pool) for (const id of this.pool.clear()) this.sendDrop(id);
    this.held?.clear();
  }

  /**
   * P1, P2: make this party's part of bundle prepId. P1 sends P2 a fresh s12;
   * P2 replays its script of the shape with (s02, s12) and sends P1 a manifest
   * and the corrections; each keeps its part and reports to P0.
   */
  async follow(b: Record<string, unknown>): Promise<void> {
    const c = this.c;
    const prepId = b.prepId, key = b.key;
    if (typeof prepId !== 'string' || !UUID.test(prepId) || typeof key !== 'string' || key.length > 100_000) { c.log.error({ code: 'E_PROTOCOL_DESYNC' }, 'malformed prep request from P0 ignored'); return; }
    const held = this.held!;
    const report = (ok: boolean, bytes: number, reason?: string) => { try { c.mesh.sendControl(0, 'prepared', { prepId, ok, bytes, ...(reason ? { reason } : {}) }); } catch { /* P0 times the prep out */ } };
    let view: SessionTransport;
    try { view = c.mesh.openSession(prepId); } catch { report(false, 0, 'error'); return; }
    const opts = this.opts;
    const timer = setTimeout(() => view.close(new MpcError('E_DEADLINE', `preprocessing ${prepId} passed its deadline of ${opts.timeoutMs} ms`, { party: c.party })), opts.timeoutMs);
    timer.unref();
    const t0 = performance.now();
    try {
      if (c.party === 1) {
        const s12 = randomBytes(16);
        view.sendSetup(2, 'seed', s12);
        const m = JSON.parse(Buffer.from(await view.recvSetup(2, 'manifest')).toString('utf8')) as { ok?: unknown; reason?: unknown; items?: unknown };
        if (m.ok !== true) { report(false, 0, typeof m.reason === 'string' ? m.reason : 'error'); return; }
        const list = m.items;
        if (!Array.isArray(list) || list.length > 1_000_000 || !list.every((it: unknown) => Array.isArray(it) && typeof it[0] === 'string' && Number.isInteger(it[1]) && (it[1] as number) >= 0)
          || (list as [string, number][]).reduce((a, it) => a + it[1], 0) > opts.maxBytes) throw new MpcError('E_PROTOCOL_DESYNC', `preprocessing ${prepId}: malformed manifest from P2`, { party: 2, step: 'manifest' });
        const items: { tag: string; data: Uint8Array }[] = [];
        for (const [i, [tag, n]] of (list as [string, number][]).entries()) {
          const data = await view.recv(2, `prep:${i}`);
          if (data.byteLength !== n) throw new MpcError('E_PROTOCOL_DESYNC', `preprocessing ${prepId}: item ${i} has ${data.byteLength} bytes, the manifest says ${n}`, { party: 2, step: 'prep' });
          items.push({ tag, data });
        }
        const bundle = p1Bundle(s12, items);
        held.add(prepId, key, bundle);
        report(true, bundle.bytes);
      } else {
        const s02 = typeof b.seed === 'string' ? Buffer.from(b.seed, 'base64') : Buffer.alloc(0);
        const s12 = await view.recvSetup(1, 'seed');
        if (s02.length !== 16 || s12.byteLength !== 16) throw new MpcError('E_PROTOCOL_DESYNC', `preprocessing ${prepId}: seeds are not 16 bytes`, { party: c.party, step: 'seed' });
        const script = held.script(key);
        const bytes = script ? scriptBytes(script) : 0;
        const refuse = !script ? 'no-script' : bytes > opts.maxBytes ? 'too-large' : null;
        const manifest = (v: unknown) => view.sendSetup(1, 'manifest', Buffer.from(JSON.stringify(v)));
        if (refuse) { manifest({ ok: false, reason: refuse }); report(false, 0, refuse); return; }
        const { forP1, p2 } = prepareBundle(kernelsFor(c.opts.kernels), script!, s02, new Uint8Array(s12));
        manifest({ ok: true, items: forP1.map((it) => [it.tag, it.data.byteLength]) });
        // An item in a send buffer (ring/send-pool.ts: relu-direct's dealt shares) goes back to the pool once written.
        forP1.forEach((it, i) => sendPooled({ party: c.party, transport: view }, 1, `prep:${i}`, it.data));
        held.add(prepId, key, p2);
        report(true, bytes);
      }
      c.metrics.prepRuns.inc({ result: 'ok' });
      c.metrics.prepDuration.observe({}, (performance.now() - t0) / 1000);
    } catch (e) {
      const err = asMpcError(e);
      c.metrics.prepRuns.inc({ result: 'failed' });
      c.log.warn({ prep: prepId, code: err.code, err: err.message }, 'preprocessing failed');
      report(false, 0, 'error');
    } finally {
      clearTimeout(timer);
      view.close();
    }
  }
}
