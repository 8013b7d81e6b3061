/**
 * The arithmetic a plaintext forward pass of the IR runs in (forward.ts):
 *  - float: ordinary float64 reals (the plaintext reference, compared with
 *    Keras and with the secure runner);
 *  - fixed: what the secure runner computes, in ring units held as exact
 *    integers in float64: values round(v 2^f); a product of two encoded
 *    values truncated by f; a division by a public count; a product by a
 *    public real c as x round(c 2^24) truncated by 24 (SCALE_BITS).
 *    "Truncated" rounds to nearest by default (the protocol's local rule
 *    lands on floor or floor + 1, unbiased on average; options: floor, and
 *    stochastic, which draws floor + 1 as often as the protocol does), and
 *    each truncation adds the local rule's failure risk |x| / 2^64 when asked.
 * Sums of products are exact in float64 while |acc| < 2^53.
 */
import { randomFillSync } from 'node:crypto';
import type { FloatTensor } from '../ir.js';

/** Extra bits used to apply a public non-integer constant (Rescaling, slopes). */
export const SCALE_BITS = 24;

/**
 * Expected number of wrong elements per run of the protocol's local rule
 * (truncate.ts: an element x fails with probability about |x| / 2^64), summed
 * over this input's truncations. `products`: truncations after products,
 * which the exact protocol (--truncation exact) removes; `divisions`: divisions
 * by public counts, local in both modes. Values add up over calls.
 */
export interface FixedRisk {
  products: number;
  divisions: number;
  /** When present: raised to the largest |x| (ring units) truncated after a product (exact truncation needs |x| < 2^62). */
  largest?: number;
}

/**
 * How a comparison inside a layer uses the values it is given (the importer's
 * range check, model-import/precision.ts):
 *  - 'sign': the value itself is compared with 0 (ReLU, ReLU6, LeakyReLU,
 *    PReLU, hard_sigmoid's clamps, a smooth activation's x - B_k);
 *  - 'difference': differences of two such values (MaxPool, Maximum);
 *  - 'padded': values a 'same' MaxPool compares with its padding constant
 *    -2^29 (32-bit comparison ring) or -2^60 (context.ts pushDown).
 */
export type CompareKind = 'sign' | 'difference' | 'padded';

export interface Arith {
  readonly kind: 'float' | 'fixed';
  /** Encode a real (input element, public constant). */
  encode(v: number): number;
  /** Encoded weights (kernel, bias). */
  weights(t: FloatTensor): Float64Array;
  /** A sum of products of two encoded values, brought back to the value scale. */
  product(acc: number): number;
  /** Division by a public positive integer (pooling counts, integer Rescaling). */
  divide(sum: number, n: number): number;
  /** Product by a public real constant: scaled(x * publicWeight(c)). */
  scale(x: number, c: number): number;
  /** A public real constant as a multiplier (fixed: round(c 2^24)). */
  publicWeight(c: number): number;
  /** A sum of products by publicWeight()s, brought back to the value scale (fixed: truncated by 24 bits). */
  scaled(acc: number): number;
  /**
   * Fixed only, optional: a layer's truncations made inside a secure primitive (a smooth activation's, piecewise-poly.ts)
   * whose |x| (ring units) sum to `sum`, the largest `largest`: added to FixedRisk's products as product() would.
   */
  truncations?(sum: number, largest: number): void;
  /** Fractional bits (fixed only). */
  readonly fracBits?: number;
  /** How truncations round (fixed only; FixedArithOptions.rounding). 'stochastic' also makes smooth activations use their fixedDraw. */
  readonly rounding?: 'nearest' | 'floor' | 'stochastic';
  /** Encoded value back to a real. */
  decode(v: number): number;
  /** Called with the smallest and largest input (reals) of each smooth activation a layer applies (the importer checks them against the approximation's range). */
  onSmoothInput?: (layer: string, activation: string, min: number, max: number) => void;
  /** Called with the largest magnitude (reals) a layer's secure comparisons see, and how they use it (CompareKind). */
  onCompare?: (layer: string, kind: CompareKind, maxAbs: number) => void;
}

