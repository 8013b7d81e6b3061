/**
 * End to end in process (three parties over the in-memory transport, the
 * SDK's check at the client): a model with ReLU layers on the 32-bit
 * comparison ring, as mpc-import makes for a model whose ring rests on its
 * samples, run on inputs far beyond those samples.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocol/fixed-point/fixed-point.js';
import type { FloatTensor, LayerNode, ModelIR } from '../../protocol/ir.js';
import { IR_FORMAT_VERSION } from '../../protocol/ir.js';
import { getKernels } from '../../protocol/kernels/index.js';
import { secureForward } from '../../protocol/layers/runner.js';
import { secureForwardChecked } from '../../protocol/layers/sentinel-forward.js';
import { shareModel } from '../../protocol/layers/share-model.js';
import { plainForward } from '../../protocol/reference/forward.js';
import { reconstruct } from '../../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../../protocol/testing/run3.js';
import { seededPrg, uniform } from '../../protocol/seed-models.js';
import type { PartySeeds } from '../../protocol/correlated/prg.js';
import { createContext, type PartyContext } from '../../protocol/context.js';
import type { AShare, PartyId } from '../../protocol/ring/types.js';
import { memoryTransports } from '../../protocol/transport/memory.js';
import { checkRangeSentinel, parseSentinelShare, RANGE_SENTINEL_MESSAGE, requireRangeSentinel } from './range-sentinel.js';

const k = getKernels();
const F = 13;
const opts = { fracBits: F, compareBits: 32 } as const;
const argmax = (a: ArrayLike<number>): number => { let b = 0; for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i; return b; };

/** x (2 values) -> relu(x) -> logits = relu(x): label 0 iff x0 > x1 (where both are positive). */
const tiny: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [2], output: 'd2', outputActivation: 'softmax',
  nodes: [
    { kind: 'dense', name: 'd1', inputs: ['input'], units: 2, activation: 'relu', kernel: { shape: [2, 2], data: Float64Array.of(1, 0, 0, 1) } },
    { kind: 'dense', name: 'd2', inputs: ['d1'], units: 2, activation: 'linear', kernel: { shape: [2, 2], data: Float64Array.of(1, 0, 0, 1) } },
  ],
};

/** A wider model: 16 inputs -> 512 ReLU units (positive weights) -> 32 ReLU -> 3 logits: one input scaled up moves whole layers. */
function wide(): ModelIR<FloatTensor> {
  const g = seededPrg(31);
  const pos = (n: number) => uniform(g, n, 0.5).map((v) => Math.abs(v) + 0.01);
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [16], output: 'd3', outputActivation: 'softmax',
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: 512, activation: 'relu', kernel: { shape: [16, 512], data: pos(16 * 512) }, bias: { shape: [512], data: uniform(g, 512, 0.5) } },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: 32, activation: 'relu', kernel: { shape: [512, 32], data: uniform(g, 512 * 32, 0.2) } },
      { kind: 'dense', name: 'd3', inputs: ['d2'], units: 3, activation: 'linear', kernel: { shape: [32, 3], data: uniform(g, 96, 0.5) } },
    ],
  };
}

async function predict(model: ModelIR<FloatTensor>, x: Float64Array, sentinel: boolean) {
  const parts = shareModel(k, model, F);
  const xs = shareFor3(encode(x, F));
  const input = (p: 0 | 1 | 2) => ({ shape: [1, x.length], data: xs[p] });
  if (!sentinel) {
    const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], input(ctx.party)), opts);
    return { logits: decode(reconstruct(k, r.results[0].data, r.results[1].data), F), check: () => undefined, r, checked: 0 };
  }
  const r = await run3((ctx) => secureForwardChecked(ctx, parts[ctx.party], input(ctx.party)), opts);
  const [a, b] = [r.results[0], r.results[1]];
  expect(r.results.map((p) => p.checked)).toEqual([a.checked, a.checked, a.checked]);
  // The client: reconstruct the logits, and refuse them when the sentinel's shares do not add up to 0.
  return { logits: decode(reconstruct(k, a.output.data, b.output.data), F), check: () => checkRangeSentinel(a.sentinel, b.sentinel), r, checked: a.checked };
}

