/**
 * Data movement of the IR's layout layers as index maps, written once for
 * the secure runner (over shares: moving shares is local) and the plaintext
 * forward pass (over reals or ring units): out[i] = src[idx[i]], or zero
 * where idx[i] < 0 (zero is a valid share of zero at every party). Shapes
 * exclude the batch; the maps include it. Tensors are NHWC, flat.
 */
import { sizeOf } from '../layers/types.js';

type Arr = Float64Array | BigUint64Array;

/** out[i] = src[idx[i]] (0 where idx[i] < 0), same array type as src. */
export function gather<T extends Arr>(src: T, idx: Int32Array): T {
  const out = (src instanceof BigUint64Array ? new BigUint64Array(idx.length) : new Float64Array(idx.length)) as T;
  if (src instanceof BigUint64Array) {
    const o = out as BigUint64Array;
    for (let i = 0; i < idx.length; i++) { const j = idx[i]!; if (j >= 0) o[i] = src[j]!; }
  } else {
    const o = out as Float64Array, s = src as Float64Array;
    for (let i = 0; i < idx.length; i++) { const j = idx[i]!; if (j >= 0) o[i] = s[j]!; }
  }
  return out;
}

/** Concatenate the inputs' flat arrays (the sources of concatIndex). */
export function concatArrays<T extends Arr>(xs: T[]): T {
  const n = xs.reduce((s, x) => s + x.length, 0);
  const out = (xs[0] instanceof BigUint64Array ? new BigUint64Array(n) : new Float64Array(n)) as T;
  let o = 0;
  for (const x of xs) { (out as BigUint64Array).set(x as BigUint64Array, o); o += x.length; }
  return out;
}

/** Concatenation along `axis` (of the shape without batch) of inputs laid out one after the other (concatArrays). */
export function concatIndex(shapes: number[][], axis: number, N: number): Int32Array {
  const outer = sizeOf(shapes[0]!.slice(0, axis));
  const blocks = shapes.map((s) => sizeOf(s.slice(axis)));
  const total = blocks.reduce((a, b) => a + b, 0);
  const idx = new Int32Array(N * outer * total);
  let o = 0, base = 0;
  const bases = shapes.map((s) => { const b = base; base += N * sizeOf(s); return b; });
  for (let r = 0; r < N * outer; r++) for (let i = 0; i < shapes.length; i++) {
    const b = blocks[i]!, src = bases[i]! + r * b;
    for (let t = 0; t < b; t++) idx[o++] = src + t;
  }
  return idx;
}

/** Numpy broadcasting of `from` to `to` (equal rank; each dim of `from` is 1 or equal). */
export function broadcastIndex(from: number[], to: number[], N: number): Int32Array {
  const r = to.length;
  const strides = new Array<number>(r).fill(0);
  let st = 1;
  for (let d = r - 1; d >= 0; d--) { strides[d] = from[d] === 1 ? 0 : st; st *= from[d]!; }
  const per = sizeOf(to), inPer = sizeOf(from);
  const idx = new Int32Array(N * per);
  const coord = new Array<number>(r).fill(0);
  for (let i = 0; i < per; i++) {
    let s = 0;
    for (let d = 0; d < r; d++) s += coord[d]! * strides[d]!;
    for (let n = 0; n < N; n++) idx[n * per + i] = n * inPer + s;
    for (let d = r - 1; d >= 0; d--) { if (++coord[d]! < to[d]!) break; coord[d] = 0; }
  }
  return idx;
}

/** Maps each output (oy, ox) of an [H2, W2, C] map to an input (y, x) of [H, W, C], or -1 for zero. */
function map2d(N: number, H: number, W: number, C: number, H2: number, W2: number, fy: (oy: number) => number, fx: (ox: number) => number): Int32Array {
  const idx = new Int32Array(N * H2 * W2 * C);
  let o = 0;
  for (let n = 0; n < N; n++) for (let oy = 0; oy < H2; oy++) {
    const y = fy(oy);
    for (let ox = 0; ox < W2; ox++) {
      const x = fx(ox);
      const base = y < 0 || x < 0 ? -1 : ((n * H + y) * W + x) * C;
      for (let c = 0; c < C; c++) idx[o++] = base < 0 ? -1 : base + c;
    }
  }
  return idx;
}

