/**
 * A seeded sample of the differential fuzz (bench/protocol-fuzz.ts runs any
 * number): random models of every layer kind through secureForward under the
 * drawn protocol setting and input sharing, each within the fixed-point
 * simulation's tolerance (protocol/testing/fuzz-run.ts). Seeds are fixed, so
 * the sample is the same every run; a failure names the seed to rerun with
 * `npx tsx bench/protocol-fuzz.ts --seed S --count 1 --verbose`.
 */
import { describe, expect, it } from 'vitest';
import { FuzzRng, layerTags, randomModel } from '../testing/fuzz-graphs.js';
import { fuzzCase, fuzzSettings, INPUT_SHARINGS } from '../testing/fuzz-run.js';
import { malFuzzCase } from '../testing/fuzz-mal.js';

const SEEDS = Array.from({ length: 60 }, (_, i) => 1 + i);

describe('secureForward on random IR models vs the fixed-point simulation (differential fuzz sample)', () => {
  it('the sample covers every layer kind the generator draws', () => {
    const tags = new Set(SEEDS.flatMap((s) => layerTags(randomModel(new FuzzRng(s)).model)));
    for (const k of ['conv2d', 'depthwise_conv2d', 'conv2d_transpose', 'dense', 'maxpool2d', 'avgpool2d', 'global_avgpool2d', 'zero_padding2d', 'cropping2d', 'upsampling2d:nearest', 'upsampling2d:bilinear', 'rescaling', 'reshape', 'flatten', 'leaky_relu', 'prelu', 'add', 'subtract', 'multiply', 'maximum', 'average', 'concatenate', 'act:relu', 'act:relu6', 'act:hard_sigmoid', 'act:hard_silu', 'act:sigmoid', 'act:tanh', 'act:silu', 'act:gelu', 'dilation']) expect(tags, k).toContain(k);
  });

  // Cases where the local truncation is expected to fail in more than 1 run in 100 (|x| / 2^64 per element) are
  // skipped: after RISK_RERUNS reruns such a case still fails by chance about risk^4 of the time.
  it('every sampled seed within tolerance of the simulation (cases at risk of a local-truncation failure skipped)', async () => {
    let ran = 0;
    for (const seed of SEEDS) {
      const c = await fuzzCase(seed, { maxRisk: 0.01 });
      expect(c.verdict, `seed ${seed}: ${c.setting}; ${c.sharing}; ${c.detail ?? ''}`).toMatch(/^(ok|skipped|risk)$/);
      if (c.verdict !== 'skipped') ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(50);
  });

  it.each(INPUT_SHARINGS)('seed 7 under every setting with the input shared %s', async (sharing) => {
    for (const st of fuzzSettings()) {
      const c = await fuzzCase(7, { setting: st.name, sharing, maxRisk: 0.01 });
      expect(c.verdict, `${st.name}: ${c.detail ?? ''}`).toBe('ok');
    }
  });

  it.each([2, 3, 9])('seed %i in malicious mode: every party opens the same output, within tolerance of the simulation', async (seed) => {
    const c = await malFuzzCase(seed);
    expect(c.verdict, c.detail ?? '').toBe('ok');
  });

  it('the check fails when one secure output element is NaN (a NaN ratio is not forgotten at the next element in tolerance)', async () => {
    const c = await fuzzCase(7, { setting: fuzzSettings()[0]!.name, tamper: (y) => { y[0] = NaN; } });
    expect(c.verdict).toBe('defect');
  });

  it('the check fails when the secure output is off by 0.05 in one element', async () => {
    const c = await fuzzCase(7, { setting: fuzzSettings()[0]!.name, tamper: (y) => { y[0]! += 0.05; } });
    expect(c.verdict).toBe('defect');
    expect(c.err).toBeGreaterThan(c.tol);
  });
});
