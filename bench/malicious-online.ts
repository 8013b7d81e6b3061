/**
 * The malicious mode's online path with a warm mask pool, against the
 * semi-honest forward pass, three parties in one process on the in-memory
 * transport: `npx tsx bench/malicious-online.ts [--reps N] [--f F] [--only mal|sh] [--steps]`.
 *
 *  - set-up (not timed): an epoch (setupEpoch: key, the weights' copy check
 *    and MACs, a MAC check), one recorded inference (MaskRecorder: the plan),
 *    one offline batch of reps + 1 inferences' masks (offlineBatch; its time
 *    and bytes are printed apart);
 *  - timed, alternating: the semi-honest secureForward of Network A (32-bit
 *    comparisons, local truncation: bench/protocol.ts's row) and one
 *    malicious session of the epoch with a pool entry as its mask source:
 *    the session set-up, inputFromClient (the client's d from the SDK's
 *    maskedInput), malForward, outputToClient (the MAC check), the SDK's
 *    reconstructOutput: what a patient waits for once the masks are made.
 *
 * `--cpu-profile FILE` writes a CPU profile of the timed runs only (node:inspector).
 * `--steps` prints P0's bytes and rounds per counted step of one malicious
 * run. `--only mal` times only the malicious runs (for `node --cpu-prof`).
 * `--model cnn-maxpool` runs the seed CNN (150x125x1) instead of Network A;
 * `--comparisons binary` the binary domain's ReLU and MaxPool (as config
 * malicious.comparisons 'binary'). `--layers` prints, per step of the
 * malicious session (input, each layer, the output's MAC check), the wall ms
 * from P0's view, median over the timed runs (the three parties run in one
 * process, so a step's time is the three parties' CPU for it).
 * Prints a markdown table with the CPU name and the load average.
 */
import '../runtime/install.js';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dealSeeds, type PartySeeds } from '../protocol/correlated/prg.js';
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
import { deriveSeeds, setupEpoch } from '../protocol/malicious/epoch.js';
import { MaskRecorder, type MaskEntry } from '../protocol/malicious/mask-source.js';
import { offlineBatch } from '../protocol/malicious/mask-pool.js';
import { malForward } from '../protocol/malicious/runner.js';
import { createMalSession } from '../protocol/malicious/session.js';
import { shareModelReplicated } from '../protocol/malicious/weights.js';
import type { Rep } from '../protocol/malicious/rep.js';
import type { MTensor } from '../protocol/malicious/tensor.js';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';

const opt = (name: string, dflt: string): string => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1]! : dflt; };
const reps = Number(opt('--reps', '7'));
const F = Number(opt('--f', '13'));
const only = opt('--only', 'both');
const showSteps = process.argv.includes('--steps');
const showLayers = process.argv.includes('--layers');
const modelName = opt('--model', 'networkA');
const comparisons = opt('--comparisons', 'arithmetic') as 'arithmetic' | 'binary';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Process CPU time (user + system) since c0, in ms: the three parties are this process, so it leaves out the time spent waiting for a core on a loaded machine. */
const cpuMs = (c0: NodeJS.CpuUsage): number => { const d = process.cpuUsage(c0); return (d.user + d.system) / 1000; };
type Three = [Uint8Array, Uint8Array, Uint8Array];
interface Ep { pair: PartySeeds['pair']; alpha: Rep; weights: ModelIR<MTensor> }

async function semiHonest(model: ModelIR<FloatTensor>, parts: ReturnType<typeof shareModel>, x: Float64Array) {
  const k = getKernels();
  const xs = shareFor3(encode(x, F));
  const t = performance.now(), c0 = process.cpuUsage();
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...model.inputShape], data: xs[ctx.party] }), { fracBits: F, compareBits: 32 });
  const ms = performance.now() - t, cpu = cpuMs(c0);
  return { ms, cpu, rounds: r.rounds, bytes: r.bytes, y: decode(reconstruct(k, r.results[0].data, r.results[1].data), F) };
}

/** One malicious client session of the epoch, masks from `source(p)` (a recorder or a pool entry). */
async function session(model: ModelIR<FloatTensor>, eps: [Ep, Ep, Ep], x: Float64Array, label: string, source?: (p: number) => MaskRecorder | MaskEntry) {
  const n = x.length, outN = sizeOf(plainForward(model, x, 1).shape.slice(1));
  let masksFor!: (m: Three) => void;
  const masks: Uint8Array[] = [];
  const d = new Promise<Uint8Array>((res) => { masksFor = (m) => res(maskedInput(encode(x, F), m)); });
  const t = performance.now(), c0 = process.cpuUsage();
  // [step, wall ms, start and end on CLOCK_MONOTONIC in µs: cpuprof-summary.ts --window for one step of a --cpu-profile]
  const layers: [string, number, number, number][] = [];
  const us = (): number => Number(process.hrtime.bigint() / 1000n);
  let tl = t, ul = us();
  const lap = (name: string): void => { const now = performance.now(), u = us(); layers.push([name, now - tl, ul, u]); tl = now; ul = u; };
  const r = await runMal3(async (s) => {
    const { r: rm, forClient } = await inputMask(s, n);
    masks[s.party] = forClient;
    if ([0, 1, 2].every((i) => masks[i])) masksFor(masks as Three);
    const xin = await inputFromClient(s, rm, await d);
    if (s.party === 0) lap('session set-up, input');
    const y = await malForward(s, eps[s.party].weights, { shape: [1, ...model.inputShape], data: xin }, { comparisons, ...(s.party === 0 ? { onNode: (name: string) => lap(name) } : {}) });
    const out = await outputToClient(s, y.data);
    if (s.party === 0) lap('output: MAC check (and the AND verification)');
    return out;
  }, {
    seeds: (p) => deriveSeeds(eps[p].pair, label, randomBytes(16)),
    create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha, masks: source?.(ctx.party) }),
    watchdogMs: 600_000,
  });
  const y = decode(reconstructOutput(values(r) as Three, outN), F);
  return { ms: performance.now() - t, cpu: cpuMs(c0), rounds: r.rounds, bytes: r.bytes, y, steps: r.transports[0].steps, layers };
}

