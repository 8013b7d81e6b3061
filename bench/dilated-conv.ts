/**
 * A dilated layer (DeepLabV3's ASPP at d = 12; DeepLabV3+'s separable ASPP:
 * a depthwise 3x3 at d = 12) through the secure runner, three parties in one
 * process, before and after native dilation:
 *  - before: the zero-expanded kernel of (k - 1) d + 1 = 25 taps per axis,
 *    an undilated conv2d / depthwise_conv2d (what the ONNX importer did);
 *  - after: the IR's dilation (protocol/layers/conv-dilated.ts);
 *  - and, for the cost of the phase gathers, the same layer undilated (d = 1:
 *    the same MACs and bytes, no SpaceToBatch / BatchToSpace).
 * For each: the multiply-adds of one application of the layer's bilinear
 * map (the kernels' gemm m k n, depthwise outputs x taps, counted by
 * wrapping the kernels over the run and divided by the run's 5 applications:
 * P2's op(A, B), two at P0 and two at P1), the bytes all three
 * parties send and the rounds (the in-memory transports' counters), and the
 * CPU time of the whole run (process.cpuUsage: all three parties), before
 * and after alternating; the outputs of both are checked against each other
 * (within 4 units of 2^-f: local truncation).
 *
 *   npx tsx bench/dilated-conv.ts [rounds = 3] [H = 32] [C = 32]
 */
import '../runtime/install.js';
import { cpus } from 'node:os';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../protocol/ir.js';
import { getKernels } from '../protocol/kernels/index.js';
import type { RingKernels } from '../protocol/kernels/types.js';
import { dilatedExtent } from '../protocol/layers/geometry.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf } from '../protocol/layers/types.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';

const rounds = Number(process.argv[2] ?? 3), H = Number(process.argv[3] ?? 32), C = Number(process.argv[4] ?? 32);
const d = 12, f = 13, N = 1;
/** Applications of the bilinear map in one Beaver product (matmul.ts: P2 once, P0 and P1 twice each). */
const BEAVER_APPLIES = 5;
const k = getKernels();
const g = seededPrg(12);

let macs = 0;
const counting: RingKernels = { ...k,
  gemm: (A, B, m, kk, n, out) => { macs += m * kk * n; k.gemm(A, B, m, kk, n, out); },
  depthwise: (x, w, n, h, ww, c, dm, kh, kw, sh, sw, pt, pl, oh, ow, out) => { macs += n * oh * ow * kh * kw * c * dm; k.depthwise(x, w, n, h, ww, c, dm, kh, kw, sh, sw, pt, pl, oh, ow, out); } };

/** The node with its kernel zero-expanded and no dilation. */
function expanded(n: LayerNode<FloatTensor> & { kind: 'conv2d' | 'depthwise_conv2d' }): LayerNode<FloatTensor> {
  const [kh, kw] = n.kernelSize, dd = n.dilation!, [eh, ew] = dilatedExtent(n.kernelSize, dd);
  const CM = n.kernel.shape[2]! * n.kernel.shape[3]!;
  const data = new Float64Array(eh * ew * CM);
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) data.set(n.kernel.data.subarray((ky * kw + kx) * CM, (ky * kw + kx + 1) * CM), (ky * dd[0] * ew + kx * dd[1]) * CM);
  const { dilation: _d, ...rest } = n;
  return { ...rest, kernelSize: [eh, ew], kernel: { shape: [eh, ew, n.kernel.shape[2]!, n.kernel.shape[3]!], data } } as LayerNode<FloatTensor>;
}

const model = (node: LayerNode<FloatTensor>): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape: [H, H, C], nodes: [node], output: node.name, outputActivation: 'linear' });
const layers: [string, LayerNode<FloatTensor> & { kind: 'conv2d' | 'depthwise_conv2d' }][] = [
  [`conv2d 3x3 d ${d} same, ${H}x${H}x${C} -> ${C}`, { kind: 'conv2d', name: 'aspp', inputs: ['input'], filters: C, kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [d, d], activation: 'linear', kernel: { shape: [3, 3, C, C], data: uniform(g, 9 * C * C, 0.1) } }],
  [`depthwise 3x3 d ${d} same, ${H}x${H}x${C}`, { kind: 'depthwise_conv2d', name: 'aspp_dw', inputs: ['input'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [d, d], depthMultiplier: 1, activation: 'linear', kernel: { shape: [3, 3, C, 1], data: uniform(g, 9 * C, 0.3) } }],
];

async function once(m: ModelIR<FloatTensor>, parts: ReturnType<typeof shareModel>, xs: ReturnType<typeof shareFor3>) {
  macs = 0;
  const t = process.cpuUsage();
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...m.inputShape], data: xs[ctx.party] }), { fracBits: f, kernels: counting });
  const c = process.cpuUsage(t);
  return { cpuMs: (c.user + c.system) / 1000, bytes: r.bytes, rounds: r.rounds, macs: macs / BEAVER_APPLIES, y: decode(reconstruct(k, r.results[0].data, r.results[1].data), f) };
}

