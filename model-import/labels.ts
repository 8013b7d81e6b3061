/**
 * Class labels of an import: one per output, or two (negative, positive) for
 * a model with a single (sigmoid) output. Without --labels the importer takes
 * the --samples folder names when their number fits (sorted, the order of
 * Keras's flow_from_directory), and refuses otherwise unless --no-labels.
 */
import path from 'node:path';
import { MpcError } from '../protocol/errors.js';
import type { ModelIR } from '../protocol/ir.js';
import { constantOutputReason } from '../protocol/output-kind.js';
import { inferShapes, sizeOf } from './shapes.js';

/** Elements of the model's output (per image). */
export function outputCount(ir: Pick<ModelIR<unknown>, 'inputShape' | 'nodes' | 'output'>): number {
  const s = inferShapes(ir).get(ir.output);
  if (!s) throw new MpcError('E_MODEL_FORMAT', `import: output '${ir.output}' has no shape`, { step: 'import.labels' });
  return sizeOf(s);
}

/**
 * A file that ends in logits over several values (an ONNX export, a Keras head trained from logits) leaves open what
 * the client applies: softmax (one class) or sigmoid (independent labels, a mask's channels). The SDK applies softmax
 * to a 'linear' head of several values, so a multi-label head (CheXNet's 14 findings) would be shown as one class:
 * refused unless --output-activation says which (E_BAD_ARGUMENT). One value is unambiguous (sigmoid). A softmax over
 * one value is constantly 1: refused too (E_BAD_ARGUMENT; bench/e2e-oracle.ts found it served as a binary classifier).
 */
export function checkLogitsHead(ir: Pick<ModelIR<unknown>, 'inputShape' | 'nodes' | 'output' | 'outputActivation'>): void {
  if (ir.outputActivation === 'sigmoid') return;
  const s = inferShapes(ir).get(ir.output) ?? [];
  const last = s[s.length - 1] ?? 1;
  // A softmax over one value (Dense(1, 'softmax'), a [H, W, 1] map with a softmax) is 1 whatever the input: Keras
  // serves a constant. The SDK would read the one value as a binary classifier's logit (label by its sign, the label's
  // probability 1 - 1 = 0 for the negative class). Refused: a binary head ends in sigmoid (the one rule the parties
  // and the SDK apply to bundles written before this check: protocol/output-kind.ts constantOutputReason).
  if (constantOutputReason(s, ir.outputActivation)) throw new MpcError('E_BAD_ARGUMENT', 'the model ends in a softmax over 1 value, which is always 1 whatever the input (no information to serve): a binary classifier ends in Dense(1, activation=\'sigmoid\'); change the final activation to sigmoid in the model', { step: 'import.labels' });
  if (ir.outputActivation !== 'linear') return;
  if (last > 1) throw new MpcError('E_BAD_ARGUMENT', `the model ends in logits over ${last} values (no softmax or sigmoid in the file): give --output-activation softmax (one class) or sigmoid (independent labels)`, { step: 'import.labels' });
}

/** How many labels a model with `outputs` outputs takes: 2 for a single output (negative, positive). */
export const labelCountFor = (outputs: number): number => (outputs === 1 ? 2 : outputs);

/** E_BAD_ARGUMENT unless `labels` has one distinct, non-empty name per class. */
export function checkLabels(labels: readonly string[], outputs: number, what = '--labels'): void {
  const want = labelCountFor(outputs);
  if (labels.length !== want) {
    throw new MpcError('E_BAD_ARGUMENT', `${what}: ${labels.length} label${labels.length === 1 ? '' : 's'} for a model with ${outputs} output${outputs === 1 ? ' (one sigmoid output takes two labels: negative, positive)' : 's'}; expected ${want}`, { step: 'import.labels' });
  }
  if (labels.some((l) => l.trim() === '')) throw new MpcError('E_BAD_ARGUMENT', `${what}: empty label`, { step: 'import.labels' });
  if (new Set(labels).size !== labels.length) throw new MpcError('E_BAD_ARGUMENT', `${what}: labels must be distinct`, { step: 'import.labels' });
}

/** The sorted folder names of the sample images (their parent directories). */
export function sampleFolders(files: readonly string[]): string[] {
  return [...new Set(files.map((f) => path.basename(path.dirname(f))))].sort();
}
