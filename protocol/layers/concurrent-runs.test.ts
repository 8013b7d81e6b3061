/**
 * Two runs at once in one process, as a party serves them (batch.maxConcurrentRuns = 2), with their messages
 * handed over in the same tick (Coalescer: one read of a link carrying both runs' frames, as the h2 link
 * delivers them). Each run must get its own answer. A scratch slot filled inside an async function and read by
 * its caller after the await (Beaver's opened E did so until 2026-12-06) gives one run the other's value: under
 * load that was wrong logits or E_INTERNAL at the client (ring/scratch.ts).
 *
 * What the two runs share here is what two runs of a party share: the model's weight shares, the kept weight
 * masks (one store per party), the process's scratch slots and kernels; each has its own transports, pair seeds
 * and dealer (live, or its own preprocessed bundle). Every layer kind of the zoo models runs in one of the small
 * models below; the two runs get different inputs (one random, one an edge input: zeros, ties, large values), and
 * each is checked against the float64 twin of its own input, with the two twins apart by more than the tolerance,
 * so a result that belongs to the other run (or to neither) fails. protocol/malicious: two MalSessions of one epoch.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { p0Bundle, p1Bundle, prepareBundle, type DealScript, type PartyBundle } from '../correlated/dealer.js';
import { dealSeeds } from '../correlated/prg.js';
import { MemoryWeightMasks } from '../correlated/weight-masks.js';
import { createContext, type ComparisonMode, type TruncationMode } from '../context.js';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../ir.js';
import { getKernels } from '../kernels/index.js';
import { plainForward } from '../reference/forward.js';
import type { PartyId } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { networkA, seedCnn, seededPrg, uniform } from '../seed-models.js';
import { shareFor3 } from '../testing/run3.js';
import { Coalescer, memoryTransports } from '../transport/memory.js';
import { secureForward, type ForwardOptions } from './runner.js';
import { shareModel } from './share-model.js';
import { sizeOf } from './types.js';

const k = getKernels();
const PARTIES = [0, 1, 2] as PartyId[];

interface Setup {
  f: number;
  truncation?: TruncationMode;
  compareBits?: 32 | 64;
  comparison?: ComparisonMode;
  /**
   * How the products get their triples: 'kept' (a build run first; both runs then use the kept weight masks, as the
   * party servers do), 'none' (Alg. 1 with E and F opened in every run), 'bundle' (kept masks, and each run deals
   * from its own preprocessed bundle, replayed from P2's script of a live run: parties/preprocessing.ts).
   */
  dealing?: 'kept' | 'none' | 'bundle';
  N?: number;
  /** The two runs' inputs (default: uniform in [-1, 1] and the seed's twin in [0, 1]). */
  inputs?: (n: number) => [Float64Array, Float64Array];
  /** Deliveries coalesced into one tick (default true). */
  coalesce?: boolean;
  /** The runner's options (e.g. fuseReluIntoDense). */
  forward?: ForwardOptions;
}

type Stores = [MemoryWeightMasks, MemoryWeightMasks, MemoryWeightMasks];

