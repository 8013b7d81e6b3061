/**
 * Which bound decided a model's comparison ring, in words for the import
 * report and the manifest (precision.ts calls it once the settings are
 * chosen): the sound static bound over the declared input range
 * (static-bounds.ts), the samples alone (no declared range), or an explicit
 * or forced ring that does not hold the sound bound (UNSOUND: an input in the
 * declared range can make a comparison silently wrong).
 */
import { MpcError } from '../protocol/errors.js';
import { inputBoundsOf, type InputPreprocessing } from '../protocol/input-preprocessing.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { allowedMagnitude, fmt, rangeCheck, type CompareBits, type PrecisionOptions, type PrecisionSettings, type RangeStat, type RingBasis } from './precision.js';
import { inputBox, staticRanges } from './static-bounds.js';

type Worst = { layer: string; maxAbs: number; allowed: number };

const at = (w: Worst | undefined): string => (w ? `'${w.layer}' ${fmt(w.maxAbs)} of ${fmt(w.allowed)} allowed` : 'no compared values');
const sampleAt = (ranges: readonly RangeStat[] | undefined, layer: string): string => {
  const r = ranges?.find((x) => x.layer === layer);
  return r ? `; the samples reach ${fmt(r.maxAbs)} there` : '';
};

/**
 * The layers a 32-bit model runs on the 64-bit ring: those whose sound bound
 * (or samples) the 32-bit ring cannot hold at f with the margin. `ok` when the
 * 64-bit ring holds every one of them and none is the secure argmax (not a
 * layer of the IR: its ring is the model's).
 */
export function wideLayers(sound: readonly RangeStat[], samples: readonly RangeStat[], f: number, margin: number): { ok: boolean; layers: string[] } {
  const over = [...sound, ...samples].filter((r) => r.maxAbs >= allowedMagnitude(r.kind, f, 32, margin));
  const layers = [...new Set(over.map((r) => r.layer))];
  const ok = over.every((r) => !r.layer.endsWith(' (secure argmax)') && r.maxAbs < allowedMagnitude(r.kind, f, 64, margin));
  return { ok, layers };
}

export function ringBasis(s: PrecisionSettings, opts: PrecisionOptions, margin: number, sampleWorst?: Worst, sampleRanges?: readonly RangeStat[], wide: readonly string[] = []): { ringReason: string; ringBasis: RingBasis; ringNote?: string } {
  const w = s.compareBits, f = s.fracBits;
  if (!opts.soundRanges) {
    return {
      ringBasis: 'samples-only',
      ringNote: `${w}-bit comparison ring chosen on the samples only: the model declares no input range, so no sound bound`,
      ringReason: `the samples only (tightest ${at(sampleWorst)}): the model has no declared input range (image preprocessing or --input-range LO,HI), so there is no sound bound; an input producing larger values than the samples makes a ${w}-bit comparison silently wrong`,
    };
  }
  if (wide.length > 0) {
    const at64 = rangeCheck(opts.soundRanges.filter((r) => wide.includes(r.layer)), f, 64, margin);
    const at32 = rangeCheck(opts.soundRanges.filter((r) => wide.includes(r.layer)), f, 32, margin);
    const rest = rangeCheck(opts.soundRanges.filter((r) => !wide.includes(r.layer)), f, 32, margin);
    return {
      ringBasis: 'sound',
      ringReason: `the sound bound over the declared input range: the 32-bit ring holds it at f = ${f} (${at(rest.worst)}) except at ${wide.length} layer${wide.length > 1 ? 's' : ''} (${wide.map((l) => `'${l}'`).join(', ')}; tightest ${at(at32.worst)}${sampleAt(sampleRanges, at32.worst?.layer ?? '')}), which run on the 64-bit ring (${at(at64.worst)}; IR node compareBits: 64)`,
    };
  }
  const here = rangeCheck(opts.soundRanges, f, w, margin);
  const explicit = opts.compareBits !== undefined ? `explicit --compare-bits ${w}` : opts.force ? `forced ${w}-bit ring` : '';
  if (!here.ok) {
    return {
      ringBasis: 'unsound-override',
      ringNote: `${explicit || `${w}-bit ring`} does NOT hold the sound bound over the declared input range at f = ${f} (layer '${here.worst!.layer}'): comparisons can be silently wrong`,
      ringReason: `${explicit || `${w}-bit ring`} does NOT hold the sound bound over the declared input range at f = ${f}: ${at(here.worst)}${sampleAt(sampleRanges, here.worst!.layer)}; an input in the declared range can make a comparison silently wrong (leave --compare-bits out to let the importer choose)`,
    };
  }
  if (w === 64 && !explicit) {
    const narrow = rangeCheck(opts.soundRanges, f, 32, margin);
    return {
      ringBasis: 'sound',
      ringReason: `the sound bound over the declared input range: the 32-bit ring cannot hold it at f = ${f} (${at(narrow.worst)}${sampleAt(sampleRanges, narrow.worst?.layer ?? '')}), the 64-bit ring does (${at(here.worst)})`,
    };
  }
  return { ringBasis: 'sound', ringReason: `${explicit ? `${explicit}, which holds ` : ''}the sound bound over the declared input range at f = ${f}: ${at(here.worst)} on the ${w}-bit ring` };
}

