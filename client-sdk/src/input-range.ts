/**
 * The model's declared input range, checked on raw tensor inputs before any
 * share is made: an image model's range is what its preprocessing makes of
 * 8-bit pixels (protocol/input-preprocessing.ts inputBoundsOf, per channel),
 * a model whose input is not an image declares one (ModelInfo.inputRange,
 * mpc-import --input-range). The importer's sound bound on the comparison
 * ring (model-import/static-bounds.ts) holds only for inputs in that range, so
 * a value outside it could make a comparison silently wrong: refused with
 * E_INPUT_RANGE. Messages name the element index and the channel's range,
 * never the value.
 */
import type { ModelInfo } from '../../protocol/api-contract.js';
import { inputBoundsOf } from '../../protocol/input-preprocessing.js';
import { InputError } from './errors.js';
import type { Tensor } from './input.js';

/** Per-channel [lo, hi] of the model's input (one pair for every element when lo has length 1); undefined when the model declares none. */
export function declaredInputRange(model: Pick<ModelInfo, 'preprocessing' | 'inputRange'>): { lo: number[]; hi: number[] } | undefined {
  if (model.preprocessing) return inputBoundsOf(model.preprocessing);
  if (model.inputRange) return { lo: [model.inputRange[0]], hi: [model.inputRange[1]] };
  return undefined;
}

/**
 * Refuse a tensor with an element outside the declared range. Slack: 1e-6 of
 * the range's magnitude (a Float32Array of preprocessed pixels rounds the
 * float64 ends by up to 2^-24 relative).
 */
export function checkTensorRange(t: Tensor, model: Pick<ModelInfo, 'preprocessing' | 'inputRange'>, what = 'input'): void {
  const r = declaredInputRange(model);
  if (!r) return;
  const C = r.lo.length, d = t.data;
  const lo = r.lo.map((v, c) => v - 1e-6 * Math.max(1, Math.abs(v), Math.abs(r.hi[c]!)));
  const hi = r.hi.map((v, c) => v + 1e-6 * Math.max(1, Math.abs(v), Math.abs(r.lo[c]!)));
  for (let i = 0; i < d.length; i++) {
    const c = i % C, v = d[i]!;
    if (!(v >= lo[c]! && v <= hi[c]!)) {
      const source = model.preprocessing ? 'the range its image preprocessing produces from pixels 0..255' : 'its declared inputRange';
      throw new InputError('E_INPUT_RANGE', `${what}: tensor element ${i}${C > 1 ? ` (channel ${c})` : ''} is outside the model's input range [${fmt(r.lo[c]!)}, ${fmt(r.hi[c]!)}] (${source}); nothing was sent`);
    }
  }
}

const fmt = (v: number): string => String(Number(v.toPrecision(6)));
