/**
 * The local-truncation risk (expected wrong elements per inference, ir-kit/arith.ts FixedRisk) that a smooth
 * activation's own three truncations per element add (piecewise-poly.ts steps 4-5), which the importer's chooser
 * did not count before (it limits the sum to 1e-6): n elements spread evenly over [-6, 6], per activation and f.
 * Deterministic (no timing).
 *
 *   npx tsx bench/smooth-truncation-risk.ts [n = 100000]
 */
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { fixedArith, type FixedRisk } from '../protocol/ir-kit/arith.js';
import { forwardIR } from '../protocol/ir-kit/forward.js';

const n = Number(process.argv[2] ?? 100000);
const x = Float64Array.from({ length: n }, (_, i) => -6 + (12 * i) / n);
console.log(`n = ${n} elements in [-6, 6]; expected wrong elements per inference from the activation's truncations`);
console.log('activation  f=13      f=16      f=18');
for (const act of ['sigmoid', 'silu', 'tanh', 'gelu'] as const) {
  const m: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [n], output: 'a', outputActivation: 'linear', nodes: [{ kind: 'activation', name: 'a', inputs: ['input'], activation: act }] };
  const cells = [13, 16, 18].map((f) => {
    const risk: FixedRisk = { products: 0, divisions: 0 };
    forwardIR(m, x, 1, fixedArith({ fracBits: f, risk }));
    return risk.products.toExponential(2).padEnd(8);
  });
  console.log(`${act.padEnd(10)}  ${cells.join('  ')}`);
}
