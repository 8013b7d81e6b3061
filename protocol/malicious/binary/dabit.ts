/**
 * daBits: random bits held both as MACed arithmetic values and as binary
 * sharings (Rotaru and Wood, INDOCRYPT 2019; Escudero, Ghosh, Keller,
 * Rachuri, Scholl, CRYPTO 2020; here from the pair PRGs, no input):
 *
 *  1. Pair bits (randbits.ts pairBits): t_j drawn from the PRG of P_j and
 *     P_{j-1}; party i holds (t_i, t_{i+1}).
 *  2. Binary part (local): b = t_0 XOR t_1 XOR t_2 is a replicated binary
 *     sharing with components t_j: party i's (t_i, t_{i+1}), packed.
 *  3. Arithmetic part: the same t through randbits.ts xorPairBits (MAC of
 *     T = t_0 + t_1 + t_2, then b = T mod 2 by two products, MACed).
 *
 * Consistency under a cheater: each t_j has an honest holder, and the
 * honest copies define both parts (the binary value through every checked
 * opening and AND verification, the arithmetic one through the MAC check),
 * so both are t_0 XOR t_1 XOR t_2 of the same honest bits; a cheater's other
 * copy only adds errors that those checks catch. b is uniform to every
 * party: each misses the t of the pair it is not in.
 *
 * Cost: randbits.ts randBitsCost(n) (3 rounds, 240 n bytes); the binary
 * part is free. Input-independent: `daBitsM` asks the session's mask source
 * (mask-source.ts kind 'bin.dabits'), so a pool entry made ahead in an
 * offline batch (mask-pool.ts: the arithmetic part verified by the batch's
 * MAC check, under the epoch's key) hands them out once each, in the
 * recorded order; without a source they are made here.
 */
import { assert } from '../../errors.js';
import type { Cost } from '../../primitives/cost.js';
import type { MShare } from '../rep.js';
import { pairBits, randBitsCost, xorPairBits } from '../randbits.js';
import type { MalSession } from '../session.js';
import { registerMaskMaker, takeMask } from '../mask-source.js';
import { lanesOf, type BShare } from './bshare.js';

export interface DaBits { readonly arith: MShare; readonly bin: BShare }

export const daBitsCostB = (n: number): Cost => randBitsCost(n);

/** The 0/1 low words of a Vec128 share vector, packed into one plane. */
export function packLow(v: Uint32Array, n: number): Uint32Array {
  const out = new Uint32Array(lanesOf(n));
  for (let e = 0; e < n; e++) out[e >>> 5]! |= (v[4 * e]! & 1) << (e & 31);
  return out;
}

async function daBitsBody(s: MalSession, n: number): Promise<DaBits> {
  const t = pairBits(s.ctx, n);
  const bin: BShare = { n, planes: 1, a: packLow(t.a, n), b: packLow(t.b, n) };
  return { arith: await xorPairBits(s, t), bin };
}

/** The mask kind of daBits (mask-source.ts): n daBits, no parameters. */
export const DABITS_KIND = 'bin.dabits';
registerMaskMaker(DABITS_KIND, (s, n) => s.guard('mal.bin.dabits', () => daBitsBody(s, n)), (n) => daBitsCostB(n));

/** n daBits (steps 1-3), from the session's mask source when it has one (made ahead), else made here. Cost daBitsCostB(n) (0 from a pool entry). */
export function daBitsM(s: MalSession, n: number): Promise<DaBits> {
  return s.guard('mal.bin.dabits', async () => {
    assert(Number.isInteger(n) && n >= 1, 'E_SHAPE', `malicious.binary.daBits: the number of bits must be a positive integer, got ${n}`, { party: s.party });
    const d = await takeMask(s, { kind: DABITS_KIND, n, params: [] }, () => daBitsBody(s, n));
    assert(d.bin.n === n && d.arith.n === n, 'E_INTERNAL', `malicious.binary.daBits: the source handed out ${d.bin.n} daBits for ${n}`, { party: s.party });
    return d;
  });
}
