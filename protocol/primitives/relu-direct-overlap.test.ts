/**
 * relu-direct.ts draws step 3's randomness (P0's dealt Z_p shares, the narrow ring's common randomness) before
 * the opened c is in, into lent buffers (ring/scratch.ts borrowU8), and yields the event loop after its big
 * sends where the transport asks for it (Transport.flush, as the party mesh's session transport does). Both add
 * awaits across which another run of the process may run: here every transport's flush yields a macrotask (as the
 * mesh's does), several runs go at once, and every result must equal the plaintext reference; the lent buffers must
 * all come back. A draw out of order at one data party (P0 and P1 drawing the common randomness differently) or a
 * buffer shared between two runs gives wrong elements here.
 */
import { describe, expect, it } from 'vitest';
import { referenceKernels as ref } from '../kernels/reference.js';
import { plainDrelu, plainRelu } from '../reference/plain.js';
import { reconstruct } from '../sharing/sharing.js';
import { makeContexts, shareFor3, type Run3Options } from '../testing/run3.js';
import { MAX_U64, randomSigned, randomU64s, withEdges } from '../testing/values.js';
import type { PartyContext } from '../context.js';
import type { AShare } from '../ring/types.js';
import { borrowU8, giveBackU8, lendStats } from '../ring/scratch.js';
import { dreluDirect, reluDirect } from './relu-direct.js';

/** makeContexts whose transports have a flush that yields one macrotask (setImmediate), counted. */
function flushingContexts(opts: Run3Options, flushes: number[]): PartyContext[] {
  const { contexts, transports } = makeContexts(opts);
  for (const t of transports) {
    (t as { flush?: () => Promise<void> }).flush = () => { flushes[t.party]!++; return new Promise<void>((r) => setImmediate(r)); };
  }
  return contexts;
}

async function chain(ctx: PartyContext, a: AShare): Promise<AShare[]> {
  return [await dreluDirect(ctx, a, 'd1'), await reluDirect(ctx, a, 'r1'), await reluDirect(ctx, a, 'r2'), await dreluDirect(ctx, a, 'd2')];
}

async function run(x: BigUint64Array, opts: Run3Options, flushes: number[]): Promise<BigUint64Array[]> {
  const as = shareFor3(x);
  const out = await Promise.all(flushingContexts(opts, flushes).map((c) => chain(c, as[c.party])));
  return out[0]!.map((v, i) => reconstruct(ref, v, out[1]![i]!));
}

const B31 = 1n << 31n;
const wide = (seed: number): BigUint64Array => BigUint64Array.from([...withEdges(randomSigned(150 + seed)), ...randomU64s(80), 1n << 63n, (1n << 63n) - 1n, MAX_U64, 0n]);
const narrow = (m: number): BigUint64Array => BigUint64Array.from([
  ...Array.from(randomU64s(m), (v) => BigInt.asUintN(64, BigInt.asIntN(32, v))), 0n, MAX_U64, 1n, B31 - 1n, BigInt.asUintN(64, -B31),
]);

describe('relu-direct: randomness drawn while c travels, and flushes between runs', () => {
  for (const [name, opts, gen] of [
    ['64-bit ring', {}, wide],
    ['32-bit ring, bits', { compareBits: 32, compareRadix: 2 }, (s: number) => narrow(250 + s)],
    ['32-bit ring, radix 4', { compareBits: 32, compareRadix: 4 }, (s: number) => narrow(250 + s)],
  ] as [string, Run3Options, (s: number) => BigUint64Array][]) {
    it(`${name}: three runs at once with yielding flushes equal the plaintext`, async () => {
      const flushes = [0, 0, 0];
      // Two runs of one size (they borrow buffers of the same size) and one of another.
      const xs = [gen(0), gen(0), gen(9)];
      const got = await Promise.all(xs.map((x) => run(x, opts, flushes)));
      xs.forEach((x, i) => expect(got[i], `run ${i}`).toEqual([plainDrelu(x), plainRelu(x), plainRelu(x), plainDrelu(x)]));
      // Per comparison (four per run): P0 flushes after its d, P1 after its c and after its d; P2 never.
      expect(flushes).toEqual([3 * 4, 3 * 4 * 2, 0]);
    });
  }

  it('every lent buffer comes back, and later comparisons reuse them', async () => {
    const flushes = [0, 0, 0];
    const x = narrow(400);
    const opts: Run3Options = { compareBits: 32, compareRadix: 4 };
    const before = lendStats().outstanding;
    await Promise.all([run(x, opts, flushes), run(x, opts, flushes)]);
    expect(lendStats().outstanding).toBe(before);
    expect(lendStats().kept).toBeGreaterThan(0);
    // A borrow of P0's dealt shares' size (48 bytes per element) is now served by a kept buffer.
    const kept = lendStats().kept;
    const a = borrowU8(48 * x.length);
    expect(lendStats().kept).toBe(kept - 1);
    giveBackU8(a);
    expect(lendStats()).toEqual({ outstanding: before, kept });
  });
});