export function cropIndex([H, W, C]: number[], crop: [[number, number], [number, number]], N: number): Int32Array {
  const [[t, b], [l, r]] = crop;
  return map2d(N, H!, W!, C!, H! - t - b, W! - l - r, (y) => y + t, (x) => x + l);
}

export function upsampleNearestIndex([H, W, C]: number[], size: [number, number], N: number): Int32Array {
  return map2d(N, H!, W!, C!, H! * size[0], W! * size[1], (y) => Math.floor(y / size[0]), (x) => Math.floor(x / size[1]));
}

/** Zeros inserted between rows/columns (stride - 1 of them), then padded by pad: the input of Conv2DTranspose's stride-1 convolution. */
export function dilatePadIndex([H, W, C]: number[], strides: [number, number], pad: [[number, number], [number, number]], N: number): Int32Array {
  const [[t, b], [l, r]] = pad;
  const Hd = (H! - 1) * strides[0] + 1, Wd = (W! - 1) * strides[1] + 1;
  const f = (o: number, p: number, s: number, size: number) => { const d = o - p; return d < 0 || d >= (size - 1) * s + 1 || d % s !== 0 ? -1 : d / s; };
  return map2d(N, H!, W!, C!, Hd + t + b, Wd + l + r, (y) => f(y, t, strides[0], H!), (x) => f(x, l, strides[1], W!));
}

/**
 * One axis of bilinear upsampling by an integer factor, TF's resize with
 * half-pixel centres (Keras UpSampling2D(interpolation='bilinear')): output
 * o reads in = (o + 0.5) / s - 0.5 from lo = max(floor(in), 0) with weight
 * 1 - l and hi = min(ceil(in), size - 1) with weight l, l = in - floor(in).
 */
export function bilinearTaps(size: number, s: number): { lo: Int32Array; hi: Int32Array; wLo: Float64Array; wHi: Float64Array } {
  const n = size * s;
  const lo = new Int32Array(n), hi = new Int32Array(n), wLo = new Float64Array(n), wHi = new Float64Array(n);
  for (let o = 0; o < n; o++) {
    const v = (o + 0.5) / s - 0.5, f = Math.floor(v), l = v - f;
    lo[o] = Math.max(f, 0); hi[o] = Math.min(Math.ceil(v), size - 1); wLo[o] = 1 - l; wHi[o] = l;
  }
  return { lo, hi, wLo, wHi };
}

/**
 * One pass of bilinear upsampling along H (axis 0) or W (axis 1) of [H, W, C]:
 * index maps of the two taps and the public weight of each output element.
 */
export function bilinearPass([H, W, C]: number[], axis: 0 | 1, s: number, N: number): { lo: Int32Array; hi: Int32Array; wLo: Float64Array; wHi: Float64Array; shape: number[] } {
  const t = bilinearTaps(axis === 0 ? H! : W!, s);
  const H2 = axis === 0 ? H! * s : H!, W2 = axis === 1 ? W! * s : W!;
  const pick = (a: Int32Array) => map2d(N, H!, W!, C!, H2, W2, (y) => (axis === 0 ? a[y]! : y), (x) => (axis === 1 ? a[x]! : x));
  const per = (w: Float64Array) => { const out = new Float64Array(N * H2 * W2 * C!); let o = 0; for (let n = 0; n < N; n++) for (let y = 0; y < H2; y++) for (let x = 0; x < W2; x++) for (let c = 0; c < C!; c++) out[o++] = w[axis === 0 ? y : x]!; return out; };
  return { lo: pick(t.lo), hi: pick(t.hi), wLo: per(t.wLo), wHi: per(t.wHi), shape: [H2, W2, C!] };
}
