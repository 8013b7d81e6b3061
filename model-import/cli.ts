/**
 * mpc-import: Keras / TF.js model -> three share bundles, then an agreement
 * report (plaintext float vs fixed point) on sample images or random inputs.
 *
 *   mpc-import model.h5|model.keras|model.json --out bundles/ [--frac-bits 13] [--truncation local|exact]
 *     [--input-shape 150,125,1] [--labels NORMAL,PNEUMONIA] [--config-from full.h5]
 *     [--samples dir-or-file ...] [--random 4] [--scaling auto|unit|raw|symmetric]
 *     [--seed-arch cnn-maxpool|cnn-avgpool|vgg16|mnist-a [--seed 1] [--seed-out m.keras]] [--overwrite]
 *     [--report-json report.json] [--progress | --no-progress]
 *     [--output-mode logits|label|label+confidence] [--confidence-thresholds 1,3]
 *     [--dp laplace:epsilon=1,sensitivity=2[,clip=8][,sampler=discrete-exact|gamma-split]
 *          | gaussian:epsilon=0.5,delta=1e-6,sensitivity=2[,calibration=classic|zcdp][,clip=8]]
 *
 * The privacy flags write the model's output privacy policy into the
 * manifests (protocol/privacy PrivacyPolicy; absent: logits without noise):
 * the parties then release only labels (and a confidence bucket), and/or add
 * DP noise inside the protocol and charge each image to the client's budget.
 *
 * --truncation exact makes the parties truncate products with P2's help
 * (protocol/primitives/truncate-exact.ts: no failure probability, 2 rounds and
 * 32 bytes per element more) instead of SecureNN's local rule; the report
 * gives the local rule's expected wrong elements per inference on the samples
 * and advises exact above 1e-6.
 *
 * With --seed-arch the model is first generated with random weights and
 * written to --seed-out (.keras or .h5; default a temporary .keras file);
 * positional arguments after the model file are more sample paths. Progress goes to
 * stderr; the import summary and the report go to stdout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TRUNCATION_MODES, type TruncationMode } from '../protocol/context.js';
import { isMpcError, MpcError } from '../protocol/errors.js';
import { DEFAULT_FRAC_BITS } from '../protocol/fixed-point/fixed-point.js';
import { agreementReport, formatReport, imageSamples, randomSamples, type Sample } from './agreement.js';
import { resolvePolicy, type OutputMode, type PolicyDp, type PrivacyPolicy } from '../protocol/privacy/index.js';
import { writeBundles } from './bundle.js';
import { listImages, type PixelScaling } from './images.js';
import { loadModel } from './load.js';
import { isSeedArch, SEED_ARCHS, writeSeedModel } from './seed-models.js';

const USAGE = `usage: mpc-import MODEL --out DIR [--frac-bits 13] [--truncation local|exact] [--input-shape H,W,C] [--labels A,B]
                  [--config-from FILE] [--samples PATH ...] [--random N] [--scaling auto|unit|raw|symmetric]
                  [--seed-arch ${SEED_ARCHS.join('|')} [--seed N] [--seed-out FILE]] [--overwrite] [--report-json FILE] [--no-progress]
                  [--output-mode logits|label|label+confidence] [--confidence-thresholds T1,T2]
                  [--dp laplace:epsilon=E,sensitivity=S[,clip=C][,sampler=discrete-exact|gamma-split]
                       | gaussian:epsilon=E,delta=D,sensitivity=S[,calibration=classic|zcdp][,clip=C]]`;

function bad(msg: string): MpcError {
  return new MpcError('E_BAD_ARGUMENT', msg);
}

function intList(s: string, what: string): number[] {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length === 0 || !v.every((x) => Number.isInteger(x) && x > 0)) throw bad(`${what}: expected comma-separated positive integers, got '${s}'`);
  return v;
}

const OUTPUT_MODES: readonly string[] = ['logits', 'label', 'label+confidence'];

/**
 * The manifest's privacy policy from --output-mode, --confidence-thresholds
 * and --dp (undefined when none is given); E_BAD_ARGUMENT for anything
 * resolvePolicy would refuse.
 */
