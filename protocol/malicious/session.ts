/**
 * One party's state in a malicious-mode run (docs/MALICIOUS.md): the MAC key
 * share, the log of opened values awaiting the batched MAC check, the hash
 * of its view (every opened and broadcast value, in order), the committed
 * coin for the next check, and the messaging rules that make a deviation an
 * abort:
 *
 *  - every message is received with its expected length; a wrong length or
 *    a message out of step (E_PROTOCOL_DESYNC from the transport, which is
 *    also how a peer's abort notice arrives) is E_INTEGRITY;
 *  - the first error in a step marks the session aborted and sends an abort
 *    notice to both peers (so a party that detects a deviation makes the
 *    other honest party abort too, at its next receive from it); every later
 *    operation on the session throws E_INTEGRITY at once: no half state.
 *
 * The key (SPDZ_2k, Cramer et al. §3; replicated as in Dalskov, Escudero,
 * Keller 2020): alpha = alpha_0 + alpha_1 + alpha_2 drawn as a random
 * replicated sharing from the pair PRGs, never opened. Its shares are uniform
 * in Z_2^128, so alpha mod 2^s (s = 64), the part the check's soundness
 * rests on, is uniform and unknown to any one party.
 *
 * Cost of creating a session: the coin commitments, 32 bytes to each peer
 * (192 bytes in all), no round of its own: each party sends its commitment
 * at once and receives a peer's just before the first other message from
 * that peer (`recv`), so it rides in the round of that message (before
 * 2026-12-07 late: 1 round, awaited at set-up). The MAC check receives any
 * commitment still missing before it reveals a coin (mac-check.ts step 1):
 * only a session whose first receive is its MAC check pays the round there
 * (`commitWaitRounds`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { PartyContext } from '../context.js';
import { isMpcError, MpcError } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import type { Cost } from '../primitives/cost.js';
import { next, prev, randomRep, type MShare, type Rep } from './rep.js';
import type { Vec128 } from './ring128.js';
import type { MaskSource } from './mask-source.js';

export const HASH_BYTES = 32;
export const setupCost = (): Cost => ({ rounds: 0, bytes: 3 * 2 * HASH_BYTES });
/** The round a MAC check waits for the commitments when the session received nothing before it (roundsBefore = 0). */
export const commitWaitRounds = (roundsBefore: number): number => (roundsBefore === 0 ? 1 : 0);

/** SHA-256 over labelled parts (domain separation by the label). */
export function digest(label: string, ...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256').update(label).update(new Uint8Array([0]));
  for (const p of parts) h.update(new Uint32Array([p.byteLength])).update(p);
  return new Uint8Array(h.digest());
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);

/** A coin share and the nonce of its commitment (SPDZ's commit-then-open coin tossing). */
export interface Coin { readonly share: Uint8Array; readonly nonce: Uint8Array }

/** H(domain.P<party>, share, nonce): the MAC check's coins under 'mal.coin', the binary triples' under 'mal.bin.coin'. */
export const commitCoin = (party: PartyId, c: Coin, domain = 'mal.coin'): Uint8Array => digest(`${domain}.P${party}`, c.share, c.nonce);

export function freshCoin(): Coin {
  return { share: randomBytes(16), nonce: randomBytes(16) };
}

export class MalSession {
  readonly party: PartyId;
  readonly next: PartyId;
  readonly prev: PartyId;
  /** This party's shares (alpha_i, alpha_{i+1}) of the MAC key. */
  readonly alpha: Rep;
  /** Opened values and their MAC shares since the last MAC check. */
  readonly opened: { y: Vec128; m: Rep }[] = [];
  /** MACed values made since the last MAC check (products, MACs of random values and inputs): the check verifies them too. */
  pending: MShare[] = [];
  /** The coin this party committed to for the next MAC check. */
  coin: Coin;
  /** Number of MAC checks passed. */
  checks = 0;
  /** Where the primitives take their input-independent masks from (mask-source.ts); undefined: made inline. */
  masks?: MaskSource;
  private commits = new Map<PartyId, Uint8Array>();
  /** The receives of the peers' first commitments, posted at the first receive from each peer (`commitFrom`). */
  private firstCommits = new Map<PartyId, Promise<void>>();
  private aborted: MpcError | null = null;
  private seq = 0;
  private view = createHash('sha256');

  /** `alpha`: the key of an epoch (epoch.ts), verified and never opened; without it a fresh key from the pair PRGs. */
  constructor(readonly ctx: PartyContext, alpha?: Rep) {
    this.party = ctx.party;
    this.next = next(ctx.party);
    this.prev = prev(ctx.party);
    this.alpha = alpha ?? randomRep(ctx, 1);
    this.coin = freshCoin();
  }

  /** A label unique within the session, the same at the three parties (they run the same operations in order). */
  label(kind: string): string {
    return `${kind}#${this.seq++}`;
  }

  get isAborted(): boolean {
    return this.aborted !== null;
  }

  send(to: PartyId, tag: string, payload: Uint8Array): void {
    this.ctx.transport.send(to, `mal:${tag}`, payload);
  }

