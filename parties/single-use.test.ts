/**
 * Correlated randomness serves one run: reused masks open x1 - x2 to whoever
 * sees both openings (c = x + r twice). Counts the uses of the three pools a
 * party holds: the offline bundles (preprocessing.ts: P0's PrepPool, P1's and
 * P2's PrepHoldings), the malicious mode's mask pool (protocol/malicious/
 * mask-pool.ts) and one pool entry (MaskEntry). The three-party paths (a
 * failed run empties the pools, a deferred run drops its bundle, a plan naming
 * a bundle a follower lacks is refused) are in preprocessing.test.ts and
 * malicious-epoch.test.ts; a bundle run twice at the protocol level in
 * protocol/correlated/dealer.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { p1Bundle } from '../protocol/correlated/dealer.js';
import { MaskPool } from '../protocol/malicious/mask-pool.js';
import { MaskEntry, type MaskRequest } from '../protocol/malicious/mask-source.js';
import type { MalSession } from '../protocol/malicious/session.js';
import { PrepHoldings, PrepPool, shapeKey } from './preprocessing.js';

const OPTS = { enabled: true, maxBytes: 1 << 20, timeoutMs: 60_000 };
const keyOf = (batch: number) => shapeKey('ab'.repeat(32), 32, 4, null, [{ batch, policy: 'logits' }], false);

/** P0's pool with one bundle of shape key ready at P1 and P2. */
function readyPool(key: string): { pool: PrepPool; prepId: string } {
  const pool = new PrepPool(OPTS);
  const { prepId } = pool.start(key, () => { throw new Error('no timeout expected'); });
  expect(pool.reported(1, prepId, true, 100, undefined)).toBeNull(); // one peer: not ready yet
  expect(pool.reported(2, prepId, true, 0, undefined)).toMatchObject({ result: 'ready' });
  return { pool, prepId };
}

describe('offline bundles (parties/preprocessing.ts) are taken once', () => {
  it('P0: two runs of one shape (runs-at-once 2, or a retry): the first takes the bundle, the second runs live', () => {
    const key = keyOf(1);
    const { pool, prepId } = readyPool(key);
    expect(pool.wanted(key)).toBe(false); // one bundle per shape
    const uses = [pool.take(key), pool.take(key)];
    expect(uses[0]?.prepId).toBe(prepId);
    expect(uses[1]).toBeNull();
    expect(pool.readyCount).toBe(0);
    expect(pool.wanted(key)).toBe(true); // a new bundle (new prepId, new s02) may be made
  });

  it('P0: another batch size is another shape: its run does not take this bundle', () => {
    const { pool } = readyPool(keyOf(1));
    expect(pool.take(keyOf(2))).toBeNull();
    expect(pool.readyCount).toBe(1);
  });

  it('P0: a report for a prep no longer in flight (timed out, cleared) makes nothing ready; clear names every bundle for the peers to drop', () => {
    const key = keyOf(1);
    const { pool, prepId } = readyPool(key);
    expect(pool.reported(1, prepId, true, 100, undefined)).toBeNull(); // a late duplicate report
    expect(pool.readyCount).toBe(1);
    const second = pool.start(keyOf(4), () => undefined);
    expect(pool.clear().sort()).toEqual([prepId, second.prepId].sort());
    expect(pool.reported(1, second.prepId, true, 1, undefined)).toBeNull();
    expect(pool.reported(2, second.prepId, true, 1, undefined)).toBeNull();
    expect(pool.take(key)).toBeNull();
  });

  it('P1, P2: a held part serves one plan; asked again (a replayed or second plan naming it) it is gone', () => {
    const held = new PrepHoldings(OPTS), key = keyOf(1);
    const bundle = p1Bundle(new Uint8Array(16), [{ tag: 'relu:r', data: new Uint8Array(8) }]);
    held.add('p-1', key, bundle);
    expect(held.take('p-1', key)).toBe(bundle);
    expect(held.take('p-1', key)).toBeNull();
    expect(held.count).toBe(0);
  });

  it('P1, P2: a plan naming the part with another shape gets nothing and the part is dropped (no half state: it cannot serve a later plan)', () => {
    const held = new PrepHoldings(OPTS), key = keyOf(1);
    held.add('p-2', key, p1Bundle(new Uint8Array(16), []));
    expect(held.take('p-2', keyOf(2))).toBeNull();
    expect(held.take('p-2', key)).toBeNull();
  });
});

