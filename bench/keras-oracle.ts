/**
 * Differential probe of the Keras importer against tfjs-layers (an independent implementation of
 * the Keras layers): `count` random models from a seeded PRG (model-import/testing/keras-oracle-gen.ts),
 * each saved as a TF.js Layers file, imported with loadModel and its plaintext reference compared
 * with tfjs's model.predict (model-import/testing/keras-oracle-probe.ts: (a) equal, (b) refused with
 * a coded error, (c) DIFFERENT, tfjs != Keras, skipped). With --secure K the first K models of class
 * (a) also run through the three-party secure runner in memory (f = 13), compared with tfjs.
 *
 *   npx tsx bench/keras-oracle.ts --seed 1 --count 200 [--depth 4] [--rare 0.2] [--secure 5] [--verbose]
 *
 * Counts are per layer kind drawn (a model counts once for each kind it holds; 'act X' for each
 * activation inside a layer or Activation layer). Not a timing benchmark.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { seededPrg } from '../protocol/seed-models.js';
import { maxAbs, maxDiff, probeOne, secureOutput, type Verdict } from '../model-import/testing/keras-oracle-probe.js';

tf.env().set('PROD', true);

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

type Row = Record<Verdict, number>;
const zero = (): Row => ({ a: 0, b: 0, c: 0, tfjs: 0, skip: 0 });

async function main(): Promise<void> {
  const seed = arg('seed', 1), count = arg('count', 50), depth = arg('depth', 4), secureN = arg('secure', 0), rare = arg('rare', 0.2);
  const verbose = process.argv.includes('--verbose');
  const g = seededPrg(seed);
  const perKind = new Map<string, Row>();
  const refusals = new Map<string, number>();
  const defects: string[] = [];
  const total = zero();
  let secureDone = 0, secureBad = 0;
  const batch = 2;
  for (let m = 0; m < count; m++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'keras-oracle-'));
    try {
      const p = await probeOne(g, dir, { depth, rare, batch });
      const layers = p.steps.map((s) => `${s.kind} ${s.desc}`).join('\n    ');
      if (p.refusal) refusals.set(p.refusal, (refusals.get(p.refusal) ?? 0) + 1);
      if (p.verdict === 'c') defects.push(`model ${m}: ${p.note}\n    ${layers}`);
      if (p.verdict === 'a' && secureDone < secureN && p.loaded && p.x && p.want) {
        secureDone++;
        const ds = maxDiff(await secureOutput(p.loaded, p.x, batch, dir), p.want);
        if (!(ds <= 0.05 * (1 + maxAbs(p.want)))) { secureBad++; defects.push(`model ${m} SECURE: max |diff| ${ds.toExponential(2)} vs tfjs\n    ${layers}`); }
        p.note += `; secure ${ds.toExponential(2)}`;
      }
      total[p.verdict]++;
      // Activations inside layers and Activation layers count as 'act <name>' too.
      const acts = p.steps.map((s) => (s.kind === 'Activation' ? s.desc : /"activation":"(\w+)"/.exec(s.desc)?.[1])).filter((a): a is string => !!a);
      for (const k of new Set([...p.steps.map((s) => s.kind), ...acts.map((a) => `act ${a}`)])) {
        const r = perKind.get(k) ?? zero();
        r[p.verdict]++;
        perKind.set(k, r);
      }
      if (verbose) console.log(`#${m} ${p.verdict} [${p.steps.map((s) => s.kind).join(' > ')}] ${p.note}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`keras-oracle: seed ${seed}, ${count} models (depth <= ${depth}, rare ${rare}), tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}`);
  console.log(`total: (a) equal ${total.a}, (b) refused ${total.b}, (c) DIFFERENT ${total.c}, tfjs != Keras (bilinear UpSampling2D without half-pixel centres) ${total.tfjs}, skipped (tfjs cannot build/run) ${total.skip}`);
  if (secureN) console.log(`secure runs: ${secureDone}, off from tfjs by > 5%: ${secureBad}`);
  console.log('\nper layer kind (a model counts once for each kind it holds):\nkind                                  a     b     c  tfjs  skip');
  for (const [k, r] of [...perKind].sort()) console.log(`${k.padEnd(34)} ${[r.a, r.b, r.c, r.tfjs, r.skip].map((v) => String(v).padStart(5)).join(' ')}`);
  console.log('\nrefusals:');
  for (const [k, n] of [...refusals].sort((p, q) => q[1] - p[1])) console.log(`${String(n).padStart(4)}  ${k}`);
  console.log(`\ndefects (c): ${defects.length}`);
  for (const d of defects) console.log(d);
}

void main();
