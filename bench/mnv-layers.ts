/**
 * MobileNetV3-Small (../shared/fixtures/zoo) at its golden X-ray input scaled
 * by k: every layer's fixed-point output (model-import/fixed-sim.ts's
 * arithmetic, which the secure runner computes: bench/mnv-secure.ts checks
 * that) against float64, then which rounding carries the logits' error:
 * float64 with only the weights rounded to 2^-f, or only the activations.
 * Prints each layer's max |float| and max |error|, the first layer whose
 * error passes 1% of its magnitude, and the attribution. README "Numeric limits".
 *
 *   F=13 npx tsx bench/mnv-layers.ts [scales = 1,2,4] [all: print every layer]
 */
import { fixedArith, floatArith } from '../protocol/ir-kit/arith.js';
import { forwardIR } from '../protocol/ir-kit/forward.js';
import type { FloatTensor } from '../protocol/ir.js';
import { zooInput, zooModel } from './zoo-models.js';

const ir = await zooModel('mobilenetv3small');
const f = Number(process.env.F ?? 13);
const all = process.argv[3] === 'all';
const base = zooInput('mobilenetv3small', 1);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };
console.log(`mobilenetv3small: ${ir.nodes.length} IR nodes, f = ${f}`);
for (const scale of (process.argv[2] ?? '1,2,4').split(',').map(Number)) {
  const input = base.map((v) => v * scale);
  const fl = new Map<string, Float64Array>();
  const want = forwardIR(ir, input, 1, floatArith, (n, v) => fl.set(n, Float64Array.from(v.data))).data;
  const ar = fixedArith({ fracBits: f });
  let first = '', maxAct = 0;
  const got = forwardIR(ir, input, 1, ar, (n, v) => {
    const w = fl.get(n)!;
    let err = 0, mx = 0;
    for (let i = 0; i < w.length; i++) { err = Math.max(err, Math.abs(ar.decode(v.data[i]!) - w[i]!)); mx = Math.max(mx, Math.abs(w[i]!)); }
    maxAct = Math.max(maxAct, mx);
    const node = ir.nodes.find((x) => x.name === n)!;
    const line = `${n} ${node.kind}${'activation' in node && node.activation !== 'linear' ? `/${node.activation}` : ''}: max |float| ${mx.toPrecision(3)}, max |error| ${err.toPrecision(3)}`;
    if (!first && err > 0.01 * mx) first = line;
    if (all) console.log(`  x${scale} ${line}`);
  }).data.map((v) => ar.decode(v));
  const q = (v: number) => Math.round(v * 2 ** f) / 2 ** f;
  const wOnly = forwardIR(ir, input, 1, { ...floatArith, weights: (t: FloatTensor) => t.data.map(q) }).data;
  const aOnly = forwardIR(ir, input, 1, { ...floatArith, encode: q, product: q }).data;
  console.log(`x${scale}: max |activation| ${maxAct.toPrecision(3)}, logits [${Array.from(want, (v) => v.toPrecision(4))}], fixed-point error ${maxAbs(got, want).toPrecision(3)}; weights rounded alone ${maxAbs(wOnly, want).toPrecision(3)}, activations rounded alone ${maxAbs(aOnly, want).toPrecision(3)}; first layer past 1%: ${first || 'none'}`);
}
