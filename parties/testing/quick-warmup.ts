/**
 * The start-up warm-up (parties/warmup.ts) that the multi-process tests give
 * their launches (parties/launch.ts): two runs within 3 s instead of the
 * deployment default (1000 runs or 15 s, there to JIT-compile the protocol
 * before the first patient's image). Two runs still take the warm-up's paths
 * at every party (the first builds the kept weight masks, the second uses
 * them; a run past maxMs is cut), two predictions through the client path
 * (warmup-client.ts) follow them, and the parties still say ready only after
 * it; the default's budget cost CI 4 s (Network A) to 15 s (a 96x96 CNN) per
 * launch, for speed that no test measures.
 */
import type { WarmupOptions } from '../warmup.js';

export const TEST_WARMUP: Readonly<Pick<WarmupOptions, 'runs' | 'maxMs' | 'clientRuns'>> = Object.freeze({ runs: 2, maxMs: 3_000, clientRuns: 2 });
