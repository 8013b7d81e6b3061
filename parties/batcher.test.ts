/**
 * P0's batcher (parties/batcher.ts): balanced pipelining. Once a run has been
 * seen, a batch is full at ceil(demand / maxConcurrentRuns) images, so
 * closed-loop clients split into overlapping runs; a batch below that target
 * waits while a run is in flight, at most half the mean run time; without
 * recent runs the target is maxBatch (the window-and-maximum behaviour,
 * tested in parties/config.test.ts). Balancing is config batch.balance
 * (default false); these tests turn it on unless they say otherwise.
 */
import { describe, expect, it, vi } from 'vitest';
import { Batcher } from './batcher.js';

interface Item { id: string; batch: number; owner: string }
const item = (id: string, batch = 1): Item => ({ id, batch, owner: id });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A batcher whose runs end when the test releases them, in any order. */
function gated(opts: { windowMs: number; maxBatch: number; maxConcurrentRuns: number; balance?: boolean }) {
  const runs: { ids: string[]; release: () => void; ended: boolean }[] = [];
  const b = new Batcher<Item>({ balance: true, ...opts }, (items) => new Promise<void>((resolve) => {
    const r = { ids: items.map((i) => i.id), ended: false, release: () => { r.ended = true; resolve(); } };
    runs.push(r);
  }));
  const inFlight = () => runs.filter((r) => !r.ended).map((r) => r.ids);
  return { b, runs, inFlight };
}

