/**
 * protocol/ is a library without I/O (ARCHITECTURE.md): no file system, no
 * environment, no addon loading, nothing imported from the runtime or the
 * servers. The runtime layer (runtime/) loads the addons, reads the MPC_*
 * variables and hands protocol/ its kernels (protocol/kernels/provision.ts).
 * This test scans every source file of protocol/ except the tests and the
 * test helpers of protocol/testing/ (which only tests import).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

/** Node built-ins protocol/ may import: randomness only. */
const ALLOWED_BUILTINS = new Set(['node:crypto']);
const FORBIDDEN: { what: string; re: RegExp }[] = [
  { what: 'process.env', re: /\bprocess\s*\.\s*env\b/ },
  { what: 'process.dlopen', re: /\bprocess\s*\.\s*dlopen\b/ },
  { what: 'createRequire', re: /\bcreateRequire\b/ },
  { what: 'require()', re: /(^|[^.\w])require\s*\(/m },
  { what: 'dynamic import()', re: /(^|[^.\w])import\s*\(/m },
];

/** Module specifiers of static imports and re-exports. */
function specifiers(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  for (const m of src.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  return out;
}

/** What is wrong with one file's source (empty when nothing). */
export function ioViolations(file: string, src: string): string[] {
  const bad: string[] = [];
  // Comments may name what they like; strip them before looking.
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  for (const { what, re } of FORBIDDEN) if (re.test(code)) bad.push(what);
  for (const spec of specifiers(code)) {
    if (spec.startsWith('.')) {
      const target = path.resolve(path.dirname(file), spec);
      if (path.relative(ROOT, target).startsWith('..')) bad.push(`import of ${spec} (outside protocol/)`);
    } else if (!ALLOWED_BUILTINS.has(spec)) {
      bad.push(`import of ${spec}`);
    }
  }
  return bad;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return p === path.join(ROOT, 'testing') ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('protocol/ has no I/O', () => {
  const files = sources(ROOT);

  it('scans the library files', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((f) => f.endsWith(path.join('kernels', 'native.ts')))).toBe(true);
  });

  it('no file reads the environment, touches the file system, loads an addon or imports outside protocol/ (node:crypto only)', () => {
    const found = files.map((f) => ({ file: path.relative(ROOT, f), bad: ioViolations(f, readFileSync(f, 'utf8')) })).filter((x) => x.bad.length > 0);
    expect(found).toEqual([]);
  });

  it('the scan finds each kind of violation (negative control)', () => {
    const f = path.join(ROOT, 'kernels', 'x.ts');
    expect(ioViolations(f, `const a = process.env.MPC_KERNELS;`)).toEqual(['process.env']);
    expect(ioViolations(f, `import { existsSync } from 'node:fs';`)).toEqual(['import of node:fs']);
    expect(ioViolations(f, `import fs from 'fs';`)).toEqual(['import of fs']);
    expect(ioViolations(f, `import { createRequire } from 'node:module';\nconst r = createRequire(import.meta.url);`)).toEqual(['createRequire', 'import of node:module']);
    expect(ioViolations(f, `const m = { exports: {} }; process.dlopen(m, 'x.node');`)).toEqual(['process.dlopen']);
    expect(ioViolations(f, `const a = require('./a.node');`)).toEqual(['require()']);
    expect(ioViolations(f, `const a = await import('node:fs');`)).toEqual(['dynamic import()']);
    expect(ioViolations(f, `import { kernelsFor } from '../../runtime/kernels.js';`)).toEqual(['import of ../../runtime/kernels.js (outside protocol/)']);
    expect(ioViolations(f, `export { x } from '../../parties/x.js';`)).toEqual(['import of ../../parties/x.js (outside protocol/)']);
    // Allowed: node:crypto, files inside protocol/, words in comments.
    expect(ioViolations(f, `import { randomBytes } from 'node:crypto';\nimport { tsKernels } from './ts.js';\n// process.env is the runtime's\n/* require(x) */`)).toEqual([]);
  });
});
