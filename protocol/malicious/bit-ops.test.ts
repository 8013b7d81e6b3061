import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PartyId } from '../ring/types.js';
import { fromBigints, toBigints, type Vec128 } from './ring128.js';
import { andPublicM, combSignedM, notM, xorPublicM } from './bit-ops.js';
import { reconstructRep, shareKey, shareMacced, type MShare, type Rep } from './rep.js';
import { kernelSets128 } from '../testing/ring128-cases.js';
import type { RingKernels } from '../kernels/types.js';

/** Without kernels (the TS loop), and on each kernel set (the native Z_2^128 path where the addon has it). */
const PATHS: [string, RingKernels | undefined][] = [['no kernels', undefined], ...kernelSets128('ts kernels')];

const M = 1n << 128n;
const big = (n: number): bigint[] => Array.from({ length: n }, () => BigInt('0x' + randomBytes(16).toString('hex')));
/** Random words and the edge words 0, 1, -1, 2^64 - 1, 2^64, 2^127 (the carries and borrows across every word). */
const words = (n: number): bigint[] => [0n, 1n, M - 1n, (1n << 64n) - 1n, 1n << 64n, 1n << 127n, 0xffffffffn, 1n << 32n, ...big(n - 8)];
const coefs = (n: number): Int8Array => Int8Array.from({ length: n }, () => randomInt(3) - 1);
const mshare = (n: number): MShare => ({ n, x: { a: fromBigints(words(n)), b: fromBigints(words(n)) }, m: { a: fromBigints(words(n)), b: fromBigints(words(n)) } });
const parts = (x: MShare): Vec128[] => [x.x.a, x.x.b, x.m.a, x.m.b];

describe('bit-ops: signed combinations of MACed bits (BitLT\'s local steps)', () => {
  it.each(PATHS)('combSignedM (%s) equals sum_t k_t x_t (+ c on share x_0, c alpha on the MAC shares) mod 2^128 on each share vector (BigInt reference), at every party', (_name, kernels) => {
    const n = 40;
    for (const party of [0, 1, 2] as PartyId[]) {
      const terms = [0, 1, 2].map(() => ({ x: mshare(n), k: coefs(n) }));
      const c = coefs(n);
      const alpha: Rep = { a: fromBigints(big(1)), b: fromBigints(big(1)) };
      const out = combSignedM(party, alpha, n, terms, c, kernels);
      const [al, bl] = [toBigints(alpha.a)[0]!, toBigints(alpha.b)[0]!];
      parts(out).forEach((v, q) => {
        const want = Array.from({ length: n }, (_, e) => {
          let acc = terms.reduce((t, term) => t + BigInt(term.k[e]!) * toBigints(parts(term.x)[q]!)[e]!, 0n);
          const ce = BigInt(c[e]!);
          if (q === 0 && party === 0) acc += ce; // share x_0 is P0's a
          if (q === 1 && party === 2) acc += ce; // and P2's b
          if (q === 2) acc += ce * al;
          if (q === 3) acc += ce * bl;
          return ((acc % M) + M) % M;
        });
        expect(toBigints(v), `party ${party}, vector ${q}`).toEqual(want);
      });
    }
  });

  it.each(PATHS)('on real sharings (%s): XOR / AND / NOT with public bits reconstruct to the right bits, with valid MACs (value times alpha)', (_name, kernels) => {
    const n = 64;
    const bits = Array.from({ length: n }, () => BigInt(randomInt(2)));
    const pub = Uint8Array.from({ length: n }, () => randomInt(2));
    const alpha = big(1)[0]!;
    const shares = shareMacced(fromBigints(bits), fromBigints([alpha]));
    const keys = shareKey(fromBigints([alpha]));
    const open = (f: (p: PartyId, x: MShare, key: Rep) => MShare): { y: bigint[]; m: bigint[] } => {
      const outs = ([0, 1, 2] as PartyId[]).map((p) => f(p, shares[p], keys[p]));
      return { y: toBigints(reconstructRep(outs.map((o) => o.x) as [Rep, Rep, Rep])), m: toBigints(reconstructRep(outs.map((o) => o.m) as [Rep, Rep, Rep])) };
    };
    const cases: [string, (p: PartyId, x: MShare, key: Rep) => MShare, (b: bigint, c: number) => bigint][] = [
      ['xor', (p, x, key) => xorPublicM(p, key, x, pub, kernels), (b, c) => b ^ BigInt(c)],
      ['and', (_p, x) => andPublicM(x, pub, kernels), (b, c) => b & BigInt(c)],
      ['not', (p, x, key) => notM(p, key, x, kernels), (b) => 1n - b],
    ];
    for (const [name, f, want] of cases) {
      const { y, m } = open(f);
      expect(y, name).toEqual(bits.map((b, e) => want(b, pub[e]!)));
      expect(m, `${name}: MAC`).toEqual(y.map((v) => (v * alpha) % M));
    }
  });

  it('refuses terms or constants of another length (E_SHAPE)', () => {
    const x = mshare(10), key: Rep = { a: fromBigints([1n]), b: fromBigints([2n]) };
    expect(() => combSignedM(0, key, 10, [{ x, k: new Int8Array(9) }])).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => combSignedM(0, key, 10, [{ x, k: new Int8Array(10) }], new Int8Array(3))).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => xorPublicM(0, key, x, new Uint8Array(4))).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
  });
});
