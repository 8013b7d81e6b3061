/**
 * mpc-import: Keras / TF.js model -> three share bundles, then an agreement
 * report (plaintext float vs fixed point) on sample images or random inputs.
 *
 *   mpc-import model.h5|model.keras|model.json|model.onnx --out bundles/ [--frac-bits 13] [--truncation local|exact]
 *     [--input-shape 150,125,1] [--labels NORMAL,PNEUMONIA | --no-labels] [--config-from full.h5]
 *     [--samples dir-or-file ...] [--random 4] [--preprocessing tf|caffe|torch|scaling=..|mean=..|std=..|order=.. ...]
 *     [--seed-arch cnn-maxpool|cnn-avgpool|vgg16|mnist-a [--seed 1] [--seed-out m.keras]] [--overwrite]
 *     [--report-json report.json] [--progress | --no-progress]
 *     [--output-mode logits|label|label+confidence] [--confidence-thresholds 1,3] [--decision-thresholds 0.5[,0.3,...]]
 *     [--replicated] [--require-security malicious]   (docs/MALICIOUS.md: bundle-replicated.ts)
 *     [--dp laplace:epsilon=1,sensitivity=2[,clip=8][,sampler=discrete-exact|gamma-split]
 *          | gaussian:epsilon=0.5,delta=1e-6,sensitivity=2[,calibration=classic|zcdp][,clip=8]]
 *
 * The privacy flags write the model's output privacy policy into the
 * manifests (protocol/privacy PrivacyPolicy; absent: logits without noise):
 * the parties then release only labels (and a confidence bucket), and/or add
 * DP noise inside the protocol and charge each image to the client's budget.
 *
 * Precision (model-import/precision.ts): with samples (--samples, or the default 4 random images) the importer
 * chooses f, the truncation rule and the comparison ring (--compare-bits; written to the manifests, a party configured
 * narrower refuses the bundle) so that the outputs stay within --target-error (default 1e-3) of the float model and
 * every compared value inside the ring with a margin, and prints what it tried and why. --frac-bits / --truncation /
 * --compare-bits restrict the candidates; an explicit f overrides the target and an explicit local truncation the
 * risk limit (a WARNING), but a range failure is refused (E_PRECISION_RANGE) unless --force. With --random 0 nothing is checked (said so). Where no ring holds the sound bound (deep models),
 * the ring is chosen on the samples, marked samples-only (--require-sound-bound refuses instead). --stress-inputs adds
 * in-range stress images (stress-inputs.ts) to the samples of every check.
 *
 * --truncation exact makes the parties truncate products with P2's help
 * (protocol/primitives/truncate-exact.ts: no failure probability, 2 rounds and
 * 32 bytes per element more) instead of SecureNN's local rule; the report
 * gives the local rule's expected wrong elements per inference on the samples
 * and advises exact above 1e-6.
 *
 * Labels are required (one per output; two, negative then positive, for a
 * single sigmoid output): --labels, else the --samples folder names when
 * their number fits, else refused unless --no-labels (model-import/labels.ts).
 * The image preprocessing (model-import/preprocessing.ts) is inferred from the
 * file, changed with --preprocessing, printed, written into the manifests and
 * used for the report's samples.
 *
 * With --seed-arch the model is first generated with random weights and
 * written to --seed-out (.keras or .h5; default a temporary .keras file);
 * positional arguments after the model file are more sample paths. Progress goes to
 * stderr; the import summary and the report go to stdout.
 */
import '../runtime/install.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TRUNCATION_MODES, type TruncationMode } from '../protocol/context.js';
import { isMpcError, MpcError } from '../protocol/errors.js';
import { DEFAULT_FRAC_BITS } from '../protocol/fixed-point/fixed-point.js';
import { agreementReport, formatReport, imageSamples, randomSamples, type Sample } from './agreement.js';
import { describePrivacy, privacyFromFlags } from './cli-privacy.js';
export { privacyFromFlags };
import { writeBundles } from './bundle.js';
import { listImages } from './images.js';
import { checkLabels, checkLogitsHead, labelCountFor, outputCount, sampleFolders } from './labels.js';
import { applyPreprocessingFlags, PREPROCESSING_FLAG_HELP, withImportDefaults } from './preprocessing.js';
import { describePreprocessing, type InputPreprocessing, type PixelScaling } from '../protocol/input-preprocessing.js';
import { loadModel } from './load.js';
import { isSeedArch, SEED_ARCHS, writeSeedModel } from './seed-models.js';
import { choosePrecision, formatChoice, type CompareBits, type PrecisionChoice } from './precision.js';
import { parseInputRange, soundRangesFor } from './sound-ring.js';
import { outputCompare, type OutputCompare } from './output-bound.js';
import { stressFor } from './stress-inputs.js';

