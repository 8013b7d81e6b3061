/**
 * Per-client privacy accountant: how much of each client's privacy budget
 * its queries have spent, refusing (E_BUDGET_EXHAUSTED, HTTP 429) any request
 * that would exceed it. Bounds: basic, advanced and RDP composition
 * (composition.ts); admission uses `enforce` ('best' by default: the RDP
 * filter over all orders, or basic composition while every charge is pure;
 * composition.ts explains why each is a valid filter for adaptive choices).
 *
 * Protocol with the party server (no overspending under concurrency):
 *  1. reserve(client, charge, count) before running the protocol: under a
 *     mutex, admit only if spent + all pending reservations + this request
 *     stays within budget; the reservation is written to disk before reserve
 *     returns.
 *  2. commit() once the output shares may have left this party (or on any
 *     doubt); release() only if the request failed before any output share
 *     was sent.
 * Crash safety: the state is one JSON file replaced atomically (write a temp
 * file in the same directory, fsync it, rename over the old one, fsync the
 * directory). Reservations still pending when the process died are counted
 * as spent at the next open (the output may have been delivered).
 * One accountant (one process) per file; every party runs its own, so a
 * request fails if any party refuses.
 *
 * Float sums: totals are sums of doubles and admission compares them with
 * the budget exactly, with no allowance: a charge that would put the total
 * above the budget by any representable amount is refused (so three charges
 * of 0.1, summing to 0.30000000000000004, do not fit a budget of 0.3).
 * Charges below MIN_EPSILON are refused (E_DP_PARAMETER), so no charge is
 * small enough to vanish in the sums.
 */
import { randomBytes } from 'node:crypto';
import { assert, MpcError } from '../errors.js';
import { MIN_EPSILON } from './dp-noise.js';
import {
  RDP_ORDERS, addCharge, advancedBound, basicBound, emptyComposition, enforcedEpsilon, mergeComposition, rdpFilterBound,
  type CompositionState, type EpsDelta, type Enforcement, type PrivacyCharge,
} from './composition.js';

export interface Budget {
  epsilon: number;
  /** Total delta allowed (0 for pure DP: only basic composition applies). */
  delta: number;
}

/** Where the accountant's state lives; the party server keeps it in a file (parties/accountant-store.ts). */
export interface AccountantStore {
  /** The state document, or null if there is none yet. */
  read(): Promise<string | null>;
  /** Replace the state document atomically (all or nothing, durable when it resolves). */
  write(text: string): Promise<void>;
}

export interface AccountantOptions {
  /** The state (created if missing). */
  store: AccountantStore;
  /** Budget of every client without an override. */
  budget: Budget;
  /** Per-client budgets. */
  budgets?: Readonly<Record<string, Budget>>;
  /** Admission rule (default 'best'). */
  enforce?: Enforcement;
  /** delta' of the reported advanced-composition bound (default budget.delta / 2). */
  advancedSlack?: number;
}

export interface PrivacyReport {
  queries: number;
  pendingQueries: number;
  budget: Budget;
  basic: EpsDelta;
  advanced: EpsDelta | null;
  rdp: (EpsDelta & { order: number }) | null;
  /** The figure admission uses, over spent and pending queries, at delta = budget.delta. */
  enforced: { rule: Enforcement; epsilon: number; delta: number };
  remainingEpsilon: number;
}

export interface Reservation {
  readonly id: string;
  readonly clientId: string;
  /** Count the reservation as spent. */
  commit(): Promise<void>;
  /** Give the reservation back (only if no output share left this party). */
  release(): Promise<void>;
}

interface Pending { charge: PrivacyCharge; count: number; at: string }
interface ClientState { spent: CompositionState; pending: Map<string, Pending> }

const FORMAT = 'securenn-privacy-accountant';
const VERSION = 1;

function checkBudget(b: Budget, what: string): void {
  assert(Number.isFinite(b.epsilon) && b.epsilon >= 0 && Number.isFinite(b.delta) && b.delta >= 0 && b.delta < 1, 'E_BAD_ARGUMENT', `accountant: ${what} must have epsilon >= 0 and 0 <= delta < 1`);
}

