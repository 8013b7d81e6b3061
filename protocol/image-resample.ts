/**
 * The two resize methods besides Pillow's antialiased BILINEAR (the SDK's
 * client-sdk/src/image/resize.ts, the default) that Keras training pipelines
 * apply, so that a model records the one it was trained with
 * (InputPreprocessing.resize, protocol/input-preprocessing.ts):
 *
 *  - 'tf-bilinear': tf.image.resize(method='bilinear', antialias=False), what
 *    keras.utils.image_dataset_from_directory feeds a model: half-pixel
 *    centres, the two nearest source pixels per axis however large the
 *    downscale (no averaging), float output (not rounded to 8 bits).
 *    TensorFlow's HalfPixelScaler and compute_interpolation_weights:
 *    in = (o + 0.5) * (inSize / outSize) - 0.5, lower = max(floor(in), 0),
 *    upper = min(ceil(in), inSize - 1), lerp = in - floor(in); rows are
 *    interpolated first along x (top and bottom), then along y.
 *  - 'nearest': Pillow's Image.resize(NEAREST), keras.utils.load_img's default
 *    (and so ImageDataGenerator.flow_from_directory's): Pillow's
 *    ImagingScaleAffine (libImaging/Geometry.c) tabulates the source pixel
 *    of each output column as floor(xo) with xo = scale / 2, then
 *    xo += scale per column (scale = inSize / outSize, accumulated in double
 *    as Pillow does), rows the same; 8-bit samples kept.
 *
 * Pure functions on interleaved HWC samples; no I/O.
 */

interface Taps { lo: Int32Array; hi: Int32Array; lerp: Float64Array }

function tfTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const lo = new Int32Array(outSize), hi = new Int32Array(outSize), lerp = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const v = (o + 0.5) * scale - 0.5;
    const f = Math.floor(v);
    lo[o] = Math.max(f, 0);
    hi[o] = Math.min(Math.ceil(v), inSize - 1);
    lerp[o] = v - f;
  }
  return { lo, hi, lerp };
}

/** tf.image.resize bilinear (half-pixel centres, no antialias) of `c`-channel HWC samples; float32 out. */
export function resizeTfBilinear(src: ArrayLike<number>, w: number, h: number, c: number, outW: number, outH: number): Float32Array {
  const xs = tfTaps(w, outW), ys = tfTaps(h, outH);
  const out = new Float32Array(outW * outH * c);
  for (let y = 0; y < outH; y++) {
    const top = ys.lo[y]! * w * c, bottom = ys.hi[y]! * w * c, dy = ys.lerp[y]!;
    for (let x = 0; x < outW; x++) {
      const l = xs.lo[x]! * c, r = xs.hi[x]! * c, dx = xs.lerp[x]!;
      for (let k = 0; k < c; k++) {
        const tl = src[top + l + k]!, tr = src[top + r + k]!, bl = src[bottom + l + k]!, br = src[bottom + r + k]!;
        const t = tl + (tr - tl) * dx, b = bl + (br - bl) * dx;
        out[(y * outW + x) * c + k] = t + (b - t) * dy;
      }
    }
  }
  return out;
}

/** Pillow's pretabulated nearest source index per output position (xo = a/2, xo += a). */
function nearestTab(inSize: number, outSize: number): Int32Array {
  const a = inSize / outSize;
  const tab = new Int32Array(outSize);
  let xo = a * 0.5;
  for (let o = 0; o < outSize; o++, xo += a) tab[o] = Math.min(Math.floor(xo), inSize - 1);
  return tab;
}

/** Pillow's resize(NEAREST) of `c`-channel HWC 8-bit samples. */
export function resizeNearest(src: ArrayLike<number>, w: number, h: number, c: number, outW: number, outH: number): Uint8Array {
  const xs = nearestTab(w, outW), ys = nearestTab(h, outH);
  const out = new Uint8Array(outW * outH * c);
  for (let y = 0; y < outH; y++) {
    const row = ys[y]! * w;
    for (let x = 0; x < outW; x++) for (let k = 0; k < c; k++) out[(y * outW + x) * c + k] = src[(row + xs[x]!) * c + k]!;
  }
  return out;
}
