/**
 * Malicious-mode runs in one process (tests only): three parties over the
 * in-memory transport, each with a MalSession, and the cheating-party
 * harness: one party's transport alters one of its outgoing messages.
 *
 * Unlike run3, a failing party does not close the others' transports: the
 * honest parties must reach their own verdict (E_INTEGRITY) through the
 * protocol's checks and abort notices. A watchdog fails the run if a party
 * hangs (and closes the transports so nothing is left waiting).
 */
import { randomBytes } from 'node:crypto';
import { createContext, type PartyContext } from '../context.js';
import { dealSeeds, type PartySeeds } from '../correlated/prg.js';
import { MpcError } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import { memoryTransports, type Coalescer, type MemoryTransport } from '../transport/memory.js';
import type { Transport } from '../transport/transport.js';
import { createMalSession, type MalSession } from '../malicious/session.js';

export type Tamper = 'offset' | 'flip' | 'replay' | 'session';
export const TAMPERS: readonly Tamper[] = ['offset', 'flip', 'replay', 'session'];

export interface Sent { to: PartyId; tag: string; payload: Uint8Array }

export interface CheatPlan {
  cheater: PartyId;
  /** Index of the cheater's outgoing message to alter (in sending order). */
  index: number;
  tamper: Tamper;
  /** For 'session': the cheater's messages in another (honest) session of the same computation. */
  otherSession?: readonly Sent[];
}

/** Adds a random nonzero 128-bit offset to one 16-byte word, or flips one of its low 64 bits (the bits a value lives in). */
function alter(p: Uint8Array, kind: 'offset' | 'flip'): Uint8Array {
  const out = p.slice();
  const words = Math.max(1, Math.floor(out.length / 16));
  const w = randomBytes(1)[0]! % words, base = 16 * w;
  if (kind === 'flip' || out.length < 16) {
    const bit = randomBytes(1)[0]! % Math.min(64, 8 * out.length);
    out[base + (bit >> 3)]! ^= 1 << (bit & 7);
    return out;
  }
  const off = randomBytes(16);
  off[0]! |= 1;
  let carry = 0;
  for (let i = 0; i < 16; i++) {
    const s = out[base + i]! + off[i]! + carry;
    out[base + i] = s & 0xff;
    carry = s >> 8;
  }
  return out;
}

/** Wraps a transport; records what it sends and, with a plan, alters one message. */
export class CheatingTransport implements Transport {
  readonly sent: Sent[] = [];
  /** The altered message (undefined until sent, or when the alteration changed nothing). */
  altered?: { index: number; tag: string; to: PartyId };
  constructor(private readonly inner: MemoryTransport, private readonly plan?: CheatPlan) {}
  get party() { return this.inner.party; }
  get counters() { return this.inner.counters; }
  get steps() { return this.inner.steps; }
  send(to: PartyId, tag: string, payload: Uint8Array): void {
    const i = this.sent.length;
    let out = payload;
    const plan = this.plan;
    if (plan && i === plan.index) {
      if (plan.tamper === 'offset' || plan.tamper === 'flip') out = alter(payload, plan.tamper);
      else if (plan.tamper === 'replay') out = (this.sent[i - 1]?.payload ?? payload).slice();
      else out = (plan.otherSession?.[i]?.payload ?? payload).slice();
      if (out.length !== payload.length || out.some((b, j) => b !== payload[j])) this.altered = { index: i, tag, to };
    }
    this.sent.push({ to, tag, payload: payload.slice() });
    this.inner.send(to, tag, out);
  }
  recv(from: PartyId, tag: string): Promise<Uint8Array> { return this.inner.recv(from, tag); }
  close(reason?: Error): void { this.inner.close(reason); }
}

export interface MalRun<T> {
  outcomes: [PromiseSettledResult<T>, PromiseSettledResult<T>, PromiseSettledResult<T>];
  transports: [CheatingTransport, CheatingTransport, CheatingTransport];
  rounds: number;
  bytes: number;
}

/**
 * Run fn at the three parties, each on a fresh MalSession (set-up included:
 * its cost is in the counters). With a plan, the cheater's transport alters
 * one message. Settles when every party has returned or thrown. `seeds`:
 * each party's seeds (default dealt fresh); `create`: how a party's session
 * is made on its context (default createMalSession; an epoch's session
 * passes the epoch's key); `coalescer`: deliveries handed over in batches
 * (memory.ts Coalescer; share one between two runs to run them as two
 * sessions of one party process whose messages arrive in one read).
 */
export async function runMal3<T>(fn: (s: MalSession) => Promise<T>, opts: { plan?: CheatPlan; watchdogMs?: number; seeds?: (p: PartyId) => PartySeeds; create?: (ctx: PartyContext) => Promise<MalSession>; coalescer?: Coalescer } = {}): Promise<MalRun<T>> {
  const mem = memoryTransports(opts.coalescer ? { coalescer: opts.coalescer } : {});
  const dealt = dealSeeds();
  const seeds = opts.seeds ?? ((p: PartyId) => dealt[p]);
  const create = opts.create ?? ((ctx: PartyContext) => createMalSession(ctx));
  const ts = mem.map((t, p) => new CheatingTransport(t, opts.plan?.cheater === p ? opts.plan : undefined)) as MalRun<T>['transports'];
  const all = Promise.allSettled(([0, 1, 2] as PartyId[]).map(async (p) => fn(await create(createContext(p, ts[p], seeds(p))))));
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<'hung'>((resolve) => { timer = setTimeout(() => resolve('hung'), opts.watchdogMs ?? 10_000); });
  try {
    const r = await Promise.race([all, watchdog]);
    if (r === 'hung') {
      mem.forEach((t) => t.close(new MpcError('E_DEADLINE', 'runMal3: a party hung')));
      await all;
      throw new Error('runMal3: a party hung (no verdict within the watchdog)');
    }
    return {
      outcomes: r as MalRun<T>['outcomes'],
      transports: ts,
      rounds: Math.max(...mem.map((t) => t.counters.depth)),
      bytes: mem.reduce((s, t) => s + t.counters.bytesSent, 0),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The three results of a run every party finished (throws the first failure). */
export function values<T>(r: MalRun<T>): [T, T, T] {
  return r.outcomes.map((o) => {
    if (o.status === 'rejected') throw o.reason;
    return o.value;
  }) as [T, T, T];
}
