/**
 * Smoke test of bench/cold-start.ts on Network A: three fresh deployments
 * (client warm-up, warm-up off, warm-up on), few predictions, --no-write.
 * It checks the table's shape and that the warm-up ran, not the speed (a
 * shared machine's timings are no test).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('bench/cold-start.ts (Network A, 200 predictions per deployment)', () => {
  it('writes one row with warm-up off and one with it on; the warm-up ran its runs and client-path predictions before ready, and the first client run after it is preprocessed', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/cold-start.ts', '--model', 'networkA', '--client-warmup', '5', '--after', '200', '--warmup-runs', '20', '--no-write'], { cwd: root, encoding: 'utf8', timeout: 170_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const ms = '[\\d.]+ ms';
    // Warm-up off: the first client run deals live; on (20 runs, then predictions through the client path, the config
    // default's 300 or as many as the budget leaves): it takes the bundle the offline phase made of the warmed shape.
    expect(r.stdout).toMatch(new RegExp(`\\| MNIST Network A \\| off \\| [\\d.]+ s \\| – \\| ${ms} \\(${ms}; live\\) \\| ${ms} \\| ${ms} \\(N = 200\\) \\| [\\d.]+x`));
    expect(r.stdout).toMatch(new RegExp(`\\| MNIST Network A \\| on \\| [\\d.]+ s \\| 20 \\+ [1-9]\\d* client-path \\([\\d.]+ s\\) \\| ${ms} \\(${ms}; preprocessed\\) \\| ${ms} \\| ${ms} \\(N = 200\\) \\| [\\d.]+x`));
    expect(r.stdout).toContain('Cold start (`npx tsx bench/cold-start.ts --model networkA --client-warmup 5 --after 200 --warmup-runs 20 --no-write`');
  }, 180_000);
});
