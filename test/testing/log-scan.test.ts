/**
 * The end-to-end suites' log scanner (log-scan.ts) against a plain reference:
 * its u64 lookup (one pass over the classes, a bit-set prefilter on the low
 * halves) names the same first class as `includes` over the classes in
 * order, for every rendering of a value and none of the near misses (same
 * low half, another high half); sortDoubles orders as
 * Float64Array.prototype.sort; and fixedPointU64 equals the BigInt two's
 * complement of round(v 2^f) on random and edge values.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fixedPointU64, SecretIndex, sortDoubles, type Finding } from './log-scan.js';

const words = (n: number): BigUint64Array => new BigUint64Array(randomBytes(8 * n).buffer);
const hex = (v: bigint): string => v.toString(16).padStart(16, '0');
const leHex = (v: bigint): string => hex(v).match(/../g)!.reverse().join('');
const line = (field: string) => `{"level":30,"party":1,${field},"msg":"run done"}`;

describe('SecretIndex u64 lookup', () => {
  const a = words(200_000), b = words(100_000), c = words(50_000);
  // Values in two classes: the first one added names them. Small values (8-digit hex) and values with the top bit set.
  b[7] = a[11]!;
  c[3] = b[5]!;
  a[0] = 0x1234abcdn;
  c[9] = 0xffffffff00000001n;
  const idx = new SecretIndex().addU64('A', a).addU64('B', b).addU64('C', c);
  const classes: [string, BigUint64Array][] = [['A', a], ['B', b], ['C', c]];
  const reference = (v: bigint): string | null => classes.find(([, x]) => x.includes(v))?.[0] ?? null;

  it('names the first class holding a value in every rendering (decimal, signed, hex, 0x, little-endian, inside a long hex run)', () => {
    const picks = [a[11]!, b[5]!, a[0]!, c[9]!, a[123_456]!, b[99_999]!, c[0]!];
    for (const v of picks) {
      const want = reference(v)!;
      expect(want).not.toBeNull();
      const renderings: [string, string][] = [
        [line(`"v":"${v}"`), 'decimal'],
        [line(`"v":${BigInt.asIntN(64, v)}`), 'decimal'],
        [line(`"v":"${hex(v)}"`), 'hex'],
        [line(`"v":"0x${v.toString(16)}"`), 'hex'],
        [line(`"v":"${leHex(v)}"`), 'hex'],
        [line(`"v":"${hex(words(1)[0]!)}${hex(v)}"`), 'hex'],
      ];
      for (const [l, how] of renderings) {
        if (how === 'decimal' && v < 100_000_000n) continue; // fewer than 9 digits is no u64 token
        const u = idx.scan([l]).filter((f) => f.kind === 'u64');
        expect(u.map((f) => f.what), l).toEqual([`${want} (${how})`]);
      }
    }
  });

  it('finds nothing for values in no class, the near misses (same low half, another high half) included', () => {
    const misses = [a[5]! ^ (1n << 40n), b[6]! ^ (1n << 63n), BigInt.asUintN(64, c[7]! + (1n << 32n)), 987654321987n];
    for (const v of misses) {
      expect(reference(v)).toBeNull();
      const lines = [line(`"v":"${v}"`), line(`"v":"${hex(v)}"`), line(`"v":"${leHex(v)}"`)];
      expect(idx.scan(lines).filter((f) => f.kind === 'u64')).toEqual([]);
    }
  });

  it('a scan over many lines finds the same as one scan per line, and a class added later is looked up again', () => {
    const ls = [a[1]!, b[2]!, c[3]!, a[5]! ^ 1n].map((v) => line(`"v":"${hex(v)}"`));
    const u64 = (fs: Finding[]): Finding[] => fs.filter((f) => f.kind === 'u64');
    const together = idx.scan(ls).map((f) => [f.line, f.kind, f.what]);
    const apart = ls.flatMap((l, i) => idx.scan([l]).map((f) => [i, f.kind, f.what]));
    expect(together).toEqual(apart);
    expect(together.filter((f) => f[1] === 'u64').map(([l, , w]) => [l, w])).toEqual([[0, 'A (hex)'], [1, 'B (hex)'], [2, 'B (hex)']]);
    const more = new SecretIndex().addU64('A', a);
    expect(u64(more.scan([ls[1]!]))).toEqual([]);
    more.addU64('B', b);
    expect(u64(more.scan([ls[1]!])).map((f) => f.what)).toEqual(['B (hex)']);
    expect(more.u64Count).toBe(a.length + b.length);
  });
});

describe('sortDoubles (the real values\' index)', () => {
  it('orders as Float64Array.prototype.sort: random bit patterns, weights, ties, -0 and +0, subnormals, infinities', () => {
    const bits = Array.from(new Float64Array(randomBytes(8 * 20_000).buffer)).filter((v) => !Number.isNaN(v));
    const weights = Array.from(new Uint32Array(randomBytes(4 * 20_000).buffer), (u) => Math.fround((u / 2 ** 32 - 0.5) * 0.2));
    const edge = [0, -0, 0, -0, 5e-324, -5e-324, Number.MIN_VALUE, -Number.MAX_VALUE, Number.MAX_VALUE, Infinity, -Infinity, 1, -1, 1, 0.1, -0.1];
    for (const values of [[], [3], edge, [...bits, ...weights, ...edge, ...weights.slice(0, 500)]]) {
      const got = sortDoubles(Float64Array.from(values));
      const want = Float64Array.from(values).sort();
      expect(got.length).toBe(want.length);
      expect(Array.from(got, (v) => Object.is(v, -0) ? '-0' : v)).toEqual(Array.from(want, (v) => Object.is(v, -0) ? '-0' : v));
    }
  });

  it('a weight printed at 7 digits is found, a number between two weights is not', () => {
    const w = Float64Array.from([0.0123456789, -0.5, 0.25]);
    const idx = new SecretIndex().addReals({ name: 'weight', values: w, minSignificant: 7 });
    expect(idx.scan([line('"w":0.01234568')]).map((f) => f.what)).toEqual(['weight 0.0123456789']);
    expect(idx.scan([line('"w":0.01234578')])).toEqual([]);
  });
});

describe('fixedPointU64', () => {
  it('equals BigInt.asUintN(64, BigInt(Math.round(v 2^f))) on random and edge values', () => {
    // Random bit patterns as doubles (tiny to huge magnitudes: the BigInt path above 2^53 too).
    const bits = Array.from(new Float64Array(randomBytes(8 * 4096).buffer)).filter((v) => Number.isFinite(v * 2 ** 18));
    const random = Array.from(new Uint32Array(randomBytes(4 * 4096).buffer), (u, i) => (u / 2 ** 32 - 0.5) * 2 ** ((i % 40) - 10));
    const edge = [0, -0, 0.5, -0.5, 1.5, -1.5, 2 ** -20, -(2 ** -20), 2 ** 36, -(2 ** 36), 2 ** 37 - 1, -(2 ** 37) + 0.25, 2 ** 40, -(2 ** 40), 2 ** 47, -(2 ** 47), 2 ** 60, -(2 ** 60), 2 ** 70, -(2 ** 70)];
    for (const f of [0, 13, 16, 18]) {
      const values = [...edge, ...random, ...bits];
      const want = values.map((v) => BigInt.asUintN(64, BigInt(Math.round(v * 2 ** f))));
      expect(Array.from(fixedPointU64(values, f))).toEqual(want);
    }
  });

  it('throws on a value that has no integer encoding, as BigInt does', () => {
    expect(() => fixedPointU64([1, Number.NaN], 13)).toThrow(RangeError);
    expect(() => fixedPointU64([Number.POSITIVE_INFINITY], 13)).toThrow(RangeError);
  });
});
