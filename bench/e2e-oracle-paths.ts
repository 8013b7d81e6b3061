/**
 * The paths bench/e2e-oracle.ts draws beyond its first version (its report's "not covered" list):
 *   - h5Twin: the imported IR written back as a legacy Keras .h5 (model-import/keras-writer.ts writeLegacyH5: Keras 2
 *     config, or Keras 2.1.4's list-style config, datasets sometimes in reverse order) when the graph is a chain;
 *   - otherImage: a PNG (grey, grey+alpha, RGB, RGBA) or JPEG (jpeg-js, always 3 components) of another size than
 *     the model's input, so the SDK resizes and converts colour; the checks then compare the secure output with the
 *     reference on the SDK's OWN preprocessed tensor (client-sdk preprocessImage): the secure stage only, not the
 *     resize itself (its Pillow equivalence is client-sdk's fidelity tests' subject, not this probe's);
 *   - policyFlags: an import-time output policy (--output-mode label | label+confidence, --decision-thresholds for
 *     per-element sigmoid outputs, --confidence-thresholds), and the LabelPolicy the checks apply.
 */
import jpeg from 'jpeg-js';
import { writePng } from '../client-sdk/testing/png-writer.js';
import { decodeImage, preprocessImage, specForModel } from '../client-sdk/src/index.js';
import type { BundleManifest } from '../model-import/bundle.js';
import type { FuncModel, SeqModel } from '../model-import/keras-writer.js';
import { int, pick } from '../model-import/testing/keras-oracle-gen.js';
import type { Prg } from '../protocol/correlated/prg.js';
import type { LabelPolicy } from './e2e-oracle-check.js';

/** A functional twin whose every layer reads the one before it (the first the input), as a Sequential model; else null. */
export function chainOf(m: FuncModel): SeqModel | null {
  let prev = 'input_layer';
  for (const l of m.layers) {
    if (l.inputs.length !== 1 || l.inputs[0] !== prev) return null;
    prev = l.name;
  }
  if (prev !== m.output) return null;
  return { name: m.name, inputShape: m.inputShape, layers: m.layers.map(({ inputs: _, ...l }) => l) };
}

/** The writeLegacyH5 options drawn for an .h5 twin (the Keras version `force`d: --h5-keras), with a short description. */
export function h5Style(g: Prg, force?: string): { opts: { kerasVersion: string; reverseDatasets: boolean }; desc: string } {
  const drawn = pick(g, ['2.12.0', '2.1.4', '2.4.0'] as const);
  const kerasVersion = force ?? drawn;
  const reverseDatasets = int(g, 0, 1) === 1;
  return { opts: { kerasVersion, reverseDatasets }, desc: `.h5 keras ${kerasVersion}${reverseDatasets ? ' reversed' : ''}` };
}

export interface OtherImage { bytes: Uint8Array; desc: string }

/** An image of another size (1..2x the input's side, or smaller) and colour layout than the model's input. */
export function otherImage(g: Prg, h: number, w: number): OtherImage {
  const H = Math.max(1, Math.round(h * pick(g, [0.5, 0.75, 1.5, 2, 1.3]))), W = Math.max(1, Math.round(w * pick(g, [0.5, 1, 1.5, 2, 0.8])));
  const kind = pick(g, ['grey', 'grey+alpha', 'rgb', 'rgba', 'jpeg'] as const);
  if (kind === 'jpeg') {
    const data = Buffer.from(g.bytes(H * W * 4));
    for (let i = 3; i < data.length; i += 4) data[i] = 255;
    return { bytes: new Uint8Array(jpeg.encode({ data, width: W, height: H }, 90).data), desc: `jpeg ${W}x${H}` };
  }
  const ch = { grey: 1, 'grey+alpha': 2, rgb: 3, rgba: 4 }[kind];
  const colorType = ({ grey: 0, 'grey+alpha': 4, rgb: 2, rgba: 6 } as const)[kind];
  const samples = Uint8Array.from(g.bytes(H * W * ch));
  return { bytes: writePng({ width: W, height: H, colorType, depth: 8, samples }), desc: `png ${kind} ${W}x${H}` };
}

/** The model input the SDK makes of `bytes` (its decoder and preprocessImage under the manifest's preprocessing). */
export async function sdkTensor(bytes: Uint8Array, m: BundleManifest): Promise<Float32Array> {
  return preprocessImage(await decodeImage(bytes), specForModel({ inputShape: m.inputShape, preprocessing: m.preprocessing }));
}

/**
 * An import-time output policy: mpc-import flags and the LabelPolicy the checks apply. `perElement`: the label
 * modes decide per element against probability thresholds (several sigmoid outputs; a sigmoid or one-channel mask).
 */
export function policyFlags(g: Prg, channels: number, perElement: boolean): { args: string[]; pol: LabelPolicy; mode: 'label' | 'label+confidence'; desc: string } {
  const mode = pick(g, ['label', 'label+confidence'] as const);
  const args = ['--output-mode', mode];
  const pol: LabelPolicy = {};
  if (perElement && int(g, 0, 2) > 0) {
    const per = channels > 1 && int(g, 0, 1) === 1;
    const ts = Array.from({ length: per ? channels : 1 }, () => pick(g, [0.2, 0.35, 0.5, 0.65, 0.8, 0.9]));
    args.push('--decision-thresholds', ts.join(','));
    pol.thresholds = ts;
  }
  if (mode === 'label+confidence') {
    const conf = int(g, 0, 1) === 1 ? pick(g, [[0.25], [0.5, 2], [0.1, 0.5, 1.5]]) : [1, 3];
    if (conf[0] !== 1 || conf.length !== 2) args.push('--confidence-thresholds', conf.join(','));
    pol.confidence = conf;
  }
  return { args, pol, mode, desc: `policy ${args.slice(1).join(' ')}` };
}

/**
 * A cheating party for the malicious mode (parties/malicious-cheat.ts, test-only): which party, and the
 * SECURENN_TEST_CHEAT value, `<party>:<tag prefix>` (its first client session) or, with the pool on, sometimes
 * `<party>@offline:<tag prefix>` (its first offline mask batch). The prefixes: the session's message labels
 * (MalSession.label: 'mal:' + kind + '#' + sequence), any of them ('mal:'), the weights' copy check and MACs, the
 * client's input, products, openings, the MAC check.
 */
export function cheatDraw(g: Prg, pool: boolean): { party: 0 | 1 | 2; spec: string } {
  const party = int(g, 0, 2) as 0 | 1 | 2;
  const prefix = pick(g, ['mal:', 'mal:weights', 'mal:macOf', 'mal:clientInput', 'mal:input', 'mal:matmul', 'mal:matmulTrunc', 'mal:mul', 'mal:open', 'mal:openTo', 'mal:check']);
  const offline = pool && int(g, 0, 1) === 1;
  return { party, spec: `${party}${offline ? '@offline' : ''}:${prefix}` };
}