/** `stored`: a reservation read back from the state file (an older version may have admitted charges below the floor; they still count). */
function checkCharge(c: PrivacyCharge, count: number, stored = false): void {
  assert(Number.isFinite(c.epsilon) && c.epsilon >= 0 && Number.isFinite(c.delta) && c.delta >= 0 && c.delta < 1, 'E_BAD_ARGUMENT', 'accountant: a charge needs epsilon >= 0 and 0 <= delta < 1');
  assert(stored || c.epsilon >= MIN_EPSILON, 'E_DP_PARAMETER', `accountant: a charge needs epsilon >= ${MIN_EPSILON}`);
  // 'best' reads sum delta_i = 0 as "every charge is pure": pure charges carry delta 0, zCDP ones delta > 0.
  assert(c.rdp.kind === 'pure' ? c.delta === 0 : c.rdp.kind === 'zcdp' && Number.isFinite(c.rdp.rho) && c.rdp.rho > 0 && c.delta > 0, 'E_BAD_ARGUMENT', 'accountant: a charge needs an RDP description (pure with delta 0, or zCDP with rho > 0 and delta > 0)');
  assert(Number.isInteger(count) && count >= 1, 'E_BAD_ARGUMENT', `accountant: count must be a positive integer, got ${count}`);
}

export class PrivacyAccountant {
  private clients = new Map<string, ClientState>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly enforce: Enforcement;

  private constructor(private readonly opts: AccountantOptions) {
    checkBudget(opts.budget, 'the default budget');
    for (const [id, b] of Object.entries(opts.budgets ?? {})) checkBudget(b, `the budget of client '${id}'`);
    this.enforce = opts.enforce ?? 'best';
  }

  /** Load (or create) the state file; pending reservations of a previous process count as spent. */
  static async open(opts: AccountantOptions): Promise<PrivacyAccountant> {
    const a = new PrivacyAccountant(opts);
    let text: string | null;
    try {
      text = await opts.store.read();
    } catch (e) {
      throw new MpcError('E_ACCOUNTANT_STATE', 'accountant: cannot read the state file', { step: 'accountant.open', cause: e });
    }
    if (text !== null) {
      a.clients = parseState(text);
      let folded = false;
      for (const c of a.clients.values()) {
        for (const p of c.pending.values()) { c.spent = addCharge(c.spent, p.charge, p.count); folded = true; }
        c.pending.clear();
      }
      if (folded) await a.persist(a.clients);
    } else await a.persist(a.clients);
    return a;
  }

  budgetOf(clientId: string): Budget {
    return Object.prototype.hasOwnProperty.call(this.opts.budgets ?? {}, clientId) ? this.opts.budgets![clientId]! : this.opts.budget;
  }

  private committedAndPending(c: ClientState | undefined): CompositionState {
    if (!c) return emptyComposition();
    let s = c.spent;
    for (const p of c.pending.values()) s = addCharge(s, p.charge, p.count);
    return s;
  }

  /** Would this request be admitted now? (No side effects; reserve() decides under the lock.) */
  wouldAdmit(clientId: string, charge: PrivacyCharge, count = 1): boolean {
    checkCharge(charge, count);
    const b = this.budgetOf(clientId);
    return enforcedEpsilon(addCharge(this.committedAndPending(this.clients.get(clientId)), charge, count), b.delta, this.enforce) <= b.epsilon;
  }

  /** Reserve budget for `count` queries of `charge`; throws E_BUDGET_EXHAUSTED if it does not fit. */
  async reserve(clientId: string, charge: PrivacyCharge, count = 1): Promise<Reservation> {
    checkCharge(charge, count);
    return this.locked(async () => {
      if (!this.wouldAdmit(clientId, charge, count)) {
        const b = this.budgetOf(clientId);
        throw new MpcError('E_BUDGET_EXHAUSTED', `privacy budget exhausted: ${count} quer${count === 1 ? 'y' : 'ies'} at epsilon ${charge.epsilon} would exceed the client's budget of epsilon ${b.epsilon}, delta ${b.delta}`, { step: 'accountant.reserve' });
      }
      const id = randomBytes(12).toString('hex');
      const next = cloneClients(this.clients);
      const c = next.get(clientId) ?? { spent: emptyComposition(), pending: new Map<string, Pending>() };
      c.pending.set(id, { charge, count, at: new Date().toISOString() });
      next.set(clientId, c);
      await this.persist(next);
      this.clients = next;
      return this.reservation(id, clientId);
    });
  }

