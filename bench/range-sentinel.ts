/**
 * What the run-time range sentinel costs (protocol/primitives/range-sentinel.ts,
 * protocol/layers/sentinel-forward.ts): one model, the three parties in one
 * process (in-memory transport), the forward pass without and with the
 * sentinel alternately, 32-bit radix-4 comparisons on every layer, local
 * truncation. Prints per repetition P0's wall time, the bytes all parties
 * sent, the rounds (after one unrecorded warm-up run of each), and for the sentinel the values checked, the narrow
 * comparison calls sampled and whether s was 0 (the client's verdict).
 *
 *   npx tsx bench/range-sentinel.ts [mobilenetv3small|seedcnn] [reps = 3]
 *
 * mobilenetv3small is the zoo's samples-only model (bench/zoo-models.ts: the
 * Keras fixture and its first golden X-ray, f = 13); seedcnn the seed
 * pneumonia CNN (random weights, protocol/seed-models.ts). Every layer runs on
 * the 32-bit ring here (the importer's chooser may put some on the 64-bit
 * one), so the sentinel checks at least as much as a served model would.
 */
import '../runtime/install.js';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { secureForwardChecked } from '../protocol/layers/sentinel-forward.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf } from '../protocol/layers/types.js';
import { seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { ZOO_FIXTURES, zooInput, zooModel } from './zoo-models.js';

const key = process.argv[2] ?? 'mobilenetv3small';
const reps = Number(process.argv[3] ?? 3);
if (key !== 'seedcnn' && !(key in ZOO_FIXTURES)) throw new Error(`range-sentinel bench: unknown model '${key}'`);
const ir = key === 'seedcnn' ? seedCnn() : await zooModel(key);
const f = key === 'seedcnn' ? 13 : ZOO_FIXTURES[key]!.fracBits;
const input = key === 'seedcnn' ? uniform(seededPrg(11), sizeOf(ir.inputShape), 0.5).map((v) => v + 0.5) : zooInput(key, 1);
const k = getKernels();
const parts = shareModel(k, ir, f);
const xs = shareFor3(encode(input, f));
const opts = { fracBits: f, compareBits: 32, compareRadix: 4, truncation: 'local' } as const;
const x = (p: 0 | 1 | 2) => ({ shape: [1, ...ir.inputShape], data: xs[p] });
console.log(`${key}: ${ir.nodes.length} layers, f = ${f}, kernels ${k.name}`);
const rows: { sentinel: boolean; ms: number; bytes: number; rounds: number }[] = [];
const stepMs: number[] = [];
/** The sentinel's step over the forward pass's time in the same run (less sensitive to load that changes between runs). */
const stepShare: number[] = [];
// Rep -1 warms V8 and the kernels up (one run of each); not counted.
for (let rep = -1; rep < reps; rep++) {
  for (const sentinel of [false, true]) {
    const t0 = performance.now();
    if (!sentinel) {
      const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], x(ctx.party)), opts);
      rows.push({ sentinel, ms: performance.now() - t0, bytes: r.bytes, rounds: r.rounds });
    } else {
      // P0's time after its last layer: the sentinel's own step (its 64-bit DReLU batch), less noisy than the difference of two runs.
      let lastNode = 0;
      const onNode = (_n: string, i: number, total: number) => { if (i === total - 1) lastNode = performance.now(); };
      const r = await run3((ctx) => secureForwardChecked(ctx, parts[ctx.party], x(ctx.party), ctx.party === 0 ? { onNode } : {}), opts);
      const ms = performance.now() - t0, s = reconstruct(k, r.results[0].sentinel, r.results[1].sentinel)[0];
      stepMs.push(ms - (lastNode - t0));
      stepShare.push((ms - (lastNode - t0)) / (lastNode - t0));
      const step = r.transports.reduce((a, t) => a + (t.steps.get('RangeSentinel')?.bytesSent ?? 0), 0);
      rows.push({ sentinel, ms, bytes: r.bytes, rounds: r.rounds });
      if (rep >= 0) console.log(`rep ${rep} sentinel: step ${stepMs.at(-1)!.toFixed(0)} ms after the last layer, checked ${r.results[0].checked} values from ${r.results[0].calls} narrow comparison calls, sentinel step ${step} B, s ${s === 0n ? '= 0 (in range)' : '!= 0 (refused)'}`);
    }
    if (rep < 0) { rows.pop(); if (sentinel) { stepMs.pop(); stepShare.pop(); } continue; }
    const last = rows.at(-1)!;
    console.log(`rep ${rep} ${sentinel ? 'with   ' : 'without'}: ${last.ms.toFixed(0)} ms, ${last.bytes} B, ${last.rounds} rounds`);
  }
}
const med = (a: number[]) => { const s = [...a].sort((p, q) => p - q); return s[Math.floor(s.length / 2)]!; };
const w = rows.filter((r) => r.sentinel), wo = rows.filter((r) => !r.sentinel);
const ratios = wo.map((r, i) => w[i]!.ms / r.ms);
console.log(`sentinel step after the last layer: median ${med(stepMs).toFixed(0)} ms, ${(100 * med(stepShare)).toFixed(1)}% of the same run's forward pass (median; ${stepShare.map((q) => (100 * q).toFixed(1)).join(', ')}); per-rep ratio with/without: median x${med(ratios).toFixed(3)} (${ratios.map((q) => q.toFixed(2)).join(', ')})`);
console.log(`median of ${reps}: without ${med(wo.map((r) => r.ms)).toFixed(0)} ms, with ${med(w.map((r) => r.ms)).toFixed(0)} ms (x${(med(w.map((r) => r.ms)) / med(wo.map((r) => r.ms))).toFixed(3)}); bytes ${wo[0]!.bytes} -> ${w[0]!.bytes} (x${(w[0]!.bytes / wo[0]!.bytes).toFixed(4)}); rounds ${wo[0]!.rounds} -> ${w[0]!.rounds}`);
