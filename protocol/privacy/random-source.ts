/**
 * Randomness for the DP noise samplers.
 *
 * Production noise comes from the OS CSPRNG (node:crypto randomFillSync),
 * drawn by each data party on its own machine: no other party, and no seed
 * anyone else holds, determines it. Tests inject a seeded source (an AES-CTR
 * `Prg` from protocol/correlated) through the samplers' `rng` option, and
 * only tests may do so. Never Math.random.
 *
 * `Rng` turns a byte source into exact uniform integers (rejection sampling,
 * no modulo bias) and uniform doubles in the open interval (0, 1).
 */
import { randomFillSync } from 'node:crypto';
import { assert } from '../errors.js';

/** Anything that fills a byte array with random bytes; `Prg` from protocol/correlated/prg.ts fits. */
export interface RandomSource {
  fill(out: Uint8Array): Uint8Array;
}

/** The OS CSPRNG. */
export const cryptoSource: RandomSource = { fill: (out) => randomFillSync(out) };

const BUF = 4096;
const TWO32 = 4294967296;
const TWO53 = 9007199254740992;

export class Rng {
  private buf = new Uint8Array(BUF);
  private view = new DataView(this.buf.buffer);
  private pos = BUF;
  constructor(private readonly source: RandomSource = cryptoSource) {}

  private need(n: number): number {
    if (this.pos + n > BUF) { this.source.fill(this.buf); this.pos = 0; }
    const p = this.pos;
    this.pos += n;
    return p;
  }

  /** Uniform in [0, 2^32). */
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }

  /** Uniform integer in [0, 2^53). */
  u53(): number {
    const p = this.need(8);
    return (this.view.getUint32(p, true) & 0x1fffff) * TWO32 + this.view.getUint32(p + 4, true);
  }

  /** Uniform integer in [0, n) for an integer 1 <= n <= 2^53, exact (rejection). */
  below(n: number): number {
    assert(Number.isInteger(n) && n >= 1 && n <= TWO53, 'E_BAD_ARGUMENT', `rng: bound must be an integer in 1..2^53, got ${n}`);
    if (n <= TWO32) {
      const limit = TWO32 - (TWO32 % n);
      for (;;) { const v = this.u32(); if (v < limit) return v % n; }
    }
    const limit = TWO53 - (TWO53 % n);
    for (;;) { const v = this.u53(); if (v < limit) return v % n; }
  }

  /** Uniform bigint in [0, n) for n >= 1, exact (rejection on the bit length). */
  belowBig(n: bigint): bigint {
    assert(n >= 1n, 'E_BAD_ARGUMENT', 'rng: bound must be >= 1');
    if (n <= BigInt(TWO53)) return BigInt(this.below(Number(n)));
    const bits = n.toString(2).length;
    const words = Math.ceil(bits / 32);
    const topMask = bits % 32 === 0 ? 0xffffffff : 2 ** (bits % 32) - 1;
    for (;;) {
      let v = BigInt((this.u32() & topMask) >>> 0);
      for (let i = 1; i < words; i++) v = (v << 32n) | BigInt(this.u32());
      if (v < n) return v;
    }
  }

  /** Uniform double in the open interval (0, 1): (k + 1/2) / 2^53 for uniform k. */
  unit(): number {
    return (this.u53() + 0.5) / TWO53;
  }

  /** A fair bit. */
  bit(): number {
    return this.u32() & 1;
  }
}
