/**
 * AES-128-CTR pseudo-random generator (all-zero IV).
 *
 * Correlated randomness in SecureNN comes from PRGs whose seeds are shared by
 * a pair of parties (PROTOCOL-NOTES: "each pair of parties shares a PRG seed,
 * so most random shares are generated locally"). Two parties holding the same
 * seed and drawing in the same order get identical streams; the protocol
 * files draw from each pair PRG in the same order on both sides.
 *
 * Two implementations of the same keystream: the native addon's AES-NI code
 * (protocol/kernels/native/prg.cc), used when the runtime handed it in
 * (protocol/kernels/provision.ts; runtime/kernels.ts does when the CPU has
 * AES-NI and MPC_PRG is not 'node'), and node:crypto's "aes-128-ctr"
 * otherwise. They give the same bytes (a test checks), so parties on
 * different machines agree.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { assert } from '../errors.js';
import { provision, type PrgAccelerator } from '../kernels/provision.js';
import { tsKernels } from '../kernels/ts.js';
import { P } from '../ring/types.js';

type Cipheriv = ReturnType<typeof createCipheriv>;

/** The sampler loop runs natively when the runtime handed the native kernels in (same output either way). */
function rejectSample(raw: Uint8Array, table: Uint8Array, out: Uint8Array, filled: number): number {
  return (provision().native ?? tsKernels).rejectSample(raw, table, out, filled);
}

const CHUNK = 1 << 16;

export class Prg {
  /** Bytes of keystream consumed so far. */
  private offset = 0;
  private readonly seed: Uint8Array;
  /** The handed-in AES-NI keystream, or null (node:crypto). */
  private readonly aes: PrgAccelerator | null;
  // node:crypto path only:
  private cipher: Cipheriv | null = null;
  private zeros: Uint8Array | null = null;
  private buf = new Uint8Array(0);
  private pos = 0;

  constructor(seed: Uint8Array, opts: { backend?: 'auto' | 'node' } = {}) {
    assert(seed.length === 16, 'E_BAD_ARGUMENT', `prg: expected a 16-byte seed, got ${seed.length} bytes`);
    this.seed = Uint8Array.from(seed);
    this.aes = opts.backend === 'node' ? null : provision().prg;
    if (!this.aes) {
      this.cipher = createCipheriv('aes-128-ctr', seed, new Uint8Array(16));
      this.zeros = new Uint8Array(CHUNK);
    }
  }

  static fresh(): Prg {
    return new Prg(randomBytes(16));
  }

  /** Which keystream implementation this PRG uses. */
  get backend(): 'aes-ni' | 'node' {
    return this.cipher ? 'node' : 'aes-ni';
  }

