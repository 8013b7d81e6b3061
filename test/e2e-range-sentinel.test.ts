/**
 * The run-time range sentinel through three real party processes (mTLS,
 * launchLocal) and the Node SDK: a bundle written by the importer's
 * writeBundles with compareBound 'samples-only' (what mpc-import records
 * when its samples alone chose the 32-bit ring) and a declared input range
 * of [0, 1], for a dense model whose first ReLU leaves the 32-bit ring at
 * the top of that range. The parties run the sentinel by default (config
 * rangeSentinel 'auto'). In-process twin with costs and HELLO:
 * parties/range-sentinel.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largeInput, SENTINEL_IN, sentinelModel, smallInput } from '../parties/testing/sentinel-model.js';
import { writeBundles } from '../model-import/bundle.js';
import { plainModelHash } from '../parties/model-source.js';
import { plainForward } from '../protocol/reference/forward.js';
import { logTail, sdkClient, startParties, type Parties } from './testing/e2e.js';

const IN = SENTINEL_IN;
const plain = sentinelModel();
const small = smallInput;
const large = largeInput;
const tensor = (x: Float64Array) => ({ data: x, shape: [IN] });
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

describe('run-time range sentinel, three party processes and the Node SDK (samples-only bundle, input range [0, 1])', () => {
  let dir: string;
  let parties: Parties;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sentinel-e2e-'));
    writeBundles({ ir: plain, sourceHash: plainModelHash(plain), sourceFile: 'sentinel-test', format: 'ir' }, path.join(dir, 'bundle'), { fracBits: 16, compareBound: 'samples-only', rangeWarning: 'test: samples only', inputRange: [0, 1] });
    parties = await startParties(path.join(dir, 'bundle'));
  }, 180_000);
  afterAll(async () => {
    await parties?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('announced; in range: the plaintext\'s logits; out of ring: E_RANGE_SENTINEL; two clients at once: only the overflowing one refused', async () => {
    const c = sdkClient(parties, { timeoutMs: 60_000 });
    try {
      expect(await c.describe()).toMatchObject({ compareBound: 'samples-only', rangeSentinel: true, inputRange: [0, 1] });
      const x = small(1);
      const r = await c.predict(tensor(x));
      if (r.outputMode !== 'logits') throw new Error('logits expected');
      expect(maxDiff(r.logits, plainForward(plain, x, 1).data)).toBeLessThan(1e-2);
      await expect(c.predict(tensor(large(4)))).rejects.toMatchObject({ code: 'E_RANGE_SENTINEL' });
      const pinned = sdkClient(parties, { timeoutMs: 60_000, expectedModelHash: r.model.modelHash });
      const [good, bad] = await Promise.allSettled([pinned.predict(tensor(small(2))), c.predict(tensor(large(5)))]);
      expect(good.status).toBe('fulfilled');
      expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'E_RANGE_SENTINEL' } });
    } catch (e) {
      throw new Error(`${String(e)}\n${logTail(parties.logs)}`);
    }
  }, 120_000);
});