/**
 * The basis of a ring chosen on the samples because no ring holds the sound
 * bound (precision.ts, when the search with the bound found nothing): the
 * first layer, in IR order, whose bound the 64-bit ring cannot hold at the
 * chosen f with the margin. Interval bounds grow with depth (they ignore the
 * correlation of a layer's elements), so in a deep model this says nothing
 * about real inputs: 'samples-only', with that layer named; the manifests'
 * note carries no magnitudes (they derive from the weights).
 */
export function looseBoundBasis(s: PrecisionSettings, sound: readonly RangeStat[], margin: number, nodes: readonly string[], sampleWorst?: Worst, sampleRanges?: readonly RangeStat[]): { ringReason: string; ringBasis: RingBasis; ringNote: string; looseBound: { layer: string; node: number; nodes: number } } {
  const f = s.fracBits, w = s.compareBits;
  const beyond = (bits: CompareBits) => sound.filter((r) => r.maxAbs >= allowedMagnitude(r.kind, f, bits, margin));
  // The chosen settings failed the bound on both rings; if only the chosen ring's check names a layer (a secure argmax's logits on 32 bits), name that one.
  const b64 = beyond(64), over = b64.length > 0 ? b64 : beyond(w);
  const first = over[0] ?? sound.reduce((a, b) => (b.maxAbs / allowedMagnitude(b.kind, f, 64, margin) > a.maxAbs / allowedMagnitude(a.kind, f, 64, margin) ? b : a));
  const node = nodes.indexOf(first.layer);
  const where = `layer '${first.layer}' (${node >= 0 ? `IR node ${node + 1} of ${nodes.length}` : 'the secure argmax'}, the first where no ring holds it)`;
  const layers = new Set(over.map((r) => r.layer)).size, compared = new Set(sound.map((r) => r.layer)).size;
  return {
    ringBasis: 'samples-only',
    looseBound: { layer: first.layer, node, nodes: nodes.length },
    ringNote: `${w}-bit comparison ring chosen on the samples only: no ring holds the sound bound over the declared input range at f = ${f} at ${where}: interval bound too loose at this depth; an input in the declared range driving values beyond the samples' can make a comparison silently wrong`,
    ringReason: `the samples only (tightest ${at(sampleWorst)}): the sound bound over the declared input range proves nothing for this model: at f = ${f} no ring holds it at ${where}: ${fmt(first.maxAbs)} by the bound, ${fmt(allowedMagnitude(first.kind, f, 64, margin))} allowed on the 64-bit ring${sampleAt(sampleRanges, first.layer)}; ${layers} of ${compared} compared layers are beyond ${over === b64 ? 'the 64-bit ring' : `the ${w}-bit ring`} by the bound: interval bound too loose at this depth. Chosen on the samples with the range margin ${margin} as without a declared range, no layer moved to 64 bits (that would prove nothing); --require-sound-bound refuses such a model`,
  };
}

/**
 * The sound bound of the model's compared values over its declared input
 * range: the image preprocessing's range of 8-bit pixels, else `inputRange`
 * (mpc-import --input-range) for every element; undefined when neither is
 * declared (the ring then rests on the samples: ringBasis 'samples-only').
 */
export function soundRangesFor(ir: ModelIR<FloatTensor>, prep: InputPreprocessing | undefined, inputRange: [number, number] | undefined, comparesOutput: boolean): RangeStat[] | undefined {
  if (prep) { const b = inputBoundsOf(prep); return staticRanges(ir, inputBox(ir.inputShape, b.lo, b.hi), comparesOutput); }
  if (inputRange) return staticRanges(ir, inputBox(ir.inputShape, [inputRange[0]], [inputRange[1]]), comparesOutput);
  return undefined;
}

/** `--input-range LO,HI`: two finite numbers, LO < HI. */
export function parseInputRange(v: string): [number, number] {
  const p = v.split(',').map((x) => Number(x.trim()));
  if (p.length !== 2 || !p.every(Number.isFinite) || !(p[0]! < p[1]!)) throw new MpcError('E_BAD_ARGUMENT', `--input-range must be LO,HI with finite LO < HI, got '${v}'`, { step: 'import.args' });
  return [p[0]!, p[1]!];
}
