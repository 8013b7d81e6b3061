/**
 * Whole models through secureForward where the input sharing is not random:
 * the client's image shared (x, 0) or (0, x) (a P0-only constant, what a
 * probe fed), and ZeroPadding2D's padded cells, shared (0, 0) whatever the
 * input's sharing, feeding every comparison-based activation layer. Against
 * the float64 plaintext twin. Before truncate.ts re-randomised its input,
 * Pad -> LeakyReLU gave about -2^27 and Pad -> HardSigmoid 0 (not 0.5) in
 * the padded cells (the local truncation's failure on such sharings; the
 * comparisons were right).
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { getKernels } from '../kernels/index.js';
import type { Activation, FloatTensor, LayerNode, ModelIR } from '../ir.js';
import { IR_FORMAT_VERSION } from '../ir.js';
import { plainForward } from '../reference/forward.js';
import type { AShare } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3, type Run3Options } from '../testing/run3.js';
import { secureForward } from './runner.js';
import { secureForwardChecked } from './sentinel-forward.js';
import { shareModel } from './share-model.js';

const k = getKernels();
const F = 13;
/** 2 x 3 x 2 input: 0, +-0.5, 1, ties (1.5 twice, -2 twice), values past hard_sigmoid's and relu6's knees. */
const X = Float64Array.from([0, 0.5, -0.5, 1, 1.5, 1.5, -2, -2, 3.5, -4, 7, 0.25]);
const INPUT_SHAPE = [2, 3, 2];
type Sharing = '(x, 0)' | '(0, x)' | 'random';

function shares(sharing: Sharing): AShare[] {
  const x = encode(X, F) as AShare, z = new BigUint64Array(X.length) as AShare;
  return sharing === '(x, 0)' ? [x, z, z] : sharing === '(0, x)' ? [z, x, z] : shareFor3(x);
}

/**
 * input -> ZeroPadding2D -> [Rescaling (a P0-only offset on the zeros)] -> layer; with 'pad-constant', ONNX's Pad
 * with a constant (model-import/onnx/ops-window.ts): Rescaling(1, -v) -> ZeroPadding2D -> Rescaling(1, +v) -> layer,
 * where scale 1 runs no division (runner.ts), so nothing re-randomises the sharing: the padded cells reach the layer
 * shared (v, 0).
 */
function model(layer: (input: string) => LayerNode<FloatTensor>, rescale: boolean | 'pad-constant'): ModelIR<FloatTensor> {
  const nodes: LayerNode<FloatTensor>[] = [{ kind: 'zero_padding2d', name: 'zp', inputs: [rescale === 'pad-constant' ? 'shift' : 'input'], padding: [[1, 0], [0, 1]] }];
  if (rescale === 'pad-constant') {
    nodes.unshift({ kind: 'rescaling', name: 'shift', inputs: ['input'], scale: 1, offset: 0.75 });
    nodes.push({ kind: 'rescaling', name: 'rs', inputs: ['zp'], scale: 1, offset: -0.75 });
  } else if (rescale) nodes.push({ kind: 'rescaling', name: 'rs', inputs: ['zp'], scale: 0.75, offset: 0.25 });
  const out = layer(rescale ? 'rs' : 'zp');
  nodes.push(out);
  return { formatVersion: IR_FORMAT_VERSION, inputShape: INPUT_SHAPE, nodes, output: out.name, outputActivation: 'linear' };
}

async function maxErr(m: ModelIR<FloatTensor>, sharing: Sharing, opts: Run3Options = {}): Promise<number> {
  const parts = shareModel(k, m, F), xs = shares(sharing);
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...INPUT_SHAPE], data: xs[ctx.party]! }), { fracBits: F, ...opts });
  const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), F), want = plainForward(m, X, 1).data;
  expect(got.length).toBe(want.length);
  return Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!)));
}

const act = (activation: Activation) => (input: string): LayerNode<FloatTensor> => ({ kind: 'activation', name: activation, inputs: [input], activation });
/** Piecewise-linear layers (exact up to rounding: tolerance 0.01) and smooth ones (their approximation's error: 0.05). */
const LAYERS: [string, (input: string) => LayerNode<FloatTensor>, number][] = [
  ['leaky_relu', (i) => ({ kind: 'leaky_relu', name: 'lrelu', inputs: [i], alpha: 0.1 }), 0.01],
  ['prelu', (i) => ({ kind: 'prelu', name: 'prelu', inputs: [i], kernel: { shape: [2], data: Float64Array.from([0.2, -0.3]) } }), 0.01],
  ['hard_sigmoid', act('hard_sigmoid'), 0.01],
  ['hard_sigmoid_k2', act('hard_sigmoid_k2'), 0.01],
  ['hard_silu', act('hard_silu'), 0.01],
  ['relu', act('relu'), 0.01],
  ['relu6', act('relu6'), 0.01],
  ['maxpool2d 2x2 (ties, padded zeros)', (i) => ({ kind: 'maxpool2d', name: 'mp', inputs: [i], poolSize: [2, 2], strides: [1, 1], padding: 'valid' }), 0.01],
  ['avgpool2d 3x3 same', (i) => ({ kind: 'avgpool2d', name: 'ap', inputs: [i], poolSize: [3, 3], strides: [1, 1], padding: 'same' }), 0.01],
  ['sigmoid', act('sigmoid'), 0.05],
  ['tanh', act('tanh'), 0.05],
  ['silu', act('silu'), 0.05],
  ['gelu', act('gelu'), 0.05],
];

