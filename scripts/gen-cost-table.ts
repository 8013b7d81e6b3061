// Rewrites the cost table of ARCHITECTURE.md from the primitives' declared costs: `npx tsx scripts/gen-cost-table.ts`.
import { readFileSync, writeFileSync } from 'node:fs';
import { withCostTable } from './cost-table.js';

const file = new URL('../ARCHITECTURE.md', import.meta.url);
writeFileSync(file, withCostTable(readFileSync(file, 'utf8')));