export function privacyFromFlags(f: { outputMode?: string; confidenceThresholds?: string; dp?: string }): PrivacyPolicy | undefined {
  if (f.outputMode === undefined && f.confidenceThresholds === undefined && f.dp === undefined) return undefined;
  const mode = f.outputMode ?? 'logits';
  if (!OUTPUT_MODES.includes(mode)) throw bad(`--output-mode must be ${OUTPUT_MODES.join(', ')}`);
  const policy: PrivacyPolicy = { outputMode: mode as OutputMode };
  if (f.confidenceThresholds !== undefined) {
    if (mode !== 'label+confidence') throw bad('--confidence-thresholds needs --output-mode label+confidence');
    const t = f.confidenceThresholds.split(',').map((x) => Number(x.trim()));
    if (!t.every((x) => Number.isFinite(x) && x >= 0)) throw bad(`--confidence-thresholds: expected comma-separated margins >= 0, got '${f.confidenceThresholds}'`);
    policy.confidenceThresholds = t;
  }
  if (f.dp !== undefined) {
    const m = /^(laplace|gaussian):(.+)$/.exec(f.dp.trim());
    if (!m) throw bad(`--dp: expected laplace:epsilon=E,sensitivity=S[,...] or gaussian:epsilon=E,delta=D,sensitivity=S[,...], got '${f.dp}'`);
    const dp: Record<string, unknown> = { mechanism: m[1] };
    for (const kv of m[2]!.split(',')) {
      const [k, v, ...rest] = kv.split('=').map((x) => x.trim());
      if (!k || v === undefined || rest.length) throw bad(`--dp: '${kv}' is not key=value`);
      if (k === 'sampler' || k === 'calibration') dp[k] = v;
      else if (['epsilon', 'delta', 'sensitivity', 'clip'].includes(k)) {
        const n = Number(v);
        if (v === '' || !Number.isFinite(n)) throw bad(`--dp: ${k} must be a number, got '${v}'`);
        dp[k] = n;
      } else throw bad(`--dp: unknown key '${k}' (epsilon, delta, sensitivity, clip, sampler, calibration)`);
    }
    policy.dp = dp as unknown as PolicyDp;
  }
  try {
    resolvePolicy(policy);
  } catch (e) {
    throw bad(`privacy policy: ${(e as Error).message}`);
  }
  return policy;
}

function describePrivacy(p: PrivacyPolicy): string {
  const mode = p.outputMode === 'label+confidence' ? `label+confidence (thresholds ${(p.confidenceThresholds ?? [1, 3]).join(', ')})` : p.outputMode;
  if (!p.dp) return `${mode}, no noise`;
  const d = p.dp;
  return `${mode}, DP ${d.mechanism} epsilon ${d.epsilon}${d.delta !== undefined ? ` delta ${d.delta}` : ''} per image, sensitivity ${d.sensitivity}${d.clip !== undefined ? `, clip ${d.clip}` : ''}`;
}

