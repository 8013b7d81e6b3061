/**
 * A secure-run defect the onnxruntime probe (onnx-oracle.ts) surfaced, reduced
 * to three single-activation models (protocol/, not the importer): with P1's
 * input share exactly 0 (what zero_padding2d leaves in its padded cells, and
 * P0-only public constants after it), the secure LeakyReLU returns about
 * -2^27 and HardSigmoid 0 for x >= 0, while ReLU is right and the plaintext
 * and fixed-point simulation agree with the spec. Found as
 * Pad -> LeakyRelu (the padded cell) and Pad -> HardSigmoid (0 instead of 0.5).
 * Root cause: the local truncation after the 24-bit public products
 * (protocol/primitives/truncate.ts says when SecureML's rule fails), not the
 * comparisons; fixed there by re-randomising the sharing first. Kept as a
 * check: exit 0 now, 1 if it reproduces again.
 *
 *   npx tsx bench/onnx-oracle-secure-repro.ts
 */
import path from 'node:path';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import type { AShare, PartyId } from '../protocol/ring/types.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3 } from '../protocol/testing/run3.js';
import { loadBundle, writeBundles } from '../model-import/bundle.js';
import { referenceLogits } from '../model-import/reference.js';
import { tempDir } from '../model-import/testing/fixtures.js';
import { loadOnnx } from '../model-import/onnx/load.js';
import { attr, buildModel, node } from '../model-import/testing/onnx.js';

const tmp = tempDir('secure-repro-');
let bad = 0;
try {
  for (const [op, attrs] of [['Relu', []], ['LeakyRelu', [attr('alpha', { float: 0.1 })]], ['HardSigmoid', [attr('alpha', { float: 1 / 6 })]]] as const) {
    const { ir } = loadOnnx(buildModel({ dims: [1, 1, 4], nodes: [node(op, ['x'], ['y'], [...attrs])] }));
    const out = path.join(tmp.dir, op);
    writeBundles({ ir, sourceHash: op }, out, { fracBits: 13 });
    const models = ([0, 1, 2] as PartyId[]).map((p) => loadBundle(out, p).model);
    const x = Float32Array.from([0, 0.5, -0.5, 1]);
    // P0 holds the encoded value, P1 (and P2's placeholder) zeros: a valid sharing, but not a random one.
    const xs = [encode(x, 13), new BigUint64Array(4), new BigUint64Array(4)] as AShare[];
    const r = await run3((ctx) => secureForward(ctx, models[ctx.party]!, { shape: [1, 1, 4, 1], data: xs[ctx.party]! }), { fracBits: 13 });
    const got = decode(reconstruct(getKernels(), r.results[0].data, r.results[1].data), 13), want = referenceLogits(ir, x, 1);
    const err = Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!)));
    if (err > 0.01) bad++;
    console.log(`${op.padEnd(12)} secure ${Array.from(got, (v) => v.toFixed(3)).join(' ')}  plaintext ${Array.from(want, (v) => v.toFixed(3)).join(' ')}  ${err > 0.01 ? 'WRONG' : 'ok'}`);
  }
} finally {
  tmp.cleanup();
}
process.exitCode = bad ? 1 : 0;
