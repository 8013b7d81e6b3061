/**
 * The kernel census behind issue 27's audit (protocol/testing/kernel-census.ts,
 * bench/cuda-audit.ts): it computes what the kernels it wraps compute, counts
 * elements per op as documented, names the calling protocol module and asks
 * the CUDA set's own routing whether a call would run on the GPU.
 */
import { describe, expect, it } from 'vitest';
import { createContext } from '../../context.js';
import { dealSeeds } from '../../correlated/prg.js';
import { encode } from '../../fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../../ir.js';
import { secureForward } from '../../layers/runner.js';
import { shareModel } from '../../layers/share-model.js';
import type { PartyId } from '../../ring/types.js';
import { seededPrg, uniform } from '../../seed-models.js';
import { callerModule, elementsOf, kernelCensus, sumBy } from '../../testing/kernel-census.js';
import { shareFor3 } from '../../testing/run3.js';
import { memoryTransports } from '../../transport/memory.js';
import { tsKernels } from '../ts.js';
import { ALL_GPU_THRESHOLDS, DEFAULT_THRESHOLDS } from './index.js';

describe('kernel census', () => {
  it('gives the wrapped kernels\' results and counts calls and elements per op', () => {
    const c = kernelCensus(tsKernels, DEFAULT_THRESHOLDS);
    const k = c.kernelsFor(0, () => 'L');
    const a = BigUint64Array.of(1n, 2n, 3n, (1n << 64n) - 1n), b = BigUint64Array.of(5n, 6n, 7n, 2n);
    const out = new BigUint64Array(4), want = new BigUint64Array(4);
    k.mul(a, b, out);
    tsKernels.mul(a, b, want);
    expect(out).toEqual(want);
    const g = new BigUint64Array(6);
    k.gemm(new BigUint64Array(6), new BigUint64Array(9), 2, 3, 3, g);
    const rows = [...c.rows.values()];
    expect(rows.map((r) => [r.op, r.calls, r.elements, r.layer])).toEqual([['mul', 1, 4, 'L'], ['gemm', 1, 18, 'L']]);
    // Small calls stay on the CPU under the defaults.
    expect(rows.every((r) => r.gpuCalls === 0)).toBe(true);
  });

  it('routes as the CUDA set: with every threshold at 0 each call of a GPU op counts as a GPU call', () => {
    const c = kernelCensus(tsKernels, ALL_GPU_THRESHOLDS);
    const k = c.kernelsFor(1, () => 'L');
    const a = new BigUint64Array(8);
    k.mul(a, a, new BigUint64Array(8));
    k.wrap(a, a, new Uint8Array(8)); // no CUDA kernel: CPU
    const by = sumBy(c.rows.values(), (r) => r.op);
    expect(by.get('mul')!.gpuCalls).toBe(1);
    expect(by.get('wrap')!.gpuCalls).toBe(0);
  });

  it('element counts and caller names follow the documented rules', () => {
    expect(elementsOf('gemm', [0, 0, 4, 5, 6])).toBe(120);
    expect(elementsOf('depthwise', [0, 0, 1, 8, 8, 3, 1, 3, 3, 1, 1, 1, 1, 8, 8, new BigUint64Array(192)])).toBe(192 * 9);
    expect(elementsOf('privateCompareR4', [0, new Uint8Array(96), new BigUint64Array(2)])).toBe(2);
    expect(callerModule('Error\n    at wrap (/r/protocol/testing/kernel-census.ts:1:2)\n    at Object.mul (/r/protocol/kernels/ts.ts:3:4)\n    at reluDirect (/r/protocol/primitives/relu-direct.ts:5:6)')).toBe('relu-direct');
  });

  it('over a secure conv + ReLU layer of three parties: the layer\'s ops are counted under its kind, its im2colGemm calls on the GPU', async () => {
    const prg = seededPrg(5);
    const ir = { formatVersion: IR_FORMAT_VERSION, inputShape: [16, 16, 8], output: 'c', outputActivation: 'linear', nodes: [
      { kind: 'conv2d', name: 'c', inputs: ['input'], filters: 16, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', kernel: { shape: [3, 3, 8, 16], data: uniform(prg, 3 * 3 * 8 * 16, 0.2) } },
    ] } as unknown as ModelIR<FloatTensor>;
    const c = kernelCensus(tsKernels, { ...DEFAULT_THRESHOLDS, gemmMacs: 1 << 16 });
    const parts = shareModel(tsKernels, ir, 13), xs = shareFor3(encode(uniform(prg, 16 * 16 * 8, 1), 13));
    const transports = memoryTransports({ lateCopy: false }), seeds = dealSeeds();
    await Promise.all(([0, 1, 2] as PartyId[]).map((p) => secureForward(createContext(p, transports[p], seeds[p], { fracBits: 13, compareBits: 32, kernels: c.kernelsFor(p, () => 'conv2d+relu') }), parts[p], { shape: [1, 16, 16, 8], data: xs[p] })));
    const by = sumBy(c.rows.values(), (r) => `${r.caller}|${r.op}`);
    // conv2d goes through im2colGemm (the CUDA set has it): every call (each Beaver term's, the dealer's) is the whole
    // 256 x 72 x 16 product, and all of them go to the GPU at these thresholds; no separate im2col or gemm is left.
    const ig = by.get('conv|im2colGemm')!;
    expect(ig.calls).toBeGreaterThanOrEqual(3);
    expect(ig.elements).toBe(ig.calls * 256 * 72 * 16);
    expect(ig.gpuCalls).toBe(ig.calls);
    expect(by.has('conv|im2col') || by.has('conv|gemm')).toBe(false);
    expect(by.get('private-compare-radix4|privateCompareR4')!.elements).toBe(2 * 256 * 16); // P0 and P1, one comparison per output
  });
});
