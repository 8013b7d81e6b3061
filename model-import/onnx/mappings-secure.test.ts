/**
 * The secure path of this round's ONNX mappings (Pad constant v as x - v, zero pad, + v; Pad edge / reflect as
 * crops and concatenations; Clip with other bounds as ReLUs of shifted copies; Add / Sub broadcasting a 1 in C, H,
 * W as nearest upsampling / concatenated copies; Conv dilations, now the IR's dilation): each graph through the
 * three-party runner (f = 13) against the importer's float reference, with the client's input shared at random and
 * as (x, 0). They create P0-only constants and (0, 0) cells (public offsets, padding) feeding truncating layers
 * (LeakyRelu, HardSigmoid, a Conv), the deterministic sharings local truncation mishandled before it re-randomised.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../../protocol/kernels/index.js';
import { secureForward } from '../../protocol/layers/runner.js';
import { shareModel } from '../../protocol/layers/share-model.js';
import type { AShare } from '../../protocol/ring/types.js';
import { seededPrg, uniform } from '../../protocol/seed-models.js';
import { reconstruct } from '../../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../../protocol/testing/run3.js';
import { referenceLogits } from '../reference.js';
import { attr, buildModel, floatTensor, intTensor, node } from '../testing/onnx.js';
import type { NodeMsg, TensorMsg } from './schema.js';
import { loadOnnx } from './load.js';

const k = getKernels();
const F = 13;
const g = seededPrg(77);
const C = 1, H = 4, W = 3; // one channel: an NCHW output is then its NHWC (the importer refuses a multi-channel map as the output)
const w33 = floatTensor('w', [1, 1, 2, 2], Array.from(uniform(g, 4, 0.8)));

const CASES: [string, NodeMsg[], TensorMsg[]][] = [
  ['Pad constant 0.5 -> LeakyRelu', [node('Pad', ['x', 'p', 'v'], ['a']), node('LeakyRelu', ['a'], ['y'], [attr('alpha', { float: 0.1 })])], [intTensor('p', [8], [0, 0, 1, 0, 0, 0, 0, 2]), floatTensor('v', [], [0.5])]],
  ['Pad constant -1.25 -> HardSigmoid', [node('Pad', ['x', 'p', 'v'], ['a']), node('HardSigmoid', ['a'], ['y'])], [intTensor('p', [8], [0, 0, 1, 1, 0, 0, 1, 1]), floatTensor('v', [], [-1.25])]],
  ['Pad reflect -> Conv dilations 2 (auto_pad SAME_UPPER)', [node('Pad', ['x', 'p'], ['a'], [attr('mode', 'reflect')]), node('Conv', ['a', 'w'], ['y'], [attr('dilations', [2, 2]), attr('auto_pad', 'SAME_UPPER')])], [intTensor('p', [8], [0, 0, 2, 1, 0, 0, 1, 1]), w33]],
  ['Pad edge -> Clip(-1, 1)', [node('Pad', ['x', 'p'], ['a'], [attr('mode', 'edge')]), node('Clip', ['a', 'lo', 'hi'], ['y'])], [intTensor('p', [8], [0, 0, 1, 0, 0, 0, 0, 1]), floatTensor('lo', [], [-1]), floatTensor('hi', [], [1])]],
  ['Clip(min 0.25) -> LeakyRelu', [node('Clip', ['x', 'lo'], ['a']), node('LeakyRelu', ['a'], ['y'], [attr('alpha', { float: 0.2 })])], [floatTensor('lo', [], [0.25])]],
  ['x - GlobalAveragePool(x) (broadcast over H, W) -> HardSigmoid', [node('GlobalAveragePool', ['x'], ['m']), node('Sub', ['x', 'm'], ['a']), node('HardSigmoid', ['a'], ['y'])], []],
];

async function secureVsReference(nodes: NodeMsg[], inits: TensorMsg[], sharing: 'random' | '(x, 0)'): Promise<number> {
  const { ir } = loadOnnx(buildModel({ dims: [C, H, W], nodes, initializers: inits }));
  const x = Float32Array.from(uniform(g, C * H * W, 2));
  const want = referenceLogits(ir, x, 1);
  const enc = encode(Float64Array.from(x), F) as AShare, zero = new BigUint64Array(enc.length) as AShare;
  const xs = sharing === 'random' ? shareFor3(enc) : [enc, zero, zero];
  const parts = shareModel(k, ir, F);
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...ir.inputShape], data: xs[ctx.party]! }), { fracBits: F });
  const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), F);
  expect(got.length).toBe(want.length);
  return Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!)));
}

describe('ONNX mappings of this round through the secure runner vs the float reference', () => {
  describe.each(['random', '(x, 0)'] as const)('input shared %s', (sharing) => {
    it.each(CASES)('%s', async (_name, nodes, inits) => {
      expect(await secureVsReference(nodes, inits, sharing)).toBeLessThan(0.01);
    });
  });
});
