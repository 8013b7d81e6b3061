/**
 * End-to-end differential probe: random Keras models (model-import/testing/keras-oracle-gen.ts, tfjs-layers)
 * through the WHOLE path, compared with tfjs's model.predict:
 *   1. the model saved as a TF.js Layers file and imported with the real mpc-import command line
 *      (--random N samples: the precision chooser, ring, truncation; the output activation and labels as
 *      the importer reads them from the model; --report-json for the error it measured);
 *   2. three party processes serving the bundle (test/testing/e2e.ts startParties: parties/launch.ts, mTLS);
 *   3. the Node SDK on random tensors at batch 1 and 2, on random PNGs (image inputs; a preprocessing drawn from
 *      none / tf / raw / torch / caffe, computed for tfjs from its definition), and in the label mode at batch 2;
 *   4. a verdict per model: 'equal', 'refused' (a coded error from mpc-import or the parties), 'skip' (tfjs
 *      cannot build/run it, or the importer's own reference is already off tfjs: keras-oracle's ground), or
 *      'DIFFERENT' with the stage: reference (importer vs tfjs), secure (SDK logits vs the importer's reference
 *      beyond the tolerance), post (the SDK's probabilities/labels/masks vs the activation applied to its own logits).
 *
 *   5. with probability --keras (0.3), the imported IR is written back as a Keras 3 .keras archive
 *      (model-import/keras-from-ir.ts) and THAT file goes through mpc-import (the .keras reader's path); with
 *      probability --h5 (0), as a legacy .h5 (Keras 2 / 2.1.4 list-style config; chains only: e2e-oracle-paths.ts);
 *   6. with probability --c64 (0), --compare-bits 64 (the 64-bit comparison ring; the chooser picks 32 for these models);
 *   7. with probability --other (0), an image input is also sent as a PNG/JPEG of another size and colour layout,
 *      checked against the reference on the SDK's own preprocessed tensor (the secure stage, not the resize);
 *   8. with probability --policy (0), an import-time output policy (--output-mode label | label+confidence,
 *      --decision-thresholds, --confidence-thresholds): a logits request must be refused (coded), and the model's
 *      label-mode answers at batch 3 are checked against the thresholds on the reference logits and tfjs's probabilities.
 *   9. with probability --malicious (0), the malicious mode: mpc-import --replicated, the three parties configured
 *      security 'malicious' (mask pool on or off, drawn); the same checks on logits, and every answer must come from
 *      the malicious runner (its 'malicious run done' lines, no semi-honest 'run done'); the label modes and an
 *      import-time label policy must be refused (E_SECURITY_MODE, or E_PRIVACY_POLICY for a logits request on a
 *      label-only model); a model the malicious runner cannot run is refused at load (coded) and counted so;
 *      With probability --cheat (0) of those, one party runs with the test-only cheating switch (one altered
 *      message in its first session, or its first offline batch): that prediction must end in E_INTEGRITY (or, where
 *      no message had the drawn tag prefix, be right), and every prediction after it must be right;
 *  10. --inputs png16,exif,dicom,resize (none): for image inputs, a drawn resize / png16 / orientation recorded at
 *      import and --inputs-per (1) files of each kind sent through the parties (one alone, then all in one batch),
 *      the model input computed independently by Pillow 9.4 / pydicom 2.3.1 (e2e-oracle-inputs.ts: a 'preproc'
 *      stage compares the SDK's pixels with it; E2E_ORACLE_KEEP=DIR keeps each model's files).
 *   Tensors go at batch 1 and --batch (2); the request-level label mode at batch --batch too.
 *
 *   nice -n 10 npx tsx bench/e2e-oracle.ts --seed 1 --count 20 [--depth 3] [--rare 0.1] [--samples 16] [--keras 0.3]
 *       [--h5 0 [--h5-keras 2.1.4]] [--c64 0] [--other 0] [--policy 0] [--batch 2] [--malicious 0 [--cheat 0]]
 *       [--inputs png16,exif,dicom,resize [--inputs-per 1]] [--arch random|convnet] [--cheat-prefix P] [--only M] [--verbose]
 *  12. --dp [--dp-images 1024] [--dp-labels 256]: instead of models, DP output policies (Laplace and Gaussian, both
 *      samplers) on Network A through the parties: noisy logits and labels against the declared law, the accountants
 *      (bench/e2e-oracle-dp.ts; the CI run is test/e2e-dp.test.ts).
 *  11. --arch convnet: instead of the random small models, conv models of realistic structure (Conv+BN+ReLU blocks,
 *      MaxPool, a residual Add, AveragePool, GlobalAveragePooling, Dense softmax; 32..64 pixels, 1 or 3 channels:
 *      model-import/testing/convnet-gen.ts); the per-model import, party start and prediction times are printed.
 *
 * Tolerance on probabilities/logits: max(4 x the importer's measured max |logit error| on its samples, 2^-(f-4) x (1 + max |y|));
 * a label that differs from tfjs's is a flag where the top two are within twice that, else a difference.
 * Not a timing benchmark.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { writePng } from '../client-sdk/testing/png-writer.js';
import type { BundleManifest } from '../model-import/bundle.js';
import { irToKeras } from '../model-import/keras-from-ir.js';
import { writeKeras3Functional, writeLegacyH5 } from '../model-import/keras-writer.js';
import { loadModel } from '../model-import/load.js';
import { referenceLogits } from '../model-import/reference.js';
import { pick as pickOne, randomModel } from '../model-import/testing/keras-oracle-gen.js';
import { convnetModel } from '../model-import/testing/convnet-gen.js';
import { maxAbs, maxDiff } from '../model-import/testing/keras-oracle-probe.js';
import { saveTfjsLayers } from '../model-import/testing/tfjs-save.js';
import { Prg } from '../protocol/correlated/prg.js';
import { FIXTURES, logTail, sdkClient, startParties, ROOT } from '../test/testing/e2e.js';
import { havePython, inputCheck, INPUT_KINDS, inputPlan, makeInputs, type InputKind } from './e2e-oracle-inputs.js';
import { applyActivation, compareCase, compareLabels, preprocessPixels, type CaseResult, type LabelPolicy } from './e2e-oracle-check.js';
import { chainOf, cheatDraw, h5Style, otherImage, policyFlags, sdkTensor } from './e2e-oracle-paths.js';
import { CHEAT_ENV } from '../parties/malicious-cheat.js';

tf.env().set('PROD', true);
const execFileP = promisify(execFile);
const MPC_IMPORT = path.join(ROOT, 'model-import', 'bin', 'mpc-import.mjs');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** A batch-1 label prediction in the batch shape compareLabels reads. */
type One = { kind: string; index: number; label: string | number; confidenceBucket?: number; decisions?: { index: number; positive: boolean; confidenceBucket?: number }[]; mask?: { mask: Uint8Array; confidenceBuckets?: Uint8Array } };
function toBatch(p: unknown): Parameters<typeof compareLabels>[1] {
  const q = p as One;
  return { kind: q.kind, index: [q.index], label: [q.label], ...(q.confidenceBucket !== undefined ? { confidenceBucket: [q.confidenceBucket] } : {}), ...(q.decisions ? { decisions: [q.decisions] } : {}), ...(q.mask ? { mask: [q.mask] } : {}) };
}