console.log(`${new Date().toISOString()}; ${cpus()[0]?.model}; kernels ${k.name}; N ${N}, f ${f}; ${rounds} rounds, before/after alternating`);
for (const [what, node] of layers) {
  const after = model(node), before = model(expanded(node));
  const { dilation: _d, ...plain } = node;
  const undilated = model(plain as LayerNode<FloatTensor>);
  const x = uniform(seededPrg(13), N * sizeOf(after.inputShape), 2);
  const xs = shareFor3(encode(x, f));
  const pa = shareModel(k, after, f), pb = shareModel(k, before, f), pu = shareModel(k, undilated, f);
  const cpu: { before: number[]; after: number[]; d1: number[] } = { before: [], after: [], d1: [] };
  let lastA, lastB, lastU;
  for (let i = 0; i < rounds; i++) {
    lastB = await once(before, pb, xs); cpu.before.push(lastB.cpuMs);
    lastA = await once(after, pa, xs); cpu.after.push(lastA.cpuMs);
    lastU = await once(undilated, pu, xs); cpu.d1.push(lastU.cpuMs);
  }
  // One application's multiply-adds are outputs x taps x C (x Cout for conv2d): 'same' keeps H x H outputs in both.
  const analytic = (m: ModelIR<FloatTensor>) => { const nd = m.nodes[0] as { kernelSize: number[]; kind: string }; return N * H * H * nd.kernelSize[0]! * nd.kernelSize[1]! * C * (nd.kind === 'conv2d' ? C : 1); };
  if (lastA!.macs !== analytic(after) || lastB!.macs !== analytic(before)) throw new Error(`${what}: counted MACs ${lastB!.macs} / ${lastA!.macs}, expected ${analytic(before)} / ${analytic(after)}`);
  let diff = 0;
  for (let i = 0; i < lastA!.y.length; i++) diff = Math.max(diff, Math.abs(lastA!.y[i]! - lastB!.y[i]!));
  if (diff > 4 / 2 ** f) throw new Error(`${what}: before and after differ by ${diff}`);
  const med = (v: number[]) => v.slice().sort((a, b) => a - b)[v.length >> 1]!;
  console.log(`\n${what}`);
  console.log(`  before (zero-expanded ${(before.nodes[0] as { kernelSize: number[] }).kernelSize.join('x')}): MACs ${lastB!.macs.toExponential(3)}, bytes ${lastB!.bytes}, rounds ${lastB!.rounds}, CPU ms ${cpu.before.map((v) => v.toFixed(0)).join(' ')} (median ${med(cpu.before).toFixed(0)})`);
  console.log(`  after  (dilation ${d}):        MACs ${lastA!.macs.toExponential(3)}, bytes ${lastA!.bytes}, rounds ${lastA!.rounds}, CPU ms ${cpu.after.map((v) => v.toFixed(0)).join(' ')} (median ${med(cpu.after).toFixed(0)})`);
  console.log(`  d = 1 (no gathers):     MACs ${lastU!.macs.toExponential(3)}, bytes ${lastU!.bytes}, rounds ${lastU!.rounds}, CPU ms ${cpu.d1.map((v) => v.toFixed(0)).join(' ')} (median ${med(cpu.d1).toFixed(0)})`);
  console.log(`  before / after: MACs ${(lastB!.macs / lastA!.macs).toFixed(1)}x, bytes ${(lastB!.bytes / lastA!.bytes).toFixed(2)}x, CPU (medians) ${(med(cpu.before) / med(cpu.after)).toFixed(1)}x; max |after - before| ${diff.toExponential(2)}`);
}
