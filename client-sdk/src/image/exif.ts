/**
 * A JPEG's Exif orientation for the SDK's decoders: the tag is read
 * (jpegOrientation, protocol/image-orientation.ts, shared with mpc-import) by
 * both, never applied by them; preprocess.ts applies it (applyOrientation)
 * only when the model records `orientation: 'exif'` (or nothing, as bundles
 * before the field). The browser decoder also strips the tag before
 * createImageBitmap (stripExif) and checks the decoded size (jpegSize).
 */
import { readAscii } from '../../../protocol/image-orientation.js';

export { applyOrientation, jpegOrientation } from '../../../protocol/image-orientation.js';

/**
 * The JPEG without its Exif APP1 segments (every other byte unchanged), or `b` itself when it has none.
 * The browser decoder hands this to createImageBitmap: Chromium 156 turns the pixels by the Exif tag
 * even with imageOrientation 'none' (test/image-fidelity.e2e.test.ts), and without the tag no browser
 * can, so the stored pixels come back everywhere and preprocess.ts decides as the model records.
 */
export function stripExif(b: Uint8Array): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const keep: [number, number][] = [];
  let off = 2, from = 0;
  while (off + 4 <= b.length && b[off] === 0xff) {
    const marker = b[off + 1]!;
    if (marker === 0xda || marker === 0xd9) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8) || marker === 0xff) { off += marker === 0xff ? 1 : 2; continue; }
    const len = dv.getUint16(off + 2);
    if (marker === 0xe1 && readAscii(b, off + 4, 6) === 'Exif\0\0') { keep.push([from, off]); from = off + 2 + len; }
    off += 2 + len;
  }
  if (keep.length === 0) return b;
  keep.push([Math.min(from, b.length), b.length]);
  const out = new Uint8Array(keep.reduce((a, [s, e]) => a + e - s, 0));
  let o = 0;
  for (const [s, e] of keep) { out.set(b.subarray(s, e), o); o += e - s; }
  return out;
}

/** Width and height from the JPEG's SOF segment (the stored size), or undefined. */
export function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 2;
  while (off + 9 <= b.length && b[off] === 0xff) {
    const marker = b[off + 1]!;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8) || marker === 0xff) { off += marker === 0xff ? 1 : 2; continue; }
    if (marker === 0xda || marker === 0xd9) return undefined;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { height: dv.getUint16(off + 5), width: dv.getUint16(off + 7) };
    off += 2 + dv.getUint16(off + 2);
  }
  return undefined;
}

