/**
 * A small PNG writer for tests (independent of src/image/png.ts: node:zlib's
 * deflate and crc32): any colour type and bit depth, palette and tRNS, Adam7
 * interlacing, and a chosen scanline filter per row (so the decoder's five
 * filters are all exercised). pngjs writes only 8/16-bit, non-palette,
 * non-interlaced files.
 */
import { crc32, deflateSync } from 'node:zlib';

export interface PngSpec {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  colorType: 0 | 2 | 3 | 4 | 6;
  depth: 1 | 2 | 4 | 8 | 16;
  /** Samples per pixel as the colour type says, row-major, at `depth` bits each (palette: the index). */
  samples: ArrayLike<number>;
  palette?: number[];
  trns?: number[];
  interlace?: boolean;
  /** Filter type of row y (default: y mod 5, all five types). */
  filter?: (y: number) => number;
}

const SPP: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function packRow(s: PngSpec, xs: number[], y: number): Uint8Array {
  const spp = SPP[s.colorType]!, d = s.depth;
  const row = new Uint8Array(Math.ceil((xs.length * spp * d) / 8));
  let bit = 0;
  for (const x of xs) {
    for (let k = 0; k < spp; k++) {
      const v = s.samples[(y * s.width + x) * spp + k]!;
      if (d === 16) { row[bit >> 3] = v >> 8; row[(bit >> 3) + 1] = v & 0xff; } else if (d === 8) row[bit >> 3] = v;
      else row[bit >> 3]! |= v << (8 - d - (bit & 7));
      bit += d;
    }
  }
  return row;
}

function filterRow(type: number, row: Uint8Array, prev: Uint8Array | undefined, bpp: number): Uint8Array {
  const out = new Uint8Array(row.length + 1);
  out[0] = type;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp]! : 0, b = prev ? prev[i]! : 0, c = prev && i >= bpp ? prev[i - bpp]! : 0;
    const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
    const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][type]!;
    out[i + 1] = (row[i]! - pred) & 0xff;
  }
  return out;
}

export function writePng(s: PngSpec): Uint8Array {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, s.width);
  dv.setUint32(4, s.height);
  ihdr.set([s.depth, s.colorType, 0, 0, s.interlace ? 1 : 0], 8);
  const bpp = Math.max(1, (SPP[s.colorType]! * s.depth) >> 3);
  const passes = s.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const rows: Uint8Array[] = [];
  let n = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const xs: number[] = [];
    for (let x = x0!; x < s.width; x += dx!) xs.push(x);
    if (xs.length === 0) continue;
    let prev: Uint8Array | undefined;
    for (let y = y0!; y < s.height; y += dy!) {
      const row = packRow(s, xs, y);
      rows.push(filterRow(s.filter ? s.filter(n) : n % 5, row, prev, bpp));
      prev = row;
      n++;
    }
  }
  const raw = new Uint8Array(rows.reduce((a, r) => a + r.length, 0));
  let o = 0;
  for (const r of rows) { raw.set(r, o); o += r.length; }
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr)];
  if (s.palette) parts.push(chunk('PLTE', Uint8Array.from(s.palette)));
  if (s.trns) parts.push(chunk('tRNS', Uint8Array.from(s.trns)));
  parts.push(chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0)));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
