/**
 * What the receive pool's linear scan costs (parties/recv-pool.ts take()): a pool full of 16 KiB buffers, and a take
 * of a size none fits (the whole list scanned, then a new 40 KiB buffer), with the pool's count cap (512 buffers) and
 * without it (16,384: the 256 MiB byte cap alone), and an empty pool as the baseline; rounds alternate the three.
 *   npx tsx bench/recv-pool-scan.ts [--reps 2000] [--rounds 5]
 * Prints the CPU, the load and the median microseconds per take of each.
 */
import { cpus, loadavg } from 'node:os';
import { RECV_POOL_MAX_BUFFERS, RecvPool } from '../parties/recv-pool.js';

const arg = (k: string, d: number): number => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const reps = arg('--reps', 2000), rounds = arg('--rounds', 5);
const KIB = 1024;
function filled(count: number, maxBuffers: number): RecvPool {
  const pool = new RecvPool(256 * 1024 * KIB, 16 * KIB, maxBuffers);
  for (let i = 0; i < count; i++) { const ab = new ArrayBuffer(16 * KIB + 8 * (i % 7)); const v = new Uint8Array(ab, 8); pool.lend(ab, v); pool.recycle(v); }
  return pool;
}
const arms = { empty: filled(0, RECV_POOL_MAX_BUFFERS), capped: filled(16384, RECV_POOL_MAX_BUFFERS), uncapped: filled(16384, Infinity) };
const times: Record<string, number[]> = { empty: [], capped: [], uncapped: [] };
for (let r = 0; r < rounds + 1; r++) {
  for (const [name, pool] of Object.entries(arms)) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) pool.take(40 * KIB);
    if (r > 0) times[name]!.push((1000 * (performance.now() - t)) / reps);
  }
}
const med = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1]!;
console.log(`CPU ${cpus()[0]?.model ?? '?'}, load ${loadavg()[0]!.toFixed(2)}, ${reps} takes x ${rounds} rounds (after 1)`);
for (const name of Object.keys(arms)) console.log(`${name}: ${(arms[name as keyof typeof arms].bytesFree / (16 * KIB)).toFixed(0)} free buffers (bytes / 16 KiB), median ${med(times[name]!).toFixed(1)} us per take`);
