/**
 * Protocol benchmark: `npm run bench:protocol [-- --quick]`.
 * Three parties in one process on the in-memory transport. Reports:
 *  - GMAC/s of the ring GEMM (native addon and TS fallback);
 *  - ms, rounds and MB for ReLU and MaxPool(2x2) on 10^5 elements;
 *  - a whole secure forward of the seed CNN (MaxPool and AvgPool) and of MNIST
 *    Network A, with the plaintext tfjs time on the same input and the ratio.
 * Writes bench/results/protocol.json and the table between the markers in BENCHMARKS.md.
 */
import '../runtime/install.js';
import { cpus } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import type { RingKernels } from '../protocol/kernels/types.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf } from '../protocol/layers/types.js';
import { maxPool } from '../protocol/primitives/maxpool.js';
import { relu } from '../protocol/primitives/relu.js';
import { reluDirect } from '../protocol/primitives/relu-direct.js';
import { truncate } from '../protocol/primitives/truncate.js';
import { truncateExact } from '../protocol/primitives/truncate-exact.js';
import { plainForward } from '../protocol/reference/forward.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { networkA, seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { randomSigned, randomU64s } from '../protocol/testing/values.js';
import { tfjsPredictMs } from './tfjs-time.js';

const quick = process.argv.includes('--quick');
const reps = quick ? 1 : 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function gemmGmacs(k: RingKernels, m: number, kk: number, n: number): number {
  const A = randomU64s(m * kk), B = randomU64s(kk * n), C = new BigUint64Array(m * n);
  k.gemm(A, B, m, kk, n, C); // warm-up
  const times: number[] = [];
  for (let i = 0; i < reps; i++) { const t = performance.now(); k.gemm(A, B, m, kk, n, C); times.push(performance.now() - t); }
  return (m * kk * n) / (median(times) / 1e3) / 1e9;
}

async function timeProtocol(fn: () => Promise<{ rounds: number; bytes: number }>) {
  // Warm-ups: the first forward of the process (Network A) ran 2-3x slower after a single one.
  for (let w = 0; w < (quick ? 1 : 3); w++) await fn();
  const runs: { ms: number; rounds: number; bytes: number }[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const r = await fn();
    runs.push({ ms: performance.now() - t, rounds: r.rounds, bytes: r.bytes });
  }
  const ms = median(runs.map((r) => r.ms));
  return { ms, rounds: runs[0]!.rounds, mb: runs[0]!.bytes / 2 ** 20 };
}

async function forward(model: ModelIR<FloatTensor>, N: number, f: number, compareBits: 32 | 64 = 32, truncation: 'local' | 'exact' = 'local') {
  const k = getKernels();
  const x = uniform(seededPrg(11), N * sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);
  const parts = shareModel(k, model, f);
  const xs = shareFor3(encode(x, f));
  let out: BigUint64Array = new BigUint64Array(0);
  const res = await timeProtocol(async () => {
    const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party] }), { fracBits: f, compareBits, truncation });
    out = reconstruct(k, r.results[0].data, r.results[1].data);
    return r;
  });
  const got = decode(out, f), want = plainForward(model, x, N).data;
  const maxErr = Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!)));
  const tfMs = await tfjsPredictMs(model, x, N, reps);
  return { ...res, tfjsMs: tfMs, ratio: res.ms / tfMs, maxAbsErr: maxErr };
}

