/**
 * Issue 27's audit: which RingKernels ops each layer kind calls, which of
 * them the CUDA set runs on the GPU, and how much of the kernel work stays on
 * the CPU of a GPU party. Three parties in one process (in-memory transport),
 * each with its own counting kernel set (protocol/testing/kernel-census.ts)
 * over the native kernels (else ts), routed as the CUDA set would route with
 * its default thresholds over that CPU set (no device needed: the routing is
 * JS). Prints markdown.
 *
 *   npx tsx bench/cuda-audit.ts kinds            # one small layer of every kind, in every comparison setting: ops called
 *   npx tsx bench/cuda-audit.ts seed             # the seed CNN 150x125x1 (f = 13, 32-bit ring, radix 4, local truncation)
 *   npx tsx bench/cuda-audit.ts densenet121      # DenseNet-121 224 (the zoo fixture; f as bench/run.ts, 32-bit, radix 4, exact truncation)
 *
 * "ms" is wall time inside the kernels on this machine (all three parties), a
 * rough share of the work only; the element counts are exact.
 */
import '../runtime/install.js';
import { type ContextOptions, createContext } from '../protocol/context.js';
import { dealSeeds } from '../protocol/correlated/prg.js';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../protocol/ir.js';
import { CUDA_OPS, DEFAULT_THRESHOLDS, TS_CPU_THRESHOLDS } from '../protocol/kernels/cuda/index.js';
import { inferShapes } from '../protocol/ir-kit/shapes.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf } from '../protocol/layers/types.js';
import type { PartyId } from '../protocol/ring/types.js';
import { seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { kernelCensus, sumBy, type CensusRow } from '../protocol/testing/kernel-census.js';
import { shareFor3 } from '../protocol/testing/run3.js';
import { memoryTransports } from '../protocol/transport/memory.js';
import { ZOO_FIXTURES, zooInput, zooModel } from './zoo-models.js';

const cpu = getKernels();
const thresholds = cpu.name === 'ts' ? TS_CPU_THRESHOLDS : DEFAULT_THRESHOLDS;
const GPU_OPS = new Set<string>(CUDA_OPS);

/** One secure forward of `ir` with a census per party; returns the census rows. */
async function censusOf(ir: ModelIR<FloatTensor>, input: Float64Array, opts: ContextOptions & { fracBits: number }): Promise<CensusRow[]> {
  const census = kernelCensus(cpu, thresholds);
  const parts = shareModel(cpu, ir, opts.fracBits);
  const xs = shareFor3(encode(input, opts.fracBits));
  const transports = memoryTransports({ lateCopy: false });
  const seeds = dealSeeds();
  await Promise.all(([0, 1, 2] as PartyId[]).map(async (p) => {
    let at = 0;
    const layer = () => { const n = ir.nodes[at]; return n ? ('activation' in n && n.activation !== 'linear' ? `${n.kind}+${n.activation}` : n.kind) : 'end'; };
    const ctx = createContext(p, transports[p], seeds[p], { ...opts, kernels: census.kernelsFor(p, layer) });
    await secureForward(ctx, parts[p], { shape: [1, ...ir.inputShape], data: xs[p] }, { onNode: (_n, i) => { at = i + 1; } });
  }));
  return [...census.rows.values()];
}

const fmt = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));
const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)} %` : '-');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Elements the model's concatenations gather (ir-kit/layout.ts gather in JS, no RingKernels op), for N = 1 at one party. */
function concatElements(ir: ModelIR<FloatTensor>): { nodes: number; elements: number } {
  const shapes = inferShapes(ir);
  const cat = ir.nodes.filter((n) => n.kind === 'concatenate');
  return { nodes: cat.length, elements: cat.reduce((t, n) => t + sizeOf(shapes.get(n.name)!), 0) };
}

/** Per op over the whole forward; then per layer kind and calling module. */
function report(title: string, rows: CensusRow[], ir: ModelIR<FloatTensor>): string {
  const cat = concatElements(ir);
  const ops = [...sumBy(rows, (r) => r.op).values()].sort((a, b) => b.ms - a.ms);
  const totalMs = ops.reduce((s, o) => s + o.ms, 0);
  const cpuMs = ops.reduce((s, o) => s + (o.calls ? o.ms * (1 - o.gpuCalls / o.calls) : 0), 0);
  const opTable = table(['op', 'calls', 'elements', 'CUDA kernel', 'on the GPU (elements, default thresholds)', 'kernel ms (CPU, all parties)', 'share of kernel ms'],
    ops.map((o) => [o.op, String(o.calls), fmt(o.elements), GPU_OPS.has(o.op) ? 'yes' : '**no**', pct(o.gpuElements, o.elements), o.ms.toFixed(1), pct(o.ms, totalMs)]));
  const lk = [...sumBy(rows, (r) => `${r.layer}|${r.caller}|${r.op}`).values()].filter((r) => !GPU_OPS.has(r.op) || r.gpuElements < r.elements);
  const cpuPart = (r: { ms: number; calls: number; gpuCalls: number }) => r.ms * (1 - r.gpuCalls / r.calls);
  lk.sort((a, b) => cpuPart(b) - cpuPart(a)).splice(25);
  const cpuTable = table(['layer kind', 'caller', 'op', 'calls on the CPU', 'elements on the CPU', 'ms (those calls, approx.)'],
    lk.map((r) => { const [l, c] = r.key.split('|'); return [l!, c!, r.op, String(r.calls - r.gpuCalls), fmt(r.elements - r.gpuElements), cpuPart(r).toFixed(1)]; }));
  const catLine = cat.nodes ? ` Concatenation calls no kernel: its ${cat.nodes} nodes gather ${fmt(cat.elements)} elements per party in JS (ir-kit/layout.ts).` : '';
  return `### ${title}\n\nKernel calls of all three parties, CPU set ${cpu.name}; GPU routing as the CUDA set's ${cpu.name === 'ts' ? 'TS_CPU_THRESHOLDS' : 'DEFAULT_THRESHOLDS'}. Kernel wall ms ${totalMs.toFixed(0)}, of which calls that stay on the CPU of a GPU party ${cpuMs.toFixed(0)} (${pct(cpuMs, totalMs)}).${catLine}\n\n${opTable}\n\nWhere the CPU-side calls come from (top 25 by ms):\n\n${cpuTable}\n`;
}

