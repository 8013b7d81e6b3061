/**
 * The client's side of the malicious mode's input and output
 * (docs/MALICIOUS.md "The client"; the parties' side is
 * protocol/malicious/client-io.ts, which numbers the steps):
 *
 *  - `maskedInput` (step 2): from the three parties' messages (P_i sends its
 *    replicated shares r_i, r_{i+1} of a MACed random mask), check that the
 *    two copies of every share agree, reconstruct r and return
 *    d = x − r mod 2^128 (x sign-extended), the one message sent to all
 *    three parties.
 *  - `reconstructOutput` (step 5): from the three parties' output messages
 *    (shares of y + 2^64 rho), check the copies, return y mod 2^64 (the
 *    fixed-point outputs, two's complement).
 *
 * A copy that disagrees is E_INTEGRITY naming the share and its two
 * holders: one party altered what it sent, and the client shows nothing.
 * Only ring128.ts (pure arithmetic on words) is used, so this runs in the
 * browser bundle too.
 */
import { add128, alloc128, bytes128, equal128, fromBytes128, liftSigned, low64, sub128, WORD_BYTES, type Vec128 } from '../../protocol/malicious/ring128.js';
import { PrivateInferenceError } from './errors.js';

type Three = readonly [Uint8Array, Uint8Array, Uint8Array];

/** The three parties' shares (x_i, x_{i+1}) from their messages, checked, summed. */
function reconstruct(msgs: Three, n: number, what: string): Vec128 {
  const parts = msgs.map((m, i) => {
    if (m.byteLength !== 2 * WORD_BYTES * n) throw new PrivateInferenceError('E_INTEGRITY', `malicious ${what}: P${i} sent ${m.byteLength} bytes, expected ${2 * WORD_BYTES * n}`, { party: i as 0 | 1 | 2, step: `client.${what}` });
    return { a: fromBytes128(m.subarray(0, WORD_BYTES * n)), b: fromBytes128(m.subarray(WORD_BYTES * n)) };
  });
  for (let i = 0; i < 3; i++) {
    const j = (i + 1) % 3;
    if (!equal128(parts[i]!.b, parts[j]!.a)) {
      throw new PrivateInferenceError('E_INTEGRITY', `malicious ${what}: the two copies of share ${j} (from P${i} and P${j}) disagree: a party deviated; nothing is shown`, { step: `client.${what}` });
    }
  }
  return add128(add128(parts[0]!.a, parts[1]!.a, alloc128(n)), parts[2]!.a, alloc128(n));
}

/** Step 2: d = x − r for the fixed-point input x (Z_2^64 words), from the parties' mask messages. */
export function maskedInput(x: BigUint64Array, fromParties: Three): Uint8Array {
  const r = reconstruct(fromParties, x.length, 'input');
  return bytes128(sub128(liftSigned(x), r, alloc128(x.length))).slice();
}

/** Step 5: the n fixed-point outputs (mod 2^64) from the parties' output messages. */
export function reconstructOutput(fromParties: Three, n: number): BigUint64Array {
  return low64(reconstruct(fromParties, n, 'output'));
}
