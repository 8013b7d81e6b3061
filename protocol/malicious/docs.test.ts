/** docs/MALICIOUS.md's table of implemented costs agrees with the declared costs (which arith.test.ts checks against the counters). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Cost } from '../primitives/cost.js';
import { setupCost } from './session.js';
import { inputCost } from './input.js';
import { macOfCost, matmulCostM, mulCostM } from './product.js';
import { openCost, openLowCost, openToCost } from './open.js';
import { macCheckCost } from './mac-check.js';
import { randBitsCost } from './randbits.js';
import { bitLtCostM } from './bit-lt.js';
import { compareMaskCostM, dreluCostM, msbCostM, reluCostM } from './compare.js';
import { maxPoolCostM } from './maxpool.js';
import { argmaxCostM } from './argmax.js';
import { truncCostM, truncMaskCostM, truncOnlineCostM } from './trunc.js';
import { prepareWeightsCost } from './weights.js';
import { inputMaskCost, outputToClientCost } from './client-io.js';
import { epochSetupCost } from './epoch.js';
import { offlineBatchCost } from './mask-pool.js';
import { IR_FORMAT_VERSION, type LayerNode, type ModelIR } from '../ir.js';
import { malForwardCost } from './runner.js';
import { matmulTruncOnlineCostM } from './product-trunc.js';

// The layers beyond Conv2D / Dense on n elements (batch 1, f = 13, comparisons at MAL_COMPARE_BITS = 32): malForwardCost of
// a one-node model (layers.test.ts checks malForwardCost against the counters). K: the activation's number of breakpoints.
const zero = (shape: number[]) => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) });

/** malForwardCost of one node (reading 'input', or 'input' twice for merges) on an input of `shape`. */
function one(shape: number[], node: LayerNode<unknown>): Cost {
  const model = { formatVersion: IR_FORMAT_VERSION, inputShape: shape, nodes: [node], output: node.name, outputActivation: 'linear' } as ModelIR<unknown>;
  return malForwardCost(model, 1, 13);
}
const act = (a: string) => (n: number) => one([n], { kind: 'activation', name: 'a', inputs: ['input'], activation: a } as LayerNode<unknown>);

/**
 * The table's formulas are affine in n; a truncation of 215 or more elements (inline) takes its mask from the pair PRGs
 * (trunc.ts usesSplitMask, trunc-mask.ts), whose cost is not (64 elements per binary word, triples padded and
 * bucketed): such a row is checked only up to maxN, and the split mask's own costs in trunc-mask.test.ts.
 */
const LAYER_ROWS: [label: string, cost: (n: number) => Cost, maxN?: number][] = [
  ['DepthwiseConv2D (n outputs: the product, truncation by f)', (n) => one([1, n, 1], { kind: 'depthwise_conv2d', name: 'a', inputs: ['input'], kernelSize: [1, 1], strides: [1, 1], padding: 'valid', depthMultiplier: 1, activation: 'linear', kernel: zero([1, 1, 1, 1]) })],
  ['Conv2DTranspose (n outputs: the product, truncation by f)', (n) => one([1, n, 1], { kind: 'conv2d_transpose', name: 'a', inputs: ['input'], filters: 1, kernelSize: [1, 1], strides: [1, 1], pad: [[0, 0], [0, 0]], activation: 'linear', kernel: zero([1, 1, 1, 1]) })],
  ['Concatenate, Cropping2D, UpSampling2D nearest', () => ({ rounds: 0, bytes: 0 })],
  ['UpSampling2D bilinear 2x2 (n inputs: truncations of 2 n and 4 n by 24)', (n) => one([1, n, 1], { kind: 'upsampling2d', name: 'a', inputs: ['input'], size: [2, 2], interpolation: 'bilinear' }), 2],
  ['Average of two inputs (truncation by 24)', (n) => one([n], { kind: 'average', name: 'a', inputs: ['input', 'input'] })],
  ['Multiply (`mulM`, truncation by f)', (n) => one([n], { kind: 'multiply', name: 'a', inputs: ['input', 'input'] })],
  ['Maximum of two inputs, ell = 32 (`reluM`)', (n) => one([n], { kind: 'maximum', name: 'a', inputs: ['input', 'input'] })],
  ['LeakyReLU, ell = 32 (`reluM`, truncation of 2 n by 24)', (n) => one([n], { kind: 'leaky_relu', name: 'a', inputs: ['input'], alpha: 0.1 }), 2],
  ['PReLU, ell = 32 (`reluM`, `mulM`, truncation by f)', (n) => one([n], { kind: 'prelu', name: 'a', inputs: ['input'], kernel: zero([1]) })],
  ['relu6, ell = 32 (`reluM` of 2 n)', act('relu6')],
  ['hard_sigmoid, ell = 32 (truncation by 24, `reluM` of 2 n)', act('hard_sigmoid')],
  ['hard_silu, ell = 32 (hard_sigmoid, `mulM`, truncation by f)', act('hard_silu')],
  ['sigmoid, ell = 32 (`dreluM` of n and `mulM` for abs(x), `dreluM` of K n on abs(x), two `mulM`, two truncations, `mulM` by 2d − 1)', act('sigmoid'), 2],
  ['silu, ell = 32 (`reluM` of n for abs(x), `dreluM` of K n on abs(x), two `mulM`, two truncations)', act('silu'), 2],
  ['tanh, ell = 32 (`dreluM` of n and `mulM` for abs(x), `dreluM` of K n on abs(x), two `mulM`, two truncations, `mulM` by 2d − 1)', act('tanh'), 2],
  ['gelu, ell = 32 (`reluM` of n for abs(x), `dreluM` of K n on abs(x), two `mulM`, two truncations)', act('gelu'), 2],
];


