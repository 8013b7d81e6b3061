/**
 * Host builds of the CUDA headers' per-element code for the checks that run WITHOUT a GPU (zp-rows.test.ts,
 * ring-elems.test.ts, staging.test.ts): which compilers exist, building a check program, running it on bytes and
 * comparing its output. Test support only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  return null;
}

/** The C++ compiler ($CXX, g++, c++ or clang++) and nvcc ($NVCC or on the PATH), or null where absent. */
export const hostCxx: string | null = process.env.CXX && existsSync(process.env.CXX) ? process.env.CXX : onPath('g++') ?? onPath('c++') ?? onPath('clang++');
export const hostNvcc: string | null = process.env.NVCC && existsSync(process.env.NVCC) ? process.env.NVCC : onPath('nvcc');

/** A temporary directory for the builds; `cleanup` (for afterAll) removes it. */
export function hostBuildDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Compiles `source` (with `includeDir` on the include path, if given) to `out`; throws with the compiler's message. */
export function buildHost(compiler: string, args: string[], source: string, out: string, includeDir?: string): string {
  const r = spawnSync(compiler, [...args, ...(includeDir ? [`-I${includeDir}`] : []), source, '-o', out], { encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`${path.basename(compiler)} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.slice(0, 2000)}`);
  return out;
}

/** Runs a check program with `input` on stdin; its stdout as bytes (throws on a non-zero exit). */
export function runHostProgram(program: string, args: string[], input: Uint8Array): Uint8Array {
  const r = spawnSync(program, args, { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${path.basename(program)} ${args.join(' ')}: exit ${r.status}: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
}

/** '' when equal, else where the bytes first differ (or the lengths). */
export function firstDiff(got: Uint8Array, want: Uint8Array): string {
  if (got.length !== want.length) return `length ${got.length}, want ${want.length}`;
  const i = got.findIndex((v, k) => v !== want[k]);
  return i < 0 ? '' : `first difference at byte ${i}: ${got[i]}, want ${want[i]}`;
}
