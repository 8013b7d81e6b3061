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
import { writeBundles } from '../model-import/bundle.js';
import { plainModelHash } from '../parties/model-source.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { logTail, sdkClient, startParties, type Parties } from './testing/e2e.js';

const IN = 8;
/** IN -> dense 16 relu (weights up to 2^16) -> dense 3 (parties/range-sentinel.test.ts's model). */
function model(): ModelIR<FloatTensor> {
  const g = seededPrg(21);
  const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [IN], output: 'd2', outputActivation: 'softmax', labels: ['a', 'b', 'c'],
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: 16, activation: 'relu', kernel: t([IN, 16], 2 ** 16), bias: t([16], 1) },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: 3, activation: 'linear', kernel: t([16, 3], 2 ** -10), bias: t([3], 0.1) },
    ],
  };
}
const plain = model();
const small = (seed: number): Float64Array => uniform(seededPrg(seed), IN, 1e-3).map(Math.abs);
const large = (seed: number): Float64Array => uniform(seededPrg(seed), IN, 1).map((v) => 0.5 + Math.abs(v) / 2);
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