describe('Batcher: balanced pipelining over maxConcurrentRuns', () => {
  it('without recent runs the target is maxBatch: 8 images at once leave as one run', () => {
    const { b, runs } = gated({ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2 });
    expect(b.targetBatch()).toBe(8);
    for (let i = 0; i < 8; i++) b.add(item(`a${i}`));
    expect(runs.map((r) => r.ids.length)).toEqual([8]);
    b.close();
  });

  it('after a run of 8, 8 clients sending again split into two runs of 4 in flight together', async () => {
    const { b, runs, inFlight } = gated({ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2 });
    for (let i = 0; i < 8; i++) b.add(item(`a${i}`));
    await sleep(20);
    runs[0]!.release();
    await sleep(0);
    expect(b.targetBatch()).toBe(4);
    for (let i = 0; i < 8; i++) b.add(item(`b${i}`));
    expect(inFlight()).toEqual([['b0', 'b1', 'b2', 'b3'], ['b4', 'b5', 'b6', 'b7']]);
    // The first of the two ends: its 4 clients come back and leave together at once, beside the other run.
    runs[1]!.release();
    await sleep(0);
    for (let i = 0; i < 3; i++) b.add(item(`c${i}`));
    expect(inFlight()).toEqual([['b4', 'b5', 'b6', 'b7']]);
    b.add(item('c3'));
    expect(inFlight()).toEqual([['b4', 'b5', 'b6', 'b7'], ['c0', 'c1', 'c2', 'c3']]);
    for (const r of runs) r.release();
    b.close();
  });

  it('without balance (the default) a Batcher keeps the window and maxBatch alone', async () => {
    const runs: string[][] = [];
    const b = new Batcher<Item>({ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2 }, async (items) => { runs.push(items.map((i) => i.id)); });
    for (let i = 0; i < 8; i++) b.add(item(`a${i}`));
    await sleep(20);
    expect(b.targetBatch()).toBe(8);
    for (let i = 0; i < 8; i++) b.add(item(`b${i}`));
    expect(runs.map((r) => r.length)).toEqual([8, 8]);
    b.close();
  });

  it('balance: false keeps the window and maxBatch alone: after a run of 8, 8 clients again form one run of 8', async () => {
    const { b, runs, inFlight } = gated({ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2, balance: false });
    for (let i = 0; i < 8; i++) b.add(item(`a${i}`));
    await sleep(20);
    runs[0]!.release();
    await sleep(0);
    expect(b.targetBatch()).toBe(8);
    for (let i = 0; i < 8; i++) b.add(item(`b${i}`));
    expect(inFlight().map((r) => r.length)).toEqual([8]);
    for (const r of runs) r.release();
    b.close();
  });

  it('a batch below the target waits while a run is in flight and leaves as soon as the pipeline is idle', async () => {
    const { b, runs, inFlight } = gated({ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2 });
    for (let i = 0; i < 8; i++) b.add(item(`a${i}`));
    await sleep(400); // mean run time ~400 ms: a straggler waits at most ~200 ms beside a running batch
    runs[0]!.release();
    await sleep(0);
    for (let i = 0; i < 4; i++) b.add(item(`b${i}`));
    b.add(item('s'));
    expect(inFlight()).toEqual([['b0', 'b1', 'b2', 'b3']]);
    await sleep(20);
    expect(inFlight()).toEqual([['b0', 'b1', 'b2', 'b3']]);
    runs[1]!.release();
    await vi.waitFor(() => expect(inFlight()).toEqual([['s']]), { timeout: 2_000, interval: 5 });
    for (const r of runs) r.release();
    b.close();
  });

  it('a straggler beside a long run leaves after about half the mean run time, not at its end', async () => {
    const { b, runs, inFlight } = gated({ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2 });
    for (let i = 0; i < 8; i++) b.add(item(`a${i}`));
    await sleep(100);
    runs[0]!.release();
    await sleep(0);
    for (let i = 0; i < 4; i++) b.add(item(`b${i}`));
    const t0 = performance.now();
    b.add(item('s'));
    await vi.waitFor(() => expect(inFlight()).toContainEqual(['s']), { timeout: 5_000, interval: 5 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
    expect(inFlight()).toContainEqual(['b0', 'b1', 'b2', 'b3']);
    for (const r of runs) r.release();
    b.close();
  });

  it('a run takes more than the target when the free run slots could not take the queue otherwise', async () => {
    const { b, runs, inFlight } = gated({ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2 });
    b.add(item('a0'));
    b.add(item('a1'));
    await sleep(30); // the window passes: one run of 2; demand 2, target 1
    runs[0]!.release();
    await sleep(0);
    b.add(item('x0'));
    b.add(item('y0'));
    expect(inFlight()).toEqual([['x0'], ['y0']]);
    // Both slots taken: 5 images queue. When one slot frees the target is 4 (demand 5 + 2 in runs), but no other
    // slot is free: the run takes all 5 rather than leave one behind.
    for (let i = 0; i < 5; i++) b.add(item(`z${i}`));
    runs[1]!.release();
    await sleep(0);
    expect(inFlight()).toEqual([['y0'], ['z0', 'z1', 'z2', 'z3', 'z4']]);
    for (const r of runs) r.release();
    b.close();
  });

  it('forgets the demand after the horizon (twice the mean run time): the target is maxBatch again', async () => {
    const { b, runs } = gated({ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2 });
    for (let i = 0; i < 6; i++) b.add(item(`a${i}`));
    await sleep(30); // the window passes: one run of 6
    await sleep(20);
    runs[0]!.release();
    await sleep(0);
    expect(b.targetBatch()).toBe(3);
    await sleep(300);
    expect(b.targetBatch()).toBe(8);
    b.close();
  });

  it('demand above maxBatch x runs keeps full batches of maxBatch; an item larger than the target still runs alone', async () => {
    const { b, runs, inFlight } = gated({ windowMs: 5, maxBatch: 4, maxConcurrentRuns: 2 });
    for (let i = 0; i < 12; i++) b.add(item(`a${i}`));
    expect(inFlight().map((r) => r.length)).toEqual([4, 4]);
    runs[0]!.release();
    await sleep(0);
    expect(b.targetBatch()).toBe(4);
    expect(inFlight().map((r) => r.length)).toEqual([4, 4]);
    for (const r of runs) r.release();
    await sleep(0);
    for (const r of runs) r.release();
    await sleep(0);
    // Demand 12 in the horizon, target 4: a session of batch 6 is over the target and leaves by itself.
    b.add(item('big', 6));
    expect(inFlight()).toEqual([['big']]);
    for (const r of runs) r.release();
    b.close();
  });
});