describe('run-time range sentinel, end to end in process (32-bit comparison ring, input beyond the samples)', () => {
  it('today: an overflowing pre-activation gives a wrong label silently; with the sentinel the client gets E_RANGE_SENTINEL', async () => {
    // 300000 real = 300000 * 2^13 > 2^31 ring units: ReLU on the 32-bit ring reads it as negative.
    const x = Float64Array.of(300000, 1);
    expect(argmax(plainForward(tiny, x, 1).data)).toBe(0);
    const plain = await predict(tiny, x, false);
    expect(Array.from(plain.logits)).toEqual([0, 1]); // the large logit became 0
    expect(argmax(plain.logits)).toBe(1); // wrong, and nothing says so
    const checked = await predict(tiny, x, true);
    expect(argmax(checked.logits)).toBe(1); // the same wrong logits...
    expect(checked.check).toThrow(expect.objectContaining({ code: 'E_RANGE_SENTINEL', message: expect.stringContaining(RANGE_SENTINEL_MESSAGE) })); // ...refused
    expect(checked.checked).toBe(2); // a call of 2 values is checked whole
  });

  it('a wide model: an input 10^6 x the samples\' scale moves all of a 512-unit layer beyond the ring; the 1/32 sample catches it', async () => {
    const model = wide();
    const x = uniform(seededPrg(32), 16, 0.5).map((v) => v + 0.5);
    const big = x.map((v) => v * 1e6);
    // Every one of d1's 512 pre-activations is >= 2^18 real = 2^31 ring units at f = 13 (plaintext), so any sample detects it.
    const d1 = plainForward({ ...model, nodes: [{ ...model.nodes[0]!, activation: 'linear' } as LayerNode<FloatTensor>], output: 'd1' }, big, 1).data;
    expect(Array.from(d1).every((v) => v >= 2 ** (31 - F))).toBe(true);
    const res = await predict(model, big, true);
    // Checked: 32 of d1's 512 values and all 32 of d2's.
    expect(res.checked).toBe(32 + 32);
    expect(res.check).toThrow(expect.objectContaining({ code: 'E_RANGE_SENTINEL' }));
    // Without the sentinel the result differs from the plaintext model's and nothing reports it.
    const unchecked = await predict(model, big, false);
    const want = plainForward(model, big, 1).data;
    expect(Math.max(...Array.from(unchecked.logits, (v, i) => Math.abs(v - want[i]!)))).toBeGreaterThan(1000);
  });

  it('samples MaxPool differences on the 32-bit ring and skips a layer the importer put on the 64-bit ring; an overflow only there is not flagged', async () => {
    const g = seededPrg(36);
    const kc = uniform(g, 36, 0.5), kd = uniform(g, 8, 0.5);
    // conv (4x4x1 -> 4x4x4, relu deferred past the pool) -> maxpool 2x2 -> dense (64-bit ring) -> logits.
    const model = (wideDense: boolean): ModelIR<FloatTensor> => ({
      formatVersion: IR_FORMAT_VERSION, inputShape: [4, 4, 1], output: 'd', outputActivation: 'softmax',
      nodes: [
        { kind: 'conv2d', name: 'c', inputs: ['input'], filters: 4, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', kernel: { shape: [3, 3, 1, 4], data: kc } },
        { kind: 'maxpool2d', name: 'p', inputs: ['c'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
        { kind: 'flatten', name: 'f', inputs: ['p'] },
        { kind: 'dense', name: 'd1', inputs: ['f'], units: 4, activation: 'relu', kernel: { shape: [16, 4], data: Float64Array.from({ length: 64 }, () => 50000) }, ...(wideDense ? { compareBits: 64 as const } : {}) },
        { kind: 'dense', name: 'd', inputs: ['d1'], units: 2, activation: 'linear', kernel: { shape: [4, 2], data: kd } },
      ],
    });
    const x = uniform(seededPrg(37), 16, 0.5).map((v) => v + 0.5);
    // The pool's comparison calls have at most 32 values here, so they are checked whole; d1's 4 pre-activations
    // (50000 x the sum of 16 pooled values, about 3.2e5 real) are beyond 2^18 real = 2^31 ring units at f = 13.
    const m1 = model(false);
    const pre = plainForward({ ...m1, nodes: m1.nodes.slice(0, 4).map((n) => (n.name === 'd1' ? { ...n, activation: 'linear' } : n)) as LayerNode<FloatTensor>[], output: 'd1' }, x, 1).data;
    expect(Array.from(pre).every((v) => v >= 2 ** (31 - F))).toBe(true);
    const wideRun = await predict(model(true), x, true);
    expect(wideRun.check).not.toThrow(); // d1 ran on the 64-bit ring: exact, and not sampled
    const want = plainForward(model(true), x, 1).data, scale = Math.max(...Array.from(want, Math.abs));
    // Within fixed-point error (the 50000 weights amplify the quantisation of the pooled values: ~1e-3 relative).
    expect(Math.max(...Array.from(wideRun.logits, (v, i) => Math.abs(v - want[i]!))) / scale).toBeLessThan(1e-3);
    const narrowRun = await predict(model(false), x, true);
    expect(narrowRun.check).toThrow(expect.objectContaining({ code: 'E_RANGE_SENTINEL' }));
    expect(narrowRun.checked - wideRun.checked).toBe(4);
    expect(wideRun.checked).toBeGreaterThan(0); // the pool's comparisons (and the deferred ReLU) were sampled
  });

  it('in range: the same logits as without the sentinel, bit for bit (same seeds and shares), no error; the sentinel adds 3 rounds and 432 bytes per checked value', async () => {
    for (const model of [tiny, wide()]) {
      const x = uniform(seededPrg(33), sizeOfInput(model), 0.5).map((v) => v + 0.5);
      const parts = shareModel(k, model, F);
      const g = seededPrg(34);
      const s0 = g.u64(x.length), s1 = new BigUint64Array(x.length);
      k.sub(encode(x, F), s0, s1);
      const own = [s0, s1, new BigUint64Array(x.length)];
      const input = (p: number) => ({ shape: [1, x.length], data: own[p]! as AShare });
      const seed = new Uint8Array(16).fill(5);
      const a = await fixedRun3((ctx) => secureForward(ctx, parts[ctx.party], input(ctx.party)));
      const b = await fixedRun3((ctx) => secureForwardChecked(ctx, parts[ctx.party], input(ctx.party), { sentinelSeed: seed }));
      const la = reconstruct(k, a.results[0].data, a.results[1].data);
      expect(reconstruct(k, b.results[0].output.data, b.results[1].output.data)).toEqual(la);
      expect(() => checkRangeSentinel(b.results[0].sentinel, b.results[1].sentinel)).not.toThrow();
      expect(argmax(decode(la, F))).toBe(argmax(plainForward(model, x, 1).data));
      expect(b.rounds - a.rounds).toBe(3);
      expect(b.bytes - a.bytes).toBe(432 * b.results[0].checked);
      expect(b.results[0].checked).toBe(model === tiny ? 2 : 32 + 32);
    }
  });
});

/** run3 with fixed PRG seeds, so two runs differ only in what the code under test does. */
async function fixedRun3<T>(fn: (ctx: PartyContext) => Promise<T>) {
  const g = seededPrg(35);
  const s01 = g.bytes(16), s02 = g.bytes(16), s12 = g.bytes(16);
  const seeds: PartySeeds[] = [{ pair: [undefined, s01, s02], own: g.bytes(16) }, { pair: [s01, undefined, s12], own: g.bytes(16) }, { pair: [s02, s12, undefined], own: g.bytes(16) }];
  const ts = memoryTransports();
  const results = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => fn(createContext(p, ts[p], seeds[p]!, opts))));
  return { results, rounds: Math.max(...ts.map((t) => t.counters.depth)), bytes: ts.reduce((a, t) => a + t.counters.bytesSent, 0) };
}

const sizeOfInput = (m: ModelIR<FloatTensor>): number => m.inputShape.reduce((a, b) => a * b, 1);

describe('predict()\'s check of the parties\' x-range-sentinel headers (requireRangeSentinel)', () => {
  const hex = (v: bigint): string => v.toString(16).padStart(16, '0');
  it('shares adding up to 0 pass (random, 0 + 0, 2^63 + 2^63); any other sum is E_RANGE_SENTINEL', () => {
    for (const a of [0n, 1n, 0x8000000000000000n, 0xdeadbeefcafef00dn, 0xffffffffffffffffn]) {
      const b = BigInt.asUintN(64, -a);
      expect(() => requireRangeSentinel(hex(a), hex(b))).not.toThrow();
      expect(() => requireRangeSentinel(hex(a), hex(BigInt.asUintN(64, b + 1n)))).toThrow(expect.objectContaining({ code: 'E_RANGE_SENTINEL' }));
    }
  });
  it('a missing or malformed share is E_INTERNAL naming the party, never read as in range', () => {
    const zero = hex(0n);
    for (const [h0, h1, party] of [[null, zero, 0], [zero, undefined, 1], [zero, '', 1], ['0'.repeat(15), zero, 0], [zero, '0'.repeat(17), 1], ['000000000000000G', zero, 0], [zero, '00000000000000AB', 1], ['-000000000000001', zero, 0]] as const) {
      expect(() => requireRangeSentinel(h0, h1)).toThrow(expect.objectContaining({ code: 'E_INTERNAL', party }));
    }
    expect(parseSentinelShare('00000000000000ab', 0)[0]).toBe(0xabn);
  });
});
