/**
 * What the send pool's linear scan costs at its worst (protocol/ring/send-pool.ts take(), ring/free-list.ts): a free
 * list full of 16 KiB buffers (the pool's smallest size) and a take of a size none fits (the whole list scanned,
 * then a new 40 KiB buffer), with the pool's count cap (SEND_POOL_MAX_BUFFERS, 512) and without it (8,192: the
 * 128 MiB byte cap alone, as before the cap), and an empty list as the baseline; rounds alternate the three.
 *   npx tsx bench/send-pool-scan.ts [--reps 2000] [--rounds 5]
 * Prints the CPU, the load and the median microseconds per take of each.
 */
import { cpus, loadavg } from 'node:os';
import { FreeList } from '../protocol/ring/free-list.js';
import { SEND_POOL_MAX_BUFFERS, SEND_POOL_MAX_BYTES, SEND_POOL_MIN_BYTES } from '../protocol/ring/send-pool.js';

const arg = (k: string, d: number): number => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const reps = arg('--reps', 2000), rounds = arg('--rounds', 5);
function filled(count: number, maxBuffers: number): FreeList {
  const l = new FreeList(SEND_POOL_MAX_BYTES, maxBuffers);
  for (let i = 0; i < count; i++) l.put(new ArrayBuffer(SEND_POOL_MIN_BYTES + 8 * (i % 7)));
  return l;
}
const most = SEND_POOL_MAX_BYTES / SEND_POOL_MIN_BYTES;
const arms = { empty: filled(0, SEND_POOL_MAX_BUFFERS), capped: filled(most, SEND_POOL_MAX_BUFFERS), uncapped: filled(most, Infinity) };
const times: Record<string, number[]> = { empty: [], capped: [], uncapped: [] };
for (let r = 0; r < rounds + 1; r++) {
  for (const [name, l] of Object.entries(arms)) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) if (l.take(40 * 1024) === null) new ArrayBuffer(40 * 1024);
    if (r > 0) times[name]!.push((1000 * (performance.now() - t)) / reps);
  }
}
const med = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1]!;
console.log(`${new Date().toISOString()} CPU ${cpus()[0]?.model ?? '?'} x ${cpus().length}, load ${loadavg()[0]!.toFixed(2)}, ${reps} takes x ${rounds} rounds (after 1)`);
for (const name of Object.keys(arms)) console.log(`${name}: ${arms[name as keyof typeof arms].count} free buffers, median ${med(times[name]!).toFixed(2)} us per take`);
