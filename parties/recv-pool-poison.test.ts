/**
 * The receive pool's best fit (recv-pool.ts) checked dynamically rather than by a grep of the consumers: every buffer
 * the pool hands out is first filled with a marker (so the tail of a larger buffer past a frame, and its prefix room,
 * hold the marker instead of another session's bytes), and every buffer a recycle takes back is filled with the marker
 * at once (so a consumer that still read a payload after handing it back would compute on the marker). Then real
 * protocol runs of different sizes (each size's frames landing in buffers another size left, within 2x) over the h2
 * link, whole predictions of a CNN at mixed batch sizes through the three party servers, and malicious-mode
 * predictions (which hand nothing back: the pool is seeded with poisoned buffers of every size): every answer must equal
 * the plaintext (DReLU / ReLU exactly; the CNN within the fixed-point error), no frame any party writes may contain
 * the marker (nothing past a payload, and nothing from a recycled buffer, travels), and the pool must really have
 * served frames from larger buffers (else the run proves nothing about the best fit).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { createContext, type PartyContext } from '../protocol/context.js';
import { dealSeeds } from '../protocol/correlated/prg.js';
import { referenceKernels as ref } from '../protocol/kernels/reference.js';
import { dreluDirect, reluDirect } from '../protocol/primitives/relu-direct.js';
import { plainForward } from '../protocol/reference/forward.js';
import { plainDrelu, plainRelu } from '../protocol/reference/plain.js';
import type { AShare, PartyId } from '../protocol/ring/types.js';
import { networkA, seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { shareFor3 } from '../protocol/testing/run3.js';
import { MAX_U64, randomSigned, randomU64s, withEdges } from '../protocol/testing/values.js';
import type { WireFrame } from './chunking.js';
import { FramedStream } from './mesh-h2.js';
import { recvPool } from './recv-pool.js';
import { auth, closeAll, finishSession, meshTrio, partyTrio, startSession } from './testing/trio.js';

/** 16 bytes no share, mask or model output is expected to contain (probability ~2^-128 per position). */
const MARK = Buffer.from('recv-pool:POISON');
const poison = (ab: ArrayBuffer): void => { Buffer.from(ab).fill(MARK); };

const seen = { takes: 0, larger: 0, poisonedOnRecycle: 0, framesWritten: 0, framesWithMark: 0 };
const orig = { take: recvPool.take, recycle: recvPool.recycle, write: FramedStream.prototype.write };

beforeAll(() => {
  recvPool.take = function take(bytes: number): ArrayBuffer {
    const ab = orig.take.call(recvPool, bytes);
    seen.takes++;
    if (ab.byteLength > bytes) seen.larger++;
    poison(ab);
    return ab;
  };
  recvPool.recycle = function recycle(payload: Uint8Array): void {
    const before = recvPool.recycled;
    orig.recycle.call(recvPool, payload);
    if (recvPool.recycled > before) { seen.poisonedOnRecycle++; poison(payload.buffer as ArrayBuffer); }
  };
  FramedStream.prototype.write = function write(this: FramedStream, f: WireFrame, onWritten?: () => void): void {
    seen.framesWritten++;
    const p = f.payload;
    if (p && Buffer.from(p.buffer, p.byteOffset, p.byteLength).includes(MARK)) seen.framesWithMark++;
    orig.write.call(this, f, onWritten);
  };
});
afterAll(() => {
  recvPool.take = orig.take;
  recvPool.recycle = orig.recycle;
  FramedStream.prototype.write = orig.write;
});

const input = (n: number): BigUint64Array => BigUint64Array.from([...withEdges(randomSigned(n)), ...randomU64s(16), 0n, 1n, MAX_U64, 1n << 63n].slice(0, n));

async function chain(ctx: PartyContext, a: AShare): Promise<AShare[]> {
  const out: AShare[] = [];
  for (let i = 0; i < 2; i++) { out.push(await dreluDirect(ctx, a, `d${i}`)); out.push(await reluDirect(ctx, a, `r${i}`)); }
  return out;
}

