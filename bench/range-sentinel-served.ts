/**
 * What the run-time range sentinel costs when the parties serve it
 * (parties/range-sentinel.ts): two deployments of the same model up at once
 * (three party processes each, mTLS, launchLocal), config rangeSentinel 'off'
 * and 'on', measured alternately so that load on the shared machine falls on
 * both alike.
 *   1. latency: one client, `reps` predictions per deployment, alternating;
 *      P0's run record of each (operator view): bytes P0 sent, rounds, ms.
 *   2. throughput: `clients` concurrent clients, `per` predictions each, on
 *      one deployment then the other (twice, alternating): with the sentinel
 *      a run carries one client session, so the parties cannot batch them.
 *
 *   npx tsx bench/range-sentinel-served.ts [reps = 6] [clients = 4] [per = 3]
 *
 * Model: the seed pneumonia CNN (random weights, protocol/seed-models.ts,
 * f = 13), a tensor input in [0, 1] (in range: s = 0, every answer given).
 */
import '../runtime/install.js';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { launchLocal, type Launched } from '../parties/launch.js';
import { sizeOf } from '../protocol/layers/types.js';
import { seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';

const reps = Number(process.argv[2] ?? 6), clients = Number(process.argv[3] ?? 4), per = Number(process.argv[4] ?? 3);
const ir = seedCnn();
const n = sizeOf(ir.inputShape);
const input = (seed: number) => ({ data: uniform(seededPrg(seed), n, 0.5).map((v) => v + 0.5), shape: [...ir.inputShape] });
const med = (a: number[]) => { const s = [...a].sort((p, q) => p - q); return s[Math.floor(s.length / 2)]!; };

interface RunStats { ms: number; bytesSent: number; rounds: number; images: number; layers?: { name: string; ms: number; bytesSent: number }[] }
/** The run's record at the three parties (operator view): P0's ms and images, bytes summed, rounds the deepest party's; the sentinel step's bytes summed. */
async function runOf(l: Launched, id: string): Promise<RunStats & { sentinelBytes: number }> {
  const rs = await Promise.all(l.urls.map(async (u) => ((await (await fetch(`${u}/v1/sessions/${id}/run`, { headers: { authorization: `Bearer ${l.token}` } })).json()) as { run: RunStats }).run));
  const step = (r: RunStats) => r.layers?.find((x) => x.name === 'rangeSentinel')?.bytesSent ?? 0;
  return { ...rs[0]!, bytesSent: rs.reduce((a, r) => a + r.bytesSent, 0), rounds: Math.max(...rs.map((r) => r.rounds)), sentinelBytes: rs.reduce((a, r) => a + step(r), 0) };
}

const deps: Record<'off' | 'on', Launched> = {} as never;
try {
  for (const s of ['off', 'on'] as const) deps[s] = await launchLocal({ plain: ir, fracBits: 13, rangeSentinel: s, logLevel: 'warn', batch: { windowMs: 20 } });
  const client = (s: 'off' | 'on') => new PrivateInferenceClient({ parties: deps[s].urls, token: deps[s].token, timeoutMs: 120_000, expectedModelHash: deps[s].modelHash });
  const c = { off: client('off'), on: client('on') };
  // Warm-up: a few predictions each (V8, kept weight masks, preprocessed bundles).
  for (let i = 0; i < 3; i++) for (const s of ['off', 'on'] as const) await c[s].predict(input(i));
  const lat: Record<'off' | 'on', (RunStats & { sentinelBytes: number })[]> = { off: [], on: [] };
  const wall: Record<'off' | 'on', number[]> = { off: [], on: [] };
  for (let i = 0; i < reps; i++) {
    for (const s of ['off', 'on'] as const) {
      const t0 = performance.now();
      const r = await c[s].predict(input(100 + i));
      wall[s].push(performance.now() - t0);
      lat[s].push(await runOf(deps[s], r.sessionId));
    }
  }
  for (const s of ['off', 'on'] as const) {
    const st = lat[s].at(-1)!;
    const step = st.layers?.find((l) => l.name === 'rangeSentinel');
    console.log(`latency ${s}: predict median ${med(wall[s]).toFixed(0)} ms (${wall[s].map((v) => v.toFixed(0)).join(', ')}); P0's run median ${med(lat[s].map((x) => x.ms)).toFixed(0)} ms, the parties sent ${st.bytesSent} B, ${st.rounds} rounds${step ? `; sentinel step: P0 ${step.ms.toFixed(1)} ms, the parties ${st.sentinelBytes} B (with preprocessing on, P2's dealt bytes partly come from a bundle)` : ''}`);
  }
  const ratios = wall.off.map((v, i) => wall.on[i]! / v);
  console.log(`latency ratio on/off per pair: median x${med(ratios).toFixed(3)} (${ratios.map((q) => q.toFixed(2)).join(', ')})`);
  // Throughput: clients x per predictions, all clients at once.
  const tput: Record<'off' | 'on', number[]> = { off: [], on: [] };
  const runs: Record<'off' | 'on', number[]> = { off: [], on: [] };  // mean images per run
  for (let round = 0; round < 2; round++) {
    for (const s of round === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const ids: string[] = [];
      const t0 = performance.now();
      await Promise.all(Array.from({ length: clients }, async (_, k) => {
        const ck = client(s);
        for (let j = 0; j < per; j++) ids.push((await ck.predict(input(1000 + 10 * k + j))).sessionId);
      }));
      const ms = performance.now() - t0;
      tput[s].push((clients * per) / (ms / 1000));
      const st = await Promise.all(ids.map((id) => runOf(deps[s], id)));
      runs[s].push(st.reduce((a, x) => a + x.images, 0) / st.length);
      console.log(`throughput ${s} (round ${round}): ${clients} clients x ${per}: ${ms.toFixed(0)} ms, ${tput[s].at(-1)!.toFixed(2)} predictions/s, ${runs[s].at(-1)!.toFixed(2)} images per run (mean over sessions)`);
    }
  }
  console.log(`throughput ratio on/off: x${(med(tput.on) / med(tput.off)).toFixed(3)} (rounds: ${tput.on.map((v, i) => (v / tput.off[i]!).toFixed(2)).join(', ')})`);
} finally {
  await Promise.all(Object.values(deps).map((d) => d.stop()));
}
