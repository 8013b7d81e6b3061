/**
 * Crafted hostile JPEGs for the decoder's safety tests (tests only): small files that make a
 * JPEG decoder do far more work, or allocate far more, than their size suggests.
 */

const seg = (marker: number, body: number[]): number[] => [0xff, marker, ((body.length + 2) >> 8) & 255, (body.length + 2) & 255, ...body];

/** Entropy bits with 0xFF stuffing, padded with 1 bits. */
function bits(codes: [number, number][]): number[] {
  const out: number[] = [];
  let acc = 0, n = 0;
  const put = (v: number, len: number): void => {
    for (let i = len - 1; i >= 0; i--) {
      acc = (acc << 1) | ((v >> i) & 1);
      if (++n === 8) { out.push(acc); if (acc === 0xff) out.push(0); acc = 0; n = 0; }
    }
  };
  for (const [v, len] of codes) put(v, len);
  if (n > 0) put((1 << (8 - n)) - 1, 8 - n);
  return out;
}

/**
 * A progressive grey JPEG of width x height whose only content is `scans` AC-first scans (1..63) that each
 * visit every block through end-of-band runs of 32767 blocks (about 60 bytes a scan for a megablock image):
 * a decoder's time grows as scans x blocks while the file grows as scans.
 */
export function manyScansJpeg(width: number, height: number, scans: number): Uint8Array {
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const head = [0xff, 0xd8,
    ...seg(0xdb, [0x00, ...new Array<number>(64).fill(1)]),
    ...seg(0xc2, [8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]),
    ...seg(0xc4, [0x00, 1, ...new Array<number>(15).fill(0), 0x00]), // DC 0: code '0' -> category 0
    ...seg(0xc4, [0x10, 1, ...new Array<number>(15).fill(0), 0xe0])]; // AC 0: code '0' -> EOB run, 14 extra bits
  const codes: [number, number][] = [];
  for (let left = blocks; left > 0; left -= 32767) { codes.push([0, 1]); codes.push([0x3fff, 14]); }
  const scan = [...seg(0xda, [1, 1, 0x00, 1, 63, 0x00]), ...bits(codes)];
  const parts: number[] = [...head];
  for (let s = 0; s < scans; s++) parts.push(...scan);
  parts.push(0xff, 0xd9);
  return new Uint8Array(parts);
}

/** manyScansJpeg(width, height, 1) followed by `frames - 1` more SOF2 segments of the same size (a decoder that allocates per frame header before refusing a second frame allocates them all). */
export function manyFramesJpeg(width: number, height: number, frames: number): Uint8Array {
  const one = manyScansJpeg(width, height, 1);
  const sof = seg(0xc2, [8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]);
  const parts = [...one.subarray(0, one.length - 2)];
  for (let f = 1; f < frames; f++) parts.push(...sof);
  parts.push(0xff, 0xd9);
  return new Uint8Array(parts);
}
