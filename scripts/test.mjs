#!/usr/bin/env node
// The project's one test command (`npm test`): runs the whole vitest suite and
// ends with the line "N passed, N failed[, N skipped]". Exit code is vitest's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// CI machines start without Chromium; the browser end-to-end test needs it.
// Elsewhere that test is skipped with its reason when /usr/bin/chromium is absent.
if (process.env.CI && !existsSync('/usr/bin/chromium')) {
  const c = spawnSync('bash', ['scripts/ensure-chromium.sh'], { stdio: 'inherit', timeout: 600_000 });
  if (c.status !== 0) console.warn('[test] could not install chromium; the browser end-to-end test will be skipped');
}

const dir = mkdtempSync(join(tmpdir(), 'vitest-'));
const json = join(dir, 'report.json');
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { stdio: 'inherit', env: process.env });
let line = '0 passed, 1 failed';
try {
  const rep = JSON.parse(readFileSync(json, 'utf8'));
  const skipped = (rep.numPendingTests ?? 0) + (rep.numTodoTests ?? 0);
  line = `${rep.numPassedTests} passed, ${rep.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : '');
} catch {
  // no report: vitest crashed before writing it; the line above says failed.
}
rmSync(dir, { recursive: true, force: true });
console.log(line);
process.exit(r.status ?? 1);