const ROWS: [label: string, cost: (n: number) => Cost, maxN?: number][] = [
  ['session set-up (coin commitments)', () => setupCost()],
  ['input by one party (`inputM`)', inputCost],
  ['public value, linear operations', () => ({ rounds: 0, bytes: 0 })],
  ['elementwise product (`mulM`)', mulCostM],
  ['matrix product (`matmulM`, n output elements)', (n) => matmulCostM(1, n)],
  ['matrix product and its truncation in one step, mask made before (`matmulTruncM`, n output elements)', (n) => matmulTruncOnlineCostM(1, n)],
  ['MAC of a random vector (`macOf`, `randomMacced`)', macOfCost],
  ['opening to all (`openM`)', openCost],
  ['opening of the low 64 bits (`openLow`)', openLowCost],
  ['opening to one party (`openTo`)', openToCost],
  ['batched MAC check (`macCheck`, any number of values)', () => macCheckCost()],
  ['random bits (`randBitsM`, n bits)', randBitsCost],
  ['BitLT of a public and a shared 31-bit value (`bitLtM`)', (n) => bitLtCostM(n, 31)],
  ['BitLT of a public and a shared 63-bit value (`bitLtM`)', (n) => bitLtCostM(n, 63)],
  ['comparison masks, ell = 64, one payload (`compareMaskM`)', (n) => compareMaskCostM(n, 64)],
  ['MSB / DReLU, ell = 32 (`msbM`, `dreluM`)', (n) => (expect(dreluCostM(n, 32)).toEqual(msbCostM(n, 32)), msbCostM(n, 32))],
  ['MSB / DReLU, ell = 64 (`msbM`, `dreluM`)', (n) => msbCostM(n, 64)],
  ['ReLU, ell = 32 (`reluM`)', (n) => reluCostM(n, 32)],
  ['ReLU, ell = 64 (`reluM`)', (n) => reluCostM(n, 64)],
  ['MaxPool 2x2 stride 2, ell = 32 (`maxPoolM`, n windows)', (n) => maxPoolCostM({ h: 2, w: 2 * n, c: 1 }, { kh: 2, kw: 2, sh: 2, sw: 2 }, 32)],
  ['argmax over 10 classes, ell = 32 (`argmaxM`, n rows)', (n) => argmaxCostM(n, 10, 32)],
  ['truncation mask (`truncMaskM`, ell = 48, any f, made inline; from random bits below 202 to 215 elements by f, 9 in an offline batch: more use the pair-PRG mask)', (n) => truncMaskCostM(n, 16, 48)],
  ['truncation with a mask made before (`truncM`)', truncOnlineCostM],
  ['truncation without a mask (`truncM`, ell = 48, n < 202)', (n) => truncCostM(n, 16, 48)],
  ['weights at set-up: copy check and MACs (`prepareWeights`, n weight elements)', prepareWeightsCost],
  ["client's input: the mask (`inputMask`; r's shares to the client and d from it are not party traffic)", inputMaskCost],
  ['output to the client (`outputToClient`: the MAC check; the shares to the client are not party traffic)', () => outputToClientCost()],
  ['epoch set-up (`setupEpoch` on a new session, n weight elements: key, copy check and MACs, MAC check)', epochSetupCost],
  ['offline batch without its masks (`offlineBatch`: session set-up and one MAC check; add `masksCost` of the plan per inference)', () => offlineBatchCost([], 1)],
  ...LAYER_ROWS,
];

/** "96 n + 32", "96 n", "912" at n. */
function evaluate(formula: string, n: number): number {
  const m = /^(\d+)( n)?(?: \+ (\d+))?$/.exec(formula.trim());
  if (!m) throw new Error(`docs table: cannot read '${formula}'`);
  return m[2] ? Number(m[1]) * n + Number(m[3] ?? 0) : Number(m[1]);
}

describe('docs/MALICIOUS.md cost table', () => {
  it('has one row per implemented operation, equal to its declared cost at several n', () => {
    const page = readFileSync(new URL('../../docs/MALICIOUS.md', import.meta.url), 'utf8');
    const table = page.slice(page.indexOf('<!-- malicious-costs'), page.indexOf('<!-- /malicious-costs -->'));
    const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| operation')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    expect(rows.map((r) => r[0])).toEqual(ROWS.map((r) => r[0]));
    for (const [label, cost, maxN = 7] of ROWS) {
      const [, rounds, bytes] = rows.find((r) => r[0] === label)!;
      for (const n of [1, 2, 7].filter((k) => k <= maxN)) expect({ rounds: Number(rounds), bytes: evaluate(bytes!, n) }, `${label} at n = ${n}`).toEqual(cost(n));
    }
  });
});
