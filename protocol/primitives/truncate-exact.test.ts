import { describe, expect, it } from 'vitest';
import { referenceKernels as ref } from '../kernels/reference.js';
import { plainDivFloor } from '../reference/plain.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { MAX_POS, MIN_NEG, randomSigned, withEdges } from '../testing/values.js';
import { truncate } from './truncate.js';
import { truncateExact, truncateExactCost } from './truncate-exact.js';

const asSigned = (a: BigUint64Array) => Array.from(a, (v) => BigInt.asIntN(64, v));
/** Per element: got - floor(x / 2^f) (signed). */
function offsets(X: BigUint64Array, got: BigUint64Array, f: number): bigint[] {
  const want = asSigned(plainDivFloor(X, 1n << BigInt(f)));
  return asSigned(got).map((g, i) => g - want[i]!);
}

describe('exact truncation with P2 (x + s opened to P2, its MSB shared back)', () => {
  for (const f of [13, 18, 24]) {
    it(`f = ${f}: floor(x / 2^f) or floor + 1 for every |x| < 2^62, incl. 0, -1, 2^62 - 1, -2^62; 2 rounds, 32 bytes per element`, async () => {
      const X = BigUint64Array.from([...withEdges(randomSigned(600)), ...randomSigned(300, 40), MAX_POS, MIN_NEG, 1n << 61n, BigInt.asUintN(64, -(1n << 61n)), (1n << BigInt(f)) - 1n, 1n << BigInt(f)]);
      const xs = shareFor3(X);
      const r = await run3((ctx) => truncateExact(ctx, xs[ctx.party], f));
      const d = offsets(X, reconstruct(ref, r.results[0], r.results[1]), f);
      expect(d.filter((v) => v !== 0n && v !== 1n)).toEqual([]);
      // Both outcomes occur (the ignored low-bit borrow), so the check above is not vacuous about the +1.
      expect(d.some((v) => v === 0n) && d.some((v) => v === 1n)).toBe(true);
      expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(truncateExactCost(X.length));
      expect(truncateExactCost(1).bytes).toBe(32);
      expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
      expect(r.transports[0].steps.get('Truncate')!.bytesSent).toBe(8 * X.length);
      expect(r.transports[2].steps.get('Truncate')!.bytesSent).toBe(16 * X.length);
    });
  }

  it('where the local rule fails at its predicted rate |x| / 2^64 (x = +-2^61: 1 in 8), the exact one never does', async () => {
    const n = 4000;
    const X = BigUint64Array.from({ length: n }, (_, i) => (i % 2 ? 1n << 61n : BigInt.asUintN(64, -(1n << 61n))));
    const xs = shareFor3(X);
    const local = await run3(async (ctx) => truncate(ctx, xs[ctx.party], 18));
    const exact = await run3((ctx) => truncateExact(ctx, xs[ctx.party], 18));
    const dl = offsets(X, reconstruct(ref, local.results[0], local.results[1]), 18);
    const de = offsets(X, reconstruct(ref, exact.results[0], exact.results[1]), 18);
    const failures = dl.filter((v) => v !== 0n && v !== 1n).length;
    // Binomial(4000, 1/8): mean 500, sd 21; the bounds are 6 sd away.
    expect(failures).toBeGreaterThan(375);
    expect(failures).toBeLessThan(625);
    expect(de.filter((v) => v !== 0n && v !== 1n)).toEqual([]);
  });

  it('rejects a shift outside [1, 62] before sending anything', async () => {
    const xs = shareFor3(BigUint64Array.of(5n));
    await expect(run3((ctx) => truncateExact(ctx, xs[ctx.party], 63))).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
  });
});
