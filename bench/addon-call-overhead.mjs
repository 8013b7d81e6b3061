#!/usr/bin/env node
/**
 * Per-call overhead of the native addon's argument checks, two builds A/B in
 * one process (alternating order, medians of 9 runs of 1e6 calls):
 *
 *   cp build/Release/securenn_kernels.node /tmp/old.node   # before a change
 *   node scripts/build-addon.mjs                            # after it
 *   node bench/addon-call-overhead.mjs /tmp/old.node build/Release/securenn_kernels.node
 *
 * The calls are tiny (8-element add, 2-element privateCompare32) so that the
 * checks, not the arithmetic, dominate. Results: BENCHMARKS.md.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

const [oldPath, newPath] = process.argv.slice(2);
if (!oldPath || !newPath) { console.error('usage: node bench/addon-call-overhead.mjs OLD.node NEW.node'); process.exit(2); }
const require = createRequire(import.meta.url);
const A = { old: require(path.resolve(oldPath)), new: require(path.resolve(newPath)) };
const a = new BigUint64Array(8).fill(3n), b = new BigUint64Array(8).fill(5n), o = new BigUint64Array(8);
const n = 2;
const xb = new Uint8Array(32 * n), r = new BigUint64Array(n), beta = new Uint8Array(n), s = new Uint8Array(32 * n), rot = new Uint8Array(n), mask = new Uint8Array(32 * n), d = new Uint8Array(32 * n);
const ops = { add: (k) => k.add(a, b, o), privateCompare32: (k) => k.privateCompare32(0, xb, r, beta, s, rot, mask, d) };
function time(k, f) { const t = process.hrtime.bigint(); for (let i = 0; i < 1e6; i++) f(k); return Number(process.hrtime.bigint() - t) / 1e6; }
const res = { old: {}, new: {} };
for (let rep = 0; rep < 9; rep++) for (const name of rep % 2 ? ['old', 'new'] : ['new', 'old']) for (const [op, f] of Object.entries(ops)) (res[name][op] ??= []).push(time(A[name], f));
const med = (xs) => [...xs].sort((x, y) => x - y)[4];
for (const op of Object.keys(ops)) console.log(`${op}: 1e6 calls, median of 9: old ${med(res.old[op]).toFixed(0)} ms, new ${med(res.new[op]).toFixed(0)} ms, new/old ${(med(res.new[op]) / med(res.old[op])).toFixed(2)}`);
