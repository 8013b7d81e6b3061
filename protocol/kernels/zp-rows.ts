/**
 * P2's zero test over rows of Z_p values, shared by the ts kernels of every
 * row width (zeroTest: 64, zeroTest32: 32, zeroTest16: 16; kernels/ts.ts,
 * kernels/radix4.ts).
 */
import { checkLen, checkType, sizeOf } from './check.js';

const P = 67;
/** (a + b) % p === 0 for bytes a, b. */
const ZERO_SUM = new Uint8Array(511);
for (let v = 0; v < 511; v++) ZERO_SUM[v] = v % P === 0 ? 1 : 0;

/** out[e] = 1 iff some (d0 + d1) mod p == 0 in row e of `width` entries (zeroTest, zeroTest32, zeroTest16). */
export function zeroTestRows(op: string, width: number, d0: Uint8Array, d1: Uint8Array, out: Uint8Array): void {
  checkType(op, 'd0', d0, Uint8Array);
  checkType(op, 'd1', d1, Uint8Array);
  checkType(op, 'out', out, Uint8Array);
  const len = sizeOf(op, `${width}*out.length`, out.length, width);
  checkLen(op, `d0 (${width}*out.length)`, d0.length, len);
  checkLen(op, `d1 (${width}*out.length)`, d1.length, len);
  for (let e = 0; e < out.length; e++) {
    let z = 0;
    for (let i = e * width, end = i + width; i < end; i++) if (ZERO_SUM[d0[i]! + d1[i]!] === 1) { z = 1; break; }
    out[e] = z;
  }
}
