/**
 * The layout rules of ARCHITECTURE.md ("Test helpers" and "File size"),
 * checked over the tracked sources:
 *  - test helpers live in a `testing/` folder of the package they help test;
 *    program code (everything but tests, `testing/` folders and bench/)
 *    never imports one, nor test/, nor vitest;
 *  - no source file is over ~400 lines, except the generated ones, the
 *    kernels, tests, and the files named below with the reason.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tracked = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.mjs', '*.js'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);

const isTest = (f: string): boolean => /\.test\.ts$/.test(f);
const inTesting = (f: string): boolean => /(^|\/)testing\//.test(f);
/** Code that tests do not own: what runs in a party, the importer, the SDK, deploy, scripts. */
const isProgram = (f: string): boolean => !isTest(f) && !inTesting(f) && !f.startsWith('bench/') && !f.startsWith('test/') && f !== 'vitest.config.ts';

/** Module specifiers a source imports, statically or dynamically. */
function imports(src: string): string[] {
  return [...src.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/** Why an import from program file `file` reaches test code, or null. */
export function testImport(file: string, spec: string): string | null {
  if (spec === 'vitest' || spec.startsWith('vitest/')) return 'imports vitest';
  if (!spec.startsWith('.')) return null;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
  if (inTesting(target)) return `imports test helper ${target}`;
  if (target.startsWith('test/')) return `imports the end-to-end suite's ${target}`;
  if (/\.test(\.[jt]s)?$/.test(target)) return `imports test file ${target}`;
  return null;
}

/** Over the limit for a reason that is being dealt with elsewhere (the report of issue 21 names them). */
const LONG_EXCEPTIONS: Record<string, string> = {};
const MAX_LINES = 420;
/** Generated files and the ring kernels (one table of loops per backend) may be longer. */
const exempt = (f: string): boolean => isTest(f) || f.startsWith('protocol/kernels/') || f.endsWith('.bundle.mjs') || f.includes('/generated/');

describe('source layout', () => {
  it('sees the tracked sources', () => {
    expect(tracked.length).toBeGreaterThan(200);
    expect(tracked).toContain('parties/start.ts');
  });

  it('program code never imports test helpers, test files, test/ or vitest', () => {
    const bad = tracked.filter(isProgram).flatMap((f) => imports(readFileSync(path.join(ROOT, f), 'utf8')).map((s) => testImport(f, s)).filter((x) => x !== null).map((x) => `${f}: ${x}`));
    expect(bad).toEqual([]);
  });

  it('test helpers sit in testing/ folders: every non-test file that imports vitest is in one', () => {
    const outside = tracked.filter((f) => !isTest(f) && !inTesting(f) && f !== 'vitest.config.ts' && imports(readFileSync(path.join(ROOT, f), 'utf8')).some((s) => s === 'vitest'));
    expect(outside).toEqual([]);
    expect(tracked.filter((f) => /(^|\/)(test-helpers|testing)\.ts$|(^|\/)support\//.test(f))).toEqual([]);
  });

  it('the import check catches each kind (negative control)', () => {
    expect(testImport('parties/start.ts', '../protocol/testing/seed-models.js')).toBe('imports test helper protocol/testing/seed-models.js');
    expect(testImport('parties/x.ts', './testing/trio.js')).toBe('imports test helper parties/testing/trio.js');
    expect(testImport('deploy/x.ts', '../test/testing/load.js')).toBe('imports test helper test/testing/load.js');
    expect(testImport('deploy/x.ts', '../test/e2e.js')).toBe("imports the end-to-end suite's test/e2e.js");
    expect(testImport('client-sdk/src/a.ts', './b.test.js')).toBe('imports test file client-sdk/src/b.test.js');
    expect(testImport('protocol/a.ts', 'vitest')).toBe('imports vitest');
    expect(testImport('protocol/a.ts', '../protocol/seed-models.js')).toBeNull();
    expect(testImport('protocol/a.ts', 'node:crypto')).toBeNull();
  });

  it(`no source file outside the generated ones, the kernels and the tests is over ${MAX_LINES} lines`, () => {
    const long = tracked.filter((f) => !exempt(f)).map((f) => ({ f, n: readFileSync(path.join(ROOT, f), 'utf8').split('\n').length })).filter((x) => x.n > MAX_LINES);
    expect(long.filter((x) => !(x.f in LONG_EXCEPTIONS)).map((x) => `${x.f}: ${x.n} lines`)).toEqual([]);
    // An exception that is no longer needed is removed.
    for (const f of Object.keys(LONG_EXCEPTIONS)) expect(long.map((x) => x.f), `${f} is short now: drop it from LONG_EXCEPTIONS`).toContain(f);
  });
});
