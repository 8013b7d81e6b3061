/**
 * The malicious runner's layers beyond Conv2D / Dense (issue 25) next to the
 * semi-honest runner on the same one-layer models:
 * `npx tsx bench/malicious-layers.ts [--quick] [--reps R]`.
 * Three parties in one process on the in-memory transport (no network time:
 * this measures computation and counts bytes). Per layer, on an 8x8x16 input
 * (1,024 elements; --quick: 4x4x16), batch 1, f = 13: ms of the forward pass
 * (median of the timed runs after one warm-up, the slowest party; set-up,
 * the weights' MACs and the input not timed), bytes of the forward pass (all
 * parties) and rounds, malicious (comparisons at MAL_COMPARE_BITS = 32) and
 * semi-honest (the contexts' defaults: direct comparisons on the 64-bit
 * ring, local truncation, as createContext), and the ratios. Prints a
 * Markdown table with the CPU and the load average; the rows go into
 * BENCHMARKS.md by hand (with the command and the machine's state).
 */
import '../runtime/install.js';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../protocol/ir.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf } from '../protocol/layers/types.js';
import { inputM } from '../protocol/malicious/input.js';
import { liftSigned } from '../protocol/malicious/ring128.js';
import { malForward } from '../protocol/malicious/runner.js';
import { prepareWeights, shareModelReplicated } from '../protocol/malicious/weights.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { runMal3, values } from '../protocol/testing/cheat.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';

const quick = process.argv.includes('--quick');
const repsArg = process.argv.indexOf('--reps');
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : quick ? 1 : 3;
const F = 13;
const S = quick ? 4 : 8, C = 16, SHAPE = [S, S, C];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const g = seededPrg(7);
const t = (shape: number[], a = 0.3): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });

const LAYERS: [string, LayerNode<FloatTensor>][] = [
  ['DepthwiseConv2D 3x3 same', { kind: 'depthwise_conv2d', name: 'l', inputs: ['input'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', depthMultiplier: 1, activation: 'linear', kernel: t([3, 3, C, 1]) }],
  ['Conv2DTranspose 2x2 stride 2, 16 -> 8', { kind: 'conv2d_transpose', name: 'l', inputs: ['input'], filters: 8, kernelSize: [2, 2], strides: [2, 2], pad: [[1, 1], [1, 1]], activation: 'linear', kernel: t([2, 2, C, 8]) }],
  ['UpSampling2D bilinear 2x2', { kind: 'upsampling2d', name: 'l', inputs: ['input'], size: [2, 2], interpolation: 'bilinear' }],
  ['Multiply (x * x)', { kind: 'multiply', name: 'l', inputs: ['input', 'input'] }],
  ['LeakyReLU 0.1', { kind: 'leaky_relu', name: 'l', inputs: ['input'], alpha: 0.1 }],
  ['hard_silu', { kind: 'activation', name: 'l', inputs: ['input'], activation: 'hard_silu' }],
  ['sigmoid', { kind: 'activation', name: 'l', inputs: ['input'], activation: 'sigmoid' }],
  ['silu', { kind: 'activation', name: 'l', inputs: ['input'], activation: 'silu' }],
];

interface Row { ms: number; bytes: number; rounds: number }

async function malicious(model: ModelIR<FloatTensor>, x: Float64Array): Promise<Row> {
  const parts = shareModelReplicated(model, F), n = x.length, runs: Row[] = [];
  for (let i = 0; i < REPS + 1; i++) {
    const r = await runMal3(async (s) => {
      const w = await prepareWeights(s, parts[s.party]);
      const xin = await inputM(s, 0, s.party === 0 ? liftSigned(encode(x, F)) : null, n);
      const c = s.ctx.transport.counters, b0 = c.bytesSent, d0 = c.depth, t0 = performance.now();
      await malForward(s, w, { shape: [1, ...model.inputShape], data: xin });
      return { ms: performance.now() - t0, bytes: c.bytesSent - b0, d0, d1: c.depth };
    }, { watchdogMs: 600_000 });
    const v = values(r);
    if (i > 0) runs.push({ ms: Math.max(...v.map((q) => q.ms)), bytes: v.reduce((a, q) => a + q.bytes, 0), rounds: Math.max(...v.map((q) => q.d1)) - Math.max(...v.map((q) => q.d0)) });
  }
  return { ms: median(runs.map((q) => q.ms)), bytes: runs[0]!.bytes, rounds: runs[0]!.rounds };
}

async function semiHonest(model: ModelIR<FloatTensor>, x: Float64Array): Promise<Row> {
  const parts = shareModel(getKernels(), model, F), xs = shareFor3(encode(x, F)), runs: Row[] = [];
  for (let i = 0; i < REPS + 1; i++) {
    const r = await run3(async (ctx) => {
      const t0 = performance.now();
      await secureForward(ctx, parts[ctx.party], { shape: [1, ...model.inputShape], data: xs[ctx.party] });
      return performance.now() - t0;
    }, { fracBits: F });
    if (i > 0) runs.push({ ms: Math.max(...r.results), bytes: r.bytes, rounds: r.rounds });
  }
  return { ms: median(runs.map((q) => q.ms)), bytes: runs[0]!.bytes, rounds: runs[0]!.rounds };
}

async function main(): Promise<void> {
  const x = uniform(seededPrg(8), sizeOf(SHAPE), 4);
  console.log(`input ${SHAPE.join('x')} (${x.length} elements), batch 1, f = ${F}, ${REPS} timed runs (median) after one warm-up; ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; load average ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  console.log('| layer | malicious ms | semi-honest ms | time ratio | malicious bytes | semi-honest bytes | bytes ratio | rounds (mal / semi) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, node] of LAYERS) {
    const model: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: SHAPE, nodes: [node], output: 'l', outputActivation: 'linear' };
    const m = await malicious(model, x), sh = await semiHonest(model, x);
    console.log(`| ${name} | ${m.ms.toFixed(1)} | ${sh.ms.toFixed(1)} | ${(m.ms / sh.ms).toFixed(1)}x | ${m.bytes} | ${sh.bytes} | ${sh.bytes ? `${(m.bytes / sh.bytes).toFixed(0)}x` : "— (no semi-honest traffic)"} | ${m.rounds} / ${sh.rounds} |`);
  }
}

await main();