type Verdict = 'equal' | 'refused' | 'skip' | 'DIFFERENT' | 'flag';

interface Opts { arch: 'random' | 'convnet'; cheatPrefix?: string; h5Keras?: string; depth: number; rare: number; samples: number; keras: number; h5: number; c64: number; other: number; policy: number; batch: number; malicious: number; cheat: number; inputs: InputKind[]; inputsPer: number; verbose: boolean }
const draw = (g: Prg, p: number): boolean => g.bytes(1)[0]! < p * 256;

const concat = (xs: Float32Array[]): Float32Array => { const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0)); let k = 0; for (const x of xs) { out.set(x, k); k += x.length; } return out; };

async function one(m: number, g: Prg, o: Opts): Promise<{ verdict: Verdict; note: string; layers: string; detail?: string; inputs?: string[] }> {
  let gen;
  try { gen = o.arch === 'convnet' ? convnetModel(g) : randomModel(g, o.depth, o.rare); } catch (e) { return { verdict: 'skip', note: `tfjs build: ${(e as Error).message.slice(0, 100)}`, layers: '' }; }
  const layers = gen.steps.map((s) => `${s.kind} ${s.desc}`).join('\n    ');
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-oracle-'));
  let parties: Awaited<ReturnType<typeof startParties>> | undefined;
  try {
    const file = await saveTfjsLayers(gen.model, dir);
    // The importer's own parse first: a refusal is counted without starting the CLI.
    let loaded;
    try { loaded = await loadModel(file); } catch (e) { const c = (e as { code?: string }).code; if (c) return { verdict: 'refused', note: `${c} (load)`, detail: (e as Error).message.slice(0, 160), layers }; throw e; }
    const outShape = (gen.model.outputs[0]!.shape.slice(1) as number[]);
    // Sometimes the imported IR written back as a Keras 3 .keras archive (keras-from-ir.ts) and that file imported:
    // the .keras reader on the CLI's path, against the same tfjs oracle.
    let src = file;
    let twin = '';
    const wantH5 = draw(g, o.h5);
    const h5 = h5Style(g, o.h5Keras);
    if (wantH5 || g.bytes(1)[0]! < o.keras * 256) {
      try {
        const fm = irToKeras(loaded.ir, 'twin', loaded.ir.outputActivation);
        const seq = wantH5 ? chainOf(fm) : null;
        if (seq) {
          await writeLegacyH5(path.join(dir, 'twin.h5'), seq, h5.opts);
          src = path.join(dir, 'twin.h5');
          twin = ` ${h5.desc}`;
        } else {
          await writeKeras3Functional(path.join(dir, 'twin.keras'), fm);
          src = path.join(dir, 'twin.keras');
          twin = wantH5 ? ' .keras (not a chain: no .h5)' : ' .keras';
        }
      } catch (e) {
        if (!(e as { code?: string }).code) throw e;
        twin = ` (no twin: ${(e as { code?: string }).code}${wantH5 ? ` wanted ${h5.desc}` : ''})`;
      }
    }
    const args = [src, '--out', path.join(dir, 'bundle'), '--no-progress', '--random', String(o.samples), '--report-json', path.join(dir, 'report.json')];
    // Labels for a 1-D output (two for one sigmoid output), none for the rest; a model that ends in logits gets an
    // output activation on the command line (the one tfjs's output is then put through before the comparison).
    if (outShape.length === 1) args.push('--labels', Array.from({ length: Math.max(2, outShape[0]!) }, (_, i) => `c${i}`).join(','));
    else args.push('--no-labels');
    const added = loaded.ir.outputActivation === 'linear' ? (outShape[outShape.length - 1] === 1 || g.bytes(1)[0]! < 128 ? 'sigmoid' : 'softmax') : undefined;
    if (added) args.push('--output-activation', added);
    // Import options drawn per model: a recorded preprocessing for image inputs, and sometimes exact truncation.
    const ch = loaded.ir.inputShape[2];
    const prepFlag = loaded.preprocessing ? pickOne(g, ch === 3 ? ['', '', 'tf', 'raw', 'torch', 'caffe'] : ['', '', 'tf', 'raw']) : '';
    if (prepFlag) args.push('--preprocessing', prepFlag);
    // --inputs: the recorded resize, png16 and orientation drawn for an image input (only when asked for: draws as before).
    const plan = o.inputs.length && loaded.preprocessing && (ch === 1 || ch === 3) && havePython() ? inputPlan(g, o.inputs, o.inputsPer) : undefined;
    if (plan) args.push(...plan.flags);
    if (g.bytes(1)[0]! < 64) args.push('--truncation', 'exact');
    if (draw(g, o.c64)) args.push('--compare-bits', '64');
    // An import-time output policy: per-element decisions for several sigmoid outputs or a sigmoid / one-channel mask.
    const act = added ?? loaded.ir.outputActivation;
    const perElement = outShape.length >= 2 ? outShape[outShape.length - 1] === 1 || act === 'sigmoid' : act === 'sigmoid' && outShape[0]! > 1;
    const wantPolicy = draw(g, o.policy);
    const policy = policyFlags(g, outShape[outShape.length - 1]!, perElement);
    if (wantPolicy) args.push(...policy.args);
    const wantOther = draw(g, o.other);
    // Malicious mode (--malicious P): replicated weight shares at import, the parties configured 'malicious' (a mask
    // pool on or off); drawn only when asked for, so the models and draws of the runs without it stay as they were.
    const mal = o.malicious > 0 && draw(g, o.malicious);
    const malPool = mal && draw(g, 0.5);
    // --cheat P: one party (test-only switch, parties/malicious-cheat.ts) alters one message of its first session
    // (or, with the pool, sometimes of its first offline batch) whose tag starts with a drawn prefix.
    const drawn = mal && o.cheat > 0 && draw(g, o.cheat) ? cheatDraw(g, malPool) : undefined;
    // --cheat-prefix P: that tag prefix instead of the drawn one in a session (one every party sends, e.g. mal:matmul,
    // so that the cheat always lands); an offline batch's cheat then alters mal:mul (its products' reshares).
    const cheat = drawn && o.cheatPrefix ? { ...drawn, spec: drawn.spec.replace(/:.*$/, `:${drawn.spec.includes('@offline') ? 'mal:mul' : o.cheatPrefix}`) } : drawn;
    if (mal) args.push('--replicated');
    const tIm = performance.now();
    try {
      await execFileP(process.execPath, [MPC_IMPORT, ...args], { cwd: ROOT, maxBuffer: 64 << 20, timeout: 300_000 });
    } catch (e) {
      const x = e as { stderr?: string; stdout?: string };
      const msg = `${x.stderr ?? ''} ${x.stdout ?? ''}`;
      const code = /\b(E_[A-Z0-9_]+)\b/.exec(msg)?.[1];
      if (code) return { verdict: 'refused', note: `${code} (mpc-import)`, detail: /error.*$/m.exec(msg)?.[0].slice(0, 200) ?? '', layers };
      throw new Error(`mpc-import failed without a code: ${(x.stderr ?? '').slice(0, 400)}`);
    }
    const times = [`import ${((performance.now() - tIm) / 1000).toFixed(1)} s`];
    const manifest = JSON.parse(readFileSync(path.join(dir, 'bundle', 'party0', 'manifest.json'), 'utf8')) as BundleManifest;
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as { maxAbsLogitError: number };
    const measured = report.maxAbsLogitError;
    const f = manifest.fracBits;
    const tol = { abs: 4 * measured, rel: 2 ** -(f - 4) };
    // Inputs: tensors in the recorded input range (unit scaling: [0, 1]); PNGs for 1- and 3-channel image inputs recorded as x/255.
    const [h, w, c] = manifest.inputShape as [number, number, number];
    const per = h * w * c;
    const prep = manifest.preprocessing;
    const image = prep !== undefined && (c === 1 || c === 3);
    const [lo, hi] = manifest.inputRange ?? [0, 1];
    const B = Math.max(2, o.batch);
    const pixels = Uint8Array.from(g.bytes(B * per));
    const x2 = image ? preprocessPixels(pixels, c, prep) : Float32Array.from(pixels, (v) => lo + ((hi - lo) * v) / 255);
    const tfPredict = (x: Float32Array, b: number): Float64Array => {
      const raw = tf.tidy(() => (gen.model.predict(tf.tensor(x, [b, h, w, c])) as tf.Tensor).dataSync() as Float32Array).slice();
      return added ? applyActivation(raw, added, outShape) : Float64Array.from(raw);
    };
    const tfOut = tfPredict(x2, B);
    const ref = referenceLogits(loaded.ir, x2, B);
    const refAct = applyActivation(ref, manifest.outputActivation, outShape);
    const dRef = maxDiff(refAct, tfOut);
    if (!(dRef <= 1e-4 * (1 + maxAbs(tfOut)))) return { verdict: 'skip', note: `importer reference vs tfjs ${dRef.toExponential(2)} (keras-oracle ground, not this probe's)`, layers };
    // A bundle for the 64-bit comparison ring needs compareBits 64 in the three parties' config (else E_MODEL_SETTINGS at load).
    const malCfg = mal ? { security: 'malicious' as const, malicious: { poolInferences: malPool ? 1 : 0 }, ...(cheat ? { env: { [cheat.party]: { NODE_ENV: 'test', [CHEAT_ENV]: cheat.spec } } } : {}) } : {};
    const tSt = performance.now();
    try {
      // --arch convnet: a malicious session takes minutes here (its offline phase); before the malicious routes took the
      // client's deadline the parties' 60 s default ended it (E_DEADLINE): kept raised for the offline batches too.
      const long = o.arch === 'convnet' ? { sessions: { defaultDeadlineMs: 600_000, maxDeadlineMs: 600_000 } } : {};
      parties = await startParties(path.join(dir, 'bundle'), { ...(manifest.compareBits === 64 ? { compareBits: 64 } : {}), ...malCfg, ...long });
    } catch (e) {
      // A malicious party refuses at load a model its runner cannot run (checkMaliciousModel): coded, naming the layer.
      const code = mal ? /"code":"(E_[A-Z0-9_]+)"/.exec((e as Error).message)?.[1] : undefined;
      if (code) return { verdict: 'refused', note: `${code} (malicious load)`, detail: /"message":"([^"]{0,200})/.exec((e as Error).message)?.[1] ?? '', layers };
      throw e;
    }
    times.push(`start ${((performance.now() - tSt) / 1000).toFixed(1)} s`);
    const tPr = performance.now();
    const client = sdkClient(parties, { expectedModelHash: manifest.modelHash });
    const cases: CaseResult[] = [];
    const tensor = (b: number, from: number) => ({ data: x2.slice(from * per, (from + b) * per), shape: [b, h, w, c] });
    const sub = (a: Float32Array | Float64Array, from: number, b: number): Float64Array => { const n = a.length / B; return Float64Array.from(a.subarray(from * n, (from + b) * n)); };
    // tfjs's probabilities for the per-element threshold checks (a sigmoid head; linear heads are decided on logits).
    const tfProbs = manifest.outputActivation === 'sigmoid' ? tfOut : undefined;
    let other = '';
    const lp = { outputMode: policy.mode };
    const pol: LabelPolicy = policy.pol;
    /** A request the deployment must refuse with one of `codes` (a coded refusal before any answer); else a problem. */
    const inputs: string[] = [];
    let cheatNote = '';
    const refused = async (name: string, p: Promise<unknown>, codes: string[]): Promise<void> => {
      const got = await p.then(() => null, (e: { code?: string }) => e.code ?? 'uncoded');
      if (got === null || !codes.includes(got)) cases.push({ name, stage: 'post', flag: false, dLogits: 0, detail: `gave ${got ?? 'an answer'}, not ${codes.join(' or ')}` });
    };
    try {
      if (mal && wantPolicy) {
        // The malicious mode serves plain logits only: a label-only model's every request is refused, coded.
        await refused('malicious policy logits b=1', client.predict({ data: x2.slice(0, per), shape: [h, w, c] }), ['E_SECURITY_MODE', 'E_PRIVACY_POLICY']);
        await refused(`malicious policy label b=${B}`, client.predict(tensor(B, 0), { batch: true, privacy: lp }), ['E_SECURITY_MODE']);
        if (!cases.length) return { verdict: 'refused', note: 'E_SECURITY_MODE (malicious: import-time label policy)', layers };
      } else if (wantPolicy) {
        if (cheat) cheatNote = ' (cheat drawn, policy refused first)';
        // A model that releases only labels: a logits request is refused, coded, before any answer.
        const refusedCode = await client.predict({ data: x2.slice(0, per), shape: [h, w, c] }).then(() => null, (e: { code?: string }) => e.code ?? 'uncoded');
        if (refusedCode !== 'E_PRIVACY_POLICY') cases.push({ name: 'policy logits', stage: 'post', flag: false, dLogits: 0, detail: `a logits request on a '${policy.mode}' model gave ${refusedCode ?? 'logits'}, not E_PRIVACY_POLICY` });
        cases.push(compareLabels(`policy b=${B}`, await client.predict(tensor(B, 0), { batch: true, privacy: lp }), sub(ref, 0, B), manifest, outShape, tol, pol, tfProbs && sub(tfProbs, 0, B)));
        cases.push(compareLabels('policy b=1', toBatch(await client.predict({ data: x2.slice(0, per), shape: [h, w, c] }, { privacy: lp })), sub(ref, 0, 1), manifest, outShape, tol, pol, tfProbs && sub(tfProbs, 0, 1)));
      } else {
        if (cheat) {
          // The cheating party's session: E_INTEGRITY (nothing to reconstruct), or, where no message had the prefix,
          // a right answer; either way the predictions after it (a new epoch after an abort) must be right.
          const first = await client.predict({ data: x2.slice(0, per), shape: [h, w, c] }).then((r) => r, (e: { code?: string }) => e.code ?? 'uncoded');
          if (typeof first === 'string') {
            cheatNote = ` cheat ${cheat.spec} -> ${first}`;
            if (first !== 'E_INTEGRITY') cases.push({ name: 'cheat', stage: 'secure', flag: false, dLogits: 0, detail: `a cheating party's session ended with ${first}, not E_INTEGRITY` });
          } else {
            cheatNote = ` cheat ${cheat.spec} -> answer`;
            cases.push(compareCase('cheat b=1', first, sub(ref, 0, 1), sub(tfOut, 0, 1), manifest, outShape, tol));
          }
        }
        const tOne = performance.now();
        const one1 = await client.predict({ data: x2.slice(0, per), shape: [h, w, c] });
        times.push(`one image ${((performance.now() - tOne) / 1000).toFixed(1)} s`);
        cases.push(compareCase('tensor b=1', one1, sub(ref, 0, 1), sub(tfOut, 0, 1), manifest, outShape, tol));
        cases.push(compareCase(`tensor b=${B}`, await client.predict(tensor(B, 0), { batch: true }), sub(ref, 0, B), sub(tfOut, 0, B), manifest, outShape, tol));
        // The label modes of the request (the parties decide inside the protocol; 64-bit output ring unless recorded).
        const lc = draw(g, 0.5);
        if (mal) await refused(`malicious label b=${B}`, client.predict(tensor(B, 0), { batch: true, privacy: { outputMode: lc ? 'label+confidence' : 'label' } }), ['E_SECURITY_MODE']);
        else cases.push(compareLabels(`${lc ? 'label+confidence' : 'label'} b=${B}`, await client.predict(tensor(B, 0), { batch: true, privacy: { outputMode: lc ? 'label+confidence' : 'label' } }), sub(ref, 0, B), manifest, outShape, tol, lc ? { confidence: [1, 3] } : {}, tfProbs && sub(tfProbs, 0, B)));
      }
      if (image && wantOther && !(mal && wantPolicy)) {
        // Another size and colour layout: the SDK resizes/converts; the secure output against the reference on ITS tensor.
        const im = otherImage(g, h, w);
        const xo = await sdkTensor(im.bytes, manifest);
        const refO = Float64Array.from(referenceLogits(loaded.ir, xo, 1));
        const tfO = tfPredict(xo, 1);
        other = ` +${im.desc}`;
        if (wantPolicy) cases.push(compareLabels(`other ${im.desc}`, toBatch(await client.predict(im.bytes, { privacy: lp })), refO, manifest, outShape, tol, pol, manifest.outputActivation === 'sigmoid' ? tfO : undefined));
        else cases.push(compareCase(`other ${im.desc}`, await client.predict(im.bytes), refO, tfO, manifest, outShape, tol));
      }
      if (image && !wantPolicy) {
        const png = (k: number) => writePng({ width: w, height: h, colorType: c === 1 ? 0 : 2, depth: 8, samples: pixels.subarray(k * per, (k + 1) * per) });
        cases.push(compareCase('png b=1', await client.predict(png(1)), sub(ref, 1, 1), sub(tfOut, 1, 1), manifest, outShape, tol));
        cases.push(compareCase('png b=2', await client.predict([png(0), png(1)], { batch: true }), sub(ref, 0, 2), sub(tfOut, 0, 2), manifest, outShape, tol));
      }
      if (image && plan && !wantPolicy) {
        // --inputs: 16-bit PNG, Exif JPEG, DICOM, another size; the model input computed by Pillow / pydicom (e2e-oracle-inputs.ts).
        mkdirSync(path.join(dir, 'inputs'));
        const { made, skipped } = makeInputs(path.join(dir, 'inputs'), plan, manifest, FIXTURES);
        // E2E_ORACLE_KEEP=DIR: the inputs, their expectations and the manifest kept under DIR/<model> for a look after the run.
        if (process.env.E2E_ORACLE_KEEP) cpSync(dir, path.join(process.env.E2E_ORACLE_KEEP, `model-${m}`), { recursive: true });
        inputs.push(...skipped.map((k) => `python-error ${k}`));
        const served: { x: (typeof made)[number]; sdk: Float32Array; exact: Float32Array | undefined }[] = [];
        for (const x of made) {
          const chk = await inputCheck(x, manifest);
          inputs.push(`${chk.verdict} ${x.kind}${chk.refused ? ` ${chk.refused}` : ''}: ${x.desc}${chk.d > 0 ? ` (max |diff| ${chk.d.toFixed(3)} ${chk.where})` : ''}`);
          if (chk.verdict === 'DIFFERENT') cases.push({ name: `preproc ${x.desc}`, stage: 'preproc', flag: false, dLogits: 0, detail: `SDK pixels off the independent ones by ${chk.d} grey levels, ${chk.where}` });
          // A coded refusal of the SDK's own decoder: predict must refuse it too, with the same code, before any share.
          if (chk.refused) await refused(`refused ${x.desc}`, client.predict(x.bytes), [chk.refused.split('/')[0]!]);
          else served.push({ x, sdk: chk.sdk!, exact: chk.verdict === 'equal' ? chk.indep : undefined });
        }
        // Secure output against the reference on the SDK's tensor, tfjs on the independent tensor where they are equal.
        const refOf = (xs: Float32Array[]): Float64Array => Float64Array.from(referenceLogits(loaded.ir, concat(xs), xs.length));
        const tfOf = (xs: Float32Array[]): Float64Array => tfPredict(concat(xs), xs.length);
        if (served.length) {
          const s0 = served[0]!;
          cases.push(compareCase(`${s0.x.kind} b=1 ${s0.x.desc}`, await client.predict(s0.x.bytes), refOf([s0.sdk]), tfOf([s0.exact ?? s0.sdk]), manifest, outShape, tol));
        }
        // All in one batch (the malicious routes take at most 8 images a session: the first 8 there).
        const bat = mal ? served.slice(0, 8) : served;
        if (bat.length > 1) cases.push(compareCase(`inputs b=${bat.length}`, await client.predict(bat.map((s) => s.x.bytes), { batch: true }), refOf(bat.map((s) => s.sdk)), tfOf(bat.map((s) => s.exact ?? s.sdk)), manifest, outShape, tol));
      }
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code) return { verdict: 'refused', note: `${code} (predict: ${(e as Error).message.slice(0, 160)})`, layers, inputs };
      throw new Error(`predict failed: ${String(e)}\n${logTail(parties.logs, 5)}`);
    }
    times.push(`predictions ${((performance.now() - tPr) / 1000).toFixed(1)} s`);
    // The malicious offline batches' own times at P0 (pool on: 'malicious offline batch done' lines).
    const offMs = parties.logs.filter((l) => l.party === 0 && l.line.includes('"msg":"malicious offline batch done"')).map((l) => Number(/"ms":(\d+)/.exec(l.line)?.[1]));
    if (offMs.length) times.push(`offline batches ${offMs.map((v) => (v / 1000).toFixed(1)).join('/')} s`);
    // Every answer of a malicious deployment came through the malicious runner (its log line at each party), never another path.
    const malRuns = parties.logs.filter((l) => l.line.includes('"msg":"malicious run done"')).length;
    const semiRuns = parties.logs.filter((l) => l.line.includes('"msg":"run done"')).length;
    // The cheat: did the switch alter a message ('test cheat: message altered' at that party)? An altered session
    // message must end its prediction in E_INTEGRITY; an altered offline batch must fail ('offline batch failed').
    const altered = parties.logs.filter((l) => l.line.includes('"msg":"test cheat: message altered"'));
    if (cheat) {
      const offline = cheat.spec.includes('@offline');
      cheatNote = `${cheatNote}${altered.length ? ` (altered ${/"tag":"([^"]*)"/.exec(altered[0]!.line)?.[1] ?? '?'})` : ' (no message had the prefix)'}`;
      if (altered.length && !offline && !cheatNote.includes('E_INTEGRITY')) cases.push({ name: 'cheat', stage: 'secure', flag: false, dLogits: 0, detail: `P${cheat.party} altered a message of its session and the prediction was answered` });
      if (altered.length && offline && !parties.logs.some((l) => l.line.includes('"msg":"malicious offline batch failed"'))) cases.push({ name: 'cheat', stage: 'secure', flag: false, dLogits: 0, detail: `P${cheat.party} altered a message of an offline batch and no batch failed` });
    }
    if (mal && ((malRuns === 0 && !cheat) || semiRuns > 0)) cases.push({ name: 'malicious runs', stage: 'post', flag: false, dLogits: 0, detail: `${malRuns} malicious and ${semiRuns} semi-honest 'run done' lines at the parties` });
    const bad = cases.filter((r) => r.stage !== null);
    const flagged = cases.filter((r) => r.flag);
    const note = `${mal ? `MALICIOUS pool ${malPool ? 'on' : 'off'} runs ${malRuns}${cheatNote} ` : ''}f=${f} ${manifest.truncation ?? 'local'} ${manifest.compareBits ?? '-'}-bit act=${manifest.outputActivation} out=[${outShape}] tol=${tol.abs.toExponential(1)}|${tol.rel.toExponential(1)} worst=${Math.max(...cases.map((r) => r.dLogits)).toExponential(1)}${twin}${image ? ` +png${prepFlag ? ` prep=${prepFlag}` : ''}` : ''}${other}${wantPolicy ? ` ${policy.desc}` : ''}${plan && image && !wantPolicy ? ` inputs ${plan.desc}` : ''}${o.arch === 'convnet' ? ` in=[${manifest.inputShape}] ${times.join(', ')}` : ''}`;
    if (bad.length) return { verdict: 'DIFFERENT', note: `${note}\n    ${bad.map((r) => `${r.name}: ${r.stage}: ${r.detail}`).join('\n    ')}`, layers, inputs };
    if (flagged.length) return { verdict: 'flag', note: `${note}; top-2 within tolerance: ${flagged.map((r) => r.name).join(', ')}`, layers, inputs };
    return { verdict: 'equal', note, layers, inputs };
  } finally {
    await parties?.stop();
    // E2E_ORACLE_KEEP=DIR with --arch convnet: every model's files (model, bundle, import report) kept under DIR/<model>.
    if (process.env.E2E_ORACLE_KEEP && o.arch === 'convnet') cpSync(dir, path.join(process.env.E2E_ORACLE_KEEP, `model-${m}`), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    tf.disposeVariables();
  }
}

