#!/usr/bin/env node
// Launcher for the TypeScript CLI (model-import/cli.ts). It bundles the sources with esbuild at every start
// (scripts/build-import-cli.mjs, ~0.2 s: the bundle never lags the sources) and runs the bundle; without esbuild, or
// with MPC_IMPORT_RUNTIME=tsx, tsx compiles the sources on the fly instead (3-4 s more per run).
const runtime = process.env.MPC_IMPORT_RUNTIME;
if (runtime !== undefined && runtime !== 'bundle' && runtime !== 'tsx') {
  process.stderr.write(`mpc-import: error E_BAD_ARGUMENT: MPC_IMPORT_RUNTIME must be 'bundle' or 'tsx', got '${runtime}'\n`);
  process.exit(2);
}
let bundle = null;
if (runtime !== 'tsx') {
  try {
    const { buildImportCli } = await import('../../scripts/build-import-cli.mjs');
    bundle = await buildImportCli();
  } catch {
    bundle = null; // no esbuild, or the sources do not compile: tsx below reports the latter with its file and line
  }
}
let cli;
if (bundle) {
  const { pathToFileURL } = await import('node:url');
  cli = await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../cli.ts');
}
cli.runCli(process.argv.slice(2));
