/**
 * The receive pool (recv-pool.ts) under real protocol runs on the h2 link: two sessions at once (two clients'
 * inputs of equal message sizes) and DReLU / ReLU several times each (relu-direct.ts and private-compare.ts hand
 * back c, P1's dealt shares and P2's d), all three parties' links in this process sharing the one pool: every
 * result equals the plaintext reference, and the pool did serve later messages with handed-back buffers.
 */
import { describe, expect, it } from 'vitest';
import { dealSeeds } from '../protocol/correlated/prg.js';
import { createContext, type PartyContext } from '../protocol/context.js';
import { referenceKernels as ref } from '../protocol/kernels/reference.js';
import { dreluDirect, reluDirect } from '../protocol/primitives/relu-direct.js';
import { plainDrelu, plainRelu } from '../protocol/reference/plain.js';
import type { AShare, PartyId } from '../protocol/ring/types.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { shareFor3 } from '../protocol/testing/run3.js';
import { MAX_U64, randomSigned, randomU64s, withEdges } from '../protocol/testing/values.js';
import { recvPool } from './recv-pool.js';
import { closeAll, meshTrio } from './testing/trio.js';

// 4096 elements: c is 32 KiB, P1's dealt shares 256 KiB, P2's d 256 KiB each: all pooled sizes (>= 16 KiB).
const N = 4096;
const input = (): BigUint64Array => BigUint64Array.from([...withEdges(randomSigned(N)), ...randomU64s(16), 1n << 63n, MAX_U64].slice(0, N));

async function chain(ctx: PartyContext, a: AShare): Promise<AShare[]> {
  const out: AShare[] = [];
  for (let i = 0; i < 3; i++) { out.push(await dreluDirect(ctx, a, `d${i}`)); out.push(await reluDirect(ctx, a, `r${i}`)); }
  return out;
}

describe('receive pool under two concurrent protocol runs on the h2 link', () => {
  it('two sessions at once, DReLU and ReLU three times each: every result equals the plaintext; handed-back buffers served later messages', async () => {
    const ms = await meshTrio({ tls: false, extra: { link: 'h2' } });
    try {
      const [reused0, recycled0] = [recvPool.reused, recvPool.recycled];
      const xs = [input(), input()];
      const runs = xs.map(async (x, k) => {
        const seeds = dealSeeds(), as = shareFor3(x);
        const views = ms.map((m) => m.openSession(`pool-run-${k}`));
        try {
          const outs = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => chain(createContext(p, views[p]!, seeds[p]!), as[p])));
          return outs[0]!.map((v, i) => reconstruct(ref, v, outs[1]![i]!));
        } finally {
          views.forEach((v) => v.close());
        }
      });
      const got = await Promise.all(runs);
      xs.forEach((x, k) => expect(got[k], `session ${k}`).toEqual([0, 1, 2].flatMap(() => [plainDrelu(x), plainRelu(x)])));
      // Per comparison 5 hand-backs (c at P0 and P1, P1's dealt shares, P2's two d): some of the 60 arrived in one
      // chunk and were decoded in place (not pooled), so only a lower bound is certain.
      expect(recvPool.recycled - recycled0).toBeGreaterThan(0);
      expect(recvPool.reused - reused0).toBeGreaterThan(0);
    } finally {
      await closeAll(ms);
    }
  }, 60_000);
});
