/**
 * The range check's boundary: a value of exactly 2^(w-1) ring units reads as
 * negative on the w-bit comparison ring (ReLU gives 0), so the chooser must
 * accept only magnitudes strictly below 2^(w-1-f) / margin (precision.ts
 * rangeCheck, sound-ring.ts wideLayers). With rangeMargin 1 (allowed: >= 1)
 * the old check (<=) let such a model through.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { IR_FORMAT_VERSION } from '../protocol/ir.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { floatPass, rangeCheck } from './precision.js';
import { wideLayers } from './sound-ring.js';

const k = getKernels();
const f = 13;
const model: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [3], output: 'a', outputActivation: 'linear', nodes: [{ kind: 'activation', name: 'a', inputs: ['input'], activation: 'relu' }] };
const edge = 2 ** (31 - f); // 2^31 ring units at f = 13
const x = Float64Array.of(edge, edge - 2 ** -f, -edge);

describe('range check boundary (32-bit comparison ring, margin 1)', () => {
  it('a ReLU input of exactly 2^31 ring units is wrong on the 32-bit ring (0, not 2^18); one ulp less and -2^31 are right', async () => {
    const parts = shareModel(k, model, f);
    const xs = shareFor3(encode(x, f));
    const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, 3], data: xs[ctx.party] }), { fracBits: f, compareBits: 32 });
    const got = Array.from(decode(reconstruct(k, r.results[0].data, r.results[1].data), f));
    expect(got[0]).toBe(0);
    expect(got[1]).toBe(edge - 2 ** -f);
    expect(got[2]).toBe(0);
  });

  it('rangeCheck refuses exactly 2^(31-f) / margin and accepts a value just below', () => {
    const { ranges } = floatPass(model, [x]);
    expect(ranges.find((r) => r.layer === 'a')!.maxAbs).toBe(edge);
    expect(rangeCheck(ranges, f, 32, 1).ok).toBe(false);
    expect(rangeCheck(ranges, f, 64, 1).ok).toBe(true);
    // (The samples pass reads inputs as float32: one ulp of f = 13 below 2^18 rounds back up; 2^-6 is one float32 ulp there.)
    const below = floatPass(model, [Float64Array.of(edge - 2 ** -6, 1, -(edge - 2 ** -6))]).ranges;
    expect(rangeCheck(below, f, 32, 1).ok).toBe(true);
  });

  it('wideLayers moves a layer whose bound is exactly at the 32-bit limit to the 64-bit ring', () => {
    const at = [{ layer: 'a', kind: 'sign' as const, maxAbs: edge }];
    expect(wideLayers(at, [], f, 1)).toEqual({ ok: true, layers: ['a'] });
    expect(wideLayers([{ ...at[0]!, maxAbs: edge - 2 ** -f }], [], f, 1)).toEqual({ ok: true, layers: [] });
  });
});
