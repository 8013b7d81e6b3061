/**
 * The pinned staging of the CUDA addon's copies (staging.h, used by
 * device.cu's h2d / d2h), checked WITHOUT a GPU: staging-check.cc drives the
 * same plan with a simulated copy engine (asynchronous copies completing in
 * stream order at random points) and fails on a host write into a slot a
 * queued copy still reads, a host read of a slot before its copy completed,
 * or wrong bytes; it also makes sure its simulator catches a plan without
 * the waits. Built with the C++ compiler and with nvcc -x cu where nvcc
 * exists. Whether the pinned copies are faster is a device run's to say.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildHost, hostBuildDir, hostCxx as cxx, hostNvcc as nvcc } from '../../testing/host-build.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { dir, cleanup } = hostBuildDir('staging-');
afterAll(cleanup);

/** Builds staging-check.cc from `srcDir` (its "staging.h" is the one beside it) and runs it. */
function buildAndRun(compiler: string, args: string[], name: string, srcDir = here): { status: number | null; out: string } {
  const exe = buildHost(compiler, args, path.join(srcDir, 'staging-check.cc'), path.join(dir, name));
  const r = spawnSync(exe, [], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

const builds: [string, string | null, string[]][] = [
  ['C++ compiler', cxx, ['-O2', '-std=c++17', '-Wall', '-Werror']],
  ['nvcc -x cu (host side)', nvcc, ['-x', 'cu', '-O2', '-std=c++17']],
];
for (const [what, compiler, args] of builds) {
  describe.skipIf(!compiler)(`pinned staging plan (staging.h) built by ${what}${compiler ? '' : ` [skipped: no ${what.startsWith('nvcc') ? 'nvcc' : 'C++ compiler'} on this machine]`}`, () => {
    it('uploads and downloads of every size (and small uploads packed between large copies) arrive intact, with no slot bytes reused early, and the simulator catches a plan without waits', () => {
      const r = buildAndRun(compiler!, args, `staging-${what.startsWith('nvcc') ? 'nvcc' : 'cxx'}`);
      expect(r.out.trim()).toMatch(/^ok \d+$/);
      expect(Number(r.out.trim().split(' ')[1])).toBe(1360);
      expect(r.status).toBe(0);
    }, 240_000);
  });
}

describe.skipIf(!cxx)('the staging check fails on a plan that drops a wait', () => {
  it('each of five dropped waits fails: staged_h2d\'s settle, staged_d2h\'s wait before copying a chunk out, the packer\'s settle of a slot it starts filling, the packer\'s reset before a large upload, and queue_copy\'s stream wait when an event record fails', () => {
    const src = readFileSync(path.join(here, 'staging.h'), 'utf8');
    const mutants = [
      src.replace('    SCU_STAGE_TRY(settle(e, s));\n    e.host_copy(e.slot(s), static_cast<const uint8_t *>(src) + off, n);', '    e.host_copy(e.slot(s), static_cast<const uint8_t *>(src) + off, n);'),
      src.replace('    if (prev >= 0) {\n      SCU_STAGE_TRY(settle(e, prev));', '    if (prev >= 0) {'),
      src.replace('  if (p.fill == 0) SCU_STAGE_TRY(settle(e, p.slot));', ''),
      src.replace('  if (bytes >= large) {\n    reset_packer(p);', '  if (bytes >= large) {'),
      // The error path: a copy queued whose event could not be recorded is covered by no busy flag.
      src.replace('    e.sync();  // the copy may still use the slot', '    // the copy may still use the slot'),
    ];
    mutants.forEach((m, i) => {
      expect(m, `mutant ${i} applies`).not.toBe(src);
      const mdir = path.join(dir, `mutant${i}`);
      mkdirSync(mdir, { recursive: true });
      writeFileSync(path.join(mdir, 'staging.h'), m);
      copyFileSync(path.join(here, 'staging-check.cc'), path.join(mdir, 'staging-check.cc'));
      const r = buildAndRun(cxx!, ['-O2', '-std=c++17'], `staging-mutant${i}`, mdir);
      expect(r.status, r.out).toBe(1);
      expect(r.out).toMatch(/^fault: /);
    });
  }, 240_000);
});
