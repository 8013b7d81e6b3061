/**
 * The zoo rows' configuration (bench/zoo-precision.ts): the importer's chooser
 * on the bench's own input at the row's f. Recomputed here on MobileNetV3-Small
 * (the quickest fixture, ~2 s), so the bench's choice cannot go stale: its
 * compared values fit the 32-bit ring with the margin, and local truncation's
 * expected wrong elements per inference are above the 1e-6 limit, so the rows
 * run with exact truncation.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rangeCheck } from '../model-import/precision.js';
import { ZOO_DIR, ZOO_FIXTURES, zooInput, zooModel } from './zoo-models.js';
import { precisionLabel, zooPrecision } from './zoo-precision.js';

const have = existsSync(path.join(ZOO_DIR, ZOO_FIXTURES.mobilenetv3small!.dir, 'model.keras'));

describe.skipIf(!have)('zoo rows run at what the importer accepts (bench/zoo-precision.ts)', () => {
  it('mobilenetv3small at f = 13 on the bench input: local truncation refused for its risk, exact on the 32-bit ring chosen', async () => {
    const model = await zooModel('mobilenetv3small');
    const x = zooInput('mobilenetv3small', 1);
    const p = await zooPrecision(model, [x], ZOO_FIXTURES.mobilenetv3small!.fracBits);
    expect(p.settings).toEqual({ fracBits: 13, truncation: 'exact', compareBits: 32 });
    expect(precisionLabel(p.settings)).toBe('f = 13, exact truncation, 32-bit ring');
    const local = p.choice.trials.find((t) => t.settings.truncation === 'local' && t.settings.compareBits === 32)!;
    expect(local.verdict).toBe('risk');
    expect(local.risk!).toBeGreaterThan(1e-6);
    // The ring check, recomputed from the chooser's per-layer magnitudes: inside 2^31 / 2^13 / 4, and not inside a ring 2^12 times narrower.
    expect(p.choice.ranges.length).toBeGreaterThan(10);
    expect(rangeCheck(p.choice.ranges, 13, 32, 4).ok).toBe(true);
    expect(rangeCheck(p.choice.ranges, 13 + 12, 32, 4).ok).toBe(false);
    expect(p.lines[0]).toMatch(/^f = 13, local truncation, 32-bit ring: risk, local-truncation risk \d\.\d\de-\d+ wrong elements per inference/);
  }, 60_000);

  it('a row whose compared values no ring holds fails with E_PRECISION_RANGE (no silent run)', async () => {
    const model = await zooModel('mobilenetv3small');
    // Inputs scaled by 1e15 drive the compared values past the 64-bit ring at f = 13.
    const x = zooInput('mobilenetv3small', 1).map((v) => v * 1e15);
    await expect(zooPrecision(model, [x], 13)).rejects.toMatchObject({ code: 'E_PRECISION_RANGE' });
  }, 60_000);
});
