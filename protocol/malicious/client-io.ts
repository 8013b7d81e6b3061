/**
 * The client's input and output in the malicious mode, the parties' side
 * (docs/MALICIOUS.md "The client"; SPDZ-style masked input, Damgård, Pastro,
 * Smart, Zakarias, CRYPTO 2012, with the client as the input owner, as in
 * input.ts; output with a 2^64 rho mask as open.ts openLow). The client's
 * side is client-sdk/src/malicious-io.ts. I/O-free: the parties' messages
 * to and from the client are byte arrays the caller carries.
 *
 * Input of n fixed-point values x held by the client:
 *  1. (`inputMask`) The parties make a random MACed [r] (product.ts
 *     randomMacced: r from the pair PRGs, its MAC by one resharing), and each
 *     party P_i gives the client its two shares (r_i, r_{i+1}).
 *  2. (client) Every share r_j arrives from its two holders; the client
 *     reconstructs r only if the copies agree (else E_INTEGRITY), and sends
 *     d = x − r mod 2^128 (x sign-extended into Z_2^128) to all three.
 *  3. (`inputFromClient`) [x] = [r] + d, [alpha x] = [alpha r] + d [alpha]
 *     (rep.ts addPublicM). d joins each party's view, which the MAC check's
 *     confirm round compares (mac-check.ts step 4): a client that sends
 *     different d to different parties makes the run abort with E_INTEGRITY
 *     before any output.
 *
 * Output of a MACed y (n elements):
 *  4. (`outputToClient`) The batched MAC check runs first (mac-check.ts);
 *     only after it passes does each party compute its shares of
 *     z = y + 2^64 rho, rho a fresh random replicated sharing from the pair
 *     PRGs (no message), and give the client (z_i, z_{i+1}): the high 64
 *     bits of z are uniform, so the client learns y mod 2^64, the
 *     fixed-point output, and nothing of the slack bits.
 *  5. (client) Every share z_j arrives from two parties; the client
 *     reconstructs only if the copies agree, else E_INTEGRITY.
 *
 * Cost among the parties: input 1 round, 48 n bytes (macOf); output the MAC
 * check's 4 rounds, 912 bytes. With the client: 32 n bytes from each party
 * and 16 n bytes to each party for the input, 32 n bytes from each party for
 * the output (`clientIoBytes`).
 */
import type { Cost } from '../primitives/cost.js';
import { MpcError } from '../errors.js';
import { add128, alloc128, bytes128, fromBytes128, len128, WORD_BYTES, type Vec128 } from './ring128.js';
import { addPublicM, randomRep, type MShare, type Rep } from './rep.js';
import { macOfCost, randomMacced } from './product.js';
import { macCheck, macCheckCost } from './mac-check.js';
import type { MalSession } from './session.js';
import { registerMaskMaker, takeMask } from './mask-source.js';

export const inputMaskCost = (n: number): Cost => macOfCost(n);
export const outputToClientCost = (): Cost => macCheckCost();
/** Bytes between the client and the three parties: input (r's shares out, d in) and output. */
export const clientIoBytes = (n: number): { input: number; output: number } => ({ input: 3 * 2 * WORD_BYTES * n + 3 * WORD_BYTES * n, output: 3 * 2 * WORD_BYTES * n });

/** A party's two shares as one message for the client: x_i then x_{i+1}. */
export function repMessage(r: Rep): Uint8Array {
  const n = len128(r.a);
  const out = new Uint8Array(2 * WORD_BYTES * n);
  out.set(bytes128(r.a), 0);
  out.set(bytes128(r.b), WORD_BYTES * n);
  return out;
}

registerMaskMaker('input', (s, n) => randomMacced(s, n), (n) => inputMaskCost(n));

/**
 * Step 1: [r] with its MAC, and this party's message for the client; r from
 * the session's mask source when it has one (mask-source.ts: kind 'input'),
 * else made here. Cost inputMaskCost(n) (0 from a pool).
 */
export function inputMask(s: MalSession, n: number): Promise<{ r: MShare; forClient: Uint8Array }> {
  return s.guard('mal.clientInput', async () => {
    const r = await takeMask(s, { kind: 'input', n, params: [] }, () => randomMacced(s, n));
    return { r, forClient: repMessage(r.x) };
  });
}

/**
 * Step 3: [x] from the mask of step 1 and the client's d (16 n bytes). A d of
 * the wrong length aborts the run (E_SHAPE here, abort notices to the peers);
 * d that differs between the parties aborts it at the MAC check (E_INTEGRITY);
 * the served mode compares a digest of d before this step (parties/malicious-desk.ts:
 * E_SESSION_BINDING, the client's fault, the epoch kept).
 */
export function inputFromClient(s: MalSession, r: MShare, d: Uint8Array): Promise<MShare> {
  return s.guard('mal.clientInput', async () => {
    if (d.byteLength !== r.n * WORD_BYTES) throw new MpcError('E_SHAPE', `malicious.clientInput: the client sent ${d.byteLength} bytes, expected ${r.n * WORD_BYTES} (${r.n} elements)`, { party: s.party, step: 'mal.clientInput' });
    const dv = fromBytes128(d);
    s.observe(s.label('clientInput'), bytes128(dv));
    return addPublicM(s.party, s.alpha, r, dv, s.ctx.kernels);
  });
}

/** 2^64 v: the low 64 bits of each element move to the high 64. */
function shift64(v: Vec128): Vec128 {
  const out = alloc128(len128(v));
  for (let i = 0; i < v.length; i += 4) { out[i + 2] = v[i]!; out[i + 3] = v[i + 1]!; }
  return out;
}

/**
 * Step 4: the MAC check, then this party's shares of y + 2^64 rho for the
 * client. Throws E_INTEGRITY (and returns nothing for the client) when the
 * check fails. Cost outputToClientCost().
 */
export function outputToClient(s: MalSession, y: MShare): Promise<Uint8Array> {
  return s.guard('mal.clientOutput', async () => {
    await macCheck(s);
    const rho = randomRep(s.ctx, y.n);
    const z: Rep = { a: add128(y.x.a, shift64(rho.a), alloc128(y.n)), b: add128(y.x.b, shift64(rho.b), alloc128(y.n)) };
    return repMessage(z);
  });
}
