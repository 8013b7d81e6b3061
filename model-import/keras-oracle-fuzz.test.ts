/**
 * The differential probe against tfjs-layers as a regression test: random tfjs-layers models from a
 * fixed seed (testing/keras-oracle-gen.ts), saved as TF.js Layers files and imported; none may import
 * to a different answer than tfjs's predict (bench/keras-oracle.ts runs the same probe at any seed and
 * count, with the per-layer report). A few of the equal ones also run through the secure runner.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { seededPrg } from '../protocol/seed-models.js';
import { maxAbs, maxDiff, probeOne, secureOutput, type Verdict } from './testing/keras-oracle-probe.js';

tf.env().set('PROD', true);
void tf.setBackend('cpu');

describe('Keras importer vs tfjs-layers on random models (seed 14)', () => {
  it('100 models: every one is equal to tfjs, refused with a coded error, or a known tfjs deviation; never imported and different', async () => {
    const g = seededPrg(14);
    const counts: Record<Verdict, number> = { a: 0, b: 0, c: 0, tfjs: 0, skip: 0 };
    const different: string[] = [];
    let secure = 0;
    for (let m = 0; m < 100; m++) {
      const dir = mkdtempSync(path.join(tmpdir(), 'keras-oracle-test-'));
      try {
        const p = await probeOne(g, dir, { depth: 4, rare: 0.1, batch: 2 });
        counts[p.verdict]++;
        if (p.verdict === 'c') different.push(`#${m} ${p.note}: ${p.steps.map((s) => `${s.kind} ${s.desc}`).join(' > ')}`);
        if (p.verdict === 'b') expect(p.refusal).toMatch(/^E_[A-Z_]+: /);
        if (p.verdict === 'a' && secure < 3 && p.loaded && p.x && p.want) {
          secure++;
          expect(maxDiff(await secureOutput(p.loaded, p.x, 2, dir), p.want), p.steps.map((s) => s.kind).join(' > ')).toBeLessThan(0.05 * (1 + maxAbs(p.want)));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    expect(different).toEqual([]);
    // Enough imported models that the comparison means something (this seed gives 51 with the fixes; main's importer gave 30 equal and 2 different).
    expect(counts.a).toBeGreaterThanOrEqual(45);
    expect(secure).toBe(3);
  }, 120_000);
});
