/**
 * The send pool (protocol/ring/send-pool.ts) under real protocol runs on the party mesh: two sessions at once,
 * DReLU and ReLU three times each. On the h2 link every pooled send buffer (P2's dealt shares and z, w; on the
 * 32-bit ring also P0's and P1's d; P0's and P1's c_j where opened whole) comes back once its write has completed (FramedStream.write's callback) and
 * serves later messages; on the gRPC link (lazy serialisation, no write signal) none comes back. Every result equals
 * the plaintext reference either way.
 */
import { describe, expect, it } from 'vitest';
import { dealSeeds } from '../protocol/correlated/prg.js';
import { createContext, type ContextOptions, type PartyContext } from '../protocol/context.js';
import { referenceKernels as ref } from '../protocol/kernels/reference.js';
import { dreluDirect, reluDirect } from '../protocol/primitives/relu-direct.js';
import { plainDrelu, plainRelu } from '../protocol/reference/plain.js';
import { sendPoolStats } from '../protocol/ring/send-pool.js';
import type { AShare, PartyId } from '../protocol/ring/types.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { shareFor3 } from '../protocol/testing/run3.js';
import { randomU64s } from '../protocol/testing/values.js';
import { closeAll, meshTrio } from './testing/trio.js';

// 4096 elements: every pooled message is at least 32 KiB.
const N = 4096;
const input = (): BigUint64Array => BigUint64Array.from(Array.from(randomU64s(N), (v) => BigInt.asUintN(64, BigInt.asIntN(32, v))));

async function chain(ctx: PartyContext, a: AShare): Promise<AShare[]> {
  const out: AShare[] = [];
  for (let i = 0; i < 3; i++) { out.push(await dreluDirect(ctx, a, `d${i}`)); out.push(await reluDirect(ctx, a, `r${i}`)); }
  return out;
}

/** Waits until `cond` holds (a write's callback may run a moment after the peer has read its bytes), at most 10 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('send pool under two concurrent protocol runs on the party mesh', () => {
  // Pooled sends per DReLU and per ReLU (protocol/primitives/relu-direct-send-pool.test.ts says which).
  for (const [link, opts, perDrelu, perRelu] of [
    ['h2', { compareBits: 32, compareRadix: 4 }, 4, 6],
    ['h2', {}, 4, 4],
    ['grpc', { compareBits: 32, compareRadix: 4 }, 4, 6],
  ] as ['h2' | 'grpc', ContextOptions, number, number][]) {
    it(`${link} link, ${opts.compareBits ?? 64}-bit comparisons: every result equals the plaintext; ${link === 'h2' ? 'every send buffer comes back and serves later messages' : 'no send buffer comes back'}`, async () => {
      const ms = await meshTrio({ tls: false, extra: { link } });
      try {
        const before = { ...sendPoolStats };
        const xs = [input(), input()];
        const got = await Promise.all(xs.map(async (x, k) => {
          const seeds = dealSeeds(), as = shareFor3(x);
          const views = ms.map((m) => m.openSession(`send-pool-${link}-${k}`));
          try {
            const outs = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => chain(createContext(p, views[p]!, seeds[p]!, opts), as[p])));
            return outs[0]!.map((v, i) => reconstruct(ref, v, outs[1]![i]!));
          } finally {
            views.forEach((v) => v.close());
          }
        }));
        xs.forEach((x, k) => expect(got[k], `session ${k}`).toEqual([0, 1, 2].flatMap(() => [plainDrelu(x), plainRelu(x)])));
        const sends = 2 * 3 * (perDrelu + perRelu);
        expect(sendPoolStats.lent - before.lent).toBe(sends);
        if (link === 'h2') {
          await until(() => sendPoolStats.returned - before.returned >= sends);
          expect(sendPoolStats.returned - before.returned).toBe(sends);
          expect(sendPoolStats.reused - before.reused).toBeGreaterThan(0);
        } else {
          // (Buffers an earlier h2 run gave back may serve these sends; none of these comes back.)
          expect(sendPoolStats.returned - before.returned).toBe(0);
        }
      } finally {
        await closeAll(ms);
      }
    }, 60_000);
  }
});
