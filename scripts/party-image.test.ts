/**
 * The party image installs only what a party runs (deploy/party): its lock is
 * the root lock's resolution of the party's dependencies, the bundled party
 * program imports nothing else, the importer's and the SDK's packages are not
 * in it, and its SBOM (scripts/party-sbom.mjs, CycloneDX by `npm sbom`) lists
 * exactly its packages. test/deploy.test.ts runs the party from these files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PARTY = path.join(ROOT, 'deploy', 'party');
type Lock = { packages: Record<string, { version?: string; name?: string; dependencies?: Record<string, string> }> };
const readJson = <T>(f: string): T => JSON.parse(readFileSync(f, 'utf8')) as T;
const partyLock = readJson<Lock>(path.join(PARTY, 'package-lock.json'));
const rootLock = readJson<Lock>(path.join(ROOT, 'package-lock.json'));
const partyPkg = readJson<{ dependencies: Record<string, string> }>(path.join(PARTY, 'package.json'));
const nameOf = (key: string): string => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
const installed = Object.keys(partyLock.packages).filter((k) => k !== '');

describe('the party image\'s dependencies (deploy/party)', () => {
  it('the lock is the root lock\'s resolution (node scripts/party-lock.mjs --check)', () => {
    const r = spawnSync(process.execPath, ['scripts/party-lock.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    for (const k of installed) expect(partyLock.packages[k]!.version, k).toBe(rootLock.packages[k]?.version);
    expect(installed.length).toBeGreaterThan(20);
  });

  it('carries no package of the importer or the SDK', () => {
    const names = new Set(installed.map(nameOf));
    for (const pkg of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', 'h5wasm', 'fflate', 'jpeg-js', 'pngjs', 'dcmjs', 'dcmjs-codecs', 'tsx', 'esbuild', 'typescript']) expect(names.has(pkg), pkg).toBe(false);
    expect(Object.keys(partyPkg.dependencies).sort()).toEqual(['@grpc/grpc-js', '@grpc/proto-loader', 'ajv', 'fastify']);
  });

  it('the bundled party program imports only node: built-ins and the party\'s dependencies', async () => {
    // The same build as scripts/build-party.mjs, with esbuild's record of what stays external.
    const r = await build({
      entryPoints: [path.join(ROOT, 'parties', 'bundle-entry.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20',
      packages: 'external', write: false, metafile: true, logLevel: 'silent', outfile: path.join(tmpdir(), 'party-bundle-check.mjs'),
    });
    const external = Object.values(r.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
    const bare = external.filter((s) => !s.startsWith('node:') && !s.startsWith('.') && !path.isAbsolute(s)).map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
    expect(new Set(bare)).toEqual(new Set(Object.keys(partyPkg.dependencies)));
    // Any other external import is a node: built-in.
    expect(external.filter((s) => !s.startsWith('node:') && !bare.some((b) => s === b || s.startsWith(`${b}/`)))).toEqual([]);
  });

  it('its SBOM (scripts/party-sbom.mjs) is CycloneDX and lists exactly the installed packages', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'party-sbom-')), 'sbom.cdx.json');
    const r = spawnSync(process.execPath, ['scripts/party-sbom.mjs', out], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const bom = readJson<{ bomFormat: string; specVersion: string; components: { name: string; version: string; group?: string }[] }>(out);
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(Number(bom.specVersion)).toBeGreaterThanOrEqual(1.4);
    const listed = bom.components.map((c) => `${c.group ? `${c.group}/` : ''}${c.name}@${c.version}`).sort();
    const want = [...new Set(installed.map((k) => `${nameOf(k)}@${partyLock.packages[k]!.version}`))].sort();
    expect(listed).toEqual(want);
  });
});
