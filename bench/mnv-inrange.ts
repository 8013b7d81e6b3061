/**
 * MobileNetV3-Small (../shared/fixtures/zoo) on in-range inputs (pixels 0..255;
 * the model rescales inside): the two golden X-rays, constant white / black /
 * grey, 0/255 checkerboards and stripes, the 38 real X-rays of
 * ../shared/fixtures/xray resized as the SDK does (model-import/images.ts) and
 * their inverses; for each, the fixed-point simulation at f (one draw of the
 * protocol's stochastic rounding) against float64: logits, max |activation|,
 * logit and probability error, label. README "Numeric limits".
 *
 *   F=13 npx tsx bench/mnv-inrange.ts
 */
import { zooInput, zooModel } from './zoo-models.js';
import { fixedArith, floatArith } from '../protocol/ir-kit/arith.js';
import { forwardIR } from '../protocol/ir-kit/forward.js';
import { softmaxRows } from '../protocol/reference/forward.js';
import { listImages, readImageInput } from '../model-import/images.js';
const ir = await zooModel('mobilenetv3small');
const f = Number(process.env.F ?? 13);
const [H, W, C] = ir.inputShape as [number, number, number];
const n = H * W * C;
const cases: [string, Float64Array][] = [];
cases.push(['golden0', zooInput('mobilenetv3small', 1, 0)], ['golden1', zooInput('mobilenetv3small', 1, 1)]);
cases.push(['white', new Float64Array(n).fill(255)], ['black', new Float64Array(n)], ['grey128', new Float64Array(n).fill(128)]);
for (const p of [1, 2, 4, 8, 16, 32]) cases.push([`checker${p}`, Float64Array.from({ length: n }, (_, i) => { const px = Math.floor(i / C); const y = Math.floor(px / W), x = px % W; return ((Math.floor(y / p) + Math.floor(x / p)) & 1) ? 255 : 0; })]);
for (const p of [2, 8, 32]) cases.push([`stripes${p}`, Float64Array.from({ length: n }, (_, i) => { const px = Math.floor(i / C); return (Math.floor((px % W) / p) & 1) ? 255 : 0; })]);
cases.push(['halfwhite', Float64Array.from({ length: n }, (_, i) => (Math.floor(i / C) % W) < W / 2 ? 255 : 0)]);
for (const file of listImages(['../shared/fixtures/xray'])) {
  const x = Float64Array.from(readImageInput(file, [H, W, C], 'raw'));
  cases.push([file.split('/').slice(-2).join('/'), x]);
  cases.push([file.split('/').slice(-2).join('/') + ':inv', x.map((v) => 255 - v)]);
}
const argmax = (a: ArrayLike<number>) => (a[1]! > a[0]! ? 1 : 0);
let worst = 0, worstP = 0;
for (const [name, input] of cases) {
  const fl = forwardIR(ir, input, 1, floatArith).data;
  let maxAct = 0;
  forwardIR(ir, input, 1, floatArith, (_n, v) => { for (const t of v.data) if (Math.abs(t) > maxAct) maxAct = Math.abs(t); });
  const ar = fixedArith({ fracBits: f, rounding: 'stochastic' });
  const fx = Array.from(forwardIR(ir, input, 1, ar).data, (v) => ar.decode(v));
  const err = Math.max(...fx.map((v, i) => Math.abs(v - fl[i]!)));
  const pf = softmaxRows(Float64Array.from(fl), fl.length), px = softmaxRows(Float64Array.from(fx), fx.length);
  const perr = Math.max(...Array.from(px, (v, i) => Math.abs(v - pf[i]!)));
  worst = Math.max(worst, err); worstP = Math.max(worstP, perr);
  console.log(`${name}: logits [${Array.from(fl, (v) => v.toPrecision(3))}] max|act| ${maxAct.toPrecision(3)} fixed f=${f} logit err ${err.toPrecision(3)} prob err ${perr.toPrecision(3)} label ${argmax(fx) === argmax(fl) ? 'same' : 'FLIPPED'}`);
}
console.log(`f = ${f}: worst logit error ${worst.toPrecision(3)}, worst probability error ${worstP.toPrecision(3)} over ${cases.length} inputs`);
