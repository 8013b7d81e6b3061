/**
 * The standalone GEMM equality driver (protocol/kernels/native/gemm-check.cc,
 * linking the addon's GEMM sources without Node) on this CPU, and on arm64
 * through scripts/check-arm64.sh (cross-compiler + qemu-user). Each is skipped,
 * with the reason in its title, when its tools are missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const native = path.join(root, 'protocol/kernels/native');
const has = (cmd: string): boolean => spawnSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const CXX = process.env.CXX ?? 'g++';
const hostSkip = has(CXX) ? '' : ` [skipped: no C++ compiler ${CXX}]`;
const armTools = has('aarch64-linux-gnu-g++') && (has('qemu-aarch64') || has('qemu-aarch64-static'));
const armSkip = armTools ? '' : ' [skipped: needs aarch64-linux-gnu-g++ and qemu-aarch64 (apt-get install g++-aarch64-linux-gnu qemu-user)]';

describe('GEMM equality driver (gemm-check.cc: every SIMD level x 1-3 threads = naive u64 reference, random and edge inputs)', () => {
  it.skipIf(!!hostSkip)(`passes on this CPU${hostSkip}`, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gemm-check-'));
    try {
      const exe = path.join(dir, 'gemm-check');
      const srcs = ['gemm-check.cc', 'gemm.cc', 'gemm-portable.cc', 'gemm-x86.cc', 'gemm-arm.cc'].map((f) => path.join(native, f));
      const build = spawnSync(CXX, ['-O2', '-std=c++17', '-pthread', ...srcs, '-o', exe], { encoding: 'utf8' });
      expect(build.status, build.stderr).toBe(0);
      const run = spawnSync(exe, [], { encoding: 'utf8' });
      expect(run.status, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/gemm-check: OK \(\d+ products on levels scalar\.\.\w+ equal the reference\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it.skipIf(!armTools)(`builds the addon sources for arm64 and passes there under qemu (scripts/check-arm64.sh)${armSkip}`, () => {
    const run = spawnSync('bash', [path.join(root, 'scripts/check-arm64.sh')], { encoding: 'utf8' });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('addon sources');
    expect(run.stdout).toMatch(/gemm-check: detected neon/);
    expect(run.stdout).toMatch(/gemm-check: OK \(\d+ products on levels scalar\.\.neon equal the reference\)/);
  }, 600_000);
});