  /** The next message from `from`, which must carry `tag` and have `bytes` bytes; anything else is E_INTEGRITY. */
  async recv(from: PartyId, tag: string, bytes: number): Promise<Uint8Array> {
    const commit = this.commitFrom(from); // posted first: the commitment is the first message `from` sent
    const got = this.ctx.transport.recv(from, `mal:${tag}`);
    got.catch(() => undefined); // awaited below, after the commitment; a failure of both must not leave this one unhandled
    let p: Uint8Array;
    try {
      // The commitment first: a missing one (its place taken by another message) is E_INTEGRITY now, not after a
      // further message from `from` that may never come (setup-commit.test.ts).
      await commit;
      p = await got;
    } catch (e) {
      if (isMpcError(e) && e.code === 'E_PROTOCOL_DESYNC') this.fail(tag, `P${from} sent a message out of step (a deviation, or its abort notice)`);
      throw e;
    }
    if (p.byteLength !== bytes) this.fail(tag, `P${from} sent ${p.byteLength} bytes, expected ${bytes}`);
    return p;
  }

  /** Abort the run: E_INTEGRITY at `step`, naming the check (never a value). */
  fail(step: string, message: string): never {
    throw new MpcError('E_INTEGRITY', `malicious.${step}: ${message}`, { party: this.party, step });
  }

  /**
   * Run one operation as a counted step. The first failure aborts the
   * session: peers get an abort notice, later operations throw at once.
   */
  async guard<T>(step: string, fn: () => Promise<T>): Promise<T> {
    if (this.aborted) throw new MpcError('E_INTEGRITY', `malicious.${step}: the session was aborted at ${this.aborted.step ?? 'an earlier step'}`, { party: this.party, step });
    try {
      return await this.ctx.step(step, fn);
    } catch (e) {
      this.abort(isMpcError(e) ? e : new MpcError('E_INTERNAL', `malicious.${step}: ${String(e)}`, { party: this.party, step }));
      throw e;
    }
  }

  private abort(e: MpcError): void {
    if (this.aborted) return;
    this.aborted = e;
    for (const p of [this.prev, this.next]) {
      try {
        this.ctx.transport.send(p, 'mal:abort', new Uint8Array([1]));
      } catch {
        // The link is already closed: the peer learns of the abort from that.
      }
    }
  }

  /** Add public bytes to this party's view (what the confirm round of the MAC check compares). */
  observe(label: string, bytes: Uint8Array): void {
    this.view.update(label).update(new Uint32Array([bytes.byteLength])).update(bytes);
  }

  /** Log an opened value with its MAC shares for the next MAC check, and add it to the view. */
  record(label: string, y: Vec128, m: Rep): void {
    this.opened.push({ y, m });
    this.observe(label, new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
  }

  /** The commitment peer p sent for its coin of the next MAC check. */
  peerCommit(p: PartyId): Uint8Array {
    const c = this.commits.get(p);
    if (!c) this.fail('macCheck', `no commitment from P${p}`);
    return c;
  }

  /** Register a MACed value made by communication (products, macOf) for the next MAC check; returns it. */
  register(x: MShare): MShare {
    this.pending.push(x);
    return x;
  }

  /** After a passed MAC check: the opened values are verified; the next check uses these coins. */
  passCheck(coin: Coin, commits: Map<PartyId, Uint8Array>): void {
    this.opened.length = 0;
    this.coin = coin;
    this.commits = commits;
    this.checks++;
  }

  /**
   * Set-up: send the commitment to this party's first coin to both peers (createMalSession). The peers'
   * commitments are received later (`commitFrom`), ahead of the first other message from each, so the set-up
   * adds no round; the MAC check has them before it reveals a coin (`commitsMissing`).
   */
  sendCommitments(): void {
    const c = commitCoin(this.party, this.coin);
    this.send(this.prev, 'commit', c);
    this.send(this.next, 'commit', c);
  }

  /** The receive of peer p's first commitment, posted once, before any other receive from p (messages are in order). */
  private commitFrom(p: PartyId): Promise<void> {
    let c = this.firstCommits.get(p);
    if (!c) {
      c = this.ctx.transport.recv(p, 'mal:commit').then((m) => {
        if (m.byteLength !== HASH_BYTES) this.fail('commit', `P${p} sent ${m.byteLength} bytes, expected ${HASH_BYTES}`);
        if (!this.commits.has(p)) this.commits.set(p, m.slice()); // a MAC check passed before cannot come first: it receives this first
      }, (e: unknown) => {
        if (isMpcError(e) && e.code === 'E_PROTOCOL_DESYNC') this.fail('commit', `P${p} sent a message out of step (a deviation, or its abort notice)`);
        throw e;
      });
      c.catch(() => undefined); // awaited by recv or commitsMissing; a failure before that must not be an unhandled rejection
      this.firstCommits.set(p, c);
    }
    return c;
  }

  /**
   * For the MAC check, before it reveals a coin (a coin sent earlier would let a rushing peer commit after seeing
   * it): null when both peers' first commitments are in, else a promise of them (their receives posted if not yet).
   */
  commitsMissing(): Promise<void> | null {
    if (this.commits.has(this.prev) && this.commits.has(this.next)) return null;
    return Promise.all([this.commitFrom(this.prev), this.commitFrom(this.next)]).then(() => undefined);
  }

  viewDigest(): Uint8Array {
    return new Uint8Array(this.view.copy().digest());
  }
}

/**
 * Start a malicious-mode session on a context: draws the key shares from the
 * pair PRGs (or takes an epoch's key, `opts.alpha`: epoch.ts) and exchanges
 * the commitments to the first coins (192 bytes, no round: setupCost). The
 * three parties create their sessions together. `opts.masks`: where the
 * primitives take their masks from (mask-source.ts).
 */
export async function createMalSession(ctx: PartyContext, opts: { alpha?: Rep; masks?: MaskSource } = {}): Promise<MalSession> {
  const s = new MalSession(ctx, opts.alpha);
  if (opts.masks) s.masks = opts.masks;
  await s.guard('mal.setup', async () => s.sendCommitments());
  return s;
}
