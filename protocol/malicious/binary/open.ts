/**
 * Checked openings of packed binary sharings (Furukawa, Lindell, Nof,
 * Weinstein, EUROCRYPT 2017, §2.2: each share has two holders, so the one
 * a party lacks comes from one of them and is checked against the other;
 * the second sends a hash, as the arithmetic open.ts does):
 *
 * `openB`:
 *  1. P_j sends its b = x_{j+1} to P_{j-1} (who lacks it) and H(x_j) to
 *     P_{j+1}.
 *  2. P_i receives x_{i+2} from P_{i+1} and its hash from P_{i-1}; a
 *     mismatch is E_INTEGRITY at once. With one cheater, one of the two
 *     holders of x_{i+2} is honest, so an honest P_i gets the value the
 *     honest parties' copies define, or aborts.
 *  3. x = x_i XOR x_{i+1} XOR x_{i+2}.
 * Reveals x to all three: open only values masked by a random bit nobody
 * knows (the triples' a, b in verify.ts, the daBit in compare-bin.ts), or
 * values thrown away (the opened triples of triples.ts).
 *
 * `checkZeroB` (that a sharing is of 0, revealing nothing else; Araki,
 * Barak, Furukawa, Lichter, Lindell, Nof, Ohara, Watzman, Weinstein, S&P
 * 2017, the "compare views" check): if v = 0 then v_{i+2} = v_i XOR v_{i+1}. P_j
 * sends H(v_{j+1}) to P_{j-1}; P_i compares the hash from P_{i+1} with
 * H(v_i XOR v_{i+1}). With one cheater P_c, the honest P_{c+1} gets the
 * hash of v_c from the honest P_{c+2} and compares it with its own copies
 * of v_{c+1}, v_{c+2}: all three copies honest, so a nonzero v is caught
 * there (E_INTEGRITY), and P_{c+2} learns of it by the abort notice at its
 * next receive (the MAC check's rounds follow, as for openM).
 *
 * Cost: openB 1 round, 3 (8 W + 32) bytes for W words; checkZeroB 1 round,
 * 96 bytes whatever its size.
 */
import type { Cost } from '../../primitives/cost.js';
import { digest, HASH_BYTES, sameBytes, type MalSession } from '../session.js';
import { WORD_BYTES_B, lanesOf, type BShare } from './bshare.js';

export const openCostB = (words: number): Cost => ({ rounds: 1, bytes: 3 * (WORD_BYTES_B * words + HASH_BYTES) });
export const checkZeroCostB = (): Cost => ({ rounds: 1, bytes: 3 * HASH_BYTES });

const bytesOf = (v: Uint32Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
const hashOf = (tag: string, v: Uint32Array): Uint8Array => digest(`mal.bin:${tag}`, bytesOf(v));

/** a XOR b lane by lane, fresh (a loop: TypedArray.prototype.map with a closure was most of the zero checks' time). */
function xorLanes(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Words of a sharing. */
export const wordsOfB = (x: BShare): number => (lanesOf(x.n) / 2) * x.planes;

/** openB without its own step. */
export async function openBodyB(s: MalSession, x: BShare): Promise<Uint32Array> {
  const tag = s.label('openB');
  s.send(s.prev, `${tag}:v`, bytesOf(x.b.slice()));
  s.send(s.next, `${tag}:h`, hashOf(tag, x.a));
  const got = await s.recv(s.next, `${tag}:v`, x.b.byteLength);
  const v = new Uint32Array(got.buffer.slice(got.byteOffset, got.byteOffset + got.byteLength));
  const h = await s.recv(s.prev, `${tag}:h`, HASH_BYTES);
  if (!sameBytes(h, hashOf(tag, v))) s.fail(tag, `the share from P${s.next} and the hash from P${s.prev} disagree`);
  for (let i = 0; i < v.length; i++) v[i]! ^= x.a[i]! ^ x.b[i]!;
  s.observe(tag, bytesOf(v));
  return v;
}

/** Open x to all three parties, checked (see the header). Cost openCostB(words). */
export function openB(s: MalSession, x: BShare): Promise<Uint32Array> {
  return s.guard('mal.bin.open', () => openBodyB(s, x));
}

/** checkZeroB without its own step: E_INTEGRITY unless the sharing v is of 0 (every lane, padding included). */
export async function checkZeroBodyB(s: MalSession, v: BShare): Promise<void> {
  const tag = s.label('zeroB');
  s.send(s.prev, tag, hashOf(tag, v.b));
  const want = xorLanes(v.a, v.b);
  const h = await s.recv(s.next, tag, HASH_BYTES);
  if (!sameBytes(h, hashOf(tag, want))) s.fail(tag, `a checked AND or triple is wrong (the share's hash from P${s.next} does not complete a sharing of 0)`);
}

/** A zero check whose hashes travel later, in the MAC check's sigma round (verify.ts): its tag, taken when v was made. */
export interface ZeroCheckB { readonly tag: string; readonly v: BShare }

/** What P_i sends P_{i-1} for several zero checks at once: H(v_{i+1}) of each, end to end (32 bytes each). */
export function zeroHashesB(cs: readonly ZeroCheckB[]): Uint8Array {
  const out = new Uint8Array(HASH_BYTES * cs.length);
  cs.forEach((c, k) => out.set(hashOf(c.tag, c.v.b), HASH_BYTES * k));
  return out;
}

/** The hashes from P_{i+1}: each must complete this party's shares of its v to a sharing of 0; E_INTEGRITY otherwise. */
export function checkZeroHashesB(s: MalSession, cs: readonly ZeroCheckB[], got: Uint8Array): void {
  cs.forEach((c, k) => {
    if (!sameBytes(got.subarray(HASH_BYTES * k, HASH_BYTES * (k + 1)), hashOf(c.tag, xorLanes(c.v.a, c.v.b)))) {
      s.fail(c.tag, `a checked AND or triple is wrong (the share's hash from P${s.next} does not complete a sharing of 0)`);
    }
  });
}

/** Check that v is a sharing of 0. Cost checkZeroCostB(). */
export function checkZeroB(s: MalSession, v: BShare): Promise<void> {
  return s.guard('mal.bin.zero', () => checkZeroBodyB(s, v));
}
