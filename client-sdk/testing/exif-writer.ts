/**
 * Tests' JPEGs with an Exif orientation: an APP1 segment holding a one-entry IFD0 (tag 0x0112, SHORT) inserted right
 * after SOI, with the TIFF header little-endian ('II', what cameras mostly write) or big-endian ('MM').
 */
export function withOrientation(jpg: Uint8Array, o: number, order: 'II' | 'MM' = 'II'): Uint8Array {
  const tiff = order === 'II'
    ? [0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, o, 0, 0, 0, 0, 0, 0, 0]
    : [0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0];
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const seg = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
  const out = new Uint8Array(jpg.length + seg.length);
  out.set(jpg.subarray(0, 2));
  out.set(seg, 2);
  out.set(jpg.subarray(2), 2 + seg.length);
  return out;
}
