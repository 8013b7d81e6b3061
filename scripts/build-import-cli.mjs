#!/usr/bin/env node
/**
 * Bundles the model importer's command line (model-import/cli.ts and what it
 * imports) into model-import/mpc-import.bundle.mjs with esbuild:
 * `node scripts/build-import-cli.mjs`. model-import/bin/mpc-import.mjs does
 * this at every start (~0.2 s), so the bundle never lags the sources, and
 * runs it: a small model imports in ~0.6 s instead of the 3-4 s that tsx's
 * compilation of ~110 source files on the fly took. Packages stay external
 * (node_modules is next to it). The bundle sits in model-import/, one level
 * below the root as runtime/ is, so the native addon is found at ../build as
 * from the sources. Writes a temporary file and renames it, so concurrent
 * imports never run a half-written bundle.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle, ROOT as root } from './esbuild-bundle.mjs';

export const IMPORT_CLI_BUNDLE = path.join(root, 'model-import', 'mpc-import.bundle.mjs');

/** Build the bundle; resolves with its path. Rejects if esbuild is missing or the sources do not compile. */
export const buildImportCli = () => buildBundle('model-import/cli.ts', IMPORT_CLI_BUNDLE, 'scripts/build-import-cli.mjs');

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildImportCli().then((f) => console.log(`[build-import-cli] wrote ${path.relative(root, f)}`), (e) => { console.error(`[build-import-cli] failed: ${e.message}`); process.exit(1); });
}
