/**
 * Browser image decoding: createImageBitmap (the browser's own decoders, Exif
 * orientation applied, no color-space conversion) drawn at native size on an
 * OffscreenCanvas (or a <canvas>) and read back as RGBA. Resizing is done by
 * resize.ts, not the canvas, so browser and Node resample identically.
 */
import { InputError } from '../errors.js';
import type { RawImage } from './types.js';

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
  const blob = src instanceof Uint8Array ? new Blob([src as Uint8Array<ArrayBuffer>]) : src;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (e) {
    throw new InputError('E_DTYPE', 'image: the browser could not decode the image', { cause: e });
  }
  try {
    const { width, height } = bitmap;
    const ctx = context2d(width, height);
    ctx.drawImage(bitmap, 0, 0);
    const pixels = ctx.getImageData(0, 0, width, height).data;
    return { width, height, channels: 4, data: pixels };
  } finally {
    bitmap.close();
  }
}
