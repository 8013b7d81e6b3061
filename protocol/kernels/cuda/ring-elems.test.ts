/**
 * The CUDA kernels of ring-elems.h (mulScalar, addScalar, divShare, sar,
 * maskZp, im2col, depthwise; kernels-elems.cu), checked WITHOUT a GPU: their
 * per-element logic is compiled for the host, once with the C++ compiler and
 * once with nvcc -x cu where nvcc exists (then the functions are
 * __host__ __device__, as in the addon), and run on the cases of
 * protocol/testing/elem-cases.ts. Its bytes must equal the ts kernels', the
 * native kernels' (where built) and the BigInt reference's (where it has the
 * op). Launch configuration and copies are only checked on a device
 * (bench/cuda-check.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeKernels } from '../../../runtime/native-addon.js';
import { buildHost, firstDiff, hostBuildDir, hostCxx as cxx, hostNvcc as nvcc, runHostProgram } from '../../testing/host-build.js';
import { elemCases, elemHostArgs, runElem, type ElemCase } from '../../testing/elem-cases.js';
import { referenceKernels } from '../reference.js';
import { tsKernels } from '../ts.js';
import type { RingKernels } from '../types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.join(here, 'ring-elems-check.cc');

const { dir, cleanup } = hostBuildDir('ring-elems-');
afterAll(cleanup);

/** Compiles the check program; returns its path. */
const build = (compiler: string, args: string[], name: string): string => buildHost(compiler, args, SOURCE, path.join(dir, name), here);

function runHost(program: string, c: ElemCase): Uint8Array {
  const { args, input } = elemHostArgs(c);
  return runHostProgram(program, args, input);
}

const native = loadNativeKernels();
const cpus: RingKernels[] = [tsKernels, ...(native ? [native] : [])];
const cases = elemCases();
/** The reference has every op but maskZp; keep its BigInt work small. */
const refFor = (c: ElemCase) => c.op !== 'maskZp' && (c.kind !== 'window' || c.x.length < 5000);
const builds: [string, string | null, () => string][] = [
  ['C++ compiler (plain inline functions)', cxx, () => build(cxx!, ['-O2', '-std=c++17', '-Wall', '-Werror'], 'ring-elems-cxx')],
  ['nvcc -x cu (__host__ __device__ functions, host side)', nvcc, () => build(nvcc!, ['-x', 'cu', '-O2', '-std=c++17'], 'ring-elems-nvcc')],
];

describe('the element cases exercise what they claim', () => {
  it('every op, both parties, broadcast and per-element divisors, negative padding, dm > 1 and an empty output are present', () => {
    const ops = new Set(cases.map((c) => c.op));
    expect([...ops].sort()).toEqual(['addScalar', 'depthwise', 'divShare', 'im2col', 'maskZp', 'mulScalar', 'sar']);
    const divs = cases.filter((c): c is Extract<ElemCase, { kind: 'div' }> => c.kind === 'div');
    expect(new Set(divs.map((c) => c.party))).toEqual(new Set([0, 1]));
    expect(divs.some((c) => c.d.length > 1) && divs.some((c) => c.d.length === 1 && c.d[0] === 1)).toBe(true);
    const wins = cases.filter((c): c is Extract<ElemCase, { kind: 'window' }> => c.kind === 'window');
    expect(wins.some((c) => c.g.padTop < 0) && wins.some((c) => c.g.dm > 1) && wins.some((c) => c.g.C === 0)).toBe(true);
    // The windows' outputs are not all zero padding: some output takes an input value.
    for (const c of wins.filter((w) => w.x.length > 0)) expect(runElem(tsKernels, c).some((b) => b !== 0), c.name).toBe(true);
  });
});

for (const [what, compiler, make] of builds) {
  const skip = compiler ? '' : ` [skipped: no ${what.startsWith('nvcc') ? 'nvcc' : 'C++ compiler (g++, c++, clang++ or $CXX)'} on this machine]`;
  describe.skipIf(!compiler)(`CUDA per-element ring logic (ring-elems.h) built by ${what} gives the CPU kernels' bytes (ts${native ? ', native' : ''}, reference)${skip}`, () => {
    let program = '';
    it('compiles', () => { program = make(); expect(existsSync(program)).toBe(true); }, 240_000);

    it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const got = runHost(program, c);
      for (const k of [...cpus, ...(refFor(c) ? [referenceKernels] : [])]) expect(firstDiff(got, runElem(k, c)), `${c.op} vs ${k.name}`).toBe('');
    });

    it('refuses a malformed call (wrong input length, unknown op) with exit 2', () => {
      const bad = spawnSync(program, ['divShare', '2', '0', '1'], { input: new Uint8Array(5) });
      expect(bad.status).toBe(2);
      expect(bad.stderr.toString()).toMatch(/input length/);
      expect(spawnSync(program, ['gemm', '1', '0'], { input: new Uint8Array(0) }).status).toBe(2);
    });
  });
}
