/**
 * The ReLU moved after a MaxPool (runner.ts deferredActivations) makes the
 * MaxPool compare the pre-activation values: their differences, not those of
 * the ReLU's outputs, must fit the comparison ring. The importer's range
 * checks (forward.ts onCompare for the samples, static-bounds.ts for the
 * sound bound) must see what the runner compares.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { floatArith } from '../ir-kit/arith.js';
import { forwardReals } from '../ir-kit/forward.js';
import type { FloatTensor, ModelIR } from '../ir.js';
import { IR_FORMAT_VERSION } from '../ir.js';
import { getKernels } from '../kernels/index.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { floatPass, rangeCheck } from '../../model-import/precision.js';
import { inputBox, staticRanges } from '../../model-import/static-bounds.js';
import { deferredActivations, secureForward } from './runner.js';
import { shareModel } from './share-model.js';

const k = getKernels();
const f = 13;
/** A 1x1 conv (weight 1) with ReLU feeding a 1x2 MaxPool: relu(max(z0, z1)) on the runner, max(relu z0, relu z1) in the IR. */
const model: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [1, 2, 1], output: 'p', outputActivation: 'linear', nodes: [
    { kind: 'conv2d', name: 'c', inputs: ['input'], filters: 1, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: 'relu', kernel: { shape: [1, 1, 1, 1], data: Float64Array.of(1) } },
    { kind: 'maxpool2d', name: 'p', inputs: ['c'], poolSize: [1, 2], strides: [1, 2], padding: 'valid' },
  ],
};
// z0 = -250000, z1 = 20000: each |z| 2^13 < 2^31 (the ReLU's own comparison fits the 32-bit ring),
// but z1 - z0 = 270000 reads 2.2e9 > 2^31 ring units: negative on the 32-bit comparison ring.
const x = Float64Array.of(-250000, 20000);

async function secure(reluAfterMaxPool: boolean): Promise<number> {
  const parts = shareModel(k, model, f);
  const xs = shareFor3(encode(x, f));
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, 1, 2, 1], data: xs[ctx.party] }, { reluAfterMaxPool }), { fracBits: f, compareBits: 32 });
  return decode(reconstruct(k, r.results[0].data, r.results[1].data), f)[0]!;
}

describe('deferred ReLU before a MaxPool: the range the MaxPool compares', () => {
  it('the runner defers this ReLU, and on the 32-bit ring the deferred MaxPool is wrong where the pre-activation differences leave the ring', async () => {
    expect(deferredActivations(model).size).toBe(1);
    expect(forwardReals(model, x, 1, floatArith).data[0]).toBe(20000);
    expect(await secure(false)).toBeCloseTo(20000, 2);
    // What the importer's range checks must keep out: max(z0, z1) picks z0, the ReLU gives 0.
    expect(await secure(true)).not.toBeCloseTo(20000, 0);
  });

  it('the samples range check (forward.ts onCompare) refuses this f on the 32-bit ring', () => {
    const { ranges } = floatPass(model, [x]);
    const mp = ranges.find((r) => r.layer === 'p' && r.kind === 'difference');
    expect(mp?.maxAbs).toBeGreaterThanOrEqual(2 * 250000);
    expect(rangeCheck(ranges, f, 32, 1).ok).toBe(false);
    expect(rangeCheck(ranges, f, 64, 1).ok).toBe(true);
  });

  it('the sound bound (static-bounds.ts) refuses this f on the 32-bit ring', () => {
    const ranges = staticRanges(model, inputBox([1, 2, 1], [-250000], [20000]));
    const mp = ranges.find((r) => r.layer === 'p' && r.kind === 'difference');
    expect(mp?.maxAbs).toBeGreaterThanOrEqual(2 * 250000);
    expect(rangeCheck(ranges, f, 32, 1).ok).toBe(false);
  });

  it('a MaxPool whose input ReLU is not moved keeps the post-activation range', () => {
    // Two readers of the conv: the ReLU stays in place, the MaxPool compares ReLU outputs only.
    const m2: ModelIR<FloatTensor> = { ...model, output: 'a', nodes: [...model.nodes, { kind: 'add', name: 'a', inputs: ['p', 'p2'] }, { kind: 'maxpool2d', name: 'p2', inputs: ['c'], poolSize: [1, 2], strides: [1, 2], padding: 'valid' }] };
    m2.nodes.splice(2, 0, m2.nodes.pop()!);
    expect(deferredActivations(m2).size).toBe(0);
    const { ranges } = floatPass(m2, [x]);
    expect(ranges.find((r) => r.layer === 'p' && r.kind === 'difference')?.maxAbs).toBe(2 * 20000);
  });
});
