import { describe, expect, it } from 'vitest';
import { referenceKernels as ref } from '../kernels/reference.js';
import { plainDrelu, plainRelu } from '../reference/plain.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { MAX_U64, randomSigned, randomU64s, withEdges } from '../testing/values.js';
import { dreluDirect, dreluDirectCost, reluDirect, reluDirectCost } from './relu-direct.js';

// Every ring value, not only |a| < 2^62: the direct route has no range bound.
const A = BigUint64Array.from([...withEdges(randomSigned(300)), ...randomU64s(200), 1n << 63n, (1n << 63n) - 1n, MAX_U64, 0n]);

describe('DReLU / ReLU directly over Z_2^64 (one 63-bit PrivateCompare)', () => {
  it('DReLU is 1 for a >= 0 and 0 for a < 0 on every ring value, incl. -2^63, 2^63-1, 0, -1', async () => {
    const as = shareFor3(A);
    const r = await run3((ctx) => dreluDirect(ctx, as[ctx.party]));
    expect(reconstruct(ref, r.results[0], r.results[1])).toEqual(plainDrelu(A));
    expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(dreluDirectCost(A.length));
    expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
  });
  it('ReLU equals max(a, 0) exactly in 3 rounds', async () => {
    const as = shareFor3(A);
    const r = await run3((ctx) => reluDirect(ctx, as[ctx.party]));
    expect(reconstruct(ref, r.results[0], r.results[1])).toEqual(plainRelu(A));
    expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(reluDirectCost(A.length));
    expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
  });
});
