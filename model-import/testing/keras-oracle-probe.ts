/**
 * One step of the differential probe of the Keras importer against tfjs-layers: a random model
 * (keras-oracle-gen.ts) saved as a TF.js Layers file, imported with loadModel (the CLI's entry
 * point), the plaintext reference compared with tfjs's model.predict on a random batch:
 *   'a' imported and equal (max |diff| <= 1e-4 (1 + max |y|)),
 *   'b' refused with a coded MpcError,
 *   'c' imported and DIFFERENT (a defect; or something tfjs does otherwise than Keras),
 *   'tfjs' different where the model holds a bilinear UpSampling2D: tfjs-layers resizes without
 *       half-pixel centres, Keras (tf.image.resize) with them, as the importer does (load.ts now
 *       refuses that layer in a file written by tfjs-layers itself, so these come out as 'b'),
 *   'skip' tfjs could not build or run the model.
 * Used by model-import/keras-oracle-fuzz.test.ts and bench/keras-oracle.ts.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Prg } from '../../protocol/correlated/prg.js';
import { MpcError } from '../../protocol/errors.js';
import { decode, encode } from '../../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../../protocol/kernels/index.js';
import { secureForward } from '../../protocol/layers/runner.js';
import type { PartyId } from '../../protocol/ring/types.js';
import { uniform } from '../../protocol/seed-models.js';
import { reconstruct } from '../../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../../protocol/testing/run3.js';
import { loadBundle, writeBundles } from '../bundle.js';
import { loadModel, type LoadedModel } from '../load.js';
import { modelOutput } from '../output.js';
import { referencePredict } from '../reference.js';
import { randomModel, type Step } from './keras-oracle-gen.js';
import { saveTfjsLayers } from './tfjs-save.js';

export type Verdict = 'a' | 'b' | 'c' | 'tfjs' | 'skip';

export interface Probe {
  verdict: Verdict;
  steps: Step[];
  /** The difference, the refusal (code and message without the layer's name) or tfjs's error. */
  note: string;
  refusal?: string;
  /** For 'a': what the secure run needs. */
  loaded?: LoadedModel;
  x?: Float32Array;
  want?: Float32Array;
}

export const maxAbs = (a: ArrayLike<number>): number => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };
export const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - (b[i] ?? NaN)));
  return Number.isNaN(m) ? Infinity : m;
};

/** Draw, save into `dir` (an empty folder), import and compare one random model. */
export async function probeOne(g: Prg, dir: string, opts: { depth: number; rare: number; batch: number }): Promise<Probe> {
  let gen;
  try {
    gen = randomModel(g, opts.depth, opts.rare);
  } catch (e) {
    return { verdict: 'skip', steps: [], note: `tfjs build: ${(e as Error).message.slice(0, 120)}` };
  }
  const { steps } = gen;
  try {
    const x = Float32Array.from(uniform(g, opts.batch * gen.inputShape.reduce((a, b) => a * b, 1), 1));
    let want: Float32Array;
    try {
      want = tf.tidy(() => (gen.model.predict(tf.tensor(x, [opts.batch, ...gen.inputShape])) as tf.Tensor).dataSync() as Float32Array).slice();
    } catch (e) {
      return { verdict: 'skip', steps, note: `tfjs predict: ${(e as Error).message.slice(0, 120)}` };
    }
    const file = await saveTfjsLayers(gen.model, dir);
    let loaded: LoadedModel;
    try {
      loaded = await loadModel(file);
    } catch (e) {
      if (!(e instanceof MpcError)) throw e;
      const refusal = `${e.code}: ${e.message.replace(/layer #\d+ '[^']*'/, 'layer').replace(/layer '[^']*'/, 'layer').replace(/; supported:.*/, '').slice(0, 140)}`;
      return { verdict: 'b', steps, note: refusal, refusal };
    }
    const d = maxDiff(referencePredict(loaded.ir, x, opts.batch), want);
    const note = `max |diff| ${d.toExponential(2)}`;
    if (d <= 1e-4 * (1 + maxAbs(want))) return { verdict: 'a', steps, note, loaded, x, want };
    return { verdict: steps.some((s) => s.kind === 'UpSampling2D(bilinear)') ? 'tfjs' : 'c', steps, note };
  } finally {
    tf.disposeVariables();
  }
}

/** The secure output (three parties in memory, f = 13) of an imported model on x, after its output activation. */
export async function secureOutput(loaded: LoadedModel, x: Float32Array, batch: number, dir: string): Promise<Float32Array> {
  const f = 13;
  writeBundles(loaded, path.join(dir, 'bundle'), { fracBits: f });
  const models = ([0, 1, 2] as PartyId[]).map((p) => loadBundle(path.join(dir, 'bundle'), p).model);
  const xs = shareFor3(encode(x, f));
  const r = await run3((ctx) => secureForward(ctx, models[ctx.party]!, { shape: [batch, ...loaded.ir.inputShape], data: xs[ctx.party]! }), { fracBits: f });
  return modelOutput(loaded.ir, Float32Array.from(decode(reconstruct(getKernels(), r.results[0].data, r.results[1].data), f)), batch);
}