async function main(): Promise<void> {
  const model = modelName === 'cnn-maxpool' ? seedCnn('maxpool2d') : networkA();
  const x = uniform(seededPrg(11), sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);
  const want = plainForward(model, x, 1).data;
  const rparts = shareModelReplicated(model, F), sparts = shareModel(getKernels(), model, F);
  const load0 = loadavg()[0]!;
  // Epoch.
  const dealt = dealSeeds();
  const eps = values(await runMal3(async (s) => ({ pair: dealt[s.party].pair, alpha: s.alpha, weights: await setupEpoch(s, rparts[s.party]) }),
    { seeds: (p) => deriveSeeds(dealt[p].pair, 'epoch', randomBytes(16)), watchdogMs: 600_000 })) as [Ep, Ep, Ep];
  // The plan, then one offline batch of reps + 1 inferences.
  const recs = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
  await session(model, eps, x, 'rec', (p) => recs[p]!);
  const count = reps + 1;
  const tb = performance.now();
  const b = await runMal3((s) => offlineBatch(s, recs[0]!.plan, count, 'b0'), {
    seeds: (p) => deriveSeeds(eps[p].pair, 'offline:b0', randomBytes(16)),
    create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha }),
    watchdogMs: 600_000,
  });
  const offMs = (performance.now() - tb) / count;
  const entries = values(b);
  const sh: Awaited<ReturnType<typeof semiHonest>>[] = [], mal: Awaited<ReturnType<typeof session>>[] = [];
  if (only !== 'mal') await semiHonest(model, sparts, x);
  await session(model, eps, x, 'warm', (p) => entries[p]![0]!);
  const prof = opt('--cpu-profile', '');
  const inspector = prof ? new Session() : undefined;
  if (inspector) { inspector.connect(); await inspector.post('Profiler.enable'); await inspector.post('Profiler.start'); }
  for (let i = 0; i < reps; i++) {
    if (only !== 'mal') sh.push(await semiHonest(model, sparts, x));
    if (only !== 'sh') mal.push(await session(model, eps, x, `s${i}`, (p) => entries[p]![i + 1]!));
  }
  if (inspector) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(prof, JSON.stringify(profile));
    inspector.disconnect();
  }
  const err = (y: Float64Array): number => Math.max(...Array.from(y, (v, i) => Math.abs(v - want[i]!)));
  const mb = (v: number): string => (v / 2 ** 20).toFixed(3);
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}; load average ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}; ${reps} alternating runs after one warm-up each; f = ${F}, 32-bit comparisons\n`);
  console.log(`| ${modelName}, batch 1, in process, ${comparisons} comparisons | median wall ms | median CPU ms | runs (wall ms) | rounds | MB (3 parties) | max abs err |`);
  console.log('|---|---|---|---|---|---|---|');
  const row = (name: string, rs: { ms: number; cpu: number; rounds: number; bytes: number; y: Float64Array }[]): void => {
    if (rs.length) console.log(`| ${name} | ${median(rs.map((r) => r.ms)).toFixed(1)} | ${median(rs.map((r) => r.cpu)).toFixed(1)} | ${rs.map((r) => r.ms.toFixed(0)).join(', ')} | ${rs[0]!.rounds} | ${mb(rs[0]!.bytes)} | ${err(rs[0]!.y).toExponential(2)} |`);
  };
  row('semi-honest secureForward', sh);
  row('malicious online, warm pool (session set-up, input, forward, MAC check, output)', mal);
  if (sh.length && mal.length) console.log(`| malicious / semi-honest | ${(median(mal.map((r) => r.ms)) / median(sh.map((r) => r.ms))).toFixed(2)}x | ${(median(mal.map((r) => r.cpu)) / median(sh.map((r) => r.cpu))).toFixed(2)}x | | | | |`);
  console.log(`\nOffline batch (${count} inferences): ${offMs.toFixed(1)} ms and ${mb(b.bytes / count)} MB per inference, ${b.rounds} rounds for the batch`);
  if (showLayers && mal.length) {
    console.log('\nPer step of the malicious session, wall ms at P0 (median of the timed runs):\n\n| step | ms |\n|---|---|');
    mal[0]!.layers.forEach(([name], j) => console.log(`| ${name} | ${median(mal.map((m) => m.layers[j]![1])).toFixed(1)} |`));
    if (prof) console.log(`\nThe last run's steps on CLOCK_MONOTONIC (µs), for cpuprof-summary.ts --window: ${mal[mal.length - 1]!.layers.map(([name, , a, b]) => `${name} ${a}:${b}`).join('; ')}`);
  }
  if (showSteps && mal.length) {
    console.log('\nP0 per step (one malicious online run): step | calls | bytes sent | rounds');
    for (const [k, v] of mal[0]!.steps) console.log(`${k} | ${v.calls} | ${v.bytesSent} | ${v.rounds}`);
  }
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
