/**
 * Entry of the bundled party program, parties/party.bundle.mjs (built by
 * scripts/build-party.mjs; gitignored). The same program as main.ts, with
 * model-import linked in (main.ts finds it by path at run time), compiled
 * once instead of through tsx at every start: a party process run from the
 * bundle holds a smaller heap (no tsx loader, no source maps), so each of its
 * mark-compact GCs is shorter. Seed CNN, batch 8: P2's mark-compact time per
 * run ~250 -> ~200 ms, party CPU 1.5-20% lower (bench/party-cpu.ts;
 * BENCHMARKS.md). The bundle sits in parties/ so that the paths main.ts's
 * modules resolve from import.meta.url (proto/, ../client-sdk/demo/, the
 * addons in ../build/) are the same.
 */
import * as modelImport from '../model-import/bundle.js';
import { useModelImport } from './model-source.js';

useModelImport(modelImport);
await import('./main.js');
