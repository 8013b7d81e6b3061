/**
 * Plaintext twins of the secure primitives, on ring values (BigInt, for tests
 * only). Signed means two's complement in Z_2^64.
 */
const signed = (v: bigint): bigint => BigInt.asIntN(64, v);
const u = (v: bigint): bigint => BigInt.asUintN(64, v);

export const plainDrelu = (a: BigUint64Array): BigUint64Array => a.map((v) => (signed(v) >= 0n ? 1n : 0n));
export const plainRelu = (a: BigUint64Array): BigUint64Array => a.map((v) => (signed(v) >= 0n ? v : 0n));
export const plainMsb = (a: BigUint64Array): BigUint64Array => a.map((v) => v >> 63n);
export const plainSelect = (alpha: BigUint64Array, x: BigUint64Array, y: BigUint64Array): BigUint64Array => x.map((v, i) => (alpha[i] ? y[i]! : v));
export function plainMaxPool(x: BigUint64Array, m: number, n: number): BigUint64Array {
  const out = new BigUint64Array(m);
  for (let r = 0; r < m; r++) {
    let best = signed(x[r * n]!);
    for (let i = 1; i < n; i++) if (signed(x[r * n + i]!) > best) best = signed(x[r * n + i]!);
    out[r] = u(best);
  }
  return out;
}
/** Exact floor division of signed values (what truncation approximates to within 1). */
export const plainDivFloor = (a: BigUint64Array, d: bigint): BigUint64Array => a.map((v) => {
  const s = signed(v);
  const q = s / d;
  return u(s < 0n && q * d !== s ? q - 1n : q);
});
/** Range sentinel (range-sentinel.ts): 1 where the signed value lies outside [-B, B), else 0. */
export const plainOutOfRange = (a: BigUint64Array, B: bigint): BigUint64Array => a.map((v) => (signed(v) >= B || signed(v) < -B ? 1n : 0n));
