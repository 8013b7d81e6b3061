/**
 * A session's binary-domain state (no protocol here): the ANDs made since
 * the last check, waiting for their verification (verify.ts), and the stock
 * of verified triples made ahead (triples.ts), used in order, each once.
 * Kept beside the MalSession (a WeakMap), so the arithmetic files know
 * nothing of it; mac-check.ts asks `hasPendingAnds` and runs the
 * verification before its own steps.
 */
import type { MalSession } from '../session.js';
import type { BShare } from './bshare.js';
import type { ZeroCheckB } from './open.js';

/** One AND call: z = x AND y as computed (and.ts), all three in the same layout. */
export interface PendingAnd { readonly x: BShare; readonly y: BShare; readonly z: BShare }

export interface BinaryState {
  pending: PendingAnd[];
  /** Zero checks whose hashes travel in the next MAC check's sigma round (verify.ts openVerifiedBodyB, mac-check.ts). */
  zeroChecks: ZeroCheckB[];
  /** Verified triples (a, b, c = a AND b) as whole words, made ahead; `used` words of them are spent. */
  stock: { a: BShare; b: BShare; c: BShare; used: number } | null;
}

const states = new WeakMap<MalSession, BinaryState>();

export function binaryState(s: MalSession): BinaryState {
  let st = states.get(s);
  if (!st) states.set(s, (st = { pending: [], zeroChecks: [], stock: null }));
  return st;
}

/** Whether ANDs wait for verification (mac-check.ts runs verify.ts first when they do). */
export const hasPendingAnds = (s: MalSession): boolean => (states.get(s)?.pending.length ?? 0) > 0;

/** u64 words of ANDs waiting for verification. */
export const pendingWords = (s: MalSession): number => (states.get(s)?.pending ?? []).reduce((t, p) => t + p.z.a.length / 2, 0);