/** Each run's largest |secure - float64 twin| and how far apart the two twins are. */
async function twoRunsAtOnce(model: ModelIR<FloatTensor>, s: Setup): Promise<{ errs: number[]; apart: number; scale: number }> {
  const f = s.f, N = s.N ?? 1, n = N * sizeOf(model.inputShape);
  const parts = shareModel(k, model, f);
  const stores: Stores = [new MemoryWeightMasks(), new MemoryWeightMasks(), new MemoryWeightMasks()];
  const coalescer = s.coalesce === false ? undefined : new Coalescer();
  const dealing = s.dealing ?? 'kept';
  const run = async (x: Float64Array, mode: 'build' | 'use' | null, extra: { bundles?: PartyBundle[]; script?: DealScript } = {}): Promise<Float64Array> => {
    const xs = shareFor3(encode(x, f));
    const ts = memoryTransports({ coalescer });
    const seeds = dealSeeds();
    const results = await Promise.all(PARTIES.map((p) => {
      const ctx = createContext(p, ts[p], seeds[p], {
        fracBits: f, compareBits: s.compareBits ?? 32, truncation: s.truncation ?? 'local', comparison: s.comparison ?? 'direct',
        ...(mode ? { weightMasks: stores[p].session(mode) } : {}), ...(extra.bundles ? { bundle: extra.bundles[p]! } : {}), ...(extra.script && p === 2 ? { dealScript: extra.script } : {}),
      });
      // One party failing must not leave the others waiting: close every transport with its error.
      return secureForward(ctx, parts[p], { shape: [N, ...model.inputShape], data: xs[p] }, s.forward).catch((e: unknown) => { ts.forEach((t) => t.close(e as Error)); throw e; });
    }));
    return decode(reconstruct(k, results[0].data, results[1].data), f);
  };
  const [xa, xb] = s.inputs?.(n) ?? [uniform(seededPrg(2), n, 1), uniform(seededPrg(3), n, 0.5).map((v) => v + 0.5)];
  const mode = dealing === 'none' ? null : 'use';
  if (dealing !== 'none') await run(uniform(seededPrg(1), n, 1), 'build');
  let bundles: [PartyBundle[], PartyBundle[]] | undefined;
  if (dealing === 'bundle') {
    // A live run of this shape recorded at P2, replayed twice with fresh seeds: one bundle per run (dealer.ts).
    const script: DealScript = [];
    await run(uniform(seededPrg(4), n, 1), 'use', { script });
    const bundle = (): PartyBundle[] => {
      const s02 = randomBytes(16), s12 = randomBytes(16);
      const { forP1, p2 } = prepareBundle(k, script, s02, s12);
      return [p0Bundle(s02), p1Bundle(s12, forP1), p2];
    };
    bundles = [bundle(), bundle()];
  }
  // The two runs share the parties' kept weight masks and the process's scratch slots, as two runs of a party do.
  const got = await Promise.all([run(xa, mode, bundles ? { bundles: bundles[0] } : {}), run(xb, mode, bundles ? { bundles: bundles[1] } : {})]);
  const want = [plainForward(model, xa, N).data, plainForward(model, xb, N).data];
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };
  const scale = Math.max(1, ...want.flatMap((w) => Array.from(w, Math.abs)));
  return { errs: got.map((g, i) => maxDiff(g, want[i]!)), apart: maxDiff(want[0]!, want[1]!), scale };
}

/** Both runs within tol (relative to the largest output, at least 1) of their own twins, and the twins apart by more than 4 tol. */
async function expectApart(model: ModelIR<FloatTensor>, s: Setup, tol: number): Promise<void> {
  const { errs, apart, scale } = await twoRunsAtOnce(model, s);
  expect(apart, 'the two inputs must give clearly different outputs, or a swap would pass').toBeGreaterThan(4 * tol * scale);
  for (const [i, e] of errs.entries()) expect(e, `run ${i}`).toBeLessThan(tol * scale);
}

const g = seededPrg(40);
const w = (shape: number[], a = 0.5): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });
const irModel = (inputShape: number[], nodes: LayerNode<FloatTensor>[]): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape, nodes, output: nodes.at(-1)!.name, outputActivation: 'linear' });

/**
 * MobileNet / EfficientNet block: Conv2D relu6, separable conv (DepthwiseConv2D, then a 1x1 Conv2D) with hard_silu,
 * squeeze-excite (GlobalAveragePooling, 1x1 Conv2D with sigmoid, Multiply broadcasting [1,1,C]), Add, LeakyReLU on
 * the 64-bit comparison ring (IR compareBits), PReLU, MaxPool 2x2 stride 1, Dense.
 */
