/** The malicious-mode arithmetic core (docs/MALICIOUS.md; README.md here). Not wired into the runner or the parties yet. */
export * from './ring128.js';
export * from './gemm128.js';
export * from './rep.js';
export * from './session.js';
export * from './product.js';
export * from './open.js';
export * from './input.js';
export * from './mac-check.js';
export * from './mvec.js';
export * from './randbits.js';
export * from './bit-ops.js';
export * from './bit-lt.js';
export * from './compare.js';
export * from './maxpool.js';
export * from './argmax.js';
export * from './trunc.js';
