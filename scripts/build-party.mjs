#!/usr/bin/env node
/**
 * Bundles the party program (parties/bundle-entry.ts: main.ts with
 * model-import linked in) into parties/party.bundle.mjs with esbuild:
 * `node scripts/build-party.mjs`. parties/launch.ts does this at every local
 * launch (npm start, npm run bench, the multi-process tests), so the bundle
 * never lags the sources; the Docker image builds it once. Packages stay
 * external (node_modules is next to it). Writes a temporary file and renames
 * it, so concurrent launches never run a half-written bundle.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle, ROOT as root } from './esbuild-bundle.mjs';

export const PARTY_BUNDLE = path.join(root, 'parties', 'party.bundle.mjs');

/** Build the bundle; resolves with its path. Rejects if esbuild is missing or the sources do not compile. */
export const buildPartyBundle = () => buildBundle('parties/bundle-entry.ts', PARTY_BUNDLE, 'scripts/build-party.mjs');

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildPartyBundle().then((f) => console.log(`[build-party] wrote ${path.relative(root, f)}`), (e) => { console.error(`[build-party] failed: ${e.message}`); process.exit(1); });
}