const mobileBlock = (): ModelIR<FloatTensor> => irModel([6, 6, 3], [
  { kind: 'conv2d', name: 'c1', inputs: ['input'], filters: 4, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu6', kernel: w([3, 3, 3, 4]), bias: w([4]) },
  { kind: 'depthwise_conv2d', name: 'dw', inputs: ['c1'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', depthMultiplier: 1, activation: 'linear', kernel: w([3, 3, 4, 1]) },
  { kind: 'conv2d', name: 'pw', inputs: ['dw'], filters: 4, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: 'hard_silu', kernel: w([1, 1, 4, 4], 0.8), bias: w([4]) },
  { kind: 'global_avgpool2d', name: 'gap', inputs: ['pw'] },
  { kind: 'reshape', name: 'sq', inputs: ['gap'], targetShape: [1, 1, 4] },
  { kind: 'conv2d', name: 'gate', inputs: ['sq'], filters: 4, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: 'sigmoid', kernel: w([1, 1, 4, 4], 2), bias: w([4]) },
  { kind: 'multiply', name: 'se', inputs: ['pw', 'gate'] },
  { kind: 'add', name: 'res', inputs: ['se', 'c1'] },
  { kind: 'leaky_relu', name: 'leaky', inputs: ['res'], alpha: 0.1, compareBits: 64 },
  { kind: 'prelu', name: 'prelu', inputs: ['leaky'], kernel: w([4]) },
  { kind: 'maxpool2d', name: 'mp', inputs: ['prelu'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
  { kind: 'flatten', name: 'fl', inputs: ['mp'] },
  { kind: 'dense', name: 'd', inputs: ['fl'], units: 3, activation: 'linear', kernel: w([5 * 5 * 4, 3], 0.3), bias: w([3]) },
]);

/**
 * U-Net decoder: Conv2DTranspose (silu), UpSampling bilinear, Concatenate, Conv2D tanh, gelu, UpSampling nearest
 * then MaxPool 2x2 stride 2 (every window a tie of four equal values), GlobalAveragePooling, Dense.
 */
const decoder = (): ModelIR<FloatTensor> => irModel([4, 4, 2], [
  { kind: 'conv2d_transpose', name: 'ct', inputs: ['input'], filters: 3, kernelSize: [3, 3], strides: [2, 2], pad: [[2, 1], [2, 1]], activation: 'silu', kernel: w([3, 3, 2, 3]), bias: w([3]) },
  { kind: 'upsampling2d', name: 'upb', inputs: ['input'], size: [2, 2], interpolation: 'bilinear' },
  { kind: 'concatenate', name: 'cat', inputs: ['ct', 'upb'], axis: 2 },
  { kind: 'conv2d', name: 'c', inputs: ['cat'], filters: 4, kernelSize: [3, 3], strides: [2, 2], padding: 'same', activation: 'tanh', kernel: w([3, 3, 5, 4]), bias: w([4]) },
  { kind: 'activation', name: 'ge', inputs: ['c'], activation: 'gelu' },
  { kind: 'upsampling2d', name: 'upn', inputs: ['ge'], size: [2, 2], interpolation: 'nearest' },
  { kind: 'maxpool2d', name: 'tie', inputs: ['upn'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
  { kind: 'global_avgpool2d', name: 'gap', inputs: ['tie'] },
  { kind: 'dense', name: 'd', inputs: ['gap'], units: 2, activation: 'linear', kernel: w([4, 2], 2), bias: w([2]) },
]);

/** DeepLab ASPP: dilated Conv2D (d 2, relu), dilated depthwise (d 3), Conv2D d 7 (past the 6x6 map), Concatenate, Dense. */
const aspp = (): ModelIR<FloatTensor> => {
  const ga = seededPrg(45), wa = (shape: number[], a = 0.5): FloatTensor => ({ shape, data: uniform(ga, sizeOf(shape), a) });
  return irModel([6, 6, 3], [
    { kind: 'conv2d', name: 'a2', inputs: ['input'], filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [2, 2], activation: 'relu', kernel: wa([3, 3, 3, 3]), bias: wa([3]) },
    { kind: 'depthwise_conv2d', name: 'a3', inputs: ['a2'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [3, 3], depthMultiplier: 1, activation: 'linear', kernel: wa([3, 3, 3, 1]) },
    { kind: 'conv2d', name: 'a7', inputs: ['input'], filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [7, 7], activation: 'relu', kernel: wa([3, 3, 3, 3]), bias: wa([3]) },
    { kind: 'concatenate', name: 'cat', inputs: ['a3', 'a7'], axis: 2 },
    { kind: 'flatten', name: 'fl', inputs: ['cat'] },
    { kind: 'dense', name: 'd', inputs: ['fl'], units: 3, activation: 'linear', kernel: wa([6 * 6 * 6, 3], 0.3), bias: wa([3]) },
  ]);
};

/** Edge input for the second run: zeros, runs of equal values (ties in every pool), large magnitudes. */
const edge = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : i % 3 === 0 ? -1.5 : i % 7 === 0 ? 6 : 1));

describe('two runs at once in one process keep apart', () => {
  it('MNIST Network A (kept weight masks, Beaver opening E only), messages of both runs delivered in one tick: both exact', async () => {
    await expectApart(networkA(), { f: 16 }, 2e-3);
  });

  it('MNIST Network A with the ReLU fused into the last dense layer (relu-dense.ts scratch slots), kept masks and each run from its own bundle: both exact', async () => {
    for (const dealing of ['kept', 'bundle'] as const) for (const N of [1, 2]) await expectApart(networkA(), { f: 16, dealing, N, forward: { fuseReluIntoDense: true } }, 2e-3);
  });

  it('seed CNN (MaxPool, exact truncation), messages of both runs delivered in one tick: both exact', async () => {
    await expectApart(seedCnn('maxpool2d'), { f: 13, truncation: 'exact' }, 5e-3);
  });

  it('MobileNet block (relu6, separable conv, hard_silu, squeeze-excite with sigmoid, Add, LeakyReLU on the 64-bit ring, PReLU, MaxPool), exact truncation, random and edge input at once', async () => {
    await expectApart(mobileBlock(), { f: 13, truncation: 'exact', N: 2, inputs: (n) => [uniform(seededPrg(41), n, 2), edge(n)] }, 1e-2);
  });

  it('U-Net decoder (Conv2DTranspose silu, bilinear UpSampling, Concatenate, tanh, gelu, MaxPool of ties), local truncation', async () => {
    await expectApart(decoder(), { f: 13, inputs: (n) => [uniform(seededPrg(42), n, 2), edge(n)] }, 1e-2);
  });

  it('the same two models on the 64-bit comparison ring through the paper\'s route (ShareConvert, ComputeMSB), Alg. 1 with E and F opened (no kept masks)', async () => {
    for (const m of [mobileBlock(), decoder()]) await expectApart(m, { f: 13, compareBits: 64, comparison: 'securenn', dealing: 'none', inputs: (n) => [uniform(seededPrg(43), n, 2), edge(n)] }, 1e-2);
  });

  it('each run dealt from its own preprocessed bundle (P2\'s recorded script replayed), kept masks, exact truncation', async () => {
    await expectApart(mobileBlock(), { f: 13, truncation: 'exact', dealing: 'bundle', inputs: (n) => [uniform(seededPrg(44), n, 2), edge(n)] }, 1e-2);
  });

  it('DeepLab ASPP (dilated Conv2D and depthwise: conv-dilated.ts scratch slots), kept masks, then each run from its own bundle', async () => {
    for (const dealing of ['kept', 'bundle'] as const) await expectApart(aspp(), { f: 13, dealing, inputs: (n) => [uniform(seededPrg(46), n, 2), edge(n)] }, 1e-2);
  });
});
