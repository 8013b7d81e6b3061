import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import type { PartyId } from '../protocol/ring/types.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { loadBundle, writeBundles } from './bundle.js';
import { fixedLogits } from './fixed-sim.js';
import { loadModel } from './load.js';
import { referenceLogits } from './reference.js';
import { fixtureModel, golden, haveFixtures, KERAS_FIXTURES, maxAbsDiff, readF32, tempDir } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe.skipIf(!haveFixtures)('imported bundles through the secure runner (three parties in memory)', () => {
  it.each(['karancraze-mnist', 'trab-pneumonia-bn'])('%s: the secure output is what the fixed-point simulation predicts', async (dir) => {
    const loaded = await loadModel(fixtureModel(dir));
    const out = path.join(tmp.dir, dir);
    writeBundles(loaded, out, { fracBits: 13 });
    const models = ([0, 1, 2] as PartyId[]).map((p) => loadBundle(out, p).model);
    const e = golden(dir)!.exact_inputs![0]!;
    const x = readF32(path.join(KERAS_FIXTURES, dir, 'golden', e.file));
    const xs = shareFor3(encode(x, 13));
    const r = await run3((ctx) => secureForward(ctx, models[ctx.party]!, { shape: [1, ...loaded.ir.inputShape], data: xs[ctx.party]! }), { fracBits: 13 });
    const secure = decode(reconstruct(getKernels(), r.results[0].data, r.results[1].data), 13);
    const sim = fixedLogits(loaded.ir, x, 1, { fracBits: 13 });
    // Each truncation differs by at most one unit; a few units survive to the logits.
    expect(maxAbsDiff(secure, sim)).toBeLessThan(64 / 8192);
    expect(maxAbsDiff(secure, referenceLogits(loaded.ir, x, 1))).toBeLessThan(0.05);
  });
});
