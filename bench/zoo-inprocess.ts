/**
 * Where a zoo model's time goes, per layer kind, with the three parties in
 * one process (in-memory transport, no TLS or gRPC): P0's wall time between
 * the end of consecutive layers, summed per kind, for each repetition (the
 * first includes V8's warm-up). Add `node --cpu-prof` for a profile:
 *
 *   npx tsx bench/zoo-inprocess.ts [unet128|mobilenetv3small|densenet121|efficientnetb0|resnet50] [reps = 2]
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/zoo-inprocess.ts unet128
 *
 * ResNet-50 is bench/zoo-models.ts's (random weights, f = 13, its input uniform
 * in [0, 1) from a seeded PRG as bench/run.ts gives it).
 * Fractional bits as bench/run.ts uses them (bench/zoo-models.ts), 32-bit
 * radix-4 comparisons, local truncation (ZOO_TRUNCATION=exact: exact, as the
 * importer's chooser takes for the zoo models). Not a latency measurement of the
 * deployment (bench/run.ts is): the parties share one thread here. Each rep
 * also prints the process's CPU time (user, system: the GEMM's extra thread
 * counts there), which depends less on other work than the wall time.
 */
import '../runtime/install.js';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { sizeOf } from '../protocol/layers/types.js';
import { resnet50, ZOO_FIXTURES, zooInput, zooModel } from './zoo-models.js';

const key = process.argv[2] ?? 'unet128';
const reps = Number(process.argv[3] ?? 2);
if (!(key in ZOO_FIXTURES) && key !== 'resnet50') throw new Error(`zoo-inprocess: unknown model '${key}' (one of ${[...Object.keys(ZOO_FIXTURES), 'resnet50'].join(', ')})`);
const ir = key === 'resnet50' ? resnet50() : await zooModel(key);
const f = key === 'resnet50' ? 13 : ZOO_FIXTURES[key]!.fracBits;
const input = key === 'resnet50' ? uniform(seededPrg(11), sizeOf(ir.inputShape), 0.5).map((v) => v + 0.5) : zooInput(key, 1);
const k = getKernels();
const parts = shareModel(k, ir, f);
const xs = shareFor3(encode(input, f));
console.log(`${key}: ${ir.nodes.length} layers, f = ${f}, kernels ${k.name}`);
for (let rep = 0; rep < reps; rep++) {
  const per = new Map<string, number>();
  const t0 = performance.now(), c0 = process.cpuUsage();
  let last = t0;
  const onNode = (_name: string, i: number) => {
    const now = performance.now(), kind = ir.nodes[i]!.kind;
    per.set(kind, (per.get(kind) ?? 0) + now - last);
    last = now;
  };
  await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...ir.inputShape], data: xs[ctx.party] }, ctx.party === 0 ? { onNode } : {}),
    { fracBits: f, compareBits: 32, compareRadix: 4, truncation: (process.env.ZOO_TRUNCATION === 'exact' ? 'exact' : 'local') });
  const kinds = [...per].sort((a, b) => b[1] - a[1]).map(([kind, ms]) => `${kind} ${ms.toFixed(0)}`).join(', ');
  const cpu = process.cpuUsage(c0);
  console.log(`rep ${rep}: ${(performance.now() - t0).toFixed(0)} ms, CPU ${(cpu.user / 1000).toFixed(0)} ms user + ${(cpu.system / 1000).toFixed(0)} ms system (P0 per kind, ms: ${kinds})`);
}
