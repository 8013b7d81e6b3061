/**
 * Transport.flush('drained') under concurrent runs (review of s38-cnn): relu-direct.ts makes P1 wait until its c_1
 * is on the wire and P0 until its d_0 is, while other sessions of the same processes write on the same links. Three
 * sessions at once run ReLU / DReLU on the 32-bit ring (the flushing path) with messages past the h2 link's
 * flow-control window (P2's d: 512 KiB each), while a timer keeps the event loop busy in 15 ms stretches (a slow
 * receiver: window updates come late). No run may wait on another for ever: every result equals the plaintext
 * and the drained waits did happen (h2); the gRPC link has no drain (one turn), same results.
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
import { randomU64s } from '../protocol/testing/values.js';
import { closeAll, meshTrio } from './testing/trio.js';

// 16384 values in 32-bit range: c is 128 KiB (P1 flushes 'drained' after it), P0's and P1's d 512 KiB each.
const N = 16384;
const input = (): BigUint64Array => BigUint64Array.from(randomU64s(N), (v) => BigInt.asUintN(64, BigInt.asIntN(32, v)));

async function chain(ctx: PartyContext, a: AShare): Promise<AShare[]> {
  return [await reluDirect(ctx, a, 'r0'), await dreluDirect(ctx, a, 'd0'), await reluDirect(ctx, a, 'r1')];
}

describe('flush("drained") with concurrent sessions and a slow event loop', () => {
  for (const link of ['h2', 'grpc'] as const) {
    it(`${link} link: three sessions at once on the 32-bit ring all finish, equal to the plaintext`, async () => {
      const ms = await meshTrio({ tls: false, extra: { link } });
      let drains = 0;
      for (const m of ms) {
        const orig = m.drained.bind(m);
        m.drained = (peers) => { const d = orig(peers); if (d) drains++; return d; };
      }
      // A slow receiver: every 5 ms the loop is held for 15 ms of synchronous work.
      const busy = setInterval(() => { const t = Date.now(); while (Date.now() - t < 15) { /* busy */ } }, 5);
      try {
        const xs = [input(), input(), input()];
        const runs = xs.map(async (x, k) => {
          const seeds = dealSeeds(), as = shareFor3(x);
          const views = ms.map((m) => m.openSession(`flush-run-${link}-${k}`));
          try {
            const outs = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => chain(createContext(p, views[p]!, seeds[p]!, { compareBits: 32 }), as[p])));
            return outs[0]!.map((v, i) => reconstruct(ref, v, outs[1]![i]!));
          } finally {
            views.forEach((v) => v.close());
          }
        });
        const got = await Promise.all(runs);
        xs.forEach((x, k) => expect(got[k], `session ${k}`).toEqual([plainRelu(x), plainDrelu(x), plainRelu(x)]));
        if (link === 'h2') expect(drains).toBeGreaterThan(0);
        else expect(drains).toBe(0);
      } finally {
        clearInterval(busy);
        await closeAll(ms);
      }
    }, 120_000);
  }
});
