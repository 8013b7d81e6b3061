/** The malicious-mode core (docs/MALICIOUS.md; README.md here): arithmetic, weights, the runner and the client I/O. Not served by the parties yet. */
export * from './ring128.js';
export * from './gemm128.js';
export * from './rep.js';
export * from './session.js';
export * from './product.js';
export * from './open.js';
export * from './input.js';
export * from './mac-check.js';
export * from './tensor.js';
export * from './weights.js';
export * from './primitives.js';
export * from './runner.js';
export * from './client-io.js';
export * from './mvec.js';
export * from './randbits.js';
export * from './trunc.js';
