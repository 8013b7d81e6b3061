/**
 * Z_p values (p = 67) packed for the wire: two values a, b in [0, p-1] make
 * one code a + 67 b < 67^2 = 4489 < 2^13, so 16 values (8 codes, 104 bits)
 * travel in 13 bytes instead of 16 (PrivateCompare's d values: 16, 32 or 64
 * per element, always whole groups of 16). Codes are written least
 * significant bit first: code k of a group occupies bits 13k..13k+12 of its
 * 13 bytes (little-endian). These loops are both the ts kernels and the test
 * oracle of the native ones.
 */
import { MpcError } from '../errors.js';
import { checkLen, checkNoOverlap, checkType, sizeOf } from './check.js';
import type { RingKernels } from './types.js';

const P = 67;
/** Values per packed group and bytes per packed group. */
export const ZP_GROUP = 16;
export const ZP_GROUP_BYTES = 13;
/** Bytes that n Z_p values take packed (n a multiple of 16). */
export const packedZpBytes = (n: number): number => (n / ZP_GROUP) * ZP_GROUP_BYTES;

function groups(op: string, values: number): number {
  if (values % ZP_GROUP !== 0) throw new MpcError('E_SHAPE', `${op}: expected a multiple of ${ZP_GROUP} values, got ${values}`);
  return values / ZP_GROUP;
}

export const zpPackKernels: Pick<RingKernels, 'packZp16' | 'unpackZp16'> = {
  packZp16(v, out) {
    const op = 'packZp16';
    checkType(op, 'v', v, Uint8Array);
    checkType(op, 'out', out, Uint8Array);
    const g = groups(op, v.length);
    checkLen(op, 'out (13/16 of v.length)', out.length, sizeOf(op, 'out', g, ZP_GROUP_BYTES));
    checkNoOverlap(op, 'v', v, 'out', out);
    for (let e = 0; e < g; e++) {
      let acc = 0, bits = 0, o = e * ZP_GROUP_BYTES;
      for (let k = 0; k < ZP_GROUP; k += 2) {
        const a = v[e * ZP_GROUP + k]!, b = v[e * ZP_GROUP + k + 1]!;
        if (a >= P || b >= P) throw new MpcError('E_BAD_ARGUMENT', `${op}: every value must be below ${P}`);
        acc |= (a + P * b) << bits;
        bits += 13;
        while (bits >= 8) { out[o++] = acc & 0xff; acc >>>= 8; bits -= 8; }
      }
    }
  },

  unpackZp16(packed, out) {
    const op = 'unpackZp16';
    checkType(op, 'packed', packed, Uint8Array);
    checkType(op, 'out', out, Uint8Array);
    const g = groups(op, out.length);
    checkLen(op, 'packed (13/16 of out.length)', packed.length, sizeOf(op, 'packed', g, ZP_GROUP_BYTES));
    checkNoOverlap(op, 'packed', packed, 'out', out);
    let ok = true;
    for (let e = 0; e < g; e++) {
      let acc = 0, bits = 0, i = e * ZP_GROUP_BYTES;
      for (let k = 0; k < ZP_GROUP; k += 2) {
        while (bits < 13) { acc |= packed[i++]! << bits; bits += 8; }
        const code = acc & 0x1fff;
        acc >>>= 13;
        bits -= 13;
        if (code >= P * P) { ok = false; out[e * ZP_GROUP + k] = 0; out[e * ZP_GROUP + k + 1] = 0; continue; }
        const b = Math.floor(code / P);
        out[e * ZP_GROUP + k] = code - P * b;
        out[e * ZP_GROUP + k + 1] = b;
      }
    }
    return ok;
  },
};
