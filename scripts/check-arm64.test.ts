/**
 * The standalone GEMM equality driver (protocol/kernels/native/gemm-check.cc,
 * linking the addon's GEMM sources without Node) on this CPU, and on arm64
 * through scripts/check-arm64.sh (cross-compiler + qemu-user). Each is skipped,
 * with the reason in its title, when its tools are missing.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, type ExpectStatic } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const native = path.join(root, 'protocol/kernels/native');
const has = (cmd: string): boolean => spawnSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const CXX = process.env.CXX ?? 'g++';
const hostSkip = has(CXX) ? '' : ` [skipped: no C++ compiler ${CXX}]`;
const SAN = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];
/** Non-empty when the compiler cannot build with the sanitizers (the host test then runs without them). */
const noSanitizers = hostSkip ||
  (spawnSync(CXX, [...SAN, '-x', 'c++', '-', '-o', '/dev/null'], { input: 'int main() { return 0; }\n' }).status === 0 ? '' : `${CXX} cannot build with ${SAN[0]}`);

/** A child process's exit status and output, without blocking the event loop (the two tests below run at once). */
function run(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** Builds gemm-check.cc with the addon's GEMM sources and runs it; returns its stdout. */
async function buildAndRun(flags: string[], expect: ExpectStatic): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gemm-check-'));
  try {
    const exe = path.join(dir, 'gemm-check');
    const srcs = ['gemm-check.cc', 'gemm.cc', 'gemm-portable.cc', 'gemm-x86.cc', 'gemm-arm.cc', 'ring128.cc'].map((f) => path.join(native, f));
    const build = await run(CXX, [...flags, '-std=c++17', '-pthread', ...srcs, '-o', exe]);
    expect(build.status, build.stderr).toBe(0);
    const r = await run(exe, []);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/runtime error|AddressSanitizer/);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const armTools = has('aarch64-linux-gnu-g++') && (has('qemu-aarch64') || has('qemu-aarch64-static'));
const armSkip = armTools ? '' : ' [skipped: needs aarch64-linux-gnu-g++ and qemu-aarch64 (apt-get install g++-aarch64-linux-gnu qemu-user)]';

// The two builds are independent (a host build under the sanitizers, a cross build run under qemu): they run at once,
// each on one core of a 2-core machine, instead of one after the other.
describe.concurrent('GEMM equality driver (gemm-check.cc: every SIMD level x 1-3 threads = naive u64 reference, random and edge inputs)', () => {
  // The addon itself (-O3) is checked by protocol/kernels/kernels.test.ts; here the
  // driver's wider shapes run under the sanitizers when the compiler has them.
  it.skipIf(!!hostSkip)(`passes on this CPU${noSanitizers ? ' (-O2; no sanitizers)' : ' under AddressSanitizer and UBSan (packing, panel sizes, tile edges)'}${hostSkip}`, async ({ expect }) => {
    const out = await buildAndRun(noSanitizers ? ['-O2'] : ['-O1', ...SAN], expect);
    expect(out).toMatch(/gemm-check: OK \(\d+ products on levels scalar\.\.\w+ equal the reference\)/);
    expect(out).toMatch(/gemm-check: Z_2\^128 OK \(\d+ products on levels scalar\.\.\w+ equal the reference\)/);
  }, 300_000);

  it.skipIf(!armTools)(`builds the addon sources for arm64 and passes there under qemu (scripts/check-arm64.sh)${armSkip}`, async ({ expect }) => {
    const r = await run('bash', [path.join(root, 'scripts/check-arm64.sh')]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('addon sources');
    expect(r.stdout).toMatch(/gemm-check: detected neon/);
    expect(r.stdout).toMatch(/gemm-check: OK \(\d+ products on levels scalar\.\.neon equal the reference\)/);
    expect(r.stdout).toMatch(/gemm-check: Z_2\^128 OK \(\d+ products on levels scalar\.\.neon equal the reference\)/);
  }, 600_000);
});
