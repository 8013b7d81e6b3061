/**
 * A fault-injecting wrapper around a party's gRPC mesh (parties/mesh.ts), for
 * tests (not a test file). It intercepts what the party sends, the protocol
 * messages of runs (DATA, SETUP, through the SessionTransport's FrameSink) and
 * the control messages (ready, plan, abort), and can drop, delay or alter them.
 *
 * Delays keep the order per destination (the gRPC stream is FIFO, and so is
 * the wrapper): a delayed message holds back the later ones to the same peer.
 * Randomness (jitter, drop probability) comes from node:crypto.
 */
import { randomInt } from 'node:crypto';
import type { PeerMesh } from '../../parties/mesh.js';
import type { PartyId } from '../../protocol/ring/types.js';

export interface SentMessage {
  from: PartyId;
  to: PartyId;
  kind: 'DATA' | 'SETUP' | 'CONTROL';
  /** Protocol tag (DATA/SETUP) or control type (CONTROL). */
  tag: string;
  /** Run id ('' for control messages). */
  session: string;
  /** Running count of messages this wrapper saw from this party (1-based). */
  seq: number;
  bytes: number;
}

export type FaultAction =
  | { drop: true }
  | { delayMs: number }
  | { alter: (payload: Uint8Array) => Uint8Array };

export interface FaultRule {
  match: (m: SentMessage) => boolean;
  action: FaultAction | ((m: SentMessage) => FaultAction | null);
  /** Apply to at most this many matching messages (default: all). */
  times?: number;
}

export interface Injector {
  /** Messages the rules acted on. */
  readonly applied: { msg: SentMessage; action: string }[];
  /** Every message seen (metadata only). */
  readonly seen: SentMessage[];
  /** Replace the rules (and forget what was applied and seen). */
  setRules(rules: FaultRule[]): void;
  restore(): void;
}

type SendMessage = PeerMesh['sendMessage'];
type SendControl = PeerMesh['sendControl'];

export function injectFaults(mesh: PeerMesh, rules: FaultRule[] = []): Injector {
  const from = mesh.party;
  const origMessage: SendMessage = mesh.sendMessage.bind(mesh);
  const origControl: SendControl = mesh.sendControl.bind(mesh);
  let active = rules.map((r) => ({ ...r, left: r.times ?? Infinity }));
  const applied: Injector['applied'] = [];
  const seen: SentMessage[] = [];
  // Per destination: a FIFO of delayed sends, so order is kept.
  const tails = new Map<PartyId, { p: Promise<void>; n: number }>();
  let seq = 0;

  const decide = (m: SentMessage): FaultAction | null => {
    for (const r of active) {
      if (r.left <= 0 || !r.match(m)) continue;
      const a = typeof r.action === 'function' ? r.action(m) : r.action;
      if (!a) continue;
      r.left -= 1;
      applied.push({ msg: m, action: 'drop' in a ? 'drop' : 'delayMs' in a ? `delay ${a.delayMs}` : 'alter' });
      return a;
    }
    return null;
  };

  const dispatch = (to: PartyId, m: SentMessage, send: (payload: Uint8Array) => void, payload: Uint8Array): void => {
    seen.push(m);
    const a = decide(m);
    if (a && 'drop' in a) return;
    const body = a && 'alter' in a ? a.alter(payload) : payload;
    const delay = a && 'delayMs' in a ? a.delayMs : 0;
    const tail = tails.get(to);
    if (delay === 0 && (!tail || tail.n === 0)) { send(body); return; }
    // Copy: the sender may reuse its buffer once send() returns.
    const copy = body.slice();
    const t = tail ?? { p: Promise.resolve(), n: 0 };
    t.n += 1;
    t.p = t.p.then(() => new Promise<void>((r) => setTimeout(r, delay))).then(() => {
      t.n -= 1;
      // The link may be gone by now: the mesh has already failed the sessions; nothing to do.
      try { send(copy); } catch { /* E_PEER_UNAVAILABLE */ }
    });
    tails.set(to, t);
  };

  const m = mesh as unknown as { sendMessage: SendMessage; sendControl: SendControl };
  m.sendMessage = (to, kind, session, tag, depth, payload) => {
    const msg: SentMessage = { from, to, kind, tag, session, seq: ++seq, bytes: payload.byteLength };
    dispatch(to, msg, (p) => origMessage(to, kind, session, tag, depth, p), payload);
  };
  m.sendControl = (to, type, body) => {
    const payload = Buffer.from(JSON.stringify(body));
    const msg: SentMessage = { from, to, kind: 'CONTROL', tag: type, session: '', seq: ++seq, bytes: payload.byteLength };
    dispatch(to, msg, (p) => origControl(to, type, JSON.parse(Buffer.from(p).toString('utf8'))), payload);
  };

  return {
    applied,
    seen,
    setRules(r) { active = r.map((x) => ({ ...x, left: x.times ?? Infinity })); applied.length = 0; seen.length = 0; },
    restore() { m.sendMessage = origMessage; m.sendControl = origControl; active = []; },
  };
}

/** Uniform integer in [lo, hi] from the CSPRNG. */
export const jitter = (lo: number, hi: number): number => randomInt(lo, hi + 1);

/** True with probability p (CSPRNG). */
export const chance = (p: number): boolean => randomInt(0, 1_000_000) < p * 1_000_000;

/** A copy of `payload` with bit `bit` of byte `byte` flipped. */
export const flipBit = (byte: number, bit: number) => (payload: Uint8Array): Uint8Array => {
  const c = payload.slice();
  if (c.length > 0) c[byte % c.length]! ^= 1 << bit;
  return c;
};
