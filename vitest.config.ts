import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['protocol/**/*.test.ts', 'runtime/**/*.test.ts', 'scripts/**/*.test.ts', 'model-import/**/*.test.ts', 'parties/**/*.test.ts', 'client-sdk/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The runtime layer hands protocol/ its kernels (native addon, AES-NI PRG) as a party server's would.
    setupFiles: ['test/testing/setup-runtime.ts'],
  },
});
