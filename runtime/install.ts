/**
 * Import first in an entry point (benchmarks, the importer's command line,
 * the test setup): installs the runtime's kernels before any other module's
 * top-level code runs (ES modules evaluate their imports in order).
 */
import { installRuntimeKernels } from './kernels.js';

installRuntimeKernels();
