/**
 * The CUDA kernels of the 32-bit comparison ring, checked WITHOUT a GPU: their
 * per-element logic (zp-rows.h, the functions the __global__ kernels of
 * kernels-narrow.cu loop over) is compiled for the host, once with the C++
 * compiler and once with nvcc -x cu where nvcc exists (then the functions
 * are __host__ __device__, as in the addon), and run on the cases of
 * protocol/testing/narrow-cases.ts. Its bytes must equal the ts kernels',
 * the native kernels' (where built) and the padded wide reference's (small
 * cases with Z_p inputs: the reference's domain), and the dealt-share cases must decide x > r through the zero test.
 * Launch configuration and copies are only checked on a device
 * (bench/cuda-check.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeKernels } from '../../../runtime/native-addon.js';
import { buildHost, firstDiff, hostBuildDir, hostCxx as cxx, hostNvcc as nvcc, runHostProgram } from '../../testing/host-build.js';
import { hostArgs, narrowCases, runNarrow, type NarrowCase } from '../../testing/narrow-cases.js';
import { referenceKernels } from '../reference.js';
import { tsKernels } from '../ts.js';
import type { RingKernels } from '../types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.join(here, 'zp-rows-check.cc');

const { dir, cleanup } = hostBuildDir('zp-rows-');
afterAll(cleanup);

/** Compiles the check program; returns its path. */
const build = (compiler: string, args: string[], name: string): string => buildHost(compiler, args, SOURCE, path.join(dir, name), here);

function runHost(program: string, c: NarrowCase): Uint8Array {
  const { args, input } = hostArgs(c);
  return runHostProgram(program, args, input);
}

const native = loadNativeKernels();
const cpus: RingKernels[] = [tsKernels, ...(native ? [native] : [])];
const cases = narrowCases(tsKernels);
const builds: [string, string | null, () => string][] = [
  ['C++ compiler (plain inline functions)', cxx, () => build(cxx!, ['-O2', '-std=c++17', '-Wall', '-Werror'], 'zp-rows-cxx')],
  ['nvcc -x cu (__host__ __device__ functions, host side)', nvcc, () => build(nvcc!, ['-x', 'cu', '-O2', '-std=c++17'], 'zp-rows-nvcc')],
];

for (const [what, compiler, make] of builds) {
  const skip = compiler ? '' : ` [skipped: no ${what.startsWith('nvcc') ? 'nvcc' : 'C++ compiler (g++, c++, clang++ or $CXX)'} on this machine]`;
  describe.skipIf(!compiler)(`CUDA per-element Z_p logic (zp-rows.h) built by ${what} gives the CPU kernels' bytes (ts${native ? ', native' : ''}, reference on small cases)${skip}`, () => {
    let program = '';
    it('compiles', () => { program = make(); expect(existsSync(program)).toBe(true); }, 240_000);

    it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const got = runHost(program, c);
      for (const k of [...cpus, ...(c.n <= 1000 && !(c.kind === 'pc' && c.anyBytes) ? [referenceKernels] : [])]) {
        const want = runNarrow(k, c);
        expect(firstDiff(got, want), `${c.op} vs ${k.name}`).toBe('');
      }
    });

    it('dealt shares: the zero test of both parties\' d values says beta XOR (x > r) for every element', () => {
      const dealt = cases.filter((c): c is Extract<NarrowCase, { kind: 'pc' }> => c.kind === 'pc' && c.truth !== undefined);
      expect(dealt.length).toBe(4); // two ops x two parties
      for (const op of ['privateCompare32', 'privateCompareR4'] as const) {
        const [c0, c1] = dealt.filter((c) => c.op === op);
        const W = op === 'privateCompare32' ? 32 : 16;
        const z = { kind: 'zero' as const, op: W === 32 ? 'zeroTest32' as const : 'zeroTest16' as const, name: 'zero test', n: c0!.n, d0: runHost(program, c0!), d1: runHost(program, c1!) };
        const got = runHost(program, z);
        expect(firstDiff(got, c0!.truth!), op).toBe('');
        expect(new Set(got).size, `${op}: both answers occur`).toBe(2);
      }
    });

    it('refuses a malformed call (wrong input length, unknown op) with exit 2', () => {
      const bad = spawnSync(program, ['privateCompare32', '2', '0'], { input: new Uint8Array(5) });
      expect(bad.status).toBe(2);
      expect(bad.stderr.toString()).toMatch(/input length/);
      expect(spawnSync(program, ['gemm', '1', '0'], { input: new Uint8Array(0) }).status).toBe(2);
    });
  });
}