describe('malicious mask pool (protocol/malicious/mask-pool.ts) and its entries are used once', () => {
  const plan: MaskRequest[] = [{ kind: 'input', n: 4, params: [] }, { kind: 'trunc', n: 4, params: [13, 48] }];
  const entry = (id: string) => new MaskEntry(id, plan, ['m-input', 'm-trunc']);
  const s = { party: 1 } as MalSession;

  it('two sessions at once get different entries; a taken entry is never proposed again; a second take throws', () => {
    const pool = new MaskPool();
    pool.add([entry('b.0'), entry('b.1')], 10);
    const a = pool.propose(), b = pool.propose();
    expect([a, b]).toEqual(['b.0', 'b.1']);
    expect(pool.propose()).toBeNull(); // both reserved
    pool.take(a!);
    expect(() => pool.take(a!)).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
    pool.release(b!); // the parties proposed different ids for that session: given back unused
    expect(pool.propose()).toBe('b.1');
    expect(pool.propose()).toBeNull(); // b.0 is gone for good
    expect(pool.size).toBe(1);
    expect(pool.bytes).toBe(10);
  });

  it('floor: entries below the highest floor are retired unused (a reserved one when released, one made later at once); consumed counts taken and retired', () => {
    const pool = new MaskPool();
    pool.add([entry('b.0')], 10, 0);
    pool.add([entry('b.1')], 10, 1);
    pool.add([entry('b.2')], 10, 2);
    expect(pool.floor).toBe(0);
    const a = pool.propose();
    expect(a).toBe('b.0');
    expect(pool.raiseFloor(2)).toBe(1); // b.1 free: retired now; b.0 reserved: kept until released
    pool.release(a!);
    expect([pool.retired, pool.consumed, pool.floor, pool.size, pool.bytes]).toEqual([2, 2, 2, 1, 10]);
    expect(pool.propose()).toBe('b.2');
    expect(pool.raiseFloor(4)).toBe(0); // b.2 reserved
    pool.add([entry('b.3')], 10, 3); // made below the floor: retired at once
    expect(pool.take('b.2').id).toBe('b.2'); // a reserved entry the three agreed on is still taken
    expect([pool.retired, pool.consumed, pool.floor, pool.size]).toEqual([3, 4, 4, 0]);
    expect(pool.propose()).toBeNull();
    pool.add([entry('b.4')], 10, 4);
    const c = pool.propose()!;
    pool.retire(c); // its session failed after its hello: never proposed again
    expect(() => pool.retire(c)).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
    expect([pool.consumed, pool.floor, pool.propose()]).toEqual([5, 5, null]);
  });

  it('a spent entry hands out no mask a second time (E_INTERNAL), and one that met a wrong request is spent entirely', async () => {
    const e = entry('b.2');
    expect(await e.take(s, plan[0]!)).toBe('m-input');
    expect(await e.take(s, plan[1]!)).toBe('m-trunc');
    expect(e.remaining).toBe(0);
    const refused = (f: () => unknown) => expect(async () => f()).rejects.toMatchObject({ code: 'E_INTERNAL' }); // thrown or rejected
    await refused(() => e.take(s, plan[0]!));
    const f = entry('b.3');
    await refused(() => f.take(s, plan[1]!)); // out of order: a bug, nothing handed out
    expect(f.remaining).toBe(0);
    await refused(() => f.take(s, plan[0]!));
  });
});
