/**
 * maxPool with fuseRelu (the tournament's last level as relu-max-pairs.ts): the declared maxPoolCost(..., true)
 * equals the transport's counters, and the result is ReLU(max) of each window, for odd and even window sizes on both
 * comparison rings (the merged code had no test of this cost row against the counters).
 */
import { describe, expect, it } from 'vitest';
import { getKernels } from '../kernels/index.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { randomU64s } from '../testing/values.js';
import { maxPool, maxPoolCost } from './maxpool.js';

const k = getKernels();

describe('maxPool, ReLU fused into the last level: cost and result', () => {
  it('windows of 2, 3, 4, 5, 9 on the 32- and 64-bit comparison rings (ties and negatives included)', async () => {
    for (const [m, n] of [[5, 2], [4, 3], [3, 4], [7, 5], [2, 9]] as const) for (const bits of [32, 64] as const) {
      const r0 = randomU64s(m * n);
      // Every third value from {-1, 0, 1} (ties), the rest random below 2^29 in magnitude.
      const x = BigUint64Array.from({ length: m * n }, (_, i) => BigInt.asUintN(64, i % 3 === 0 ? BigInt((i % 3) - 1 + (i % 2)) : BigInt.asIntN(30, r0[i]!)));
      const xs = shareFor3(x);
      const r = await run3((ctx) => maxPool(ctx, xs[ctx.party], m, n, 'mp', true), { comparison: 'direct', compareBits: bits });
      expect({ rounds: r.rounds, bytes: r.bytes }, `${m}x${n} ${bits}`).toEqual(maxPoolCost(m, n, 'direct', bits, true));
      const want = BigUint64Array.from({ length: m }, (_, w) => {
        let best = 0n;
        for (let j = 0; j < n; j++) { const v = BigInt.asIntN(64, x[w * n + j]!); if (v > best) best = v; }
        return best;
      });
      expect(reconstruct(k, r.results[0], r.results[1]), `${m}x${n} ${bits}`).toEqual(want);
    }
  });
});