  /** Fill `out` with pseudo-random bytes. */
  fill(out: Uint8Array): Uint8Array {
    if (!this.cipher) {
      this.aes!.prgKeystream(this.seed, this.offset, out);
      this.offset += out.length;
      return out;
    }
    let off = 0;
    // Serve from the small buffer first, then encrypt big spans directly.
    while (off < out.length && this.pos < this.buf.length) out[off++] = this.buf[this.pos++]!;
    const rest = out.length - off;
    if (rest >= CHUNK) {
      const whole = rest - (rest % 16);
      const enc = this.cipher.update(new Uint8Array(whole));
      out.set(enc, off);
      off += whole;
    }
    while (off < out.length) {
      if (this.pos >= this.buf.length) {
        this.buf = new Uint8Array(this.cipher.update(this.zeros!));
        this.pos = 0;
      }
      const take = Math.min(out.length - off, this.buf.length - this.pos);
      out.set(this.buf.subarray(this.pos, this.pos + take), off);
      this.pos += take;
      off += take;
    }
    this.offset += out.length;
    return out;
  }

  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }

  /** n uniform elements of Z_2^64 (also used for Z_{2^64-1}, see oddRing). */
  u64(n: number): BigUint64Array {
    return this.u64Into(new BigUint64Array(n));
  }

  /** Fill `out` with uniform elements of Z_2^64 (same stream as u64(out.length)). */
  u64Into(out: BigUint64Array): BigUint64Array {
    this.fill(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    return out;
  }

  /** n uniform elements of Z_{2^64-1}: rejection of the single value 2^64-1 (probability 2^-64 each). */
  u64odd(n: number): BigUint64Array {
    const out = this.u64(n);
    const MAX = 0xffffffffffffffffn;
    for (let i = 0; i < n; i++) {
      // Rare path: practically never taken; correctness needs it.
      while (out[i] === MAX) out[i] = this.u64(1)[0]!;
    }
    return out;
  }

  /** n uniform bits, one per byte (0 or 1). */
  bits(n: number): Uint8Array {
    return andBytes(this.bytes(n), 0x01);
  }

  /** n uniform elements of Z_p by rejection sampling of bytes (< 201 = 3p), exact, no bias. */
  zp(n: number): Uint8Array {
    return this.rejectInto(new Uint8Array(n), ZP_TABLE);
  }

  /** Fill `out` with uniform elements of Z_p (same stream as zp(out.length)). */
  zpInto(out: Uint8Array): Uint8Array {
    return this.rejectInto(out, ZP_TABLE);
  }

  /** n uniform elements of Z_p^* = {1..p-1}: bytes < 198 = 3(p-1) map to 1 + b mod (p-1). */
  zpStar(n: number): Uint8Array {
    return this.rejectInto(new Uint8Array(n), ZP_STAR_TABLE);
  }

  /** Fill `out` with uniform elements of Z_p^* (same stream as zpStar(out.length)). */
  zpStarInto(out: Uint8Array): Uint8Array {
    return this.rejectInto(out, ZP_STAR_TABLE);
  }

  /**
   * n accepted values of `table` over random bytes. Each round draws a fixed
   * amount for what is still missing and drops the unexamined rest, so two
   * holders of one seed consume the stream identically.
   */
  private rejectInto(out: Uint8Array, table: Uint8Array): Uint8Array {
    const n = out.length;
    if (!this.cipher) {
      this.offset = this.aes!.prgRejectSample(this.seed, this.offset, table, out);
      return out;
    }
    let filled = 0;
    while (filled < n) filled = rejectSample(this.bytes(Math.ceil((n - filled) * 1.32) + 16), table, out, filled);
    return out;
  }

  /** n uniform offsets in [0, 63] (6 bits of one byte each; 256 is a multiple of 64, so exact). */
  rotations64(n: number): Uint8Array {
    return andBytes(this.bytes(n), 0x3f);
  }

  /**
   * `count` uniform permutations of {0..size-1} (size <= 256), row-major in a
   * Uint8Array of count*size entries; Fisher-Yates with exact rejection.
   */
  permutations(count: number, size: number): Uint8Array {
    assert(size > 0 && size <= 256, 'E_BAD_ARGUMENT', `prg: permutation size must be 1..256, got ${size}`);
    const out = new Uint8Array(count * size);
    let raw = this.bytes(count * size * 2);
    let ri = 0;
    for (let c = 0; c < count; c++) {
      const base = c * size;
      for (let i = 0; i < size; i++) out[base + i] = i;
      for (let i = size - 1; i > 0; i--) {
        const range = i + 1;
        const limit = 256 - (256 % range);
        let b: number;
        do {
          if (ri >= raw.length) { raw = this.bytes(4096); ri = 0; }
          b = raw[ri++]!;
        } while (b >= limit);
        const j = b % range;
        const t = out[base + i]!;
        out[base + i] = out[base + j]!;
        out[base + j] = t;
      }
    }
    return out;
  }
}

/** out[i] &= m for every byte, four bytes per step (out is a fresh array: byteOffset 0); returns out. */
function andBytes(out: Uint8Array, m: number): Uint8Array {
  const words = out.length >>> 2, w = new Uint32Array(out.buffer, out.byteOffset, words), mw = m * 0x01010101;
  for (let i = 0; i < words; i++) w[i]! &= mw;
  for (let i = 4 * words; i < out.length; i++) out[i]! &= m;
  return out;
}

const REJECT = 255;
/** Lookup table: byte b -> (b mod m) + add if b < floor(256 / m) * m, else REJECT. */
function rejectTable(m: number, add: number): Uint8Array {
  const limit = 256 - (256 % m);
  return Uint8Array.from({ length: 256 }, (_, b) => (b < limit ? (b % m) + add : REJECT));
}
const ZP_TABLE = rejectTable(P, 0);
const ZP_STAR_TABLE = rejectTable(P - 1, 1);

/** Seeds for one party: the seeds it shares with each other party, and its own. */
export interface PartySeeds {
  /** seeds[k] is the seed shared with party k (undefined at own index). */
  readonly pair: readonly (Uint8Array | undefined)[];
  readonly own: Uint8Array;
}

/**
 * Dealer of seeds for an in-process run: pair seeds s01, s02, s12 from the
 * CSPRNG. In a deployment each pair agrees on its seed over their mTLS
 * channel (see parties/), never through a third party.
 */
export function dealSeeds(): [PartySeeds, PartySeeds, PartySeeds] {
  const s01 = randomBytes(16), s02 = randomBytes(16), s12 = randomBytes(16);
  return [
    { pair: [undefined, s01, s02], own: randomBytes(16) },
    { pair: [s01, undefined, s12], own: randomBytes(16) },
    { pair: [s02, s12, undefined], own: randomBytes(16) },
  ];
}
