#!/usr/bin/env node
// Launcher for the TypeScript CLI (model-import/cli.ts), compiled on the fly by tsx.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../cli.ts');
runCli(process.argv.slice(2));
