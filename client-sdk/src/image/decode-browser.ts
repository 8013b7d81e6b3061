/**
 * Browser image decoding. PNG: png.ts, the pure-JS decoder Node uses too (a
 * canvas premultiplies alpha, which zeroes the colour of fully transparent
 * pixels, and reduces 16-bit samples its own way). JPEG and whatever else the
 * browser reads: createImageBitmap (the browser's own decoders, no colour-space
 * conversion) drawn at native size on an OffscreenCanvas (or a <canvas>) and
 * read back as RGBA. A JPEG goes in without its Exif segments (exif.ts
 * stripExif: Chromium turns the pixels by the tag even with imageOrientation
 * 'none'), so the pixels are as stored everywhere; its orientation is read
 * from the bytes and applied by preprocess.ts when the model records 'exif',
 * as in Node. Resizing is done by
 * resize.ts, not the canvas, so browser and Node resample identically.
 */
import { InputError } from '../errors.js';
import { jpegOrientation, jpegSize, stripExif } from './exif.js';
import { decodePng } from './png.js';
import { sniffImageFormat, type RawImage } from './types.js';

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

function context2d(width: number, height: number): Canvas2D {
  if (typeof OffscreenCanvas !== 'undefined') {
    const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    if (ctx) return ctx;
  }
  if (typeof document !== 'undefined') {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (ctx) return ctx;
  }
  throw new InputError('E_DTYPE', 'image: no 2D canvas is available to decode images; pass a preprocessed tensor');
}

export async function decodeImageBrowser(src: Uint8Array | Blob): Promise<RawImage> {
  if (typeof createImageBitmap !== 'function') {
    throw new InputError('E_DTYPE', 'image: createImageBitmap is not available; pass a preprocessed tensor');
  }
  const bytes = src instanceof Uint8Array ? src : new Uint8Array(await src.arrayBuffer());
  const format = sniffImageFormat(bytes);
  if (format === 'png') return decodePng(bytes);
  const orientation = format === 'jpeg' ? jpegOrientation(bytes) : 1;
  const stored = format === 'jpeg' ? stripExif(bytes) : bytes;
  const blob = src instanceof Blob && stored === bytes ? src : new Blob([stored as Uint8Array<ArrayBuffer>]);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new InputError('E_DTYPE', 'image: the browser could not decode the image', { cause: e });
  }
  try {
    const { width, height } = bitmap;
    const size = format === 'jpeg' ? jpegSize(bytes) : undefined;
    if (size && (size.width !== width || size.height !== height)) {
      throw new InputError('E_DTYPE', `image: the browser decoded the JPEG at ${width} x ${height}, its frame header says ${size.width} x ${size.height}`);
    }
    const ctx = context2d(width, height);
    ctx.drawImage(bitmap, 0, 0);
    const pixels = ctx.getImageData(0, 0, width, height).data;
    return { width, height, channels: 4, data: pixels, ...(orientation !== 1 ? { orientation } : {}) };
  } finally {
    bitmap.close();
  }
}