  private reservation(id: string, clientId: string): Reservation {
    let settled = false;
    const settle = (commit: boolean) => this.locked(async () => {
      assert(!settled, 'E_BAD_ARGUMENT', 'accountant: reservation already committed or released');
      const next = cloneClients(this.clients);
      const c = next.get(clientId);
      const p = c?.pending.get(id);
      assert(c && p, 'E_INTERNAL', 'accountant: unknown reservation');
      c.pending.delete(id);
      if (commit) c.spent = addCharge(c.spent, p.charge, p.count);
      await this.persist(next);
      this.clients = next;
      settled = true;
    });
    return { id, clientId, commit: () => settle(true), release: () => settle(false) };
  }

  /** Spent (committed) and pending privacy of one client. */
  report(clientId: string): PrivacyReport {
    const c = this.clients.get(clientId);
    const spent = c?.spent ?? emptyComposition();
    const all = this.committedAndPending(c);
    const b = this.budgetOf(clientId);
    const enforced = enforcedEpsilon(all, b.delta, this.enforce);
    return {
      queries: spent.queries,
      pendingQueries: all.queries - spent.queries,
      budget: { ...b },
      basic: basicBound(all),
      advanced: advancedBound(all, this.opts.advancedSlack ?? b.delta / 2),
      rdp: rdpFilterBound(all, b.delta),
      enforced: { rule: this.enforce, epsilon: enforced, delta: b.delta },
      remainingEpsilon: Math.max(0, b.epsilon - enforced),
    };
  }

  /** Wait for pending writes. */
  async flush(): Promise<void> {
    await this.locked(async () => undefined);
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async persist(clients: Map<string, ClientState>): Promise<void> {
    const doc = {
      format: FORMAT, version: VERSION, rdpOrders: RDP_ORDERS,
      clients: [...clients].map(([id, c]) => ({ id, spent: c.spent, pending: [...c.pending].map(([rid, p]) => ({ id: rid, ...p })) })),
    };
    try {
      await this.opts.store.write(`${JSON.stringify(doc)}\n`);
    } catch (e) {
      throw new MpcError('E_ACCOUNTANT_STATE', 'accountant: cannot write the state file', { step: 'accountant.persist', cause: e });
    }
  }
}

function cloneClients(m: Map<string, ClientState>): Map<string, ClientState> {
  return new Map([...m].map(([id, c]) => [id, { spent: c.spent, pending: new Map(c.pending) }]));
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function parseState(text: string): Map<string, ClientState> {
  const bad = (why: string) => new MpcError('E_ACCOUNTANT_STATE', `accountant: state file ${why}`, { step: 'accountant.open' });
  let doc: { format?: unknown; version?: unknown; rdpOrders?: unknown; clients?: unknown };
  try { doc = JSON.parse(text) as typeof doc; } catch (e) { throw new MpcError('E_ACCOUNTANT_STATE', 'accountant: state file is not valid JSON', { step: 'accountant.open', cause: e }); }
  if (doc.format !== FORMAT) throw bad('has the wrong format tag');
  if (doc.version !== VERSION) throw bad(`has unsupported version ${String(doc.version)}`);
  if (!Array.isArray(doc.rdpOrders) || doc.rdpOrders.length !== RDP_ORDERS.length || doc.rdpOrders.some((a, i) => a !== RDP_ORDERS[i])) throw bad('uses different Renyi orders');
  if (!Array.isArray(doc.clients)) throw bad('has no client list');
  const out = new Map<string, ClientState>();
  for (const c of doc.clients as { id?: unknown; spent?: Partial<CompositionState>; pending?: unknown }[]) {
    const s = c.spent;
    if (typeof c.id !== 'string' || !s || !isNum(s.queries) || !isNum(s.sumEpsilon) || !isNum(s.sumDelta) || !isNum(s.sumEpsilonSq) || !isNum(s.sumEpsilonExpm1) || !Array.isArray(s.rdp) || s.rdp.length !== RDP_ORDERS.length || !s.rdp.every(isNum) || !Array.isArray(c.pending)) throw bad('has a malformed client record');
    const pending = new Map<string, Pending>();
    for (const p of c.pending as { id?: unknown; charge?: PrivacyCharge; count?: unknown; at?: unknown }[]) {
      if (typeof p.id !== 'string' || !p.charge || !isNum(p.count)) throw bad('has a malformed reservation');
      try { checkCharge(p.charge, p.count, true); } catch { throw bad('has a malformed reservation'); }
      pending.set(p.id, { charge: p.charge, count: p.count, at: String(p.at) });
    }
    out.set(c.id, { spent: mergeComposition(emptyComposition(), s as CompositionState), pending });
  }
  return out;
}
