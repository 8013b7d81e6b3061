/** docs/MALICIOUS.md's table of implemented costs agrees with the declared costs (which arith.test.ts checks against the counters). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Cost } from '../primitives/cost.js';
import { setupCost } from './session.js';
import { inputCost } from './input.js';
import { macOfCost, matmulCostM, mulCostM } from './product.js';
import { openCost, openLowCost, openToCost } from './open.js';
import { macCheckCost } from './mac-check.js';
import { randBitsCost } from './randbits.js';
import { truncCostM, truncMaskCostM, truncOnlineCostM } from './trunc.js';

const ROWS: [label: string, cost: (n: number) => Cost][] = [
  ['session set-up (coin commitments)', () => setupCost()],
  ['input by one party (`inputM`)', inputCost],
  ['public value, linear operations', () => ({ rounds: 0, bytes: 0 })],
  ['elementwise product (`mulM`)', mulCostM],
  ['matrix product (`matmulM`, n output elements)', (n) => matmulCostM(1, n)],
  ['MAC of a random vector (`macOf`, `randomMacced`)', macOfCost],
  ['opening to all (`openM`)', openCost],
  ['opening of the low 64 bits (`openLow`)', openLowCost],
  ['opening to one party (`openTo`)', openToCost],
  ['batched MAC check (`macCheck`, any number of values)', () => macCheckCost()],
  ['random bits (`randBitsM`, n bits)', randBitsCost],
  ['truncation mask (`truncMaskM`, ell = 48, any f)', (n) => truncMaskCostM(n, 16, 48)],
  ['truncation with a mask made before (`truncM`)', truncOnlineCostM],
  ['truncation without a mask (`truncM`, ell = 48)', (n) => truncCostM(n, 16, 48)],
];

/** "96 n + 32", "96 n", "912" at n. */
function evaluate(formula: string, n: number): number {
  const m = /^(\d+)( n)?(?: \+ (\d+))?$/.exec(formula.trim());
  if (!m) throw new Error(`docs table: cannot read '${formula}'`);
  return m[2] ? Number(m[1]) * n + Number(m[3] ?? 0) : Number(m[1]);
}

describe('docs/MALICIOUS.md cost table', () => {
  it('has one row per implemented operation, equal to its declared cost at several n', () => {
    const page = readFileSync(new URL('../../docs/MALICIOUS.md', import.meta.url), 'utf8');
    const table = page.slice(page.indexOf('<!-- malicious-costs'), page.indexOf('<!-- /malicious-costs -->'));
    const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| operation')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    expect(rows.map((r) => r[0])).toEqual(ROWS.map((r) => r[0]));
    for (const [label, cost] of ROWS) {
      const [, rounds, bytes] = rows.find((r) => r[0] === label)!;
      for (const n of [1, 2, 7]) expect({ rounds: Number(rounds), bytes: evaluate(bytes!, n) }, `${label} at n = ${n}`).toEqual(cost(n));
    }
  });
});
