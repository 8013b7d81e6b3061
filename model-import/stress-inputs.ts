/**
 * In-range stress inputs for the precision chooser (precision.ts
 * `stressInputs`): constant and high-contrast images whose every value lies
 * in the model's declared input range, so any client may send them, but
 * which drive a network's activations far beyond what natural samples do.
 *
 * Why: the chooser's error target (and its ring check) hold on the inputs it
 * simulates. On MobileNetV3-Small (../shared/fixtures/zoo) the golden X-ray
 * reaches activations of 71 while an in-range 0/255 checkerboard reaches
 * 8.8e3; the fixed-point error (weights rounded to 2^-(f+1)) grows with the
 * activations, and at f = 13 the checkerboards' logits were off by up to 28
 * (BENCHMARKS.md, "MobileNetV3-Small: secure vs float on bright and
 * high-contrast inputs"). Checking these images too makes the choice hold
 * for them, not only for inputs like the samples.
 *
 * The patterns (each one image): all low, all high, checkerboards of low /
 * high squares with sides 1, 2, 4, 8, 16, and stripes of width 8 along each
 * axis; on an [H, W, C] input every channel alike, on any other shape the
 * flattened values in runs of the same lengths.
 */
import type { InputPreprocessing } from '../protocol/api-contract.js';
import { MpcError } from '../protocol/errors.js';
import { pixelsToInput } from '../protocol/input-preprocessing.js';

export const STRESS_PERIODS: readonly number[] = [1, 2, 4, 8, 16];

/** Named patterns as 0/1 maps over [H, W] (or a flat length, H = 1). */
function patterns(H: number, W: number): { name: string; at: (y: number, x: number) => 0 | 1 }[] {
  const out: { name: string; at: (y: number, x: number) => 0 | 1 }[] = [{ name: 'low', at: () => 0 }, { name: 'high', at: () => 1 }];
  for (const p of STRESS_PERIODS) out.push({ name: `checker${p}`, at: (y, x) => ((Math.floor(y / p) + Math.floor(x / p)) & 1) as 0 | 1 });
  out.push({ name: 'stripes8-x', at: (_y, x) => (Math.floor(x / 8) & 1) as 0 | 1 });
  if (H > 1) out.push({ name: 'stripes8-y', at: (y) => (Math.floor(y / 8) & 1) as 0 | 1 });
  return out;
}

/** The patterns with value `lo` where 0 and `hi` where 1, over `shape` ([H, W, C]: per pixel; else flattened). */
export function stressValues(shape: readonly number[], lo: number, hi: number): { name: string; input: Float32Array }[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi)) throw new MpcError('E_BAD_ARGUMENT', `stress inputs: need a finite range lo <= hi, got [${lo}, ${hi}]`, { step: 'import.precision' });
  const n = shape.reduce((a, b) => a * b, 1);
  const image = shape.length === 3;
  const [H, W, C] = image ? (shape as [number, number, number]) : [1, n, 1];
  return patterns(H, W).map(({ name, at }) => {
    const input = new Float32Array(n);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const v = at(y, x) ? hi : lo;
      for (let c = 0; c < C; c++) input[(y * W + x) * C + c] = v;
    }
    return { name, input };
  });
}

/** The patterns as 8-bit pixels (0 and 255) through an image model's recorded preprocessing (scaling, channel order, mean / std). */
export function stressImages(inputShape: readonly number[], prep: InputPreprocessing): { name: string; input: Float32Array }[] {
  if (inputShape.length !== 3) throw new MpcError('E_BAD_ARGUMENT', `stress inputs: an image model needs an input of shape [H, W, C], got [${inputShape.join(', ')}]`, { step: 'import.precision' });
  return stressValues(inputShape, 0, 255).map(({ name, input }) => ({ name, input: pixelsToInput(input, prep) }));
}

/** mpc-import --stress-inputs: the patterns over the model's declared input range (its image preprocessing, else --input-range). */
export function stressFor(inputShape: readonly number[], prep: InputPreprocessing | undefined, inputRange: readonly [number, number] | undefined): Float32Array[] {
  if (prep) return stressImages(inputShape, prep).map((s) => s.input);
  if (inputRange) return stressValues(inputShape, inputRange[0], inputRange[1]).map((s) => s.input);
  throw new MpcError('E_BAD_ARGUMENT', '--stress-inputs: the model declares no input range (an image preprocessing or --input-range LO,HI), so no input is known to be in range', { step: 'import.args' });
}
