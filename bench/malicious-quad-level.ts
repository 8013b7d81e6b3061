/**
 * BitLT's radix-4 first level alone (bit-lt-quads.ts quadLevel), CPU time:
 * `npx tsx bench/malicious-quad-level.ts [--n 128] [--m 31] [--reps 300] [--label L]`.
 *
 * One party's local work (quadLevel sends nothing): random MACed shares of
 * the m bits and of the block products of n elements, random public bits c,
 * then quadLevel timed `reps` times in a row (after 50 untimed calls), on the
 * runtime's kernels. Reports the median and mean wall time per call and the
 * process CPU per call over the whole loop (user + system). It
 * calls only quadLevel(s, c, bits, w, m) and bitLtProducts(m), so the same
 * file runs on a checkout of s36-mal (the sums as mul128 + add128 per term)
 * and of this branch (blockComb128): BENCHMARKS.md "radix-4 level, CPU".
 */
import '../runtime/install.js';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { getKernels } from '../protocol/kernels/index.js';
import { bitLtProducts, quadLevel } from '../protocol/malicious/bit-lt-quads.js';
import type { MShare } from '../protocol/malicious/rep.js';
import type { MalSession } from '../protocol/malicious/session.js';
import type { Vec128 } from '../protocol/malicious/ring128.js';

const arg = (name: string, dflt: string): string => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1]! : dflt; };
const n = Number(arg('n', '128')), m = Number(arg('m', '31')), reps = Number(arg('reps', '300')), label = arg('label', '');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const vec = (k: number): Vec128 => new Uint32Array(randomBytes(16 * k).buffer) as Vec128;
const mshare = (k: number): MShare => ({ n: k, x: { a: vec(k), b: vec(k) }, m: { a: vec(k), b: vec(k) } });

const kernels = getKernels();
const s = { party: 0, alpha: { a: vec(1), b: vec(1) }, ctx: { kernels } } as unknown as MalSession;
const bits = mshare(m * n), w = mshare(bitLtProducts(m) * n);
const c = Uint8Array.from(randomBytes(m * n), (b) => b & 1);
for (let i = 0; i < 50; i++) quadLevel(s, c, bits, w, m);
const times: number[] = [];
const c0 = process.cpuUsage();
for (let i = 0; i < reps; i++) { const t = performance.now(); quadLevel(s, c, bits, w, m); times.push(performance.now() - t); }
const d = process.cpuUsage(c0), cpu = (d.user + d.system) / 1000 / reps;
const load = loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`${label ? label + ': ' : ''}quadLevel m = ${m}, n = ${n}: median ${(1000 * median(times)).toFixed(0)} us, mean ${(1000 * times.reduce((a, b) => a + b, 0) / reps).toFixed(0)} us per call, process CPU ${(1000 * cpu).toFixed(0)} us per call (${reps} calls after 50; ${cpus().length} x ${cpus()[0]?.model}, kernels ${kernels.name}, load ${load})`);
