/**
 * Malicious mode against the semi-honest protocol, three parties in one
 * process on the in-memory transport: `npx tsx bench/malicious.ts [--reps N]`.
 *
 *  - Network A, batch 1: the semi-honest secureForward (32-bit comparison
 *    ring, local truncation: bench/protocol.ts's row) and the malicious
 *    inference: the client's masked input (inputMask, the SDK's maskedInput,
 *    inputFromClient), malForward (32-bit comparisons, truncM), the MAC
 *    check and the shares to the client (outputToClient, the SDK's
 *    reconstructOutput); the session set-up (coins, the weights' copy check
 *    and MACs: prepareWeights) is timed apart: it does not depend on the
 *    input and could run ahead.
 *  - The seed CNN: declared rounds and bytes only (malForwardCost, which the
 *    runner tests check against the counters): at about 9.4 GB for one image
 *    it is not run in one process here.
 *
 *  - With `--binary`: also the malicious inference with the runner's
 *    comparisons in the binary domain (`comparisons: 'binary'`,
 *    protocol/malicious/binary/), interleaved with the other two, and the
 *    seed CNN's declared cost with it.
 *
 * Prints a markdown table (medians of --reps runs after one warm-up) with
 * the CPU name and the load average; the numbers go into BENCHMARKS.md by
 * hand.
 */
import '../runtime/install.js';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf } from '../protocol/layers/types.js';
import { plainForward } from '../protocol/reference/forward.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { runMal3, values } from '../protocol/testing/cheat.js';
import { networkA, seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { inputFromClient, inputMask, outputToClient } from '../protocol/malicious/client-io.js';
import { malForward, malForwardCost } from '../protocol/malicious/runner.js';
import { prepareWeights, shareModelReplicated } from '../protocol/malicious/weights.js';
import type { MalSession } from '../protocol/malicious/session.js';
import type { MalComparisons } from '../protocol/malicious/primitives.js';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';

const arg = process.argv.indexOf('--reps');
const reps = arg > 0 ? Number(process.argv[arg + 1]) : 5;
const withBinary = process.argv.includes('--binary');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const F = 13;
type Three = [Uint8Array, Uint8Array, Uint8Array];

async function semiHonest(model: ModelIR<FloatTensor>, x: Float64Array) {
  const k = getKernels();
  const parts = shareModel(k, model, F);
  const xs = shareFor3(encode(x, F));
  const t = performance.now();
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...model.inputShape], data: xs[ctx.party] }), { fracBits: F, compareBits: 32 });
  const ms = performance.now() - t;
  const y = decode(reconstruct(k, r.results[0].data, r.results[1].data), F);
  return { ms, rounds: r.rounds, bytes: r.bytes, y };
}

/** One malicious inference; set-up (session, weights) and inference timed apart at P0. */
async function malicious(model: ModelIR<FloatTensor>, x: Float64Array, parts: ReturnType<typeof shareModelReplicated>, comparisons: MalComparisons = 'arithmetic') {
  const n = x.length;
  let done!: (v: Three) => void, outDone!: (v: Three) => void;
  const masks: Uint8Array[] = [], outs: Uint8Array[] = [];
  const allMasks = new Promise<Three>((r) => { done = r; }), allOuts = new Promise<Three>((r) => { outDone = r; });
  const d = allMasks.then((m) => maskedInput(encode(x, F), m));
  const t0 = performance.now();
  let tSetup = 0, setupBytes = 0, setupDepth = 0;
  const r = await runMal3(async (s: MalSession) => {
    const w = await prepareWeights(s, parts[s.party]);
    if (s.party === 0) { tSetup = performance.now() - t0; }
    const before = s.ctx.transport.counters;
    if (s.party === 0) { setupBytes = before.bytesSent; setupDepth = before.depth; }
    const { r: mask, forClient } = await inputMask(s, n);
    masks[s.party] = forClient;
    if (masks.filter(Boolean).length === 3) done(masks as Three);
    const xin = await inputFromClient(s, mask, await d);
    const y = await malForward(s, w, { shape: [1, ...model.inputShape], data: xin }, { comparisons });
    outs[s.party] = await outputToClient(s, y.data);
    if (outs.filter(Boolean).length === 3) outDone(outs as Three);
    return s.ctx.transport.counters.bytesSent;
  }, { watchdogMs: 600_000 });
  values(r);
  const y = decode(reconstructOutput(await allOuts, sizeOf(plainForward(model, x, 1).shape.slice(1))), F);
  const total = performance.now() - t0;
  // Set-up bytes: P0's share times three (the set-up is symmetric); rounds: P0's depth after it.
  return { setupMs: tSetup, inferMs: total - tSetup, rounds: r.rounds - setupDepth, bytes: r.bytes - 3 * setupBytes, y };
}

