/**
 * ONNX imports next to their Keras counterparts: the same architecture
 * imported from a torch.onnx export and from a Keras file, then one secure
 * forward pass each (three parties in this process, in-memory transport,
 * batch 1, f = 16, the party servers' 32-bit radix-4 comparisons), run in
 * alternation so both see the same machine load, after three untimed runs
 * of the seed CNN (V8 warm-up) and one untimed run of each side (buffers at
 * the model's size).
 *
 *   npx tsx bench/onnx.ts [--reps N] [--only densenet|mobilenet] [--no-write]
 *
 * Pairs (../shared/fixtures): DenseNet-121 with a 14-output CheXNet head
 * (onnx/torchvision-densenet121-chexnet vs zoo/densenet121-chexnet: the same
 * architecture), MobileNetV2 (onnx/torchvision-mobilenet_v2, width 1.0, vs
 * its Keras twin: the fixtures hold no Keras MobileNetV2 of width 1.0, so the
 * ONNX model is written as a Keras 3 file in keras.applications' style with
 * the same weights (model-import/keras-from-ir.ts) into a temp dir, and that
 * file is imported and run; model-import/onnx/keras-twin.test.ts checks it
 * against onnxruntime).
 * Writes bench/results/onnx-<date>.json and the section between
 * <!-- bench:onnx:begin --> and <!-- bench:onnx:end --> in BENCHMARKS.md,
 * one block per pair (<!-- bench:onnx:<pair>:begin/end -->): a pair not
 * run this time (--only) keeps its block.
 */
import '../runtime/install.js'; // hands protocol/ the native kernels (without it getKernels() is the TS fallback)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { irToKeras } from '../model-import/keras-from-ir.js';
import { writeKeras3Functional } from '../model-import/keras-writer.js';
import { loadModel } from '../model-import/load.js';
import { onnxInputHwc } from '../model-import/testing/onnx.js';
import { median, replaceSection } from './report.js';

const FIX = path.resolve(import.meta.dirname, '..', '..', 'shared', 'fixtures');
/** Stands for the Keras twin of the pair's ONNX file, written at start-up. */
const TWIN = 'keras twin';
const PAIRS = {
  densenet: { label: 'DenseNet-121, CheXNet head (14 outputs), 224x224x3', onnx: 'onnx/torchvision-densenet121-chexnet/model.onnx', keras: 'zoo/densenet121-chexnet/model.keras', input: 'torchvision-densenet121-chexnet', note: 'same architecture' },
  mobilenet: { label: 'MobileNetV2 (width 1.0), 2 outputs, 224x224x3', onnx: 'onnx/torchvision-mobilenet_v2/model.onnx', keras: TWIN, input: 'torchvision-mobilenet_v2', note: 'same architecture and weights (Keras side: the ONNX model written as a Keras 3 file)' },
} as const;

const { values: args } = parseArgs({ options: { reps: { type: 'string', default: '2' }, only: { type: 'string' }, 'no-write': { type: 'boolean', default: false } } });
const reps = Number(args.reps);
const F = 16;
const k = getKernels();
if (k.name !== 'native') console.warn(`bench/onnx: running on the ${k.name ?? 'default'} kernels, not the native addon (build it with npm ci): times are not comparable with the other rows`);

interface Side { file: string; importMs: number; nodes: number; params: number; kinds: string; runs: { ms: number; rounds: number; bytes: number }[] }

function summary(ir: ModelIR<FloatTensor>): { nodes: number; params: number; kinds: string } {
  const c = new Map<string, number>();
  let params = 0;
  for (const n of ir.nodes) {
    const key = n.kind + ('activation' in n && n.activation !== 'linear' ? `+${n.activation}` : '');
    c.set(key, (c.get(key) ?? 0) + 1);
    if ('kernel' in n && n.kernel) params += n.kernel.data.length;
    if ('bias' in n && n.bias) params += n.bias.data.length;
  }
  return { nodes: ir.nodes.length, params, kinds: [...c].map(([a, b]) => `${a} ${b}`).join(', ') };
}

async function secureRun(ir: ModelIR<FloatTensor>, x: Float32Array): Promise<{ ms: number; rounds: number; bytes: number }> {
  const parts = shareModel(k, ir, F);
  const xs = shareFor3(encode(Float64Array.from(x), F));
  const t0 = performance.now();
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...ir.inputShape], data: xs[ctx.party] }), { fracBits: F, compareBits: 32, compareRadix: 4 });
  return { ms: performance.now() - t0, rounds: r.rounds, bytes: r.bytes };
}

