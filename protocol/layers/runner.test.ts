import { describe, expect, it } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { getKernels } from '../kernels/index.js';
import type { FloatTensor, LayerNode, ModelIR } from '../ir.js';
import { IR_FORMAT_VERSION } from '../ir.js';
import { plainForward } from '../reference/forward.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { networkA, seedCnn, seededPrg, uniform, vgg16 } from '../seed-models.js';
import { deferredActivations, secureForward } from './runner.js';
import { shareModel } from './share-model.js';
import { sizeOf } from './types.js';

const k = getKernels();

async function secureVsPlain(model: ModelIR<FloatTensor>, N: number, f = 13, seed = 9, comparison: 'direct' | 'securenn' = 'direct') {
  const x = uniform(seededPrg(seed), N * sizeOf(model.inputShape), 1).map((v) => (v + 1) / 2);
  const plain = plainForward(model, x, N);
  const parts = shareModel(k, model, f);
  const xs = shareFor3(encode(x, f));
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party] }), { fracBits: f, comparison });
  const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), f);
  expect(r.results[0].shape).toEqual(plain.shape);
  return { got, want: plain.data, r };
}

const maxRelErr = (got: Float64Array, want: Float64Array) => {
  const scale = Math.max(...Array.from(want, Math.abs), 1e-9);
  return Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!))) / scale;
};
const argmaxRows = (a: Float64Array, c: number) => Array.from({ length: a.length / c }, (_, r) => { let b = 0; for (let j = 1; j < c; j++) if (a[r * c + j]! > a[r * c + b]!) b = j; return b; });

