/**
 * A JPEG's Exif orientation (EXIF 2.3, tag 0x0112 in IFD0 of the APP1 "Exif"
 * segment), a PNG's (the same tag in its eXIf chunk: tiffOrientation) and the turn that makes its stored pixels upright. The model's
 * recorded `orientation` (input-preprocessing.ts) says whether its training
 * pipeline turned them ('exif') or not ('stored': PIL's Image.open, TensorFlow's
 * decode_jpeg, torchvision's loaders). Shared by the client SDK
 * (client-sdk/src/image/) and mpc-import's sample images (model-import/images.ts),
 * as image-resample.ts is. No I/O.
 */
import { jpegSegments } from './jpeg-segments.js';

/** Exif orientation 1..8 of a JPEG (the first APP1 "Exif" segment of 16 bytes or more before SOS), 1 when absent or unreadable. */
export function jpegOrientation(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (const s of jpegSegments(b, { ff00: 'segment' })) {
    if (s.kind === 'end') return 1; // SOS / EOI: no Exif before the image data; or the walk cannot go on
    if (s.marker === 0xe1 && s.length >= 16 && readAscii(b, s.at + 4, 6) === 'Exif\0\0') {
      return readOrientation(dv, s.at + 10, Math.min(b.length, s.at + 2 + s.length));
    }
  }
  return 1;
}

/**
 * Exif orientation 1..8 of the TIFF structure in a PNG's eXIf chunk (PNG 1.2 extensions, 1.5.0: raw TIFF, no
 * "Exif\0\0" header), 1 when absent or unreadable. Pillow reads the chunk before or after IDAT (the last one
 * wins) and ImageOps.exif_transpose turns a PNG by it, as it turns a JPEG; a chunk with the JPEG header is not TIFF
 * to Pillow (it raises), 1 here. `data`: the chunk's data (or a raw profile's bytes after "Exif\0\0": png.ts).
 */
export function tiffOrientation(data: Uint8Array): number {
  return readOrientation(new DataView(data.buffer, data.byteOffset, data.byteLength), 0, data.length);
}

/** `n` bytes at `off` as Latin-1 text (marker and header names). */
export function readAscii(b: Uint8Array, off: number, n: number): string {
  let s = '';
  for (let i = 0; i < n && off + i < b.length; i++) s += String.fromCharCode(b[off + i]!);
  return s;
}

/** Orientation from a TIFF header at `tiff` (IFD0 only), bounded by `end`: 1..8, else 1. */
function readOrientation(dv: DataView, tiff: number, end: number): number {
  const v = readOrientationTag(dv, tiff, end);
  return v !== undefined && v >= 1 && v <= 8 ? v : 1;
}

/** The orientation tag's value in IFD0 of a TIFF header at `tiff`, undefined when the tag is absent or unreadable. */
function readOrientationTag(dv: DataView, tiff: number, end: number): number | undefined {
  if (tiff + 8 > end) return undefined;
  const order = dv.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined;
  const le = order === 0x4949;
  const ifd = tiff + dv.getUint32(tiff + 4, le);
  if (ifd + 2 > end) return undefined;
  const n = dv.getUint16(ifd, le);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > end) return undefined;
    if (dv.getUint16(e, le) !== 0x0112) continue;
    // By its type, as Pillow reads it: SHORT, LONG, SSHORT, SLONG, the first value (a count above 1 still turns);
    // another type (BYTE: Pillow gives bytes) or values beyond the entry is a tag that turns nothing (0).
    const type = dv.getUint16(e + 2, le), count = dv.getUint32(e + 4, le);
    const size = type === 3 || type === 8 ? 2 : type === 4 || type === 9 ? 4 : 0;
    if (size === 0 || count < 1 || size * count > 4) return 0;
    return type === 3 ? dv.getUint16(e + 8, le) : type === 8 ? dv.getInt16(e + 8, le) : type === 4 ? dv.getUint32(e + 8, le) : dv.getInt32(e + 8, le);
  }
  return undefined;
}

/** tiffOrientation's tag as stored (any value), undefined without one: Pillow then looks at XMP (png.ts). */
export function tiffOrientationTag(data: Uint8Array): number | undefined {
  return readOrientationTag(new DataView(data.buffer, data.byteOffset, data.byteLength), 0, data.length);
}

/** Turn pixels stored with Exif orientation o into the upright image (EXIF 2.3, tag 0x0112). */
export function applyOrientation<C extends number>(img: { width: number; height: number; channels: C; data: ArrayLike<number> }, o: number): { width: number; height: number; channels: C; data: Uint8Array } {
  if (o <= 1 || o > 8) return { width: img.width, height: img.height, channels: img.channels, data: Uint8Array.from(img.data) };
  const { width: w, height: h, channels: c, data } = img;
  const swap = o >= 5;
  const ow = swap ? h : w, oh = swap ? w : h;
  const out = new Uint8Array(ow * oh * c);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sx: number, sy: number;
      switch (o) {
        case 2: sx = w - 1 - x; sy = y; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sx = x; sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        default: sx = w - 1 - y; sy = x; break; // 8
      }
      const si = (sy * w + sx) * c, di = (y * ow + x) * c;
      for (let ch = 0; ch < c; ch++) out[di + ch] = data[si + ch]!;
    }
  }
  return { width: ow, height: oh, channels: c, data: out };
}
