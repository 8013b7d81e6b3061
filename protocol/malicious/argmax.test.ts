import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runMal3, values } from '../testing/cheat.js';
import { isMpcError } from '../errors.js';
import { fromBigints, liftSigned } from './ring128.js';
import { setupCost } from './session.js';
import { inputM, publicM } from './input.js';
import { openLow } from './open.js';
import { macCheck } from './mac-check.js';
import { argmaxCostM, argmaxM } from './argmax.js';

/** numpy's argmax per row: the first index of the maximum. */
const reference = (x: bigint[], m: number, n: number): bigint[] =>
  Array.from({ length: m }, (_, r) => {
    let best = 0;
    for (let j = 1; j < n; j++) if (x[r * n + j]! > x[r * n + best]!) best = j;
    return BigInt(best);
  });

function logits(m: number, n: number, ell: number): bigint[] {
  const max = (1n << BigInt(ell - 2)) - 1n;
  return Array.from({ length: m * n }, () => {
    const v = BigInt('0x' + randomBytes(8).toString('hex')) & max;
    return randomBytes(1)[0]! & 1 ? -v : v;
  });
}

async function argmax(xs: bigint[], m: number, n: number, ell: number): Promise<bigint[]> {
  const r = await runMal3(async (s) => {
    const x = await inputM(s, 0, s.party === 0 ? liftSigned(BigUint64Array.from(xs.map((v) => BigInt.asUintN(64, v)))) : null, xs.length);
    const out = await openLow(s, await argmaxM(s, x, m, n, ell));
    await macCheck(s);
    return Array.from(out);
  });
  const [a, b, c] = values(r);
  expect(b).toEqual(a);
  expect(c).toEqual(a);
  return a;
}

describe('argmaxM (tournament carrying the class index, ties to the lower index) against numpy-style argmax', () => {
  it('random logits (ell = 32 and 64), n = 1, 2, 3, 10 classes, several rows', async () => {
    for (const ell of [32, 64]) for (const [m, n] of [[1, 1], [3, 2], [2, 3], [4, 10]] as const) {
      const xs = logits(m, n, ell);
      expect(await argmax(xs, m, n, ell), `ell ${ell} m ${m} n ${n}`).toEqual(reference(xs, m, n));
    }
  });

  it('ties and extremes: all equal, max at both ends, +-(2^(ell-2) - 1), 0 and -1', async () => {
    const M = (1n << 30n) - 1n;
    const rows = [[5n, 5n, 5n, 5n, 5n], [M, 0n, -1n, M, -M], [-M, -M, -M, -M, -1n], [-1n, 0n, 0n, -M, 0n], [-M, -M, M, M, M]];
    expect(await argmax(rows.flat(), rows.length, 5, 32)).toEqual(reference(rows.flat(), rows.length, 5));
  });

  it('declared cost matches the transport counters; a bad shape is E_SHAPE at every party', async () => {
    for (const [m, n] of [[1, 2], [2, 5], [3, 10]] as const) {
      const xs = fromBigints(logits(m, n, 16).map((v) => BigInt.asUintN(128, v)));
      const r = await runMal3(async (s) => argmaxM(s, publicM(s, xs), m, n, 16));
      values(r);
      expect({ rounds: r.rounds - setupCost().rounds, bytes: r.bytes - setupCost().bytes }, `${m} x ${n}`).toEqual(argmaxCostM(m, n, 16));
    }
    const bad = await runMal3(async (s) => argmaxM(s, publicM(s, fromBigints([1n, 2n, 3n])), 2, 2, 16));
    for (const o of bad.outcomes) expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code).toBe('E_SHAPE');
  });
});
