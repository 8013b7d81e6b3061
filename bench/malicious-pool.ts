/**
 * The malicious mode's online session with a warm mask pool, three parties in
 * one process on the in-memory transport: `npx tsx bench/malicious-pool.ts
 * [--reps N]`. Network A, batch 1, f = 13, for the arithmetic and the binary
 * comparisons (interleaved): one epoch (epoch.ts), the plan recorded on a
 * first session (MaskRecorder), then per timed rep an offline batch of one
 * inference (untimed) and a session that takes its entry: the client's
 * masked input, inputFromClient, malForward, outputToClient (its MAC check)
 * and the client's reconstruction, timed. Prints the medians, the online
 * bytes and rounds, and the pool entry's memory at P0 (materialBytes).
 * The in-memory transport makes a round nearly free, so this shows the
 * online CPU of the three parties together, not the served latency
 * (bench/served-malicious.ts).
 */
import '../runtime/install.js';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { dealSeeds } from '../protocol/correlated/prg.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { inputFromClient, inputMask, outputToClient } from '../protocol/malicious/client-io.js';
import { deriveSeeds, setupEpoch } from '../protocol/malicious/epoch.js';
import { offlineBatch, materialBytes } from '../protocol/malicious/mask-pool.js';
import { MaskRecorder, type MaskSource } from '../protocol/malicious/mask-source.js';
import type { MalComparisons } from '../protocol/malicious/primitives.js';
import { malForward } from '../protocol/malicious/runner.js';
import { createMalSession } from '../protocol/malicious/session.js';
import { shareModelReplicated } from '../protocol/malicious/weights.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { runMal3, values } from '../protocol/testing/cheat.js';
import type { PartyId } from '../protocol/ring/types.js';

const F = 13;
const at = process.argv.indexOf('--reps');
const REPS = at > 0 ? Number(process.argv[at + 1]) : 30;
const model = networkA();
const x = uniform(seededPrg(5), 784, 0.5).map((v) => v + 0.5);
const parts = shareModelReplicated(model, F);
const median = (v: number[]): number => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

async function setup(comparisons: MalComparisons) {
  const dealt = dealSeeds();
  const eps = values(await runMal3(async (s) => ({ pair: dealt[s.party].pair, alpha: s.alpha, weights: await setupEpoch(s, parts[s.party]) }),
    { seeds: (p) => deriveSeeds(dealt[p].pair, 'epoch', randomBytes(16)) }));
  let k = 0;
  const session = async (source?: (p: PartyId) => MaskSource | undefined) => {
    const masks: Uint8Array[] = [];
    let give!: (d: Uint8Array) => void;
    const d = new Promise<Uint8Array>((res) => { give = res; });
    const label = `s${k++}`;
    const t0 = performance.now();
    const r = await runMal3(async (s) => {
      const { r: rm, forClient } = await inputMask(s, 784);
      masks[s.party] = forClient;
      if ([0, 1, 2].every((i) => masks[i])) give(maskedInput(encode(x, F), masks as [Uint8Array, Uint8Array, Uint8Array]));
      const xi = await inputFromClient(s, rm, await d);
      const y = await malForward(s, eps[s.party].weights, { shape: [1, 784], data: xi }, { comparisons });
      return outputToClient(s, y.data);
    }, {
      seeds: (p) => deriveSeeds(eps[p].pair, label, randomBytes(16)),
      create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha, masks: source?.(ctx.party) }),
    });
    const y = decode(reconstructOutput(values(r), 10), F);
    return { ms: performance.now() - t0, bytes: r.bytes, rounds: r.rounds, y };
  };
  const recs = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
  await session((p) => recs[p]);
  const entry = async () => {
    const b = k++;
    return values(await runMal3((s) => offlineBatch(s, recs[0]!.plan, 1, `b${b}`), {
    seeds: (p) => deriveSeeds(eps[p].pair, `offline:${b}`, randomBytes(16)),
    create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha }),
  })).map((es) => es[0]!);
  };
  return { session, entry };
}

const rows: Record<MalComparisons, { ms: number[]; bytes: number; rounds: number; entryBytes: number }> = {
  arithmetic: { ms: [], bytes: 0, rounds: 0, entryBytes: 0 }, binary: { ms: [], bytes: 0, rounds: 0, entryBytes: 0 },
};
const runs = { arithmetic: await setup('arithmetic'), binary: await setup('binary') };
const t0 = new Date();
for (let i = 0; i <= REPS; i++) {
  for (const c of (i % 2 ? ['binary', 'arithmetic'] : ['arithmetic', 'binary']) as MalComparisons[]) {
    const e = await runs[c].entry();
    const held = materialBytes(e[0]);
    const r = await runs[c].session((p) => e[p]);
    if (i === 0) continue; // warm-up
    rows[c].ms.push(r.ms);
    rows[c].bytes = r.bytes;
    rows[c].rounds = r.rounds;
    rows[c].entryBytes = held;
  }
}
console.log(`${cpus()[0]?.model} x ${cpus().length}; ${t0.toISOString().slice(11, 16)}-${new Date().toISOString().slice(11, 16)} UTC; load ${loadavg().map((v) => v.toFixed(2)).join(' ')}; ${REPS} reps after 1 warm-up, alternating`);
console.log('| Network A, warm pool, one process | online median ms | bytes (3 parties) | rounds | pool entry at P0 (bytes) |');
console.log('|---|---|---|---|---|');
for (const c of ['arithmetic', 'binary'] as MalComparisons[]) {
  const r = rows[c];
  console.log(`| ${c} | ${median(r.ms).toFixed(1)} | ${r.bytes} | ${r.rounds} | ${r.entryBytes} |`);
}
