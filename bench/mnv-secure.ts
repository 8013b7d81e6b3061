/**
 * MobileNetV3-Small (../shared/fixtures/zoo) over shares, three parties in
 * one process on the 64-bit comparison ring, at its golden input scaled by
 * k (or on an in-range stress image, model-import/stress-inputs.ts, by name):
 * secure vs float64 logits, and the fixed-point simulation's error beside it
 * (same arithmetic: the two must agree in size). Specs input:f:truncation[:ring
 * bits, default 64 (32: radix 4, as imported)].
 *
 *   npx tsx bench/mnv-secure.ts [4:13:local,4:20:exact,1:13:local,checker8:13:local:32]
 */
import '../runtime/install.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { plainForward } from '../protocol/reference/forward.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { fixedLogits } from '../model-import/fixed-sim.js';
import { stressValues } from '../model-import/stress-inputs.js';
import { zooInput, zooModel } from './zoo-models.js';
const ir = await zooModel('mobilenetv3small');
const k = getKernels();
const base = zooInput('mobilenetv3small', 1);
for (const spec of (process.argv[2] ?? '4:13:local,4:20:exact,1:13:local,checker8:13:local:32').split(',')) {
  const [s, fs, tr, bs] = spec.split(':');
  const f = Number(fs), bits = (bs === '32' ? 32 : 64) as 32 | 64;
  const stress = stressValues(ir.inputShape, 0, 255).find((x) => x.name === s);
  if (!stress && !Number.isFinite(Number(s))) throw new Error(`mnv-secure: '${s}' is neither a scale nor a stress image (${stressValues([1, 1, 1], 0, 1).map((x) => x.name).join(', ')})`);
  const input = stress ? Float64Array.from(stress.input) : base.map((v) => v * Number(s));
  const parts = shareModel(k, ir, f);
  const xs = shareFor3(encode(input, f));
  const t0 = Date.now();
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...ir.inputShape], data: xs[ctx.party] }), { fracBits: f, compareBits: bits, compareRadix: 4, truncation: tr as 'local' | 'exact' });
  const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), f);
  const want = plainForward(ir, input, 1).data;
  const sim = fixedLogits(ir, input, 1, { fracBits: f, rounding: 'stochastic' });
  const e = (g: ArrayLike<number>, w: ArrayLike<number>) => Math.max(...Array.from(g, (v, i) => Math.abs(v - w[i]!))).toPrecision(3);
  console.log(`${stress ? s : `x${s}`} f=${f} ${tr} ${bits}-bit ring: float [${Array.from(want, (v) => v.toPrecision(4))}] secure [${Array.from(got, (v) => v.toPrecision(4))}] |secure-float| ${e(got, want)}, fixed-sim |sim-float| ${e(sim, want)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