describe('receive pool best fit with poisoned buffers (protocol runs on the h2 link)', () => {
  it('sizes 4096, 3000, 2100, 4096 and two at once (2600, 3500): every DReLU / ReLU equals the plaintext, no frame written carries the marker, frames were served from larger buffers', async () => {
    const ms = await meshTrio({ tls: false, extra: { link: 'h2' } });
    const at = { ...seen };
    try {
      let k = 0;
      const run = async (n: number): Promise<void> => {
        const x = input(n), seeds = dealSeeds(), as = shareFor3(x), id = `poison-${k++}`;
        const views = ms.map((m) => m.openSession(id));
        try {
          const outs = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => chain(createContext(p, views[p]!, seeds[p]!), as[p])));
          const got = outs[0]!.map((v, i) => reconstruct(ref, v, outs[1]![i]!));
          expect(got, `session ${id} (n = ${n})`).toEqual([0, 1].flatMap(() => [plainDrelu(x), plainRelu(x)]));
        } finally {
          views.forEach((v) => v.close());
        }
      };
      for (const n of [4096, 3000, 2100, 4096]) await run(n);
      await Promise.all([run(2600), run(3500)]);
      expect(seen.framesWritten - at.framesWritten).toBeGreaterThan(0);
      expect(seen.framesWithMark - at.framesWithMark).toBe(0);
      expect(seen.poisonedOnRecycle - at.poisonedOnRecycle).toBeGreaterThan(0);
      expect(seen.larger - at.larger).toBeGreaterThan(0);
    } finally {
      await closeAll(ms);
    }
  }, 120_000);
});

describe('receive pool best fit with poisoned buffers (three party servers, mixed batch sizes)', () => {
  const F = 13, H = 96, W = 96;
  const model = seedCnn('maxpool2d', 7, [H, W, 1]);
  const image = (seed: number, N: number): Float64Array => uniform(seededPrg(seed), N * H * W, 0.5).map((v) => v + 0.5);

  it('a reduced seed CNN at batch 3, 1, 2, 3: every image\'s logits match the plaintext, no frame written carries the marker, frames were served from larger buffers', async () => {
    const t = await partyTrio({ plain: model, fracBits: F, tls: false, preprocess: { enabled: false }, batch: { windowMs: 5, maxBatch: 8, maxConcurrentRuns: 1 } });
    const at = { ...seen };
    try {
      let seed = 100;
      for (const N of [3, 1, 2, 3]) {
        const x = image(seed++, N);
        const out = await finishSession(t, await startSession(t, x, N, F), F);
        expect(out.ok, `batch ${N}: ${out.codes.join(',')}`).toBe(true);
        const want = plainForward(model, x, N).data, got = out.logits!;
        const scale = Math.max(1, ...Array.from(want, Math.abs));
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => expect(Math.abs(g - want[i]!) / scale, `batch ${N}, logit ${i}`).toBeLessThan(1e-2));
      }
      expect(t.servers.map((s) => s.party.runLog.map((r) => r.images)).every((b) => b.join() === '3,1,2,3')).toBe(true);
      expect(seen.framesWithMark - at.framesWithMark).toBe(0);
      expect(seen.poisonedOnRecycle - at.poisonedOnRecycle).toBeGreaterThan(0);
      expect(seen.larger - at.larger).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  }, 180_000);
});

describe('receive pool best fit with poisoned buffers (malicious mode through the party servers)', () => {
  it('Network A in security \'malicious\', the pool first seeded with poisoned buffers of every size from 16 KiB to 8 MiB (steps of 1.25x, three each): two predictions match the plaintext, no frame written carries the marker, frames were served from larger buffers', async () => {
    const F = 16, model = networkA();
    // Free buffers within 2x of every pooled frame size: each such frame lands in a poisoned, larger buffer.
    for (let b = 16 * 1024; b <= 8 * 1024 * 1024; b = Math.ceil(b * 1.25)) {
      for (let k = 0; k < 3; k++) { const ab = new ArrayBuffer(b), v = new Uint8Array(ab, 8); recvPool.lend(ab, v); recvPool.recycle(v); }
    }
    const t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: false });
    const at = { ...seen };
    try {
      for (const seed of [5, 6]) {
        const x = uniform(seededPrg(seed), 784, 0.5).map((v) => v + 0.5), want = plainForward(model, x, 1).data, id = randomUUID();
        const m = await Promise.all(t.servers.map((sv) => sv.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers: auth })));
        expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
        const d = maskedInput(encode(x, F), m.map((r) => new Uint8Array(r.rawPayload)) as [Uint8Array, Uint8Array, Uint8Array]);
        const out = await Promise.all(t.servers.map((sv) => sv.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) })));
        expect(out.map((r) => r.statusCode), out.map((r) => r.body).join(' ')).toEqual([200, 200, 200]);
        const y = decode(reconstructOutput(out.map((r) => new Uint8Array(r.rawPayload)) as [Uint8Array, Uint8Array, Uint8Array], 10), F);
        const scale = Math.max(...Array.from(want, Math.abs));
        y.forEach((g, i) => expect(Math.abs(g - want[i]!) / scale, `seed ${seed}, logit ${i}`).toBeLessThan(2e-2));
      }
      expect(seen.framesWithMark - at.framesWithMark).toBe(0);
      expect(seen.larger - at.larger).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  }, 180_000);
});
