/**
 * Benchmark knob (parties/README.md): PARTY_FUSE_RELU_MAXPOOL=1 makes this party run a ReLU that the runner moves
 * after a MaxPool inside the pool's last comparison pass (protocol/primitives/relu-max-pairs.ts, the runner's
 * ForwardOptions.fuseReluIntoMaxPool: 3 rounds fewer per such pool, more bytes from P2). Off by default: on the
 * 2-core benchmark machine the fused seed CNN was slower (BENCHMARKS.md). The three parties must all set it or none:
 * it is not agreed at HELLO, and a party without it waits for messages under other tags (or of other sizes) than
 * the others send, so the run fails with a coded error (E_SHAPE, E_PROTOCOL_DESYNC or its deadline), never with a
 * result.
 */
export const fuseReluIntoMaxPool = (env: NodeJS.ProcessEnv = process.env): boolean => env.PARTY_FUSE_RELU_MAXPOOL === '1';

/**
 * Benchmark knob: PARTY_FUSE_RELU_DENSE=1 makes this party run a dense layer's ReLU inside the next small dense layer's
 * product in runs with the weights' mask kept (protocol/primitives/relu-dense.ts, ForwardOptions.fuseReluIntoDense:
 * Network A 9 -> 8 rounds, 24 K N bytes per image from P2 instead of the opening of E). Off by default. The same rule
 * as above: all three parties or none (not agreed at HELLO; a mismatch fails the run with a coded error).
 */
export const fuseReluIntoDense = (env: NodeJS.ProcessEnv = process.env): boolean => env.PARTY_FUSE_RELU_DENSE === '1';