describe('secureForward on deterministic sharings and ZeroPadding2D cells vs the plaintext twin', () => {
  describe.each(['(x, 0)', '(0, x)', 'random'] as Sharing[])('input shared %s', (sharing) => {
    it.each(LAYERS)('ZeroPadding2D -> %s', async (_name, layer, tol) => {
      expect(await maxErr(model(layer, false), sharing)).toBeLessThan(tol);
    });
    it.each(LAYERS.slice(0, 3))('ZeroPadding2D -> Rescaling (P0-only offset) -> %s', async (_name, layer, tol) => {
      expect(await maxErr(model(layer, true), sharing)).toBeLessThan(tol);
    });
    it.each(LAYERS)('Pad with a constant (Rescaling by 1, no division, around ZeroPadding2D) -> %s', async (_name, layer, tol) => {
      expect(await maxErr(model(layer, 'pad-constant'), sharing)).toBeLessThan(tol);
    });
  });
  it.each([
    ['SecureNN comparisons', { comparison: 'securenn' }],
    ['32-bit comparison ring, radix 2', { comparison: 'direct', compareBits: 32, compareRadix: 2 }],
    ['exact truncation', { truncation: 'exact' }],
  ] as [string, Run3Options][])('ZeroPadding2D -> LeakyReLU and -> HardSigmoid with input (x, 0) under %s', async (_name, opts) => {
    expect(await maxErr(model(LAYERS[0]![1], false), '(x, 0)', opts)).toBeLessThan(0.01);
    expect(await maxErr(model(LAYERS[2]![1], false), '(x, 0)', opts)).toBeLessThan(0.01);
  });
});

/**
 * Local truncation draws its re-randomising u from the P0-P1 PRG (truncate.ts step 1): P0 and P1 must draw the same
 * words in the same order, or every later draw from that stream differs (a silent wrong answer: semi-honest P0 and
 * P1 check nothing). After a forward through every truncating layer kind (with and without the range sentinel),
 * and a scale-1 Rescaling, which draws nothing at either party, the next words of the stream must be equal at both.
 */
describe('the P0-P1 PRG stays aligned through a forward that truncates in every layer kind', () => {
  const chain: LayerNode<FloatTensor>[] = [
    { kind: 'zero_padding2d', name: 'zp', inputs: ['input'], padding: [[1, 0], [0, 1]] },
    { kind: 'leaky_relu', name: 'lrelu', inputs: ['zp'], alpha: 0.1 },
    { kind: 'prelu', name: 'prelu', inputs: ['lrelu'], kernel: { shape: [2], data: Float64Array.from([0.2, -0.3]) } },
    { kind: 'activation', name: 'hs', inputs: ['prelu'], activation: 'hard_silu' },
    { kind: 'avgpool2d', name: 'ap', inputs: ['hs'], poolSize: [3, 3], strides: [1, 1], padding: 'same' },
    { kind: 'rescaling', name: 'rs', inputs: ['ap'], scale: 0.75, offset: 0.25 },
    // Scale 1: the offset alone, no division and no P0-P1 word at either party (rescaling-offset.test.ts).
    { kind: 'rescaling', name: 'shift', inputs: ['rs'], scale: 1, offset: -0.5 },
    { kind: 'activation', name: 'sig', inputs: ['shift'], activation: 'sigmoid' },
    { kind: 'multiply', name: 'mul', inputs: ['sig', 'rs'] },
  ];
  const m: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: INPUT_SHAPE, nodes: chain, output: 'mul', outputActivation: 'linear' };
  it.each([['secureForward', false], ['secureForwardChecked (range sentinel, 32-bit ring)', true]] as [string, boolean][])('%s: the next P0-P1 words are equal at P0 and P1', async (_name, checked) => {
    const parts = shareModel(k, m, F), xs = shares('(x, 0)');
    const r = await run3(async (ctx) => {
      const input = { shape: [1, ...INPUT_SHAPE], data: xs[ctx.party]! };
      if (checked) await secureForwardChecked(ctx, parts[ctx.party], input);
      else await secureForward(ctx, parts[ctx.party], input);
      return ctx.party === 2 ? new BigUint64Array(4) : ctx.pairPrg(ctx.party === 0 ? 1 : 0).u64(4);
    }, { fracBits: F, ...(checked ? { compareBits: 32 } : {}) });
    expect(Array.from(r.results[0])).toEqual(Array.from(r.results[1]));
    expect(r.results[0].some((w) => w !== 0n)).toBe(true);
  });
});