async function main() {
  const native = getKernels('auto');
  const ts = getKernels('ts');
  const rows: string[] = [];
  const json: Record<string, unknown> = { date: new Date().toISOString(), cpu: cpus()[0]?.model, nproc: cpus().length, kernels: native.name, quick };

  const gN = gemmGmacs(native, 256, 1024, 256);
  const gT = gemmGmacs(ts, 128, 512, 128);
  json.gemm = { [native.name]: gN, ts: gT };
  rows.push(`| ring GEMM, ${native.name} (256x1024x256) | ${gN.toFixed(2)} GMAC/s | | | |`);
  rows.push(`| ring GEMM, ts fallback (128x512x128) | ${gT.toFixed(2)} GMAC/s | | | |`);

  const n = 100_000;
  const A = shareFor3(randomSigned(n, 40));
  const rl = await timeProtocol(() => run3((ctx) => relu(ctx, A[ctx.party])));
  rows.push(`| ReLU (paper route: ShareConvert + ComputeMSB), 10^5 elements | ${rl.ms.toFixed(0)} ms | ${rl.rounds} | ${rl.mb.toFixed(1)} MB | |`);
  const W = shareFor3(randomSigned(4 * n, 40));
  const mp = await timeProtocol(() => run3((ctx) => maxPool(ctx, W[ctx.party], n, 4)));
  rows.push(`| MaxPool 2x2, 10^5 windows (4x10^5 inputs) | ${mp.ms.toFixed(0)} ms | ${mp.rounds} | ${mp.mb.toFixed(1)} MB | |`);
  const rd: Record<string, unknown> = {};
  for (const [bits, radix] of [[64, 2], [32, 2], [32, 4]] as const) {
    const r = await timeProtocol(() => run3((ctx) => reluDirect(ctx, A[ctx.party]), { compareBits: bits, compareRadix: radix }));
    rd[bits === 64 ? '64' : `32r${radix}`] = r;
    rows.push(`| ReLU (direct, ${bits}-bit comparison ring${bits === 32 ? `: |x| < 2^31, PrivateCompare in ${radix === 4 ? 'radix-4 digits (default)' : 'bits'}` : ''}), 10^5 elements | ${r.ms.toFixed(0)} ms | ${r.rounds} | ${r.mb.toFixed(1)} MB | |`);
  }
  const mpd = await timeProtocol(() => run3((ctx) => maxPool(ctx, W[ctx.party], n, 4), { compareBits: 32 }));
  rows.push(`| MaxPool 2x2 (direct, 32-bit ring), 10^5 windows | ${mpd.ms.toFixed(0)} ms | ${mpd.rounds} | ${mpd.mb.toFixed(1)} MB | |`);
  json.relu = rl; json.maxpool = mp; json.reluDirect = rd; json.maxpoolDirect32 = mpd;
  const T = shareFor3(randomSigned(n, 40));
  const tl = await timeProtocol(() => run3(async (ctx) => truncate(ctx, T[ctx.party], 13)));
  const te = await timeProtocol(() => run3((ctx) => truncateExact(ctx, T[ctx.party], 13)));
  rows.push(`| truncation, local (SecureML: wrong with probability ~|x|/2^64), 10^5 elements | ${tl.ms.toFixed(1)} ms | ${tl.rounds} | ${tl.mb.toFixed(1)} MB | |`);
  rows.push(`| truncation, exact (with P2: truncate-exact.ts), 10^5 elements | ${te.ms.toFixed(1)} ms | ${te.rounds} | ${te.mb.toFixed(1)} MB | |`);
  json.truncate = { local: tl, exact: te };

  const models: [string, ModelIR<FloatTensor>, number, number, 32 | 64, ('local' | 'exact')?][] = [
    ['MNIST Network A, batch 1', networkA(), 1, 16, 32],
    ['MNIST Network A, batch 1, exact truncation', networkA(), 1, 16, 32, 'exact'],
    ['seed CNN MaxPool 150x125x1, batch 1, 64-bit comparisons', seedCnn('maxpool2d'), 1, 13, 64],
    ['seed CNN MaxPool 150x125x1, batch 1', seedCnn('maxpool2d'), 1, 13, 32],
    ['seed CNN MaxPool 150x125x1, batch 1, exact truncation', seedCnn('maxpool2d'), 1, 13, 32, 'exact'],
    ['seed CNN AvgPool 150x125x1, batch 1', seedCnn('avgpool2d'), 1, 13, 32],
  ];
  if (!quick) models.push(['seed CNN MaxPool 150x125x1, batch 8', seedCnn('maxpool2d'), 8, 13, 32]);
  for (const [name, model, N, f, bits, truncation] of models) {
    const r = await forward(model, N, f, bits, truncation);
    (json.forward ??= {} as Record<string, unknown>) && ((json.forward as Record<string, unknown>)[name] = r);
    rows.push(`| secure forward: ${name} (f=${f}) | ${r.ms.toFixed(0)} ms (${(r.ms / N).toFixed(0)} ms/image) | ${r.rounds} | ${r.mb.toFixed(1)} MB | tfjs ${r.tfjsMs.toFixed(1)} ms, secure/plain ${r.ratio.toFixed(r.ratio < 10 ? 1 : 0)}x, max abs err ${r.maxAbsErr.toExponential(1)} |`);
    console.error(rows.at(-1));
  }

  const table = ['| what | time | rounds | traffic (all parties) | note |', '|---|---|---|---|---|', ...rows].join('\n');
  console.log(table);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/protocol.json', import.meta.url), JSON.stringify(json, null, 2));
  const file = new URL('../BENCHMARKS.md', import.meta.url);
  const md = readFileSync(file, 'utf8');
  const begin = '<!-- bench:protocol:begin -->', end = '<!-- bench:protocol:end -->';
  const block = `${begin}\nCommand: \`npm run bench:protocol\` — ${json.date}, ${json.nproc} x ${json.cpu}, kernels: ${native.name}, medians of ${reps} run(s) after ${quick ? 'a warm-up' : '3 warm-ups'}. Forward passes use the 32-bit comparison ring (as the party servers do) unless the row says otherwise.\n\n${table}\n${end}`;
  writeFileSync(file, md.includes(begin) ? md.replace(new RegExp(`${begin}[\\s\\S]*${end}`), block) : `${md}\n${block}\n`);
}

main().catch((e) => { console.error(e); process.exit(1); });