/** A small model exercising every layer kind the runner supports. */
function allLayers(): ModelIR<FloatTensor> {
  const g = seededPrg(5);
  const t = (shape: number[], a = 0.3): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });
  const nodes: LayerNode<FloatTensor>[] = [
    { kind: 'rescaling', name: 'rs', inputs: ['input'], scale: 1 / 255, offset: -0.25 },
    { kind: 'zero_padding2d', name: 'zp', inputs: ['rs'], padding: [[1, 0], [0, 2]] },
    { kind: 'conv2d', name: 'c1', inputs: ['zp'], filters: 4, kernelSize: [3, 3], strides: [2, 2], padding: 'same', activation: 'relu6', kernel: t([3, 3, 2, 4]), bias: t([4]) },
    { kind: 'depthwise_conv2d', name: 'dw', inputs: ['c1'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', depthMultiplier: 2, activation: 'linear', kernel: t([3, 3, 4, 2]), bias: t([8]) },
    { kind: 'conv2d', name: 'c2', inputs: ['c1'], filters: 8, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: 'linear', kernel: t([1, 1, 4, 8]) },
    { kind: 'add', name: 'res', inputs: ['dw', 'c2'] },
    { kind: 'activation', name: 'a', inputs: ['res'], activation: 'relu' },
    { kind: 'maxpool2d', name: 'mp', inputs: ['a'], poolSize: [3, 3], strides: [2, 2], padding: 'same' },
    { kind: 'avgpool2d', name: 'ap', inputs: ['mp'], poolSize: [2, 2], strides: [1, 1], padding: 'same' },
    { kind: 'global_avgpool2d', name: 'gap', inputs: ['ap'] },
    { kind: 'reshape', name: 'rsh', inputs: ['gap'], targetShape: [2, 4] },
    { kind: 'flatten', name: 'fl', inputs: ['rsh'] },
    { kind: 'dense', name: 'd', inputs: ['fl'], units: 3, activation: 'linear', kernel: t([8, 3]), bias: t([3]) },
  ];
  return { formatVersion: IR_FORMAT_VERSION, inputShape: [9, 11, 2], nodes, output: 'd', outputActivation: 'softmax' };
}

describe('layer runner over shares vs the float64 plaintext twin', () => {
  it('runs every supported layer kind (rescaling, zero padding, conv same/valid with strides, depthwise, add, relu6, max/avg pool same, GAP, reshape, dense)', async () => {
    const model = allLayers();
    // Inputs in [0, 255] like raw pixels, so Rescaling matters.
    const N = 3;
    const x = uniform(seededPrg(6), N * sizeOf(model.inputShape), 127.5).map((v) => v + 127.5);
    const plain = plainForward(model, x, N);
    const parts = shareModel(k, model, 16);
    const xs = shareFor3(encode(x, 16));
    const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party] }), { fracBits: 16 });
    const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), 16);
    expect(maxRelErr(got, plain.data)).toBeLessThan(1e-3);
  });

  it('exact truncation (truncate-exact.ts, when the model asks for it): every layer kind and Network A agree with the plaintext twin; 2 more rounds per truncated layer and 32 more bytes per truncated element than local', async () => {
    // allLayers with a non-integer Rescaling (1/127.5: a product by round(scale 2^24), truncated by 24 bits).
    const model = allLayers();
    model.nodes[0] = { kind: 'rescaling', name: 'rs', inputs: ['input'], scale: 1 / 127.5, offset: -1 };
    const N = 2;
    const x = uniform(seededPrg(6), N * sizeOf(model.inputShape), 127.5).map((v) => v + 127.5);
    const plain = plainForward(model, x, N);
    const parts = shareModel(k, model, 16);
    const xs = shareFor3(encode(x, 16));
    const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party] }), { fracBits: 16, truncation: 'exact' });
    expect(maxRelErr(decode(reconstruct(k, r.results[0].data, r.results[1].data), 16), plain.data)).toBeLessThan(1e-3);
    expect(r.transports[0].steps.get('Truncate')!.calls).toBe(5);

    const net = networkA();
    const xa = uniform(seededPrg(3), 2 * 784, 1).map((v) => (v + 1) / 2);
    const pa = shareModel(k, net, 16), xsa = shareFor3(encode(xa, 16));
    const run = (truncation: 'local' | 'exact') => run3((ctx) => secureForward(ctx, pa[ctx.party], { shape: [2, 784], data: xsa[ctx.party] }), { fracBits: 16, truncation });
    const local = await run('local'), exact = await run('exact');
    const want = plainForward(net, xa, 2).data;
    expect(maxRelErr(decode(reconstruct(k, exact.results[0].data, exact.results[1].data), 16), want)).toBeLessThan(1e-3);
    expect(exact.rounds - local.rounds).toBe(2 * 3);
    expect(exact.bytes - local.bytes).toBe(32 * 2 * (128 + 128 + 10));
  });

  it('MNIST Network A (784-128-128-10), batch 4, f = 16 (784-term dot products: at f = 13 weight rounding alone gives 1.4e-3): relative error < 1e-3, same argmax', async () => {
    const { got, want } = await secureVsPlain(networkA(), 4, 16);
    expect(maxRelErr(got, want)).toBeLessThan(1e-3);
    expect(argmaxRows(got, 10)).toEqual(argmaxRows(want, 10));
  });

  for (const comparison of ['direct', 'securenn'] as const) {
    it(`seed CNN (MaxPool), full 150x125x1 input, ${comparison} comparisons: relative error < 1e-3, same argmax`, async () => {
      const { got, want, r } = await secureVsPlain(seedCnn('maxpool2d'), 1, 13, 9, comparison);
      expect(maxRelErr(got, want)).toBeLessThan(1e-3);
      expect(argmaxRows(got, 2)).toEqual(argmaxRows(want, 2));
      // Every layer was metered.
      expect([...r.transports[0].steps.keys()].filter((s) => s.startsWith('layer:')).length).toBe(11);
    });
  }

  it('seed CNN (MaxPool), full input, on the 32-bit comparison ring (as the party servers run it): relative error < 1e-3, same argmax, 40% less traffic than 64-bit; same-padded MaxPool too', async () => {
    const model = seedCnn('maxpool2d');
    const x = uniform(seededPrg(9), 150 * 125, 1).map((v) => (v + 1) / 2);
    const want = plainForward(model, x, 1).data;
    const parts = shareModel(k, model, 13);
    const xs = shareFor3(encode(x, 13));
    const go = (compareBits: 32 | 64) => run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, 150, 125, 1], data: xs[ctx.party] }), { fracBits: 13, compareBits });
    const [narrow, wide] = [await go(32), await go(64)];
    const got = decode(reconstruct(k, narrow.results[0].data, narrow.results[1].data), 13);
    expect(maxRelErr(got, want)).toBeLessThan(1e-3);
    expect(argmaxRows(got, 2)).toEqual(argmaxRows(want, 2));
    expect(narrow.rounds).toBe(wide.rounds);
    expect(narrow.bytes / wide.bytes).toBeLessThan(0.65);
    // Every layer kind (3x3/2 MaxPool with 'same' padding: the padding must stay comparable on the narrow ring).
    const al = allLayers();
    const xa = uniform(seededPrg(6), 3 * sizeOf(al.inputShape), 127.5).map((v) => v + 127.5);
    const pa = shareModel(k, al, 16);
    const xas = shareFor3(encode(xa, 16));
    const ra = await run3((ctx) => secureForward(ctx, pa[ctx.party], { shape: [3, ...al.inputShape], data: xas[ctx.party] }), { fracBits: 16, compareBits: 32 });
    expect(maxRelErr(decode(reconstruct(k, ra.results[0].data, ra.results[1].data), 16), plainForward(al, xa, 3).data)).toBeLessThan(1e-3);
  });

  it('seed CNN (AveragePool) on a reduced 96x96 input, batch 2', async () => {
    const { got, want } = await secureVsPlain(seedCnn('avgpool2d', 4, [96, 96, 1]), 2);
    expect(maxRelErr(got, want)).toBeLessThan(1e-3);
    expect(argmaxRows(got, 2)).toEqual(argmaxRows(want, 2));
  });

  it('splits layers with more comparisons than one call allows into sequential chunks, same result, more rounds', async () => {
    const model = seedCnn('maxpool2d', 7, [96, 96, 1]);
    const x = uniform(seededPrg(3), 96 * 96, 0.5).map((v) => v + 0.5);
    const parts = shareModel(k, model, 16);
    const xs = shareFor3(encode(x, 16));
    const go = (limit?: number) => run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, 96, 96, 1], data: xs[ctx.party] }, limit ? { maxComparisonsPerCall: limit } : {}), { fracBits: 16 });
    const whole = await go(), split = await go(4096);
    const want = plainForward(model, x, 1).data;
    for (const r of [whole, split]) expect(maxRelErr(decode(reconstruct(k, r.results[0].data, r.results[1].data), 16), want)).toBeLessThan(1e-3);
    // 5 activations + 4 MaxPools of 2 levels = 13 ReLU calls unsplit; conv1 alone
    // has 48*48*16 = 36864 ReLUs, i.e. 9 calls of 4096 when split.
    expect(split.rounds).toBeGreaterThan(whole.rounds);
    const calls = (r: typeof whole) => r.transports[0].steps.get('ReLU')!.calls;
    expect(calls(whole)).toBe(13);
    expect(calls(split)).toBeGreaterThanOrEqual(13 + 8);
  });

  it('2x2 stride-1 MaxPool (adjacent pairs, no gathering) is exact with ties, zeros and negatives, on both comparison rings and the paper route, also when chunked', async () => {
    const model: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [5, 6, 2], output: 'mp', outputActivation: 'linear',
      nodes: [{ kind: 'maxpool2d', name: 'mp', inputs: ['input'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' }] };
    // Values from {-2, -1, 0, 1, 2}: many ties.
    const x = Float64Array.from(uniform(seededPrg(13), 3 * 5 * 6 * 2, 2.49), (v) => Math.round(v) + 0); // + 0: no -0
    const enc = encode(x, 13);
    const want = Array.from(plainForward(model, x, 3).data);
    const xs = shareFor3(enc);
    for (const [opts, limit] of [[{ compareBits: 32 as const }, undefined], [{ compareBits: 64 as const }, 7], [{ comparison: 'securenn' as const }, undefined]] as const) {
      const r = await run3((ctx) => secureForward(ctx, shareModel(k, model, 13)[ctx.party], { shape: [3, 5, 6, 2], data: xs[ctx.party] }, limit ? { maxComparisonsPerCall: limit } : {}), opts);
      expect(Array.from(decode(reconstruct(k, r.results[0].data, r.results[1].data), 13)), JSON.stringify(opts)).toEqual(want);
    }
  });

  it('MaxPool over overlapping windows (separable: rows then columns) equals the plaintext maximum exactly, incl. same padding', async () => {
    for (const [pool, strides, padding] of [[[3, 3], [1, 1], 'same'], [[2, 2], [1, 1], 'valid'], [[3, 2], [2, 1], 'same'], [[2, 3], [1, 2], 'valid']] as const) {
      const model: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [7, 6, 3], output: 'mp', outputActivation: 'linear',
        nodes: [{ kind: 'maxpool2d', name: 'mp', inputs: ['input'], poolSize: [...pool], strides: [...strides], padding }] };
      const x = uniform(seededPrg(12), 2 * 7 * 6 * 3, 4);
      const enc = encode(x, 13);
      const want = plainForward(model, decode(enc, 13), 2).data;
      const xs = shareFor3(enc);
      const r = await run3((ctx) => secureForward(ctx, shareModel(k, model, 13)[ctx.party], { shape: [2, 7, 6, 3], data: xs[ctx.party] }));
      expect(Array.from(decode(reconstruct(k, r.results[0].data, r.results[1].data), 13)), `${pool} ${strides} ${padding}`).toEqual(Array.from(want));
    }
  });

  it('moves ReLU / ReLU6 after a following MaxPool (max commutes with monotone maps): same values, fewer ReLUs and bytes, same rounds; fused into the pool (fuseReluIntoMaxPool): 3 rounds fewer per pool', async () => {
    // Which layers: every conv whose only consumer is a MaxPool; not the add's input, not the dense layers.
    const cnn = seedCnn('maxpool2d', 7, [48, 40, 1]);
    const d = deferredActivations(cnn);
    expect([...d.values()].map((v) => v.from)).toEqual(cnn.nodes.filter((n) => n.kind === 'conv2d').map((n) => n.name));
    expect(deferredActivations(allLayers()).size).toBe(1); // the standalone ReLU before 'mp'
    expect(deferredActivations(seedCnn('avgpool2d', 7, [48, 40, 1])).size).toBe(0);
    // relu6 before a MaxPool with 'same' padding (the -2^60 padding must never win), and relu: exact against the plaintext.
    const g = seededPrg(21);
    const t = (shape: number[], a = 0.5): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });
    const m: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [9, 7, 2], output: 'd', outputActivation: 'linear', nodes: [
      { kind: 'conv2d', name: 'c1', inputs: ['input'], filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu6', kernel: t([3, 3, 2, 3], 2), bias: t([3]) },
      { kind: 'maxpool2d', name: 'p1', inputs: ['c1'], poolSize: [2, 2], strides: [2, 2], padding: 'same' },
      { kind: 'conv2d', name: 'c2', inputs: ['p1'], filters: 4, kernelSize: [2, 2], strides: [1, 1], padding: 'valid', activation: 'relu', kernel: t([2, 2, 3, 4]), bias: t([4]) },
      { kind: 'maxpool2d', name: 'p2', inputs: ['c2'], poolSize: [3, 3], strides: [1, 1], padding: 'same' },
      { kind: 'flatten', name: 'f', inputs: ['p2'] },
      { kind: 'dense', name: 'd', inputs: ['f'], units: 2, activation: 'linear', kernel: t([4 * 3 * 4, 2]), bias: t([2]) },
    ] };
    expect([...deferredActivations(m).values()].map((v) => v.activation)).toEqual(['relu6', 'relu']);
    const N = 3;
    const x = uniform(seededPrg(22), N * 9 * 7 * 2, 2);
    const parts = shareModel(k, m, 16);
    const xs = shareFor3(encode(x, 16));
    const go = (reluAfterMaxPool: boolean, fuseReluIntoMaxPool = false) => run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, 9, 7, 2], data: xs[ctx.party] }, { reluAfterMaxPool, fuseReluIntoMaxPool }), { fracBits: 16 });
    const [moved, inPlace, fused] = [await go(true), await go(false), await go(true, true)];
    const want = plainForward(m, x, N).data;
    for (const r of [moved, inPlace, fused]) expect(maxRelErr(decode(reconstruct(k, r.results[0].data, r.results[1].data), 16), want)).toBeLessThan(1e-3);
    expect(moved.rounds).toBe(inPlace.rounds);
    const elems = (r: typeof moved) => r.transports[0].steps.get('ReLU')!.calls;
    expect(elems(moved)).toBe(elems(inPlace));
    expect(moved.bytes).toBeLessThan(inPlace.bytes);
    // Fused (fuseReluIntoMaxPool): p2's moved ReLU runs inside its H pass's last tournament level (3x3 'same': relu-max-pairs.ts),
    // 3 rounds fewer; relu6 is never fused. The fused level's bytes: 2 elements + 1 difference per window.
    expect(fused.transports[0].steps.get('ReLU+MaxPool')!.calls).toBe(1);
    expect(fused.rounds).toBe(moved.rounds - 3);
    // VGG16 (2x2 stride-2 pools) on 32x32x3: the ReLUs of the five convs before a pool shrink by 4.
    // (The seed CNN's pools are 2x2 with stride 1, so there it changes next to nothing.)
    const vgg = vgg16(3, [32, 32, 3]);
    expect(deferredActivations(vgg).size).toBe(5);
    const xv = uniform(seededPrg(23), 32 * 32 * 3, 0.5).map((v) => v + 0.5);
    // f = 16: thirteen 3x3 convs with random weights accumulate ~3e-3 relative error at f = 13, with or without the move.
    const pv = shareModel(k, vgg, 16);
    const xvs = shareFor3(encode(xv, 16));
    const gv = (reluAfterMaxPool: boolean, fuseReluIntoMaxPool = false) => run3((ctx) => secureForward(ctx, pv[ctx.party], { shape: [1, 32, 32, 3], data: xvs[ctx.party] }, { reluAfterMaxPool, fuseReluIntoMaxPool }), { fracBits: 16 });
    const [a, b, fv] = [await gv(true), await gv(false), await gv(true, true)];
    const wv = plainForward(vgg, xv, 1).data;
    for (const r of [a, b, fv]) expect(maxRelErr(decode(reconstruct(k, r.results[0].data, r.results[1].data), 16), wv)).toBeLessThan(1e-3);
    expect(a.rounds).toBe(b.rounds);
    // Fused: each of the five 2x2 stride-2 pools takes its ReLU into its second tournament level, 3 rounds fewer each.
    expect(fv.rounds).toBe(a.rounds - 15);
    expect(fv.bytes).toBeLessThan(b.bytes);
    // At 32x32 the Beaver masks of the 512-filter kernels dominate the total; the ReLU traffic (conv ReLUs and the pools' comparisons) drops by a quarter.
    const reluBytes = (r: typeof a) => r.transports.reduce((s, t) => s + t.steps.get('ReLU')!.bytesSent, 0);
    expect(reluBytes(a) / reluBytes(b)).toBeLessThan(0.8);
    expect(a.bytes).toBeLessThan(b.bytes);
  });

  it('no protocol changes a buffer after sending it: every layer kind, both comparison rings and the paper route give the plaintext result on a transport that copies late', async () => {
    // The gRPC mesh does not copy on send; under backpressure a frame is serialised later, so a buffer changed after send() would travel changed.
    const al = allLayers();
    const xa = uniform(seededPrg(7), 2 * sizeOf(al.inputShape), 127.5).map((v) => v + 127.5);
    const want = plainForward(al, xa, 2).data;
    const pa = shareModel(k, al, 16);
    const xas = shareFor3(encode(xa, 16));
    for (const opts of [{ compareBits: 32 as const }, { compareBits: 64 as const }, { comparison: 'securenn' as const }]) {
      const r = await run3((ctx) => secureForward(ctx, pa[ctx.party], { shape: [2, ...al.inputShape], data: xas[ctx.party] }), { fracBits: 16, lateCopy: true, ...opts });
      expect(maxRelErr(decode(reconstruct(k, r.results[0].data, r.results[1].data), 16), want), JSON.stringify(opts)).toBeLessThan(1e-3);
    }
  });

  it('rejects an input of the wrong shape with E_SHAPE', async () => {
    const parts = shareModel(k, networkA(), 13);
    await expect(run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, 783], data: new BigUint64Array(783) as never }))).rejects.toMatchObject({ code: 'E_SHAPE' });
  });
});
