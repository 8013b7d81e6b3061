/**
 * The local steps s43-malcpu rewrote for CPU, each against the code it replaced (kept here verbatim as the
 * reference): binary/compare-bin.ts chooseM (word copies instead of four subarray views per chosen element),
 * trunc.ts keepWhere (copies where kept into a zeroed MShare instead of slice + fill where dropped) and lowBits
 * (the high word's mask computed once). The same bits on random and edge vectors, every choice pattern.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alloc128, len128, type Vec128 } from './ring128.js';
import type { MShare } from './rep.js';
import { chooseM } from './binary/compare-bin.js';
import { keepWhere, lowBits } from './trunc.js';

const words = (k: number): Vec128 => new Uint32Array(randomBytes(4 * k).buffer) as Vec128;
/** A random MShare of n elements with a few edge elements (0, all ones, 2^127, 2^64 - 1) when n allows. */
function randomShare(n: number): MShare {
  const v = (): Vec128 => {
    const out = words(4 * n);
    const edges = [[0, 0, 0, 0], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0, 0, 0, 0x80000000], [0xffffffff, 0xffffffff, 0, 0]];
    for (let e = 0; e < Math.min(n, edges.length); e++) out.set(edges[e]!, 4 * e);
    return out;
  };
  return { n, x: { a: v(), b: v() }, m: { a: v(), b: v() } };
}
const copy = (x: MShare): MShare => ({ n: x.n, x: { a: x.x.a.slice() as Vec128, b: x.x.b.slice() as Vec128 }, m: { a: x.m.a.slice() as Vec128, b: x.m.b.slice() as Vec128 } });
const flat = (x: MShare): number[][] => [[x.n], [...x.x.a], [...x.x.b], [...x.m.a], [...x.m.b]];

/** compare-bin.ts chooseM before f4e6526. */
function chooseRef(e: Uint8Array, one: MShare, zero: MShare): MShare {
  const out = zero;
  for (let i = 0; i < e.length; i++) {
    if (!e[i]) continue;
    const w = 4 * i, w4 = w + 4;
    out.x.a.set(one.x.a.subarray(w, w4), w); out.x.b.set(one.x.b.subarray(w, w4), w);
    out.m.a.set(one.m.a.subarray(w, w4), w); out.m.b.set(one.m.b.subarray(w, w4), w);
  }
  return out;
}

/** trunc.ts keepWhere before a26905a. */
function keepRef(x: MShare, keep: Uint8Array): MShare {
  const sel = (v: Vec128): Vec128 => {
    const out = v.slice() as Vec128;
    for (let e = 0; e < x.n; e++) if (!keep[e]) out.fill(0, 4 * e, 4 * e + 4);
    return out;
  };
  return { n: x.n, x: { a: sel(x.x.a), b: sel(x.x.b) }, m: { a: sel(x.m.a), b: sel(x.m.b) } };
}

/** trunc.ts lowBits before a26905a. */
function lowBitsRef(c: Vec128, m: number, f: number): { cShift: Vec128; notTop: Uint8Array } {
  const n = len128(c);
  const cShift = alloc128(n), notTop = new Uint8Array(n);
  for (let e = 0; e < n; e++) {
    let lo = c[4 * e]!, hi = c[4 * e + 1]!;
    if (m <= 32) { lo = m === 32 ? lo : lo & ((1 << m) - 1); hi = 0; } else if (m < 64) hi &= 2 ** (m - 32) - 1;
    const top = m - 1 < 32 ? (lo >>> (m - 1)) & 1 : (hi >>> (m - 33)) & 1;
    notTop[e] = 1 - top;
    if (f < 32) {
      cShift[4 * e] = ((lo >>> f) | (hi << (32 - f))) >>> 0;
      cShift[4 * e + 1] = hi >>> f;
    } else {
      cShift[4 * e] = hi >>> (f - 32);
    }
  }
  return { cShift, notTop };
}

/** Choice patterns: random, none, all, alternating, only the first and the last. */
function patterns(n: number): Uint8Array[] {
  const r = randomBytes(n), out = [Uint8Array.from(r, (b) => b & 1), new Uint8Array(n), new Uint8Array(n).fill(1), Uint8Array.from({ length: n }, (_, i) => i & 1)];
  const ends = new Uint8Array(n);
  if (n > 0) { ends[0] = 1; ends[n - 1] = 1; }
  out.push(ends);
  return out;
}

const SIZES = [0, 1, 2, 3, 31, 32, 33, 64, 257];

describe('CPU cuts of s43-malcpu: the same bits as the code they replaced', () => {
  it('chooseM (binary ReLU step 4): zero_i := one_i where e_i = 1, in place, every other element and word untouched', () => {
    for (const n of SIZES) {
      for (const e of patterns(n)) {
        const one = randomShare(n), zero = randomShare(n);
        const want = chooseRef(e, copy(one), copy(zero));
        const z = copy(zero), got = chooseM(e, copy(one), z);
        expect(got, `n = ${n}`).toBe(z); // returns zero, changed in place (reluBinM relies on it)
        expect(flat(got), `n = ${n}, e = ${[...e].slice(0, 8)}`).toEqual(flat(want));
      }
    }
  });

  it('keepWhere (truncFinish): value and MAC shares zeroed where keep = 0, copied where 1; the input unchanged', () => {
    for (const n of SIZES) {
      for (const keep of patterns(n)) {
        const x = randomShare(n), before = flat(copy(x));
        const got = keepWhere(x, keep);
        expect(flat(got), `n = ${n}`).toEqual(flat(keepRef(x, keep)));
        expect(flat(x)).toEqual(before);
      }
    }
  });

  it('lowBits (truncFinish step 3): c\' = (c mod 2^m) >> f and 1 - c_{m-1}, every m in 2..64 and f in 1..m-1, random and edge c', () => {
    const n = 40, c = words(4 * n);
    const edges = [[0, 0, 0, 0], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0x80000000, 0, 0, 0], [0, 0x80000000, 0, 0], [0xffffffff, 0x7fffffff, 0, 0], [0x7fffffff, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]];
    edges.forEach((w, e) => c.set(w, 4 * e));
    for (let m = 2; m <= 64; m++) {
      for (let f = 1; f < m; f++) {
        const got = lowBits(c, m, f), want = lowBitsRef(c, m, f);
        expect([...got.cShift], `m = ${m}, f = ${f}`).toEqual([...want.cShift]);
        expect([...got.notTop], `m = ${m}, f = ${f}`).toEqual([...want.notTop]);
      }
    }
  });
});
