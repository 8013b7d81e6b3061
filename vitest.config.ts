import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const FOLDERS = ['protocol', 'runtime', 'scripts', 'model-import', 'parties', 'client-sdk', 'test', 'bench'];

/**
 * Test files whose work is done in this process: no party process, no mesh,
 * no socket but the SDK tests' fake parties on loopback, no timer, deadline
 * or wall-clock claim (protocol/ has no I/O at all: protocol/io-free.test.ts);
 * at most a short command-line child (mpc-import, the SDK's cli) whose output
 * is checked, not its timing. They run two at a time even on a 2-core
 * machine, where vitest's default (cores - 1 workers) runs one file at a time
 * and leaves the second core idle through every single-threaded test.
 * Everything else (party processes, meshes on loopback, deadlines,
 * keepalives, browsers, compilers, benchmarks) keeps the default, one file at
 * a time on 2 cores, in a group of its own after these. A new test file lands
 * in that group unless it matches here.
 */
const IN_PROCESS = new RegExp('^(?:' + [
  'protocol/(?!kernels/cuda/cuda\\.test\\.ts$).*',
  'runtime/.*',
  'model-import/.*',
  'client-sdk/src/.*',
  'client-sdk/test/(?:dicom|dicom-codestream|preprocessing|malicious-io|outputs|security|input-range|compare-bound|bundle|cli)\\.test\\.ts',
  'bench/(?:zoo-precision|report|run-stats|peers/peers)\\.test\\.ts',
  'scripts/cost-table\\.test\\.ts',
  'parties/(?:frame-codec|model-source|model-info-preprocessing|single-use|weight-masks-state|run-view)\\.test\\.ts',
].join('|') + ')$');

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const FILES = FOLDERS.flatMap((d) => (readdirSync(`${ROOT}${d}`, { recursive: true }) as string[]).map((f) => `${d}/${f}`))
  .filter((f) => f.endsWith('.test.ts') && !f.split('/').includes('node_modules')).sort();

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The runtime layer hands protocol/ its kernels (native addon, AES-NI PRG) as a party server's would.
    setupFiles: ['test/testing/setup-runtime.ts'],
    projects: [
      { extends: true, test: { name: 'in-process', include: FILES.filter((f) => IN_PROCESS.test(f)), maxWorkers: Math.max(2, availableParallelism() - 1), sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'processes', include: FILES.filter((f) => !IN_PROCESS.test(f)), sequence: { groupOrder: 1 } } },
    ],
  },
});
