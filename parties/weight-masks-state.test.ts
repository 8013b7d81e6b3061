/**
 * The kept weight masks' per-run decisions (parties/weight-masks.ts) with two runs in flight at once
 * (batch.maxConcurrentRuns = 2): two build runs of one model must never share a store (each party would keep
 * whichever F or B was written last, in its own order: P0's F and P2's B from different runs, and every later
 * use run wrong), and a use run in flight keeps reading its own epoch's store when a new epoch replaces it.
 */
import { describe, expect, it } from 'vitest';
import { WeightMaskState } from './weight-masks.js';

const HASH = 'a'.repeat(64);

describe('kept weight masks with two runs in flight', () => {
  it('P0 plans no second build while one is in flight: the other run gets plain Alg. 1 (null), use runs only once the build completed', () => {
    const p0 = new WeightMaskState(0, true);
    const a = p0.plan('run-a', HASH);
    expect(a).toMatchObject({ build: true });
    expect(p0.plan('run-b', HASH)).toBeNull();
    p0.session('run-a', a, HASH);
    p0.built(a);
    // Built at P0 but still in flight (its output step): the next run may use the masks.
    expect(p0.plan('run-c', HASH)).toEqual({ epoch: a!.epoch, build: false });
    p0.ended('run-a', a, true);
    expect(p0.plan('run-d', HASH)).toEqual({ epoch: a!.epoch, build: false });
  });

  it('a failed use run at P0 while a build is in flight: no run uses the half-built epoch, the next plan builds anew', () => {
    const p0 = new WeightMaskState(0, true);
    const a = p0.plan('run-a', HASH)!;
    p0.built(a);
    p0.ended('run-a', a, true);
    const use = p0.plan('run-u', HASH)!;
    expect(use.build).toBe(false);
    // run-u fails: P0 forgets the epoch; the next run builds a new one while run-u's failure is handled.
    p0.ended('run-u', use, false);
    const b = p0.plan('run-b', HASH)!;
    expect(b).toMatchObject({ build: true });
    expect(b.epoch).not.toBe(a.epoch);
    expect(p0.plan('run-c', HASH)).toBeNull();
  });

  it('at a follower, a use run in flight keeps its own epoch\'s masks when a build plan replaces the store; the build run writes only the new one', () => {
    for (const party of [1, 2] as const) {
      const s = new WeightMaskState(party, true);
      const e1 = { epoch: 'e1', build: true };
      const b1 = s.session('run-1', e1, HASH)!;
      b1.set('d:kernel', BigUint64Array.of(11n));
      s.built(e1);
      const u1 = s.session('run-2', { epoch: 'e1', build: false }, HASH)!;
      const e2 = { epoch: 'e2', build: true };
      const b2 = s.session('run-3', e2, HASH)!;
      b2.set('d:kernel', BigUint64Array.of(22n));
      expect(u1.mode).toBe('use');
      expect(u1.get('d:kernel')).toEqual(BigUint64Array.of(11n));
      expect(b2.get('d:kernel')).toEqual(BigUint64Array.of(22n));
      // A use run of the replaced epoch planned now is refused, not run on the new store.
      expect(() => s.session('run-4', { epoch: 'e1', build: false }, HASH)).toThrow(/E_PROTOCOL_DESYNC|holds no weight masks/);
      // run-2 failing at this follower does not drop the new epoch.
      s.ended('run-2', { epoch: 'e1', build: false }, false);
      expect(s.info).toMatchObject({ epoch: 'e2' });
    }
  });

  it('a use run cut on purpose (spare: the warm-up cuts its client-path prediction) keeps the epoch; a spared build run that fails still drops it, and a spare is used once', () => {
    const p0 = new WeightMaskState(0, true);
    const a = p0.plan('run-a', HASH)!;
    p0.built(a);
    p0.ended('run-a', a, true);
    const use = p0.plan('run-u', HASH)!;
    p0.spare('run-u');
    p0.ended('run-u', use, false);
    expect(p0.plan('run-v', HASH)).toEqual({ epoch: a.epoch, build: false });
    // The spare was used up: a later failure of a run with the same id drops the epoch as any failed use run does.
    p0.ended('run-u', use, false);
    const b = p0.plan('run-b', HASH)!;
    expect(b).toMatchObject({ build: true });
    p0.spare('run-b');
    p0.ended('run-b', b, false);
    expect(p0.plan('run-c', HASH)).toMatchObject({ build: true });
  });
});