const USAGE = `usage: mpc-import MODEL --out DIR [--frac-bits F] [--truncation local|exact] [--compare-bits 32|64] [--target-error 1e-3] [--min-agreement 0.999] [--force]
                  [--input-shape H,W,C] [--input-range LO,HI] [--require-sound-bound] [--stress-inputs] [--output-activation softmax|sigmoid] [--labels A,B | --no-labels]
                  [--config-from FILE] [--samples PATH ...] [--random N] [--preprocessing P ...] [--scaling auto|unit|raw|symmetric]
                  (--preprocessing P: ${PREPROCESSING_FLAG_HELP})
                  [--seed-arch ${SEED_ARCHS.join('|')} [--seed N] [--seed-out FILE]] [--overwrite] [--report-json FILE] [--no-progress]
                  [--output-mode logits|label|label+confidence] [--confidence-thresholds T1,T2] [--decision-thresholds P | P1,...,PC]
                  [--replicated] [--require-security malicious]   (malicious mode: replicated weight shares; manifests that require it)
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

const CLI_OPTIONS = {
  out: { type: 'string', short: 'o' },
  'frac-bits': { type: 'string' },
  truncation: { type: 'string' },
  'compare-bits': { type: 'string' },
  'target-error': { type: 'string' },
  'min-agreement': { type: 'string' },
  force: { type: 'boolean' },
  'input-shape': { type: 'string' },
  'output-activation': { type: 'string' },
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
  'decision-thresholds': { type: 'string' },
  dp: { type: 'string' },
  preprocessing: { type: 'string', multiple: true },
  'no-labels': { type: 'boolean' },
  'input-range': { type: 'string' },
  'require-sound-bound': { type: 'boolean' },
  'stress-inputs': { type: 'boolean' },
  replicated: { type: 'boolean' },
  'require-security': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** node:util parseArgs errors (unknown option, missing value) as a short E_BAD_ARGUMENT. */
function usageError(e: unknown): MpcError {
  const code = (e as { code?: string }).code;
  const msg = e instanceof Error ? e.message : String(e);
  const opt = /'([^']+)'/.exec(msg)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new MpcError('E_BAD_ARGUMENT', `unknown option '${opt ?? '?'}' (mpc-import --help lists the options)`, { step: 'import.args' });
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return new MpcError('E_BAD_ARGUMENT', `${msg.split('\n')[0]}`, { step: 'import.args' });
  return new MpcError('E_BAD_ARGUMENT', `bad arguments: ${msg.split('\n')[0]}`, { step: 'import.args' });
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: CLI_OPTIONS });
  } catch (e) {
    throw usageError(e);
  }
  const { values, positionals } = parsed;
  return run(values, positionals);
}


type CliValues = ReturnType<typeof parseArgs<{ options: typeof CLI_OPTIONS; allowPositionals: true; strict: true }>>['values'];

async function run(values: CliValues, positionals: string[]): Promise<number> {
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.out) throw bad(`--out is required\n${USAGE}`);
  // Precision: explicit flags restrict the chooser (precision.ts); without samples they (or the defaults) are used as given.
  const explicitF = values['frac-bits'] !== undefined ? Number(values['frac-bits']) : undefined;
  const explicitT = values.truncation as TruncationMode | undefined;
  if (explicitT !== undefined && !TRUNCATION_MODES.includes(explicitT)) throw bad(`--truncation must be local or exact`);
  const explicitW = values['compare-bits'] !== undefined ? Number(values['compare-bits']) : undefined;
  if (explicitW !== undefined && explicitW !== 32 && explicitW !== 64) throw bad(`--compare-bits must be 32 or 64`);
  const targetError = values['target-error'] !== undefined ? Number(values['target-error']) : 1e-3;
  if (!(targetError > 0 && targetError < 1)) throw bad(`--target-error must be a number in (0, 1), got '${values['target-error']}'`);
  const minAgreement = values['min-agreement'] !== undefined ? Number(values['min-agreement']) : 0;
  if (!(minAgreement >= 0 && minAgreement <= 1)) throw bad(`--min-agreement must be a fraction in [0, 1], got '${values['min-agreement']}'`);
  if (values.force && explicitF === undefined && explicitT === undefined && explicitW === undefined) throw bad('--force keeps explicit settings: give --frac-bits, --truncation or --compare-bits with it');
  if (values['require-security'] !== undefined && values['require-security'] !== 'malicious') throw bad(`--require-security must be malicious, got '${values['require-security']}'`);
  const scalingArg = values.scaling ?? 'auto';
  if (!['auto', 'unit', 'raw', 'symmetric'].includes(scalingArg)) throw bad(`--scaling must be auto, unit, raw or symmetric`);
  const showProgress = values['no-progress'] ? false : values.progress === true ? true : undefined;
  const privacy = privacyFromFlags({
    ...(values['output-mode'] !== undefined ? { outputMode: values['output-mode'] } : {}),
    ...(values['confidence-thresholds'] !== undefined ? { confidenceThresholds: values['confidence-thresholds'] } : {}),
    ...(values['decision-thresholds'] !== undefined ? { decisionThresholds: values['decision-thresholds'] } : {}),
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
    const labelArg = values.labels !== undefined ? values.labels.split(',').map((s) => s.trim()) : undefined;
    if (labelArg && values['no-labels']) throw bad('--labels and --no-labels contradict each other');
    const loaded = await loadModel(modelFile, {
      ...(values['input-shape'] ? { inputShape: intList(values['input-shape'], '--input-shape') } : {}),
      ...(values['config-from'] ? { configFrom: values['config-from'] } : {}),
      ...(values['output-activation'] ? { outputActivation: values['output-activation'] } : {}),
    });
    const ir = loaded.ir;
    checkLogitsHead(ir);
    const t1 = performance.now();

    // `--samples a b c`: paths after the model file are more samples. Listed first: their folders may name the labels.
    const samplePaths = [...(values.samples ?? []).flatMap((s) => s.split(',')), ...extraSamples].filter(Boolean);
    const files = samplePaths.length ? listImages(samplePaths) : [];
    if (samplePaths.length && files.length === 0) throw bad('--samples: no .png / .jpg / .jpeg files found');

    // Labels: --labels, else the sample folders when their number fits, else refused unless --no-labels.
    const outputs = outputCount(ir);
    const want = labelCountFor(outputs);
    let labelSource = '';
    if (labelArg) {
      checkLabels(labelArg, outputs);
      ir.labels = labelArg;
    } else if (!values['no-labels']) {
      const folders = sampleFolders(files);
      if (files.length > 0 && folders.length === want) {
        ir.labels = folders;
        labelSource = ' (from the --samples folder names)';
      } else {
        const hint = files.length > 0 ? `; the --samples folders (${folders.join(', ')}) are ${folders.length}` : '';
        throw new MpcError('E_BAD_ARGUMENT', `labels are required: the model has ${outputs} output${outputs === 1 ? ' (sigmoid: give negative,positive)' : 's'}, so give --labels with ${want} names${hint}; or --no-labels to serve class indices`, { step: 'import.labels' });
      }
    }

    // Preprocessing: what the file says, changed by --scaling / --preprocessing.
    const prepFlags = [...(scalingArg !== 'auto' ? [scalingArg] : []), ...(values.preprocessing ?? [])];
    const imageInput = loaded.preprocessing !== undefined;
    const inputRange = values['input-range'] !== undefined ? parseInputRange(values['input-range']) : undefined;
    if (imageInput && inputRange) throw bad('--input-range is for inputs that are not images; an image input\'s range follows from its preprocessing');
    if (!imageInput && values.preprocessing?.length) throw bad(`--preprocessing needs an image input [H, W, 1|3]; the model takes [${ir.inputShape.join(', ')}]`);
    let prep: InputPreprocessing | undefined = loaded.preprocessing && withImportDefaults(loaded.preprocessing.preprocessing); // + orientation 'stored'
    let prepSource = loaded.preprocessing?.source ?? '';
    if (prep && prepFlags.length) {
      prep = applyPreprocessingFlags(prep, prepFlags, ir.inputShape);
      prepSource = `--preprocessing ${prepFlags.join(' ')}${loaded.preprocessing!.assumed ? '' : `; the file said: ${describePreprocessing(loaded.preprocessing!.preprocessing)}, from ${loaded.preprocessing!.source}`}`;
    }
    // Inputs that are not images: --scaling still sets the random samples' range.
    const scaling: PixelScaling = prep?.scaling ?? (scalingArg === 'auto' ? 'unit' : (scalingArg as PixelScaling));

    const params = ir.nodes.reduce((a, n) => a + ('kernel' in n ? n.kernel.data.length + (n.bias?.data.length ?? 0) : 0), 0);
    let samples: Sample[] = [];
    let samplesLine = '';
    if (files.length) {
      samples = imageSamples(files, ir.inputShape, prep ?? scaling);
      samplesLine = `samples:    ${files.length} images, converted to [${ir.inputShape.join(', ')}] with the recorded preprocessing (${prep ? describePreprocessing(prep) : `scaling '${scaling}'`})`;
    } else {
      const n = values.random !== undefined ? Number(values.random) : 4;
      if (!Number.isInteger(n) || n < 0) throw bad('--random must be a non-negative integer');
      samples = randomSamples(n, ir.inputShape, prep ?? scaling);
      if (n === 0 && values['require-sound-bound']) throw bad('--require-sound-bound needs the precision chooser: give --samples or --random N (N > 0)');
      if (n > 0) samplesLine = `samples:    ${n} uniform random pixel images through the recorded preprocessing (${prep ? describePreprocessing(prep) : `scaling '${scaling}'`})`;
    }
    // The precision chooser on the samples (E_PRECISION_RANGE / E_PRECISION_TARGET before anything is written).
    let choice: PrecisionChoice | undefined;
    let outCompare: OutputCompare | undefined;
    const comparesOutput = privacy !== undefined && privacy.outputMode !== 'logits';
    if (samples.length > 0) {
      // The output's bound is noted for every model (output-bound.ts); the chooser sees it only where the policy compares.
      const allSound = soundRangesFor(ir, prep, inputRange, true);
      const soundRanges = comparesOutput ? allSound : allSound?.filter((r) => !r.layer.endsWith(' (secure argmax)'));
      choice = choosePrecision(ir, samples.map((x) => x.input), {
        ...(soundRanges ? { soundRanges } : {}),
        targetError,
        minAgreement,
        ...(explicitF !== undefined ? { fracBits: explicitF } : {}),
        ...(explicitT !== undefined ? { truncation: explicitT } : {}),
        ...(explicitW !== undefined ? { compareBits: explicitW as CompareBits } : {}),
        ...(values.force ? { force: true } : {}),
        ...(values['require-sound-bound'] ? { requireSoundBound: true } : {}),
        ...(values['stress-inputs'] ? { stressInputs: stressFor(ir.inputShape, prep, inputRange) } : {}),
        comparesOutput,
      });
      outCompare = outputCompare(ir, samples.map((x) => x.input), choice.settings.fracBits, choice.rangeMargin, privacy, allSound);
    }
    const fracBits = choice?.settings.fracBits ?? explicitF ?? DEFAULT_FRAC_BITS;
    const truncation: TruncationMode = choice?.settings.truncation ?? explicitT ?? 'local';
    const compareBits = choice?.settings.compareBits ?? (explicitW as CompareBits | undefined);
    for (const n of ir.nodes) if (choice?.wideLayers.includes(n.name)) n.compareBits = 64; // their sound bound needs the 64-bit ring
    const manifests = writeBundles(loaded, values.out, {
      fracBits,
      truncation,
      ...(compareBits !== undefined ? { compareBits } : {}),
      ...(values.overwrite ? { overwrite: true } : {}),
      ...(privacy ? { privacy } : {}),
      ...(prep ? { preprocessing: prep } : {}),
      ...(inputRange ? { inputRange } : {}),
      ...(choice ? { compareBound: choice.ringBasis, ...(choice.ringNote ? { rangeWarning: choice.ringNote } : {}) } : {}),
      ...(outCompare ? { outputCompareBits: outCompare.bits, outputCompareBound: outCompare.bound } : {}),
      ...(values.replicated ? { replicated: true } : {}),
      ...(values['require-security'] ? { requireSecurity: 'malicious' as const } : {}),
      onProgress: progressBar('sharing weights', showProgress ?? params >= 1_000_000),
    });
    const t2 = performance.now();
    const out = path.resolve(values.out);
    const lines = [
      `model:      ${path.basename(loaded.sourceFile)} (${loaded.format}${loaded.kerasVersion ? `, Keras ${loaded.kerasVersion}` : ''}${loaded.onnx ? `, opset ${loaded.onnx.opset}, ${loaded.onnx.producer || 'unknown producer'}` : ''})`,
      `sha256:     ${loaded.sourceHash}`,
      `input:      [${ir.inputShape.join(', ')}]   output: ${ir.output} -> ${ir.outputActivation}${ir.labels ? `   labels: ${ir.labels.join(', ')}${labelSource}` : '   labels: none (--no-labels: class indices)'}`,
      ...(prep ? [`preprocessing: ${describePreprocessing(prep)}  (${prepSource})`] : []),
      `layers:     ${ir.nodes.length} IR nodes: ${ir.nodes.map((n) => n.kind + ('activation' in n && n.activation !== 'linear' ? `+${n.activation}` : '')).join(' ')}`,
      `weights:    ${params} values, f = ${fracBits} fractional bits, Z_2^64 shares, ${truncation === 'exact' ? 'exact truncation (with P2)' : 'local truncation'}${compareBits ? `, ${compareBits}-bit comparison ring` : ''}`,
      ...(privacy ? [`privacy:    ${describePrivacy(privacy)}`] : []),
      `bundles:    ${out}/party{0,1,2} (import ${manifests[0]!.importId.slice(0, 12)}...; ${manifests.map((m) => `P${m.party} ${m.payload.bytes} B`).join(', ')})`,
      `time:       parse+convert ${((t1 - t0) / 1000).toFixed(2)} s, precision+quantize+share+write ${((t2 - t1) / 1000).toFixed(2)} s`,
      ...(samplesLine ? [samplesLine] : []),
      ...(outCompare ? [`decisions:  a label mode (the policy's or a request's) compares the logits on the ${outCompare.bits}-bit ring (${outCompare.bound === 'sound' ? 'the sound bound over the declared input range' : 'the samples only'}; manifest outputCompareBits)`] : []),
      choice ? formatChoice(choice) : `precision:  f = ${fracBits}, ${truncation} truncation${compareBits ? `, ${compareBits}-bit comparison ring` : ''} (${explicitF !== undefined || explicitT !== undefined || explicitW !== undefined ? 'explicit' : 'defaults'}; NOT checked: no samples, give --samples or --random N for the range and error checks)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);

    if (samples.length > 0) {
      const rep = await agreementReport(ir, samples, fracBits, progressBar('agreement', showProgress ?? process.stderr.isTTY === true), truncation, prep);
      process.stdout.write(`\n${formatReport(rep)}\n`);
      if (values['report-json']) writeFileSync(values['report-json'], `${JSON.stringify({ ...rep, ...(choice ? { precision: choice } : {}) }, null, 1)}\n`);
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
      // Short and coded, never a stack (MPC_IMPORT_DEBUG=1 adds it for an unexpected error).
      if (isMpcError(e)) process.stderr.write(`mpc-import: error ${e.code}: ${e.message}\n`);
      else process.stderr.write(`mpc-import: error E_INTERNAL: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n${process.env.MPC_IMPORT_DEBUG === '1' && e instanceof Error && e.stack ? `${e.stack}\n` : ''}`);
      process.exit(isMpcError(e) ? 2 : 1);
    },
  );
}

const entry = process.argv[1];
if (entry !== undefined && path.resolve(entry) === fileURLToPath(import.meta.url)) runCli(process.argv.slice(2));
