/**
 * The plaintext forward pass of the layer IR (protocol/ir-kit/forward.ts) on
 * real models: what model-import's reference, fixed-point simulation and
 * precision chooser, and the model tests, spend most of their time in.
 *
 *   npx tsx bench/forward-pass.ts [--reps 5] [--baseline DIR] [MODEL_FILE ...]
 *
 * Default models: nakul-pneumonia256 (Conv2D), mobilenetv3small (depthwise
 * and 1x1 Conv2D), unet-128 (Conv2D, Conv2DTranspose) from ../shared/fixtures.
 * Per model: a float64 (Keras float32 weights) and a fixed-point (f = 16)
 * pass on a real X-ray, --reps times. --baseline DIR: another checkout of
 * this repository (e.g. `git worktree add /tmp/base <commit>`); its
 * forward.ts runs in turn with this one (A, B, A, B, ... in one process, so
 * a shared machine's load hits both alike), the outputs must be equal bit for
 * bit, and the ratio of the minimum times is printed.
 */
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readImageInput } from '../model-import/images.js';
import { loadModel } from '../model-import/load.js';
import * as arith from '../protocol/ir-kit/arith.js';
import * as forward from '../protocol/ir-kit/forward.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'fixtures');
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const reps = Number(opt('--reps') ?? 5);
if (!(Number.isInteger(reps) && reps >= 1)) throw new Error(`--reps: a positive integer, got ${opt('--reps')}`);
const baselineDir = opt('--baseline');
const files = argv.filter((a, i) => !a.startsWith('--') && !['--reps', '--baseline'].includes(argv[i - 1] ?? ''));
const models = files.length ? files : [path.join(FIXTURES, 'keras', 'nakul-pneumonia256', 'pneumonia.h5'), path.join(FIXTURES, 'zoo', 'mobilenetv3small', 'model.keras'), path.join(FIXTURES, 'zoo', 'unet-128', 'model.keras')];
const XRAY = path.join(FIXTURES, 'xray', 'NORMAL', 'IM-0001-0001.jpeg');

type Impl = { name: string; forwardIR: typeof forward.forwardIR; kerasFloatArith: typeof arith.kerasFloatArith; fixedArith: typeof arith.fixedArith };
const impls: Impl[] = [{ name: 'this', forwardIR: forward.forwardIR, kerasFloatArith: arith.kerasFloatArith, fixedArith: arith.fixedArith }];
if (baselineDir) {
  const url = (f: string) => pathToFileURL(path.resolve(baselineDir, 'protocol', 'ir-kit', f)).href;
  const [bf, ba] = await Promise.all([import(url('forward.ts')) as Promise<typeof forward>, import(url('arith.ts')) as Promise<typeof arith>]);
  impls.push({ name: 'baseline', forwardIR: bf.forwardIR, kerasFloatArith: ba.kerasFloatArith, fixedArith: ba.fixedArith });
}
const sameBits = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

console.log(`forward pass, ${reps} reps${baselineDir ? `, this checkout and ${baselineDir} in turn` : ''}; ${cpus()[0]?.model ?? 'CPU'} x ${cpus().length}, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
for (const file of models) {
  const { ir } = await loadModel(file);
  const x = readImageInput(XRAY, ir.inputShape, 'unit');
  for (const kind of ['float64', 'fixed f=16'] as const) {
    const ms = impls.map(() => [] as number[]);
    const out: Float64Array[] = [];
    for (let r = 0; r < reps; r++) {
      impls.forEach((im, k) => {
        const ar = kind === 'float64' ? im.kerasFloatArith() : im.fixedArith({ fracBits: 16 });
        const t = performance.now();
        const y = im.forwardIR(ir, x, 1, ar).data;
        ms[k]!.push(performance.now() - t);
        if (r === 0) out[k] = y;
      });
    }
    const min = ms.map((m) => Math.min(...m));
    const cols = impls.map((im, k) => `${im.name} min ${min[k]!.toFixed(0)} ms [${ms[k]!.map((v) => v.toFixed(0)).join(', ')}]`).join('; ');
    const cmp = impls.length > 1 ? `; baseline / this ${(min[1]! / min[0]!).toFixed(2)}x, outputs ${sameBits(out[0]!, out[1]!) ? 'equal bit for bit' : 'DIFFER'}` : '';
    console.log(`${path.basename(path.dirname(file))} ${kind}: ${cols}${cmp}`);
  }
}
