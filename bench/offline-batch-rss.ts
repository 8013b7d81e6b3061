/**
 * `npx tsx bench/offline-batch-rss.ts [--side S (16)] [--every B,... (default,4194304)]`:
 * the peak RSS of one malicious offline batch (protocol/malicious/mask-pool.ts
 * offlineBatch, one inference's masks) of a small CNN in the seed CNN's
 * pattern on an S x S x 1 input: Conv2D(8, 3, s1, same, relu) -
 * MaxPool(2, 1) - Conv2D(8, 3, s2, valid, relu) - MaxPool(2, 1) - Flatten -
 * Dense(2) (the seed CNN itself takes minutes per batch on this machine),
 * with the batch's interim MAC checks at
 * each `checkEveryBytes` given ('default': MAL_CHECK_EVERY_BYTES, 1 GiB, above
 * this plan's bytes, so no interim check: the batch as before them).
 *
 * The three parties run in one process (runMal3, in-memory transport), so the
 * RSS is the three parties' together. Each setting runs in a fresh child
 * process that only makes the batch (the plan, recorded once by the parent
 * on one forward pass, is passed as JSON), and reports its own maxRSS
 * (process.resourceUsage, kB) and its RSS before the batch; the parent prints
 * one line per setting. Counters of each batch are checked against
 * offlineBatchCost with that setting.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { sizeOf } from '../protocol/layers/types.js';
import { inputM } from '../protocol/malicious/input.js';
import { materialBytes, offlineBatch, offlineBatchCost, offlineChecks } from '../protocol/malicious/mask-pool.js';
import { MaskRecorder, type MaskRequest } from '../protocol/malicious/mask-source.js';
import { liftSigned } from '../protocol/malicious/ring128.js';
import { malForward } from '../protocol/malicious/runner.js';
import { createMalSession } from '../protocol/malicious/session.js';
import { prepareWeights, shareModelReplicated } from '../protocol/malicious/weights.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { runMal3, values } from '../protocol/testing/cheat.js';

const F = 13;
const arg = (k: string): string | undefined => { const i = process.argv.indexOf(k); return i >= 0 ? process.argv[i + 1] : undefined; };

function smallCnn(side: number): ModelIR<FloatTensor> {
  const g = seededPrg(1);
  const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
  const h2 = Math.floor((side - 1 - 3) / 2) + 1, flat = (h2 - 1) * (h2 - 1) * 8;
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [side, side, 1], output: 'd', outputActivation: 'linear',
    nodes: [
      { kind: 'conv2d', name: 'c1', inputs: ['input'], filters: 8, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', kernel: t([3, 3, 1, 8], 0.5), bias: t([8], 0.1) },
      { kind: 'maxpool2d', name: 'p1', inputs: ['c1'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
      { kind: 'conv2d', name: 'c2', inputs: ['p1'], filters: 8, kernelSize: [3, 3], strides: [2, 2], padding: 'valid', activation: 'relu', kernel: t([3, 3, 8, 8], 0.2), bias: t([8], 0.1) },
      { kind: 'maxpool2d', name: 'p2', inputs: ['c2'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
      { kind: 'flatten', name: 'f', inputs: ['p2'] },
      { kind: 'dense', name: 'd', inputs: ['f'], units: 2, activation: 'linear', kernel: t([flat, 2], 0.1), bias: t([2], 0.1) },
    ],
  } as ModelIR<FloatTensor>;
}

async function child(planFile: string, every: string): Promise<void> {
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as MaskRequest[];
  const opts = every === 'default' ? {} : { checkEveryBytes: Number(every) };
  const rssBefore = process.memoryUsage().rss;
  const t0 = Date.now();
  const r = await runMal3((s) => offlineBatch(s, plan, 1, 'rss', opts), { watchdogMs: 1_200_000 });
  const ms = Date.now() - t0;
  const want = offlineBatchCost(plan, 1, opts);
  if (r.bytes !== want.bytes || r.rounds !== want.rounds) throw new Error(`counters ${r.bytes} B / ${r.rounds} rounds, declared ${want.bytes} / ${want.rounds}`);
  const entries = values(r);
  process.stdout.write(JSON.stringify({ every, checks: offlineChecks(plan, 1, opts).size, bytes: r.bytes, rounds: r.rounds, ms, entryBytes: materialBytes(entries[0][0]), rssBeforeKiB: Math.round(rssBefore / 1024), maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
}

async function parent(): Promise<void> {
  const side = Number(arg('--side') ?? 16);
  const everys = (arg('--every') ?? `default,${4 * 2 ** 20}`).split(',');
  const model = smallCnn(side);
  const parts = shareModelReplicated(model, F);
  const x = uniform(seededPrg(11), sizeOf(model.inputShape), 0.5);
  const recs = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
  values(await runMal3(async (s) => {
    const w = await prepareWeights(s, parts[s.party]);
    const xin = await inputM(s, 0, s.party === 0 ? liftSigned(encode(x, F)) : null, x.length);
    return malForward(s, w, { shape: [1, ...model.inputShape], data: xin });
  }, { create: async (ctx) => createMalSession(ctx, { masks: recs[ctx.party]! }), watchdogMs: 1_200_000 }));
  const planFile = path.join(tmpdir(), `offline-plan-${process.pid}.json`);
  writeFileSync(planFile, JSON.stringify(recs[0]!.plan));
  console.log(`# small CNN on ${side}x${side}x1, one inference's masks: ${recs[0]!.plan.length} requests; CPU ${cpus()[0]?.model} x${cpus().length}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const every of everys) {
    const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, '--child', planFile, every], { encoding: 'utf8', maxBuffer: 1 << 20 });
    console.log(out.trim());
  }
}

if (process.argv.includes('--child')) await child(arg('--child')!, process.argv[process.argv.indexOf('--child') + 2]!);
else await parent();
