/**
 * One esbuild bundle of a TypeScript entry point, as the party program
 * (scripts/build-party.mjs) and the importer's command line
 * (scripts/build-import-cli.mjs) are built at every start: ESM for Node 20,
 * packages external (node_modules is next to the output), written to a
 * temporary file and renamed, so concurrent starts never run a half-written
 * bundle. Rejects if esbuild is missing or the sources do not compile.
 */
import { renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Bundle `entry` (relative to the repo root) into `outfile` (absolute) with a "do not edit" banner naming `script`; resolves with outfile. */
export async function buildBundle(entry, outfile, script) {
  const esbuild = await import('esbuild');
  const tmp = `${outfile}.${process.pid}.${Date.now()}.tmp`;
  await esbuild.build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external',
    outfile: tmp, logLevel: 'silent', legalComments: 'none',
    banner: { js: `// Built by ${script} from ${entry}. Do not edit.` },
  });
  renameSync(tmp, outfile);
  return outfile;
}
