/**
 * Differential probe of the Keras importer against tfjs-layers (an
 * independent implementation of the Keras layers): random models
 * (keras-oracle-gen.ts) are saved as TF.js Layers files (model.json +
 * shard), imported with loadModel (the CLI's entry point), and the
 * plaintext reference (reference.ts) is compared with tfjs's
 * model.predict on random inputs. Each model is
 *   (a) imported and equal (max |diff| <= 1e-4 (1 + max |y|)),
 *   (b) refused with a coded MpcError, or
 *   (c) imported and DIFFERENT: a defect (or a tfjs deviation from Keras;
 *       check Keras's documented semantics before calling it the importer's).
 * With --secure K, the first K models of class (a) also run through the
 * three-party secure runner in memory (f = 13) and are compared with tfjs.
 *
 *   npx tsx bench/keras-oracle.ts --seed 1 --count 200 [--depth 4] [--rare 0.2] [--secure 5] [--verbose]
 *
 * Counts are per layer kind drawn (a model counts for each kind it holds).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { MpcError } from '../protocol/errors.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import type { PartyId } from '../protocol/ring/types.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { loadBundle, writeBundles } from '../model-import/bundle.js';
import { loadModel } from '../model-import/load.js';
import { applyOutputActivation, referencePredict } from '../model-import/reference.js';
import { saveTfjsLayers } from '../model-import/testing/tfjs-save.js';
import { randomModel, type Step } from './keras-oracle-gen.js';

tf.env().set('PROD', true);

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const maxAbs = (a: ArrayLike<number>): number => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => { let m = a.length === b.length ? 0 : Infinity; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - (b[i] ?? NaN))); return Number.isNaN(m) ? Infinity : m; };

type Verdict = 'a' | 'b' | 'c' | 'tfjs' | 'skip';
interface Row { a: number; b: number; c: number; tfjs: number; skip: number }

async function secureCheck(loaded: Awaited<ReturnType<typeof loadModel>>, x: Float32Array, batch: number, dir: string): Promise<Float32Array> {
  const f = 13;
  writeBundles(loaded, path.join(dir, 'bundle'), { fracBits: f });
  const models = ([0, 1, 2] as PartyId[]).map((p) => loadBundle(path.join(dir, 'bundle'), p).model);
  const xs = shareFor3(encode(x, f));
  const r = await run3((ctx) => secureForward(ctx, models[ctx.party]!, { shape: [batch, ...loaded.ir.inputShape], data: xs[ctx.party]! }), { fracBits: f });
  const logits = decode(reconstruct(getKernels(), r.results[0].data, r.results[1].data), f);
  return applyOutputActivation(Float32Array.from(logits), batch, loaded.ir.outputActivation);
}

async function main(): Promise<void> {
  const seed = arg('seed', 1), count = arg('count', 50), depth = arg('depth', 4), secureN = arg('secure', 0), rare = arg('rare', 0.2);
  const verbose = process.argv.includes('--verbose');
  const g = seededPrg(seed);
  const perKind = new Map<string, Row>();
  const refusals = new Map<string, number>();
  const defects: string[] = [];
  const total: Row = { a: 0, b: 0, c: 0, tfjs: 0, skip: 0 };
  let secureDone = 0, secureBad = 0;
  const batch = 2;
  for (let m = 0; m < count; m++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'keras-oracle-'));
    let steps: Step[] = [];
    let verdict: Verdict = 'skip';
    let note = '';
    try {
      let gen;
      try {
        gen = randomModel(g, depth, rare);
      } catch (e) {
        note = `tfjs build: ${(e as Error).message.slice(0, 120)}`;
        throw e;
      }
      steps = gen.steps;
      const per = gen.inputShape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from(uniform(g, per * batch, 1));
      let want: Float32Array;
      try {
        want = tf.tidy(() => (gen.model.predict(tf.tensor(x, [batch, ...gen.inputShape])) as tf.Tensor).dataSync() as Float32Array).slice();
      } catch (e) {
        note = `tfjs predict: ${(e as Error).message.slice(0, 120)}`;
        throw e;
      }
      const file = await saveTfjsLayers(gen.model, dir);
      let loaded;
      try {
        loaded = await loadModel(file);
      } catch (e) {
        if (!(e instanceof MpcError)) throw e;
        verdict = 'b';
        const key = `${e.code}: ${e.message.replace(/layer #\d+ '[^']*'/, 'layer').replace(/; supported:.*/, '').slice(0, 140)}`;
        refusals.set(key, (refusals.get(key) ?? 0) + 1);
        note = key;
      }
      if (loaded) {
        const got = referencePredict(loaded.ir, x, batch);
        const d = maxDiff(got, want), tol = 1e-4 * (1 + maxAbs(want));
        verdict = d <= tol ? 'a' : 'c';
        note = `max |diff| ${d.toExponential(2)}`;
        // tfjs-layers' bilinear UpSampling2D calls resizeBilinear without half_pixel_centers; Keras (tf.image.resize) uses them, as the importer does.
        if (verdict === 'c' && steps.some((s) => s.kind === 'UpSampling2D(bilinear)')) verdict = 'tfjs';
        if (verdict === 'c') defects.push(`model ${m}: ${note}\n    ${steps.map((s) => `${s.kind} ${s.desc}`).join('\n    ')}`);
        if (verdict === 'a' && secureDone < secureN) {
          secureDone++;
          const sec = await secureCheck(loaded, x, batch, dir);
          const ds = maxDiff(sec, want);
          if (!(ds <= 0.05 * (1 + maxAbs(want)))) { secureBad++; defects.push(`model ${m} SECURE: max |diff| ${ds.toExponential(2)} vs tfjs\n    ${steps.map((s) => `${s.kind} ${s.desc}`).join('\n    ')}`); }
          note += `; secure ${ds.toExponential(2)}`;
        }
      }
    } catch (e) {
      if (verdict !== 'skip' || !note) { verdict = 'c'; note = `unexpected ${(e as Error).name}: ${(e as Error).message.slice(0, 160)}`; defects.push(`model ${m}: ${note}\n    ${steps.map((s) => `${s.kind} ${s.desc}`).join('\n    ')}`); }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      tf.disposeVariables();
    }
    total[verdict]++;
    // Activations inside layers and Activation layers count as 'act <name>' too.
    const acts = steps.map((s) => (s.kind === 'Activation' ? s.desc : /"activation":"(\w+)"/.exec(s.desc)?.[1])).filter((a): a is string => !!a && a !== 'branch');
    for (const k of new Set([...steps.map((s) => s.kind), ...acts.map((a) => `act ${a}`)])) {
      const r = perKind.get(k) ?? { a: 0, b: 0, c: 0, tfjs: 0, skip: 0 };
      r[verdict]++;
      perKind.set(k, r);
    }
    if (verbose) console.log(`#${m} ${verdict} [${steps.map((s) => s.kind).join(' > ')}] ${note}`);
  }
  console.log(`keras-oracle: seed ${seed}, ${count} models (depth <= ${depth}), tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}`);
  console.log(`total: (a) equal ${total.a}, (b) refused ${total.b}, (c) DIFFERENT ${total.c}, tfjs != Keras (bilinear UpSampling2D without half-pixel centres) ${total.tfjs}, skipped (tfjs cannot build/run) ${total.skip}`);
  if (secureN) console.log(`secure runs: ${secureDone}, off from tfjs by > 5%: ${secureBad}`);
  console.log('\nper layer kind (a model counts once for each kind it holds):\nkind                              a     b     c  tfjs  skip');
  for (const [k, r] of [...perKind].sort()) console.log(`${k.padEnd(30)} ${String(r.a).padStart(5)} ${String(r.b).padStart(5)} ${String(r.c).padStart(5)} ${String(r.tfjs).padStart(5)} ${String(r.skip).padStart(5)}`);
  console.log('\nrefusals:');
  for (const [k, n] of [...refusals].sort((p, q) => q[1] - p[1])) console.log(`${String(n).padStart(4)}  ${k}`);
  console.log(`\ndefects (c): ${defects.length}`);
  for (const d of defects) console.log(d);
}

void main();
