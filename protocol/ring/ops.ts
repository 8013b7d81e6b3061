/**
 * Small O(n) helpers over u64 arrays that work on 32-bit words (no BigInt per
 * element): bit extraction, selection by a bit, bits to ring elements.
 */
const words = (a: BigUint64Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length * 2);

/** Ring elements 0/1 from bits stored one per byte. */
export function bitsToU64(bits: Uint8Array, out: BigUint64Array = new BigUint64Array(bits.length)): BigUint64Array {
  const w = words(out);
  for (let i = 0; i < bits.length; i++) { w[2 * i] = bits[i]! & 1; w[2 * i + 1] = 0; }
  return out;
}

/** Least significant bit of each element. */
export function lsb(a: BigUint64Array): Uint8Array {
  const w = words(a);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = w[2 * i]! & 1;
  return out;
}

/** Most significant bit of each element. */
export function msb(a: BigUint64Array): Uint8Array {
  const w = words(a);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = w[2 * i + 1]! >>> 31;
  return out;
}

/**
 * out[i] = bit[i] ? ifOne[i] : ifZero[i] (bits 0 or 1). Branch-free with a
 * word mask: the bits are secret-dependent shares and random, so a branch
 * would mispredict half the time (2x slower at 1M elements).
 */
export function selectByBit(bit: Uint8Array, ifOne: BigUint64Array, ifZero: BigUint64Array, out: BigUint64Array): void {
  const o = words(out), a = words(ifOne), b = words(ifZero);
  for (let i = 0; i < bit.length; i++) {
    const m = -(bit[i]! & 1), j = 2 * i;
    o[j] = (a[j]! & m) | (b[j]! & ~m);
    o[j + 1] = (a[j + 1]! & m) | (b[j + 1]! & ~m);
  }
}

/** out[i] = bit[i] === keep ? x[i] : 0 (bits 0 or 1), branch-free; selectByBit against zeros without the zeros. */
export function keepWhereBit(bit: Uint8Array, keep: 0 | 1, x: BigUint64Array, out: BigUint64Array): void {
  const o = words(out), a = words(x);
  const flip = keep === 1 ? 0 : 1;
  for (let i = 0; i < bit.length; i++) {
    const m = -((bit[i]! & 1) ^ flip), j = 2 * i;
    o[j] = a[j]! & m;
    o[j + 1] = a[j + 1]! & m;
  }
}

/** A u64 array filled with one value. */
export function filled(n: number, v: bigint): BigUint64Array {
  return new BigUint64Array(n).fill(v);
}

/** Concatenate u64 arrays. */
export function concatU64(parts: BigUint64Array[]): BigUint64Array {
  const out = new BigUint64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
