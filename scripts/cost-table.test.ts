import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { costRows, costTable, withCostTable } from './cost-table.js';

describe('the cost table of ARCHITECTURE.md', () => {
  it('is the one generated from the declared costs (npx tsx scripts/gen-cost-table.ts after a cost changes)', () => {
    const page = readFileSync(new URL('../ARCHITECTURE.md', import.meta.url), 'utf8');
    expect(page).toContain(costTable());
    expect(withCostTable(page)).toBe(page);
  });

  it('reads the numbers off the cost functions (a row changes with its primitive)', () => {
    const rows = Object.fromEntries(costRows().map((r) => [r[0], r]));
    expect(rows['ReLU']!.slice(1, 3)).toEqual(['9', '536']);
    expect(rows['MatMul / Beaver (X: a, Y: b, Z: c elements)']![2]).toBe('8c + 16(a + b) total');
    expect(rows['MaxPool, window n']!.slice(1, 3)).toEqual(['9 · ceil(log2 n)', '536 (n − 1) per window']);
    expect(() => withCostTable('no markers here')).toThrow(/markers/);
  });
});
