#!/usr/bin/env node
/**
 * The party image's SBOM: CycloneDX (JSON) of deploy/party's dependencies,
 * made by npm itself (`npm sbom --sbom-format cyclonedx --omit dev`), over the
 * installed tree when deploy/party/node_modules exists (the image build) or
 * over the lock otherwise.
 *
 *   node scripts/party-sbom.mjs OUT.json
 *
 * deploy/Dockerfile writes it to /app/sbom.cdx.json in the image (and
 * deploy/README.md says how to publish it); scripts/party-image.test.ts
 * checks it lists exactly the party lock's packages.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PARTY_DIR = path.join(ROOT, 'deploy', 'party');

/** The CycloneDX document as npm writes it. */
export function partySbom(dir = PARTY_DIR) {
  const args = ['sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev', ...(existsSync(path.join(dir, 'node_modules')) ? [] : ['--package-lock-only'])];
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return JSON.parse(execFileSync(npm, args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] }));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) { console.error('usage: node scripts/party-sbom.mjs OUT.json'); process.exit(2); }
  const bom = partySbom();
  writeFileSync(out, `${JSON.stringify(bom, null, 2)}\n`);
  console.log(`[party-sbom] ${bom.bomFormat} ${bom.specVersion}, ${bom.components.length} components -> ${out}`);
}
