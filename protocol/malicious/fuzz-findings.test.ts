/**
 * Found by the differential fuzz (bench/protocol-fuzz.ts --malicious, seed 9
 * with values in the comparisons' range): malForward's divisions by a public
 * count (GlobalAveragePooling2D, AveragePooling2D, Average) multiply by
 * round(2^24 / count) and truncM by 24 bits, whose documented precondition
 * (|x 2^24| < 2^(TRUNC_ELL - 1) = 2^47, layers-linear.ts) holds only for
 * |x| < 2^(23 - f) reals (1024 at f = 13), 256 times below the comparisons'
 * range (2^(31 - f)). Nothing checks it (not checkMaliciousModel, not the
 * importer, not the parties), and past it the MAC check passes and the output
 * is silently wrong: a 1x1 GlobalAveragePooling2D of 4000 opens -96 (4000 -
 * 4096), of 1500 or 2000 wrong in some elements (-2596, -2096), of 6949.66
 * -1242.34 (what the fuzz saw).
 * The `it.fails` case is the defect, kept until a range check (or a wider
 * truncation, ell up to MAX_TRUNC_ELL) lands.
 */
import { describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { malOpen } from '../testing/fuzz-mal.js';

const gap: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [1, 1, 8], nodes: [{ kind: 'global_avgpool2d', name: 'gap', inputs: ['input'] }], output: 'gap', outputActivation: 'linear' };

describe('malicious GlobalAveragePooling2D near truncM\'s range (f = 13)', () => {
  it('opens x for |x| < 2^(23 - f) = 1024 (inside the documented precondition)', async () => {
    const [y] = await malOpen(gap, new Float64Array(8).fill(1000), 1);
    for (const v of y) expect(Math.abs(v - 1000)).toBeLessThan(1e-3);
  });
  it.fails('opens x for 4000 (inside the comparisons\' range 2^18; today it opens -96, unchecked)', async () => {
    const [y] = await malOpen(gap, new Float64Array(8).fill(4000), 1);
    for (const v of y) expect(Math.abs(v - 4000)).toBeLessThan(1e-3);
  });
});
