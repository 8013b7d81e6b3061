import { describe, expect, it } from 'vitest';
import { MpcError } from '../../protocol/errors.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { argmax, checkLogits, parseLogits } from './compare.js';
import { mpSpdzInput, PEER_MODELS, peerInput, peerLayers } from './export-weights.js';
import { median, parseMpSpdz, parseOurs, parseOursMalicious } from './summarize.js';

/** Every weight tensor of the model, kernel then bias per layer (peer_nets.mpc's opt.thetas order). */
function thetas(model: ModelIR<FloatTensor>): Float64Array[] {
  const out: Float64Array[] = [];
  for (const n of model.nodes) if (n.kind === 'conv2d' || n.kind === 'dense') { out.push(n.kernel.data); if (n.bias) out.push(n.bias.data); }
  return out;
}

describe('export-weights (the peers read our seed weights)', () => {
  it.each(Object.keys(PEER_MODELS))('%s: Input-P0-0 holds every weight in thetas order, then the image, value for value', (key) => {
    const model = PEER_MODELS[key]!.make();
    const x = peerInput(model);
    const text = mpSpdzInput(peerLayers(model), x);
    const lines = text.trimEnd().split('\n');
    const want = [...thetas(model), x];
    expect(lines.length).toBe(want.length);
    lines.forEach((line, i) => {
      const got = line.split(' ').map(Number);
      expect(got.length).toBe(want[i]!.length);
      // Decimal text round-trips float64 exactly (String gives the shortest exact form).
      expect(Float64Array.from(got)).toEqual(want[i]);
    });
  });

  it('the seed CNN as the peers see it: conv kernels [kh, kw, Cin, Cout], 640 inputs to the first Dense (peer_nets.mpc computes the same)', () => {
    const layers = peerLayers(PEER_MODELS['cnn-maxpool']!.make());
    expect(layers.map((l) => l.kind)).toEqual(['conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'conv2d', 'maxpool2d', 'flatten', 'dense', 'dense']);
    expect(layers[0]!.kernel!.shape).toEqual([8, 8, 1, 16]);
    expect(layers[0]!.params).toMatchObject({ padding: 'same', stride: [2, 2], activation: 'relu' });
    expect(layers[9]!.kernel!.shape).toEqual([640, 32]);
    expect(layers[10]!.params).toMatchObject({ units: 2, activation: 'linear' });
  });

  it('the input is the benchmark input: 150x125 values in [0, 1), the same on every call', () => {
    const model = PEER_MODELS['cnn-maxpool']!.make();
    const x = peerInput(model);
    expect(x.length).toBe(150 * 125);
    expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...x)).toBeLessThan(1);
    expect(peerInput(model)).toEqual(x);
  });

  it('rejects a layer kind the peer programs do not have, with a coded error', () => {
    const model = PEER_MODELS.networkA!.make();
    const bad = { ...model, nodes: [...model.nodes, { kind: 'avgpool2d', name: 'p', inputs: ['x'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' } as const] } as ModelIR<FloatTensor>;
    expect(() => peerLayers(bad)).toThrow(MpcError);
    try { peerLayers(bad); } catch (e) { expect((e as MpcError).code).toBe('E_UNSUPPORTED_LAYER'); }
  });
});

describe('compare (a peer against our logits)', () => {
  it('parses MP-SPDZ\'s printed vector and a comma list', () => {
    expect(parseLogits('[0.242905, -1.33917, 0.25264]')).toEqual([0.242905, -1.33917, 0.25264]);
    expect(parseLogits('-2.5,1.25')).toEqual([-2.5, 1.25]);
  });

  it('argmax takes the first of equal maxima and rejects an empty vector', () => {
    expect(argmax([1, 3, 3, -1])).toBe(1);
    expect(argmax([-5])).toBe(0);
    expect(() => argmax([])).toThrow(MpcError);
  });

  it('reports argmax agreement and the largest absolute difference', () => {
    expect(checkLogits([0.1, 0.9], [0.2, 0.7])).toEqual({ argmaxPeer: 1, argmaxOurs: 1, argmaxAgree: true, maxAbsDiff: expect.closeTo(0.2, 12) as number });
    const off = checkLogits([0.9, 0.1], [0.2, 0.7]);
    expect(off.argmaxAgree).toBe(false);
    expect(off.maxAbsDiff).toBeCloseTo(0.7, 12);
  });

  it('rejects a length mismatch and non-numbers with a coded error', () => {
    expect(() => checkLogits([1, 2, 3], [1, 2])).toThrow(/3 logits, ours 2/);
    expect(() => checkLogits([Number.NaN, 1], [1, 2])).toThrow(MpcError);
    expect(() => checkLogits(parseLogits('[a, 1]'), [1, 2])).toThrow(/not a finite number/);
  });
});

describe('summarize (one sitting as a table)', () => {
  const ours = [
    '| model | batch | reps | latency median | p90 | per image | first run | protocol (P0) | offline (runs from it) | tfjs | secure/plain | sent P0 / P1 / P2 per run | rounds | max abs err (rel) | peak RSS P0 / P1 / P2 |',
    '| MNIST Network A (784-128-128-10) | 1 | 1000+5 | 12.9 ms | 18.1 ms | 12.9 ms | 131 ms | 7.43 ms | 2.92 ms (5/5) | 29.9 ms | 0.4x | 14.1 KiB / 14.1 KiB / 4.0 KiB | 9 | 2.0e-4 (1.5e-4) | 171.2 MiB / 127.8 MiB / 121.7 MiB |',
    '| seed CNN MaxPool 150x125x1 | 1 | 4+5 | 1.30 s | 352 ms | 190 ms | 974 ms | 185 ms | 100.0 ms (5/5) | 519 ms | 0.4x | 9.2 MiB / 9.2 MiB / 5.4 MiB | 45 | 1.6e-3 (6.4e-4) | 154.1 MiB |',
  ].join('\n');

  it('reads latency, P0 protocol time, traffic and rounds from bench/run.ts\'s table (ms and s)', () => {
    expect(parseOurs(ours, 'MNIST Network A (784-128-128-10)')).toEqual({ latencyMs: 12.9, protocolMs: 7.43, sent: '14.1 KiB / 14.1 KiB / 4.0 KiB', rounds: '9', err: '2.0e-4 (1.5e-4)' });
    expect(parseOurs(ours, 'seed CNN MaxPool 150x125x1')).toMatchObject({ latencyMs: 1300, protocolMs: 185, rounds: '45' });
    expect(parseOurs(ours, 'VGG16')).toBeNull();
  });

  it('reads MP-SPDZ\'s timer 1 per run and the logit check', () => {
    const text = [
      'mp-spdz replicated-ring networkA rep 1: forward_s=0.0059 forward_party0_MB=0.012144 forward_rounds=30 total_s=0.07 party0_MB=0.96 rounds=154 global_MB=0.99',
      'mp-spdz replicated-ring networkA rep 2: forward_s=0.0117 forward_party0_MB=0.012144 forward_rounds=30 total_s=0.22 party0_MB=0.96 rounds=154 global_MB=0.99',
      '{"peer":"mp-spdz-replicated-ring","model":"networkA","ok":true,"vsOurPlain":{"argmaxPeer":5,"argmaxOurs":5,"argmaxAgree":true,"maxAbsDiff":0.00017},"vsOurSecure":null}',
    ].join('\n');
    const r = parseMpSpdz(text);
    expect(r.forwardMs.map((v) => Math.round(v * 10) / 10)).toEqual([5.9, 11.7]);
    expect(r).toMatchObject({ mb: '0.012144', rounds: '30', check: { argmaxAgree: true, maxAbsDiff: 0.00017 } });
    expect(parseMpSpdz('a party failed').forwardMs).toEqual([]);
  });

  it('reads bench/served-malicious.ts\'s table per mode; a stopped mode (n/a) and the ratio rows are skipped', () => {
    const text = [
      '| Network A, batch 1 | median ms | p90 ms | MB sent (3 parties) | rounds | pooled | max abs error vs plaintext | peak RSS GiB (P0 / P1 / P2) |',
      '|---|---|---|---|---|---|---|---|',
      '| semi-honest | 28 | 37 | 0.04 | 9 |  | 1.13e-3 | 0.09 / 0.09 / 0.09 |',
      '| malicious, warm pool | 516 | 858 | 0.71 | 23 | 20/20 | 1.17e-3 | 0.14 / 0.13 / 0.13 |',
      '| malicious, pool off (stopped: see below) | n/a | n/a | 0.00 | n/a | 0/0 | n/a | 0.14 / 0.13 / 0.13 |',
      '| malicious, warm pool / semi-honest | 18.2x | | 19.4x | 2.6x | | | |',
    ].join('\n');
    const m = parseOursMalicious(text);
    expect([...m.keys()]).toEqual(['semi-honest', 'malicious, warm pool']);
    expect(m.get('malicious, warm pool')).toEqual({ latencyMs: 516, mb: '0.71', rounds: '23', err: '1.17e-3' });
    expect(m.get('semi-honest')).toMatchObject({ latencyMs: 28, rounds: '9' });
  });

  it('median of odd and even counts; none is NaN', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
