/**
 * A JPEG's Exif orientation for the SDK's decoders: the tag is read
 * (jpegOrientation, protocol/image-orientation.ts, shared with mpc-import) by
 * both, never applied by them; preprocess.ts applies it (applyOrientation)
 * only when the model records `orientation: 'exif'` (or nothing, as bundles
 * before the field). The browser decoder also strips the tag before
 * createImageBitmap (stripExif) and checks the decoded size (jpegSize).
 */
import { readAscii } from '../../../protocol/image-orientation.js';
import { isSofMarker, jpegSegments } from '../../../protocol/jpeg-segments.js';

export { applyOrientation, jpegOrientation } from '../../../protocol/image-orientation.js';

/**
 * The JPEG without its Exif APP1 segments (every other byte unchanged), or `b` itself when it has none.
 * The browser decoder hands this to createImageBitmap: Chromium 156 turns the pixels by the Exif tag
 * even with imageOrientation 'none' (test/image-fidelity.e2e.test.ts), and without the tag no browser
 * can, so the stored pixels come back everywhere and preprocess.ts decides as the model records.
 */
export function stripExif(b: Uint8Array): Uint8Array {
  const keep: [number, number][] = [];
  let from = 0;
  for (const s of jpegSegments(b, { ff00: 'segment' })) {
    if (s.kind === 'segment' && s.marker === 0xe1 && readAscii(b, s.at + 4, 6) === 'Exif\0\0') { keep.push([from, s.at]); from = s.at + 2 + s.length; }
  }
  if (keep.length === 0) return b;
  keep.push([Math.min(from, b.length), b.length]);
  const out = new Uint8Array(keep.reduce((a, [s, e]) => a + e - s, 0));
  let o = 0;
  for (const [s, e] of keep) { out.set(b.subarray(s, e), o); o += e - s; }
  return out;
}

/** Width and height from the JPEG's SOF segment (the stored size), or undefined (no SOF before SOS, or fewer than its first 9 bytes there). */
export function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  for (const s of jpegSegments(b, { ff00: 'segment' })) {
    if (s.kind === 'end') return undefined;
    if (isSofMarker(s.marker)) return s.at + 9 <= b.length ? { height: (b[s.at + 5]! << 8) | b[s.at + 6]!, width: (b[s.at + 7]! << 8) | b[s.at + 8]! } : undefined;
  }
  return undefined;
}