// ---- kinds: one small layer of every kind ----
const prg = seededPrg(27);
const w = (shape: number[], s = 0.3): FloatTensor => ({ shape, data: uniform(prg, sizeOf(shape), s) });
const C = 4;
type Spec<T = LayerNode<FloatTensor>> = T extends LayerNode<FloatTensor> ? Omit<T, 'name' | 'inputs'> & { inputs?: string[]; pre?: LayerNode<FloatTensor>[] } : never;
const KINDS: Record<string, Spec> = {
  'conv2d 3x3': { kind: 'conv2d', filters: 4, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'linear', kernel: w([3, 3, C, 4]), bias: w([4]) },
  'conv2d 1x1': { kind: 'conv2d', filters: 4, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: 'linear', kernel: w([1, 1, C, 4]) },
  depthwise_conv2d: { kind: 'depthwise_conv2d', kernelSize: [3, 3], strides: [1, 1], padding: 'same', depthMultiplier: 1, activation: 'linear', kernel: w([3, 3, C, 1]), bias: w([C]) },
  conv2d_transpose: { kind: 'conv2d_transpose', filters: 3, kernelSize: [3, 3], strides: [2, 2], pad: [[2, 1], [2, 1]], activation: 'linear', kernel: w([3, 3, C, 3]), bias: w([3]) },
  dense: { kind: 'dense', units: 4, activation: 'linear', kernel: w([8 * 8 * C, 4]), bias: w([4]), inputs: ['flat'], pre: [{ kind: 'flatten', name: 'flat', inputs: ['input'] }] },
  maxpool2d: { kind: 'maxpool2d', poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
  avgpool2d: { kind: 'avgpool2d', poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
  global_avgpool2d: { kind: 'global_avgpool2d' },
  concatenate: { kind: 'concatenate', axis: 2, inputs: ['input', 'input'] },
  add: { kind: 'add', inputs: ['input', 'input'] },
  maximum: { kind: 'maximum', inputs: ['input', 'input'] },
  multiply: { kind: 'multiply', inputs: ['input', 'input'] },
  'upsampling2d bilinear': { kind: 'upsampling2d', size: [2, 2], interpolation: 'bilinear' },
  rescaling: { kind: 'rescaling', scale: 0.3, offset: 0.1 },
  leaky_relu: { kind: 'leaky_relu', alpha: 0.1 },
  prelu: { kind: 'prelu', kernel: w([C]) },
  ...Object.fromEntries((['relu', 'relu6', 'hard_sigmoid', 'hard_silu', 'sigmoid', 'tanh', 'silu', 'gelu'] as const).map((a) => [a, { kind: 'activation', activation: a }])),
};
const SETTINGS: [string, ContextOptions][] = [
  ['64-bit ring (bits), local trunc.', { compareBits: 64 }],
  ['32-bit ring, radix 2', { compareBits: 32, compareRadix: 2 }],
  ['32-bit ring, radix 4', { compareBits: 32, compareRadix: 4 }],
  ['32-bit ring, radix 4, exact trunc.', { compareBits: 32, compareRadix: 4, truncation: 'exact' }],
];

async function kinds(): Promise<string> {
  const out: string[][] = [];
  for (const [name, spec] of Object.entries(KINDS)) {
    const { pre = [], inputs = ['input'], ...node } = spec;
    const ir = { formatVersion: IR_FORMAT_VERSION, inputShape: [8, 8, C], nodes: [...pre, { ...node, name: 'x', inputs } as LayerNode<FloatTensor>], output: 'x', outputActivation: 'linear' } as unknown as ModelIR<FloatTensor>;
    const per = new Map<string, Set<string>>();
    for (const [label, opts] of SETTINGS) {
      const rows = await censusOf(ir, uniform(prg, 8 * 8 * C, 1), { fracBits: 13, ...opts });
      for (const r of rows) if (r.layer !== 'flatten') (per.get(r.op) ?? per.set(r.op, new Set()).get(r.op)!).add(label);
    }
    const cell = (gpu: boolean) => [...per].filter(([op]) => GPU_OPS.has(op) === gpu).map(([op, s]) => (s.size === SETTINGS.length ? op : `${op} (${[...s].map((l) => SETTINGS.findIndex(([x]) => x === l) + 1).join(',')})`)).sort().join(', ') || '-';
    out.push([name, cell(true), cell(false)]);
  }
  return `### Ops per layer kind\n\nOne layer on an 8x8x${C} input, in four settings: (1) ${SETTINGS.map(([l], i) => `(${i + 1}) ${l}`).join(', ').slice(4)}; an op used in some settings only lists them.\n\n${table(['layer kind', 'ops with a CUDA kernel', 'ops without one (CPU on a GPU party)'], out)}\n`;
}

const what = process.argv[2] ?? 'kinds';
if (what === 'kinds') console.log(await kinds());
else if (what === 'seed') {
  const ir = seedCnn('maxpool2d', 1);
  console.log(report('Seed CNN 150x125x1, batch 1 (f = 13, 32-bit ring, radix 4, local truncation)', await censusOf(ir, uniform(seededPrg(11), sizeOf(ir.inputShape), 0.5).map((v) => v + 0.5), { fracBits: 13, compareBits: 32, compareRadix: 4 }), ir));
} else if (what in ZOO_FIXTURES) {
  const ir = await zooModel(what);
  const f = ZOO_FIXTURES[what]!.fracBits;
  console.log(report(`${what} (zoo fixture, f = ${f}, 32-bit ring, radix 4, exact truncation)`, await censusOf(ir, zooInput(what, 1), { fracBits: f, compareBits: 32, compareRadix: 4, truncation: 'exact' }), ir));
} else throw new Error(`cuda-audit: unknown section '${what}' (kinds, seed, ${Object.keys(ZOO_FIXTURES).join(', ')})`);
