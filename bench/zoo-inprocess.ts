/**
 * Where a zoo model's time goes, per layer kind, with the three parties in
 * one process (in-memory transport, no TLS or gRPC): P0's wall time between
 * the end of consecutive layers, summed per kind, for each repetition (the
 * first includes V8's warm-up). Add `node --cpu-prof` for a profile:
 *
 *   npx tsx bench/zoo-inprocess.ts [unet128|mobilenetv3small|densenet121|efficientnetb0] [reps = 2]
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/zoo-inprocess.ts unet128
 *
 * Fractional bits as bench/run.ts uses them (bench/zoo-models.ts), 32-bit
 * radix-4 comparisons, local truncation. Not a latency measurement of the
 * deployment (bench/run.ts is): the parties share one thread here.
 */
import '../runtime/install.js';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { ZOO_FIXTURES, zooInput, zooModel } from './zoo-models.js';

const key = process.argv[2] ?? 'unet128';
const reps = Number(process.argv[3] ?? 2);
if (!(key in ZOO_FIXTURES)) throw new Error(`zoo-inprocess: unknown model '${key}' (one of ${Object.keys(ZOO_FIXTURES).join(', ')})`);
const ir = await zooModel(key);
const f = ZOO_FIXTURES[key]!.fracBits;
const k = getKernels();
const parts = shareModel(k, ir, f);
const xs = shareFor3(encode(zooInput(key, 1), f));
console.log(`${key}: ${ir.nodes.length} layers, f = ${f}, kernels ${k.name}`);
for (let rep = 0; rep < reps; rep++) {
  const per = new Map<string, number>();
  const t0 = performance.now();
  let last = t0;
  const onNode = (_name: string, i: number) => {
    const now = performance.now(), kind = ir.nodes[i]!.kind;
    per.set(kind, (per.get(kind) ?? 0) + now - last);
    last = now;
  };
  await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...ir.inputShape], data: xs[ctx.party] }, ctx.party === 0 ? { onNode } : {}),
    { fracBits: f, compareBits: 32, compareRadix: 4, truncation: 'local' });
  const kinds = [...per].sort((a, b) => b[1] - a[1]).map(([kind, ms]) => `${kind} ${ms.toFixed(0)}`).join(', ');
  console.log(`rep ${rep}: ${(performance.now() - t0).toFixed(0)} ms (P0 per kind, ms: ${kinds})`);
}