async function main(): Promise<void> {
  // --dp: the DP output probe instead of random models (bench/e2e-oracle-dp.ts).
  if (process.argv.includes('--dp')) { await (await import('./e2e-oracle-dp.js')).dpMain(process.argv); return; }
  const seed = arg('seed', 1), count = arg('count', 10), depth = arg('depth', 3), rare = arg('rare', 0.1), samples = arg('samples', 16), keras = arg('keras', 0.3);
  const hk = process.argv.indexOf('--h5-keras');
  const extra = { ...(hk >= 0 ? { h5Keras: process.argv[hk + 1]! } : {}), h5: arg('h5', 0), c64: arg('c64', 0), other: arg('other', 0), policy: arg('policy', 0), batch: arg('batch', 2), malicious: arg('malicious', 0), cheat: arg('cheat', 0), inputsPer: arg('inputs-per', 1), inputs: (process.argv.includes('--inputs') ? process.argv[process.argv.indexOf('--inputs') + 1]! : '').split(',').filter(Boolean) as InputKind[] };
  const unknown = extra.inputs.filter((k) => !(INPUT_KINDS as readonly string[]).includes(k));
  if (unknown.length) throw new Error(`--inputs: unknown ${unknown.join(',')} (expected ${INPUT_KINDS.join(',')})`);
  if (extra.inputs.length && !havePython()) console.log('--inputs: /usr/bin/python3 lacks PIL, pydicom or numpy: no inputs beyond the PNGs are sent');
  const verbose = process.argv.includes('--verbose');
  // --arch convnet: conv models of realistic structure (model-import/testing/convnet-gen.ts) instead of the random ones.
  const ai = process.argv.indexOf('--arch');
  const arch = ai >= 0 ? process.argv[ai + 1]! : 'random';
  if (arch !== 'random' && arch !== 'convnet') throw new Error(`--arch: ${arch} (expected random or convnet)`);
  const cpi = process.argv.indexOf('--cheat-prefix');
  const cheatPrefix = cpi >= 0 ? process.argv[cpi + 1]! : undefined;
  // One PRG per model (seed, m): model m is the same whatever the verdicts before it (--only M reruns it alone).
  const modelPrg = (m: number): Prg => { const s = new Uint8Array(16); const v = new DataView(s.buffer); v.setUint32(0, seed); v.setUint32(4, m + 1); return new Prg(s); };
  const only = arg('only', -1);
  const counts: Record<Verdict, number> = { equal: 0, refused: 0, skip: 0, DIFFERENT: 0, flag: 0 };
  const refusals = new Map<string, number>();
  const defects: string[] = [];
  const inputTally = new Map<string, number>();
  const t0 = performance.now();
  for (let m = only >= 0 ? only : 0; m < (only >= 0 ? only + 1 : count); m++) {
    let r;
    try { r = await one(m, modelPrg(m), { arch, ...(cheatPrefix ? { cheatPrefix } : {}), depth, rare, samples, keras, ...extra, verbose }); } catch (e) { r = { verdict: 'DIFFERENT' as Verdict, note: `uncoded failure: ${((e as Error).stack ?? String(e)).slice(0, 900)}`, layers: '' }; }
    counts[r.verdict]++;
    if (r.verdict === 'refused') { const k = r.note.replace(/\(predict: .*\)$/, '(predict)'); refusals.set(k, (refusals.get(k) ?? 0) + 1); }
    for (const line of r.inputs ?? []) {
      const k = line.replace(/:.*$/, '');
      inputTally.set(k, (inputTally.get(k) ?? 0) + 1);
      if (verbose || !line.startsWith('equal')) console.log(`    input: ${line}`);
    }
    if (r.verdict === 'DIFFERENT' || r.verdict === 'flag') defects.push(`model ${m} ${r.verdict}: ${r.note}\n    ${r.layers}`);
    console.log(`#${m} ${r.verdict} ${verbose ? `${r.note}${r.detail ? ` ${r.detail}` : ''}\n    ${r.layers}` : r.note.split('\n')[0]}`);
  }
  console.log(`\ne2e-oracle: seed ${seed}, ${count} ${arch === 'convnet' ? 'convnet ' : ''}models (depth <= ${depth}, rare ${rare}), --random ${samples}, --keras ${keras}, ${JSON.stringify(extra)}, tfjs ${tf.version.tfjs}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`equal ${counts.equal}, refused ${counts.refused}, skipped ${counts.skip}, top-2 within tolerance (flag) ${counts.flag}, DIFFERENT ${counts.DIFFERENT}`);
  console.log('refusals:');
  for (const [k, n] of [...refusals].sort((p, q) => q[1] - p[1])) console.log(`${String(n).padStart(4)}  ${k}`);
  if (inputTally.size) {
    console.log('inputs (--inputs; preprocessing against Pillow / pydicom: verdict, kind):');
    for (const [k, n] of [...inputTally].sort()) console.log(`${String(n).padStart(4)}  ${k}`);
  }
  console.log(`\ndefects and flags: ${defects.length}`);
  for (const d of defects) console.log(d);
}

void main();