// Warm-up: V8 optimises the protocol code only after it has run a while; a few untimed runs of the small seed CNN first.
{
  const { ir } = await loadModel(path.join(FIX, 'onnx/seed-cnn-torch/model.onnx'));
  for (let i = 0; i < 3; i++) await secureRun(ir, onnxInputHwc('seed-cnn-torch', 0));
}
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-onnx-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const load0 = loadavg()[0]!;
const results: Record<string, { label: string; note: string; onnx: Side; keras: Side }> = {};
for (const [key, p] of Object.entries(PAIRS)) {
  if (args.only && args.only !== key) continue;
  const side = async (rel: string, file = path.join(FIX, rel)): Promise<{ ir: ModelIR<FloatTensor>; s: Side }> => {
    const t0 = performance.now();
    const { ir } = await loadModel(file);
    return { ir, s: { file: rel, importMs: performance.now() - t0, ...summary(ir), runs: [] } };
  };
  const o = await side(p.onnx);
  let kk;
  if (p.keras === TWIN) {
    const file = path.join(tmp, `${key}-twin.keras`);
    await writeKeras3Functional(file, irToKeras(o.ir, `${key}_twin`, 'softmax'));
    kk = await side(`${path.basename(path.dirname(p.onnx))} written as .keras`, file);
  } else kk = await side(p.keras);
  const x = onnxInputHwc(p.input, 0);
  // One untimed run of each side first: the first run at a model's size allocates its buffers (the seed CNN warm-up does not), and rep 0 would charge that to whichever side goes first.
  for (const s of [o, kk]) await secureRun(s.ir, x);
  for (let r = 0; r < reps; r++) {
    // Alternate which goes first, so a trend in the machine's load hits both.
    const order = r % 2 === 0 ? [o, kk] : [kk, o];
    for (const s of order) {
      const run = await secureRun(s.ir, x);
      s.s.runs.push(run);
      console.log(`${key} ${s === o ? 'onnx ' : 'keras'} rep ${r}: ${run.ms.toFixed(0)} ms, ${run.rounds} rounds, ${(run.bytes / 2 ** 20).toFixed(1)} MiB`);
    }
  }
  results[key] = { label: p.label, note: p.note, onnx: o.s, keras: kk.s };
}
const load1 = loadavg()[0]!;

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const stamp = `${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, kernels: ${k.name ?? 'default'}, load average ${load0.toFixed(1)} at the start and ${load1.toFixed(1)} at the end`;
/** One pair's block: its own command line and machine state, so that `--only` re-measures one pair and keeps the others' blocks. */
function pairBlock(key: string, r: (typeof results)[string]): string {
  const mo = median(r.onnx.runs.map((x) => x.ms)), mk = median(r.keras.runs.map((x) => x.ms));
  const rows = ([['ONNX', r.onnx], ['Keras', r.keras]] as const).map(([src, s]) => {
    const m = median(s.runs.map((x) => x.ms));
    return `| ${src} (\`${s.file}\`) | ${(s.importMs / 1000).toFixed(1)} s | ${s.nodes} | ${s.params.toLocaleString('en')} | ${(m / 1000).toFixed(1)} s (${s.runs.map((x) => (x.ms / 1000).toFixed(1)).join(', ')}) | ${s.runs[0]!.rounds} | ${mib(s.runs[0]!.bytes)} | ${src === 'ONNX' ? `${(mo / mk).toFixed(2)}x Keras` : ''} |`;
  });
  return [
    `<!-- bench:onnx:${key}:begin -->`,
    `### ${r.label}`,
    '',
    `Command: \`npx tsx bench/onnx.ts --reps ${reps}${args.only ? ` --only ${args.only}` : ''}\` — ${stamp}. ${r.note}.`,
    '',
    '| source | import | IR nodes | parameters | secure forward | rounds | traffic (all parties) | ONNX / Keras |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `ONNX IR ${r.onnx.kinds}; Keras IR ${r.keras.kinds}.`,
    `<!-- bench:onnx:${key}:end -->`,
  ].join('\n');
}
const blockIn = (doc: string, key: string): string | undefined => {
  const b = `<!-- bench:onnx:${key}:begin -->`, e = `<!-- bench:onnx:${key}:end -->`;
  const i = doc.indexOf(b), j = doc.indexOf(e);
  return i >= 0 && j > i ? doc.slice(i, j + e.length) : undefined;
};
const md = path.resolve(import.meta.dirname, '..', 'BENCHMARKS.md');
const doc = readFileSync(md, 'utf8');
const body = [
  '## ONNX imports next to Keras',
  '',
  `Secure forward pass: three parties in one process on the in-memory transport, batch 1, f = ${F}, 32-bit comparisons in radix 4 (the party servers' defaults), after three untimed warm-up runs of the seed CNN and one untimed run of each side of the pair, ONNX and Keras runs alternating (which goes first alternates too); time is the median with every run in brackets. Import is \`loadModel\` (parse + convert + BatchNorm folding). The machine is shared with other work: compare the ratio within a pair, not across pairs or sittings. Each pair has its own command line (\`--only\` re-measures one pair and keeps the other's block).`,
  ...Object.keys(PAIRS).flatMap((key) => {
    const blk = results[key] ? pairBlock(key, results[key]) : blockIn(doc, key);
    return blk ? ['', blk] : [];
  }),
].join('\n');
console.log(body);
if (!args['no-write']) {
  const dir = path.resolve(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `onnx-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ reps, f: F, load: [load0, load1], cpu: cpus()[0]?.model, results }, null, 2));
  writeFileSync(md, replaceSection(doc, '<!-- bench:onnx:begin -->', '<!-- bench:onnx:end -->', body));
}