const fmtMs = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const mb = (b: number): string => (b / 2 ** 20).toFixed(2);

async function main(): Promise<void> {
  const model = networkA();
  const x = uniform(seededPrg(11), sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);
  const want = plainForward(model, x, 1).data;
  const parts = shareModelReplicated(model, F);
  const load0 = loadavg()[0]!;
  await semiHonest(model, x);
  await malicious(model, x, parts);
  if (withBinary) await malicious(model, x, parts, 'binary');
  const sh: Awaited<ReturnType<typeof semiHonest>>[] = [], mal: Awaited<ReturnType<typeof malicious>>[] = [], bin: typeof mal = [];
  // Interleaved, so that the machine's load drifts over all alike.
  for (let i = 0; i < reps; i++) {
    sh.push(await semiHonest(model, x));
    mal.push(await malicious(model, x, parts));
    if (withBinary) bin.push(await malicious(model, x, parts, 'binary'));
  }
  const err = (y: Float64Array): number => Math.max(...Array.from(y, (v, i) => Math.abs(v - want[i]!)));
  const shMs = median(sh.map((r) => r.ms)), malMs = median(mal.map((r) => r.inferMs)), setMs = median(mal.map((r) => r.setupMs));
  const cnn = malForwardCost(seedCnn(), 1, F);
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}; load average ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}; medians of ${reps} runs after one warm-up each; f = ${F}, 32-bit comparisons\n`);
  console.log('| what | time | rounds | traffic (all parties) | note |');
  console.log('|---|---|---|---|---|');
  console.log(`| Network A, batch 1, semi-honest (secureForward) | ${fmtMs(shMs)} ms | ${sh[0]!.rounds} | ${mb(sh[0]!.bytes)} MB | max abs err ${err(sh[0]!.y).toExponential(1)} |`);
  console.log(`| Network A, batch 1, malicious: client input, forward, MAC check, output | ${fmtMs(malMs)} ms (${(malMs / shMs).toFixed(0)}x) | ${mal[0]!.rounds} | ${mb(mal[0]!.bytes)} MB (${(mal[0]!.bytes / sh[0]!.bytes).toFixed(1)}x) | max abs err ${err(mal[0]!.y).toExponential(1)} |`);
  console.log(`| Network A, malicious session set-up (coins, weight copy check and MACs) | ${fmtMs(setMs)} ms | | | input-independent |`);
  if (withBinary) {
    const binMs = median(bin.map((r) => r.inferMs));
    console.log(`| Network A, batch 1, malicious with comparisons: 'binary': client input, forward, MAC check, output | ${fmtMs(binMs)} ms (${(binMs / shMs).toFixed(0)}x) | ${bin[0]!.rounds} | ${mb(bin[0]!.bytes)} MB (${(bin[0]!.bytes / sh[0]!.bytes).toFixed(1)}x) | max abs err ${err(bin[0]!.y).toExponential(1)} |`);
  }
  console.log(`| seed CNN MaxPool 150x125x1, batch 1, malicious forward: declared cost (malForwardCost), not run | | ${cnn.rounds} | ${mb(cnn.bytes)} MB | semi-honest: 45 rounds, 42.6 MB (bench:protocol) |`);
  if (withBinary) {
    const cnnBin = malForwardCost(seedCnn(), 1, F, { comparisons: 'binary' });
    console.log(`| seed CNN, malicious forward with comparisons: 'binary' (ReLU and MaxPool): declared cost, not run | | ${cnnBin.rounds} | ${mb(cnnBin.bytes)} MB | |`);
  }
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
