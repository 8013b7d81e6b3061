/**
 * Benchmark knob (parties/README.md): PARTY_FUSE_RELU_MAXPOOL=1 makes this party run a ReLU that the runner moves
 * after a MaxPool inside the pool's last comparison pass (protocol/primitives/relu-max-pairs.ts, the runner's
 * ForwardOptions.fuseReluIntoMaxPool: 3 rounds fewer per such pool, more bytes from P2). Off by default: on the
 * 2-core benchmark machine the fused seed CNN was slower (BENCHMARKS.md). The three parties must all set it or none:
 * each party announces it at the link HELLO (party.ts settings, link-hello.ts `fuseReluIntoMaxPool`, must-match; a
 * peer that does not announce it counts as off), so peers that differ never link: E_SETTINGS_MISMATCH naming it at
 * both ends, /readyz 503, before any run. (Within a run a mismatch fails with a coded error, E_SHAPE,
 * E_PROTOCOL_DESYNC or its deadline: relu-maxpool-fused-limit.test.ts.)
 */
export const fuseReluIntoMaxPool = (env: NodeJS.ProcessEnv = process.env): boolean => env.PARTY_FUSE_RELU_MAXPOOL === '1';

/**
 * Benchmark knob: PARTY_FUSE_RELU_DENSE=1 makes this party run a dense layer's ReLU inside the next small dense layer's
 * product in runs with the weights' mask kept (protocol/primitives/relu-dense.ts, ForwardOptions.fuseReluIntoDense:
 * Network A 9 -> 8 rounds, 24 K N bytes per image from P2 instead of the opening of E). Off by default. The same rule
 * as above, agreed at HELLO the same way (link-hello.ts `fuseReluIntoDense`). Here the HELLO check is the only
 * safeguard worth the name: within a run (three parties, memory transports, s43-rrounds review), P0 alone fusing left
 * P1 waiting for dense_2's opening, and P0 alone not fusing left P0 waiting for it, with no protocol error (only the
 * run's deadline ends it); the other four mismatches end in E_PROTOCOL_DESYNC at P1.
 */
export const fuseReluIntoDense = (env: NodeJS.ProcessEnv = process.env): boolean => env.PARTY_FUSE_RELU_DENSE === '1';

/** Both knobs as the runner's ForwardOptions (run-executor.ts for clients' runs, warmup-forward.ts for the warm-up's). */
export const fuseOptions = (env: NodeJS.ProcessEnv = process.env): { fuseReluIntoMaxPool: boolean; fuseReluIntoDense: boolean } =>
  ({ fuseReluIntoMaxPool: fuseReluIntoMaxPool(env), fuseReluIntoDense: fuseReluIntoDense(env) });
