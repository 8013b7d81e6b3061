/**
 * Does the run-time range sentinel catch a real model's overflows? One model,
 * its input scaled by k (beyond the import samples' range), the three parties
 * in one process on the 32-bit radix-4 ring: one run without the sentinel,
 * compared with the float64 plaintext model (max |error| of the logits, same
 * top class or not), the same on the 64-bit ring (what the error would be
 * without any comparison overflow: the rest is the fixed-point encoding's),
 * and `reps` runs with the sentinel (fresh sample positions each run),
 * counting how many the client would refuse (s != 0). TRUNC=exact: exact
 * truncation (default local).
 *
 *   npx tsx bench/range-sentinel-detect.ts [mobilenetv3small|seedcnn] [scales = 1,4,16,64] [reps = 5]
 */
import '../runtime/install.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { secureForwardChecked } from '../protocol/layers/sentinel-forward.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf } from '../protocol/layers/types.js';
import { plainForward } from '../protocol/reference/forward.js';
import { seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { ZOO_FIXTURES, zooInput, zooModel } from './zoo-models.js';

const key = process.argv[2] ?? 'mobilenetv3small';
const scales = (process.argv[3] ?? '1,4,16,64').split(',').map(Number);
const reps = Number(process.argv[4] ?? 5);
if (key !== 'seedcnn' && !(key in ZOO_FIXTURES)) throw new Error(`range-sentinel-detect: unknown model '${key}'`);
const ir = key === 'seedcnn' ? seedCnn() : await zooModel(key);
const f = key === 'seedcnn' ? 13 : ZOO_FIXTURES[key]!.fracBits;
const base = key === 'seedcnn' ? uniform(seededPrg(11), sizeOf(ir.inputShape), 0.5).map((v) => v + 0.5) : zooInput(key, 1);
const k = getKernels();
const parts = shareModel(k, ir, f);
const opts = { fracBits: f, compareBits: 32, compareRadix: 4, truncation: process.env.TRUNC === 'exact' ? 'exact' : 'local' } as const;
const argmax = (a: ArrayLike<number>): number => { let b = 0; for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i; return b; };
console.log(`${key}: ${ir.nodes.length} layers, f = ${f}, truncation ${opts.truncation}, kernels ${k.name}, ${reps} runs with the sentinel per scale`);
for (const scale of scales) {
  const input = base.map((v) => v * scale);
  const xs = shareFor3(encode(input, f));
  const x = (p: 0 | 1 | 2) => ({ shape: [1, ...ir.inputShape], data: xs[p] });
  const want = plainForward(ir, input, 1).data;
  const errOn = async (bits: 32 | 64) => {
    const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], x(ctx.party)), { ...opts, compareBits: bits });
    const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), f);
    return { got, err: Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]!))) };
  };
  const { got, err } = await errOn(32), wide = await errOn(64);
  let refused = 0, checked = 0;
  for (let i = 0; i < reps; i++) {
    const c = await run3((ctx) => secureForwardChecked(ctx, parts[ctx.party], x(ctx.party)), opts);
    checked = c.results[0].checked;
    if (reconstruct(k, c.results[0].sentinel, c.results[1].sentinel)[0] !== 0n) refused++;
  }
  const scaleOut = Math.max(...Array.from(want, Math.abs));
  console.log(`scale ${scale}: without the sentinel max |logit error| ${err.toPrecision(3)} (64-bit ring: ${wide.err.toPrecision(3)}; logits up to ${scaleOut.toPrecision(3)}), top class ${argmax(got) === argmax(want) ? 'right' : 'WRONG'}; with it: refused ${refused} of ${reps} (${checked} values checked per run)`);
}
