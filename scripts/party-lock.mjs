#!/usr/bin/env node
/**
 * The party image's lock file, derived from the root one:
 * deploy/party/package-lock.json holds exactly the packages the party's
 * runtime dependencies (deploy/party/package.json) need, at the versions and
 * paths the root package-lock.json resolves, so the image runs what the tests
 * ran. `node scripts/party-lock.mjs` rewrites it (after a change of the root
 * lock or of the party's dependencies); `--check` exits 1 when it is stale.
 * scripts/party-image.test.ts runs the check.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PARTY_DIR = path.join(ROOT, 'deploy', 'party');

/** Where Node would find package `name` required from the package installed at `from` (a lock path, '' for the top). */
function resolve(pkgs, from, name) {
  let dir = from;
  for (;;) {
    const p = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (pkgs[p]) return p;
    if (!dir) return null;
    const i = dir.lastIndexOf('node_modules/');
    dir = i <= 0 ? '' : dir.slice(0, i - 1);
  }
}

/** The party lock as the root lock resolves it. */
export function partyLock() {
  const root = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const party = JSON.parse(readFileSync(path.join(PARTY_DIR, 'package.json'), 'utf8'));
  const pkgs = root.packages;
  const out = {};
  const todo = [];
  for (const [name, want] of Object.entries(party.dependencies)) {
    const p = resolve(pkgs, '', name);
    if (!p) throw new Error(`party-lock: ${name} is not in the root package-lock.json`);
    if (pkgs[p].version !== want) throw new Error(`party-lock: deploy/party/package.json wants ${name} ${want}, the root lock has ${pkgs[p].version}`);
    todo.push(p);
  }
  while (todo.length) {
    const p = todo.pop();
    if (out[p]) continue;
    const { dev: _d, devOptional: _o, peer: _p, ...entry } = pkgs[p];
    out[p] = entry;
    const deps = { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies };
    for (const name of Object.keys(deps)) {
      const q = resolve(pkgs, p, name);
      if (q) todo.push(q);
      else if (!entry.optionalDependencies?.[name] && !entry.peerDependenciesMeta?.[name]?.optional) throw new Error(`party-lock: ${p} needs ${name}, which the root lock does not have`);
    }
  }
  const sorted = Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
  return {
    name: party.name, version: party.version, lockfileVersion: 3, requires: true,
    packages: { '': { name: party.name, version: party.version, dependencies: party.dependencies, engines: party.engines }, ...sorted },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = path.join(PARTY_DIR, 'package-lock.json');
  const text = `${JSON.stringify(partyLock(), null, 2)}\n`;
  if (process.argv.includes('--check')) {
    let old = '';
    try { old = readFileSync(file, 'utf8'); } catch { /* missing: stale */ }
    if (old !== text) { console.error('deploy/party/package-lock.json is stale: run `node scripts/party-lock.mjs`'); process.exit(1); }
    console.log('deploy/party/package-lock.json is up to date');
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${path.relative(ROOT, file)} (${Object.keys(JSON.parse(text).packages).length - 1} packages)`);
  }
}