/** A progress bar on stderr: redrawn in place on a terminal, one line per 10% otherwise. */
export function progressBar(label: string, enabled: boolean): (done: number, total: number) => void {
  const tty = process.stderr.isTTY === true;
  let lastDecile = -1;
  let lastDraw = 0;
  const human = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n));
  return (done, total) => {
    if (!enabled || total <= 0) return;
    const frac = Math.min(1, done / total);
    if (tty) {
      const now = Date.now();
      if (done < total && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 30;
      const fill = Math.round(frac * width);
      process.stderr.write(`\r${label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${human(done)}/${human(total)}${done >= total ? '\n' : ''}`);
    } else {
      const d = Math.floor(frac * 10);
      if (d !== lastDecile) {
        lastDecile = d;
        process.stderr.write(`${label}: ${d * 10}% (${human(done)}/${human(total)})\n`);
      }
    }
  };
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      'frac-bits': { type: 'string' },
      truncation: { type: 'string' },
      'input-shape': { type: 'string' },
      labels: { type: 'string' },
      'config-from': { type: 'string' },
      samples: { type: 'string', multiple: true },
      random: { type: 'string' },
      scaling: { type: 'string' },
      'seed-arch': { type: 'string' },
      'seed-out': { type: 'string' },
      seed: { type: 'string' },
      overwrite: { type: 'boolean' },
      'report-json': { type: 'string' },
      progress: { type: 'boolean' },
      'no-progress': { type: 'boolean' },
      'output-mode': { type: 'string' },
      'confidence-thresholds': { type: 'string' },
      dp: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.out) throw bad(`--out is required\n${USAGE}`);
  const fracBits = values['frac-bits'] !== undefined ? Number(values['frac-bits']) : DEFAULT_FRAC_BITS;
  const truncation = (values.truncation ?? 'local') as TruncationMode;
  if (!TRUNCATION_MODES.includes(truncation)) throw bad(`--truncation must be local or exact`);
  const scalingArg = values.scaling ?? 'auto';
  if (!['auto', 'unit', 'raw', 'symmetric'].includes(scalingArg)) throw bad(`--scaling must be auto, unit, raw or symmetric`);
  const showProgress = values['no-progress'] ? false : values.progress === true ? true : undefined;
  const privacy = privacyFromFlags({
    ...(values['output-mode'] !== undefined ? { outputMode: values['output-mode'] } : {}),
    ...(values['confidence-thresholds'] !== undefined ? { confidenceThresholds: values['confidence-thresholds'] } : {}),
    ...(values.dp !== undefined ? { dp: values.dp } : {}),
  });

  const arch = values['seed-arch'];
  // With --seed-arch every positional is a sample path; otherwise the first is the model file.
  let modelFile = arch === undefined ? positionals[0] : values['seed-out'];
  const extraSamples = arch === undefined ? positionals.slice(1) : positionals;
  let tmpDir: string | undefined;
  try {
    if (arch !== undefined) {
      if (!isSeedArch(arch)) throw bad(`--seed-arch must be one of ${SEED_ARCHS.join(', ')}`);
      if (!modelFile) {
        tmpDir = mkdtempSync(path.join(os.tmpdir(), 'mpc-seed-'));
        modelFile = path.join(tmpDir, `${arch}.keras`);
      }
      process.stderr.write(`generating seed model ${arch} -> ${modelFile}\n`);
      await writeSeedModel(arch, modelFile, values.seed !== undefined ? { seed: Number(values.seed) } : {});
    }
    if (!modelFile) throw bad(`a model file is required\n${USAGE}`);

    const t0 = performance.now();
    const loaded = await loadModel(modelFile, {
      ...(values['input-shape'] ? { inputShape: intList(values['input-shape'], '--input-shape') } : {}),
      ...(values.labels ? { labels: values.labels.split(',').map((s) => s.trim()) } : {}),
      ...(values['config-from'] ? { configFrom: values['config-from'] } : {}),
    });
    const ir = loaded.ir;
    const t1 = performance.now();
    const params = ir.nodes.reduce((a, n) => a + ('kernel' in n ? n.kernel.data.length + (n.bias?.data.length ?? 0) : 0), 0);
    const manifests = writeBundles(loaded, values.out, {
      fracBits,
      truncation,
      ...(values.overwrite ? { overwrite: true } : {}),
      ...(privacy ? { privacy } : {}),
      onProgress: progressBar('sharing weights', showProgress ?? params >= 1_000_000),
    });
    const t2 = performance.now();
    const out = path.resolve(values.out);
    const lines = [
      `model:      ${path.basename(loaded.sourceFile)} (${loaded.format}${loaded.kerasVersion ? `, Keras ${loaded.kerasVersion}` : ''})`,
      `sha256:     ${loaded.sourceHash}`,
      `input:      [${ir.inputShape.join(', ')}]   output: ${ir.output} -> ${ir.outputActivation}${ir.labels ? `   labels: ${ir.labels.join(', ')}` : ''}`,
      `layers:     ${ir.nodes.length} IR nodes: ${ir.nodes.map((n) => n.kind + ('activation' in n && n.activation !== 'linear' ? `+${n.activation}` : '')).join(' ')}`,
      `weights:    ${params} values, f = ${fracBits} fractional bits, Z_2^64 shares, ${truncation === 'exact' ? 'exact truncation (with P2)' : 'local truncation'}`,
      ...(privacy ? [`privacy:    ${describePrivacy(privacy)}`] : []),
      `bundles:    ${out}/party{0,1,2} (import ${manifests[0]!.importId.slice(0, 12)}...; ${manifests.map((m) => `P${m.party} ${m.payload.bytes} B`).join(', ')})`,
      `time:       parse+convert ${((t1 - t0) / 1000).toFixed(2)} s, quantize+share+write ${((t2 - t1) / 1000).toFixed(2)} s`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);

    const scaling: PixelScaling = scalingArg === 'auto' ? (ir.nodes[0]?.kind === 'rescaling' && ir.nodes[0].inputs[0] === 'input' ? 'raw' : 'unit') : (scalingArg as PixelScaling);
    let samples: Sample[] = [];
    // `--samples a b c`: paths after the model file are more samples.
    const samplePaths = [...(values.samples ?? []).flatMap((s) => s.split(',')), ...extraSamples].filter(Boolean);
    if (samplePaths.length) {
      const files = listImages(samplePaths);
      if (files.length === 0) throw bad('--samples: no .png / .jpg / .jpeg files found');
      samples = imageSamples(files, ir.inputShape, scaling);
      process.stdout.write(`samples:    ${files.length} images, converted to [${ir.inputShape.join(', ')}] (${ir.inputShape[2] === 1 ? 'grayscale' : 'RGB'}, Pillow-style bilinear resize, scaling '${scaling}')\n`);
    } else {
      const n = values.random !== undefined ? Number(values.random) : 4;
      if (!Number.isInteger(n) || n < 0) throw bad('--random must be a non-negative integer');
      samples = randomSamples(n, ir.inputShape, scaling);
      if (n > 0) process.stdout.write(`samples:    ${n} uniform random inputs (scaling '${scaling}')\n`);
    }
    if (samples.length > 0) {
      const rep = await agreementReport(ir, samples, fracBits, progressBar('agreement', showProgress ?? process.stderr.isTTY === true), truncation);
      process.stdout.write(`\n${formatReport(rep)}\n`);
      if (values['report-json']) writeFileSync(values['report-json'], `${JSON.stringify(rep, null, 1)}\n`);
    }
    return 0;
  } finally {
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  }
}

/** Run the CLI and exit the process with its status (2 for an MpcError, 1 for anything else). */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (isMpcError(e)) process.stderr.write(`mpc-import: error ${e.code}: ${e.message}\n`);
      else process.stderr.write(`mpc-import: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(isMpcError(e) ? 2 : 1);
    },
  );
}

const entry = process.argv[1];
if (entry !== undefined && path.resolve(entry) === fileURLToPath(import.meta.url)) runCli(process.argv.slice(2));
