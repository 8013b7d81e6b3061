/**
 * Smoke test of `npm run bench` (bench/run.ts) on the smallest model: three
 * real party processes with mTLS, and the in-memory transport. --no-write:
 * nothing is written to BENCHMARKS.md or bench/results/.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function bench(args: string[]): { out: string; err: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args, '--no-write'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

describe('npm run bench (Network A, 2 reps)', () => {
  it.each(['grpc', 'memory'])('transport %s: summary rows for batch 1 and 2, per-layer tables, no failures', (transport) => {
    const { out, err, status } = bench(['--model', 'networkA', '--batch', '1,2', '--reps', '2', '--warmup', '1', '--warmup-s', '0', '--transport', transport, '--no-cold-start']);
    expect(status, err.slice(-2000)).toBe(0);
    expect(out).toContain(`Command: \`npm run bench -- --model networkA --batch 1,2 --reps 2 --warmup 1 --warmup-s 0 --transport ${transport} --no-cold-start --no-write\``);
    expect(out).toMatch(/`nproc` = \d+, CPU /);
    for (const b of [1, 2]) {
      expect(out).toMatch(new RegExp(`\\| MNIST Network A \\(784-128-128-10\\) \\| ${b} \\| 1\\+2 \\| [\\d.]+ ms \\| [\\d.]+ ms \\|`));
      expect(out).toContain(`#### MNIST Network A (784-128-128-10), batch ${b}`);
    }
    expect(out).not.toContain('failed:');
    expect(out).toMatch(/\| dense_0 \| dense \| [\d.]+ ms \| \d+% \|/);
    // Max error vs plainForward at f = 16 stays small.
    const errs = [...out.matchAll(/\| (\d\.\de-\d+) \(\d\.\de-\d+\) \|/g)].map((m) => Number(m[1]));
    expect(errs).toHaveLength(2);
    for (const e of errs) expect(e).toBeLessThan(1e-2);
    // Under 200 warm-ups there is no warm-up curve.
    expect(out).not.toContain('Warm-up of');
  }, 90_000);

  it('--light-warmup 250: Network A warms up 250 runs, and the section gives the medians of its first two hundreds', () => {
    const { out, err, status } = bench(['--model', 'networkA', '--batch', '1', '--reps', '2', '--light-warmup', '250', '--warmup-s', '0', '--transport', 'memory']);
    expect(status, err.slice(-2000)).toBe(0);
    expect(out).toMatch(/\| MNIST Network A \(784-128-128-10\) \| 1 \| 250\+2 \|/);
    const curve = /Warm-up of MNIST Network A \(784-128-128-10\), batch 1 \(median latency of each 100 warm-up runs of the case, in order; batch 1 is the first case after the parties start\): ([^\n]*)\./.exec(out);
    expect(curve, out.slice(0, 3000)).not.toBeNull();
    const ms = curve![1]!.split(', ').map((v) => Number(v.replace(/ ms$/, '')));
    expect(ms).toHaveLength(2);
    for (const v of ms) expect(v).toBeGreaterThan(0);
    expect(err).toMatch(/networkA b1: warm-up curve \(median of each 100 runs\) [\d.]+, [\d.]+ ms/);
  }, 90_000);

  it('--kernels cpu,cpu --json FILE: one case per kernel set with the parties\' config kernels in the label, JSON written with --no-write; bad --kernels refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-json-'));
    try {
      const file = path.join(dir, 'run.json');
      const { err, status } = bench(['--model', 'networkA', '--batch', '1', '--reps', '1', '--light-warmup', '1', '--warmup-s', '0', '--no-cold-start', '--kernels', 'cpu,cpu', '--json', file]);
      expect(status, err.slice(-2000)).toBe(0);
      const { meta, cases } = JSON.parse(readFileSync(file, 'utf8')) as { meta: { kernels: string }; cases: { label: string; reps: number; error?: string }[] };
      expect(meta.kernels).toMatch(/^parties cpu then cpu \(config kernels\)/);
      expect(cases.map((c) => c.label)).toEqual(Array(2).fill("MNIST Network A (784-128-128-10) [parties' kernels: cpu]"));
      for (const c of cases) { expect(c.error).toBeUndefined(); expect(c.reps).toBe(1); }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const args of [['--kernels', 'gpu'], ['--kernels', 'cpu', '--transport', 'memory']]) {
      const r = bench(['--model', 'networkA', ...args]);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.err, args.join(' ')).toMatch(/--kernels: a list of cpu and cuda, with --transport grpc/);
    }
  }, 90_000);
});