export const floatArith: Arith = Object.freeze({
  kind: 'float' as const,
  encode: (v: number) => v,
  weights: (t: FloatTensor) => t.data,
  product: (acc: number) => acc,
  divide: (s: number, n: number) => s / n,
  scale: (x: number, c: number) => x * c,
  publicWeight: (c: number) => c,
  scaled: (acc: number) => acc,
  decode: (v: number) => v,
});

/**
 * float64 arithmetic on weights and inputs rounded to float32, as Keras stores
 * and reads them: a model read back from a file and its float64 original
 * give the same outputs (model-import/reference.ts).
 */
export function kerasFloatArith(): Arith {
  const cache = new WeakMap<FloatTensor, Float64Array>();
  return {
    ...floatArith,
    encode: (v: number) => Math.fround(v),
    weights(t: FloatTensor) {
      let q = cache.get(t);
      if (!q) cache.set(t, (q = t.data.map(Math.fround)));
      return q;
    },
  };
}

export interface FixedArithOptions {
  fracBits?: number;
  /**
   * 'nearest' (default), 'floor', or 'stochastic': floor + 1 with probability
   * the dropped fraction, floor otherwise (uniform bits from node:crypto) —
   * the distribution of the protocol's truncations (local and exact alike
   * land on floor or floor + 1, the +1 as often as the low bits say).
   */
  rounding?: 'nearest' | 'floor' | 'stochastic';
  risk?: FixedRisk;
}

/** floor(a / d) + [u < frac(a / d)] for u uniform in [0, 1), u from a node:crypto pool refilled 64k at a time. */
function stochasticRounder(): (a: number, d: number) => number {
  const pool = new Uint32Array(65536);
  let at = pool.length;
  return (a, d) => {
    const q = Math.floor(a / d), r = a - q * d;
    if (r === 0) return q;
    if (at === pool.length) { randomFillSync(pool); at = 0; }
    return pool[at++]! / 2 ** 32 < r / d ? q + 1 : q;
  };
}

export function fixedArith(opts: FixedArithOptions = {}): Arith {
  const f = opts.fracBits ?? 13;
  const unit = 2 ** f;
  const round = opts.rounding === 'floor' ? (a: number, d: number) => Math.floor(a / d) : opts.rounding === 'stochastic' ? stochasticRounder() : (a: number, d: number) => Math.floor((2 * a + d) / (2 * d));
  const risk = opts.risk;
  const cache = new WeakMap<FloatTensor, Float64Array>();
  return {
    kind: 'fixed',
    encode: (v) => Math.round(v * unit),
    weights(t) {
      let q = cache.get(t);
      if (!q) {
        q = new Float64Array(t.data.length);
        for (let i = 0; i < q.length; i++) q[i] = Math.round(t.data[i]! * unit);
        cache.set(t, q);
      }
      return q;
    },
    product(acc) {
      if (risk) {
        risk.products += Math.abs(acc) / 2 ** 64;
        if (risk.largest !== undefined && Math.abs(acc) > risk.largest) risk.largest = Math.abs(acc);
      }
      return round(acc, unit);
    },
    divide(s, n) {
      if (risk) risk.divisions += Math.abs(s) / 2 ** 64;
      return round(s, n);
    },
    publicWeight: (c) => Math.round(c * 2 ** SCALE_BITS),
    scaled(a) {
      if (risk) {
        risk.products += Math.abs(a) / 2 ** 64;
        if (risk.largest !== undefined && Math.abs(a) > risk.largest) risk.largest = Math.abs(a);
      }
      return round(a, 2 ** SCALE_BITS);
    },
    scale(x, c) {
      return this.scaled(x * this.publicWeight(c));
    },
    truncations(sum, largest) {
      if (!risk) return;
      risk.products += sum / 2 ** 64;
      if (risk.largest !== undefined && largest > risk.largest) risk.largest = largest;
    },
    fracBits: f,
    rounding: opts.rounding ?? 'nearest',
    decode: (v) => v / unit,
  };
}
