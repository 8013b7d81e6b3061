#!/usr/bin/env node
/**
 * The files of the party image, in one list: what deploy/Dockerfile's runtime
 * stage holds under /app, and what test/deploy.test.ts runs the party from.
 * The party program is the bundle (parties/party.bundle.mjs, esbuild, packages
 * external); beside it only its proto file, the native kernels, the
 * healthcheck, package.json (the version the party reports), and the
 * node_modules of deploy/party (its runtime dependencies: grpc, fastify, ajv;
 * no importer or SDK package).
 *
 *   node scripts/assemble-party.mjs DEST [--node-modules DIR]
 *
 * copies PARTY_FILES from the repository root (after `npm ci` and
 * `node scripts/build-party.mjs`) to DEST, and DIR (default
 * deploy/party/node_modules) to DEST/node_modules.
 */
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const PARTY_FILES = [
  'package.json',
  'parties/party.bundle.mjs',
  'parties/proto/party.proto',
  'build/Release/securenn_kernels.node',
  'deploy/healthcheck.mjs',
];

/** Copy the party's files to `dest` (node_modules from `nodeModules`, when given). */
export function assembleParty(dest, { root = ROOT, nodeModules } = {}) {
  for (const f of PARTY_FILES) {
    const from = path.join(root, f);
    if (!existsSync(from)) throw new Error(`assemble-party: ${f} is missing (run \`npm ci\` and \`node scripts/build-party.mjs\` first)`);
    mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    cpSync(from, path.join(dest, f));
  }
  if (nodeModules) cpSync(nodeModules, path.join(dest, 'node_modules'), { recursive: true, verbatimSymlinks: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const dest = args[0];
  if (!dest) { console.error('usage: node scripts/assemble-party.mjs DEST [--node-modules DIR]'); process.exit(2); }
  const i = args.indexOf('--node-modules');
  const nodeModules = i >= 0 ? args[i + 1] : path.join(ROOT, 'deploy', 'party', 'node_modules');
  try {
    assembleParty(path.resolve(dest), { nodeModules: path.resolve(nodeModules) });
    console.log(`[assemble-party] ${PARTY_FILES.length} files and ${path.relative(ROOT, nodeModules) || nodeModules} -> ${dest}`);
  } catch (e) {
    console.error(`[assemble-party] ${e.message}`);
    process.exit(1);
  }
}
