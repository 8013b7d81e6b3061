/**
 * The payloads relu-direct.ts and private-compare.ts hand back through Transport.recycle are really dead: a
 * transport that behaves like the party processes' receive pool (parties/recv-pool.ts: a received message lands in
 * a buffer of that size handed back earlier, shared by every run of the process) and that poisons every buffer the
 * moment it is handed back, under several comparisons in one run and two runs at once (different inputs), still
 * gives the plaintext reference's results. A payload read after its recycle, handed back twice, or handed back while
 * lent to another message fails here.
 */
import { describe, expect, it } from 'vitest';
import { referenceKernels as ref } from '../kernels/reference.js';
import { plainDrelu, plainRelu } from '../reference/plain.js';
import { reconstruct } from '../sharing/sharing.js';
import { makeContexts, shareFor3, type Run3Options } from '../testing/run3.js';
import { MAX_U64, randomSigned, randomU64s, withEdges } from '../testing/values.js';
import type { PartyContext } from '../context.js';
import type { AShare } from '../ring/types.js';
import { dreluDirect, reluDirect } from './relu-direct.js';

/** A process-wide pool as recv-pool.ts keeps one: free buffers by size; lent ones by buffer (exact view, once). */
class PoisonPool {
  readonly free = new Map<number, ArrayBuffer[]>();
  readonly lent = new Map<ArrayBuffer, { offset: number; length: number }>();
  reused = 0;
  recycled = 0;
  readonly misuse: string[] = [];
  take(bytes: number): ArrayBuffer {
    const ab = this.free.get(bytes)?.pop();
    if (ab) this.reused++;
    return ab ?? new ArrayBuffer(bytes);
  }
  recycle(p: Uint8Array, party: number): void {
    const ab = p.buffer as ArrayBuffer, at = this.lent.get(ab);
    if (!at) { this.misuse.push(`P${party}: recycle of a payload not lent (or lent and already handed back)`); return; }
    if (at.offset !== p.byteOffset || at.length !== p.byteLength) { this.misuse.push(`P${party}: recycle of a partial view`); return; }
    this.lent.delete(ab);
    new Uint8Array(ab).fill(0xa5); // whoever still reads it sees garbage
    const list = this.free.get(ab.byteLength);
    if (list) list.push(ab); else this.free.set(ab.byteLength, [ab]);
    this.recycled++;
  }
}

/** makeContexts whose transports receive into `pool`'s buffers and hand them back to it; `abortAfter`: the run's
 * transports all close (as a cancelled session's do) when P1 has received that many messages. */
function pooledContexts(pool: PoisonPool, opts: Run3Options, abortAfter?: number): PartyContext[] {
  const { contexts, transports } = makeContexts(opts);
  let p1Got = 0;
  for (const t of transports) {
    const recv = t.recv.bind(t);
    t.recv = async (from, tag) => {
      const got = await recv(from, tag);
      if (t.party === 1 && ++p1Got === abortAfter) transports.forEach((u) => u.close(new Error('run cancelled')));
      const ab = pool.take(got.byteLength);
      const p = new Uint8Array(ab);
      p.set(got);
      pool.lent.set(ab, { offset: 0, length: got.byteLength });
      return p;
    };
    (t as { recycle?: (p: Uint8Array) => void }).recycle = (p) => pool.recycle(p, t.party);
  }
  return contexts;
}

/** Several comparisons in sequence (message sizes repeat: the pooled buffers serve the later ones). */
async function chain(ctx: PartyContext, a: AShare): Promise<AShare[]> {
  const d1 = await dreluDirect(ctx, a, 'd1');
  const r1 = await reluDirect(ctx, a, 'r1');
  const d2 = await dreluDirect(ctx, a, 'd2');
  const r2 = await reluDirect(ctx, a, 'r2');
  return [d1, r1, d2, r2];
}

async function runPooled(pool: PoisonPool, x: BigUint64Array, opts: Run3Options, abortAfter?: number): Promise<BigUint64Array[]> {
  const as = shareFor3(x);
  const out = await Promise.all(pooledContexts(pool, opts, abortAfter).map((c) => chain(c, as[c.party])));
  return out[0]!.map((v, i) => reconstruct(ref, v, out[1]![i]!));
}

const B31 = 1n << 31n;
const wide = (seed: number): BigUint64Array => BigUint64Array.from([...withEdges(randomSigned(200 + seed)), ...randomU64s(100), 1n << 63n, (1n << 63n) - 1n, MAX_U64, 0n]);
const narrow = (m: number): BigUint64Array => BigUint64Array.from([
  ...Array.from(randomU64s(m), (v) => BigInt.asUintN(64, BigInt.asIntN(32, v))), 0n, MAX_U64, 1n, B31 - 1n, BigInt.asUintN(64, -B31),
]);

describe('relu-direct / PrivateCompare: the payloads handed back (Transport.recycle) are dead', () => {
  for (const [name, opts, gen] of [
    ['64-bit ring', {}, wide],
    ['32-bit ring, bits', { compareBits: 32, compareRadix: 2 }, (s: number) => narrow(300 + s)],
    ['32-bit ring, radix 4', { compareBits: 32, compareRadix: 4 }, (s: number) => narrow(300 + s)],
  ] as [string, Run3Options, (s: number) => BigUint64Array][]) {
    it(`${name}: two runs at once on one poisoning pool, four comparisons each, equal the plaintext`, async () => {
      const pool = new PoisonPool();
      // Two clients' runs of equal message sizes (the same n) and one of another n, all at once on one pool.
      const xs = [gen(0), gen(0), gen(7)];
      const got = await Promise.all(xs.map((x) => runPooled(pool, x, opts)));
      xs.forEach((x, i) => expect(got[i], `run ${i}`).toEqual([plainDrelu(x), plainRelu(x), plainDrelu(x), plainRelu(x)]));
      expect(pool.misuse).toEqual([]);
      // The pool was exercised: every comparison hands back c at P0 and P1, P1's dealt shares, P2's two d.
      expect(pool.recycled).toBe(3 * 4 * 5);
      expect(pool.reused).toBeGreaterThan(0);
    });
  }

  it('a run cancelled mid-way (its transports closed after P1\'s 7th message) leaves a concurrent run on the same pool exact', async () => {
    const pool = new PoisonPool();
    const [x, y] = [wide(0), wide(0)];
    const [cancelled, ok] = await Promise.allSettled([runPooled(pool, x, {}, 7), runPooled(pool, y, {})]);
    expect(cancelled.status).toBe('rejected');
    expect(ok.status === 'fulfilled' ? ok.value : ok.reason).toEqual([plainDrelu(y), plainRelu(y), plainDrelu(y), plainRelu(y)]);
    expect(pool.misuse).toEqual([]);
    expect(pool.reused).toBeGreaterThan(0);
  });
});
