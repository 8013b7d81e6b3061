/**
 * Share bundles of a dilated model (review of s40-dil): the manifests carry irFormatVersion 2
 * (IR_FORMAT_VERSION_DILATED), so a party build from before dilations (which accepts 1 only and knows no
 * `dilation` field) refuses the bundle instead of running the convolutions undilated; a model without a
 * dilation keeps 1. The three loaded bundles keep the dilation and compute the plaintext reference through
 * the three-party runner; a manifest with another IR version is refused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, IR_FORMAT_VERSION_DILATED, type FloatTensor, type LayerNode, type ModelIR } from '../protocol/ir.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import type { PartyId } from '../protocol/ring/types.js';
import { loadBundle, writeBundles } from './bundle.js';
import { referenceLogits } from './reference.js';
import { tempDir } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const g = seededPrg(77);
const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((p, q) => p * q, 1), a) });

function model(dilated: boolean): ModelIR<FloatTensor> {
  const d = (v: [number, number]) => (dilated ? { dilation: v } : {});
  const nodes: LayerNode<FloatTensor>[] = [
    { kind: 'conv2d', name: 'c', inputs: ['input'], filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'same', ...d([2, 3]), activation: 'relu', kernel: t([3, 3, 2, 3], 0.5), bias: t([3], 0.2) },
    { kind: 'depthwise_conv2d', name: 'dw', inputs: ['c'], kernelSize: [3, 2], strides: [1, 1], padding: 'same', ...d([4, 1]), depthMultiplier: 2, activation: 'linear', kernel: t([3, 2, 3, 2], 0.5), bias: t([6], 0.2) },
  ];
  return { formatVersion: IR_FORMAT_VERSION, inputShape: [7, 6, 2], nodes, output: 'dw', outputActivation: 'linear' };
}

describe('share bundles of a dilated model', () => {
  it('irFormatVersion 2 with a dilation, 1 without; loaded bundles keep the dilation and run as the reference', async () => {
    const plain = path.join(tmp.dir, 'plain'), dil = path.join(tmp.dir, 'dil');
    expect(writeBundles({ ir: model(false), sourceHash: 'p' }, plain, { fracBits: 13 }).map((m) => m.irFormatVersion)).toEqual([IR_FORMAT_VERSION, IR_FORMAT_VERSION, IR_FORMAT_VERSION]);
    const ir = model(true);
    expect(writeBundles({ ir, sourceHash: 'd' }, dil, { fracBits: 13 }).map((m) => m.irFormatVersion)).toEqual([IR_FORMAT_VERSION_DILATED, IR_FORMAT_VERSION_DILATED, IR_FORMAT_VERSION_DILATED]);
    expect(IR_FORMAT_VERSION_DILATED).not.toBe(IR_FORMAT_VERSION);
    const loaded = ([0, 1, 2] as PartyId[]).map((p) => loadBundle(dil, p).model);
    for (const m of loaded) expect(m.nodes.map((n) => (n as { dilation?: number[] }).dilation)).toEqual([[2, 3], [4, 1]]);
    const x = Float64Array.from(uniform(g, 2 * 7 * 6 * 2, 1.5)), F = 13, k = getKernels();
    const xs = shareFor3(encode(x, F));
    const r = await run3((ctx) => secureForward(ctx, loaded[ctx.party]!, { shape: [2, 7, 6, 2], data: xs[ctx.party]! }), { fracBits: F });
    const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), F), want = referenceLogits(ir, x, 2);
    expect(got.length).toBe(2 * 7 * 6 * 6);
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!)))).toBeLessThan(0.02);
    // The undilated twin differs (the dilation changes the answer, so a build ignoring it would be wrong).
    const undil = referenceLogits({ ...ir, nodes: ir.nodes.map((n) => { const { dilation: _d, ...rest } = n as LayerNode<FloatTensor> & { dilation?: unknown }; return rest as LayerNode<FloatTensor>; }) }, x, 2);
    expect(Math.max(...Array.from(undil, (v, i) => Math.abs(v - want[i]!)))).toBeGreaterThan(0.1);
  });

  it('a manifest with another IR format version is refused (E_BUNDLE_INTEGRITY)', () => {
    const dir = path.join(tmp.dir, 'v3');
    writeBundles({ ir: model(true), sourceHash: 'd' }, dir, { fracBits: 13 });
    const f = path.join(dir, 'party1', 'manifest.json');
    writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, 'utf8')), irFormatVersion: 3 }));
    expect(() => loadBundle(dir, 1)).toThrow(/IR format version 3 is not supported \(expected 1 or 2\)/);
  });
});
