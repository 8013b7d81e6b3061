/**
 * Writes a baseline JPEG from given quantised DCT coefficients and a given
 * quantisation table, so that a test knows the exact input of the decoder's
 * inverse DCT (jpeg-dc-writer.ts writes DC-only blocks with a table of 8s;
 * this one any coefficients and any table, 8-bit or 16-bit steps: all 255,
 * all 1, mixed). Tests only. Huffman tables: DC categories 0..11 coded in 4
 * bits (code = category); AC: the 162 symbols of T.81 (EOB, ZRL, run 0..15 x
 * size 1..10) coded in 8 bits each (code = index in that order). One table
 * for every component; every component's sampling 1x1.
 */
import { Bits, seg } from './jpeg-dc-writer.js';

/** T.81 figure A.6: the natural (row-major) index of zig-zag position k. */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55,
  62, 63,
];

export interface CoefJpeg {
  width: number;
  height: number;
  /** The quantisation table in natural order (1..65535; a step above 255 writes a 16-bit table). */
  qt: number[];
  /** Per component (1 grey, 3 YCbCr), per block (row-major over ceil(width/8) x ceil(height/8)), 64 quantised coefficients in natural order. DC differences within +-2047, AC within +-1023. */
  blocks: number[][][];
}

const AC_SYMBOLS: number[] = [0x00, 0xf0];
for (let r = 0; r < 16; r++) for (let s = 1; s <= 10; s++) AC_SYMBOLS.push((r << 4) | s);
const AC_CODE = new Map(AC_SYMBOLS.map((sym, i) => [sym, i]));

const category = (v: number): number => (v === 0 ? 0 : Math.floor(Math.log2(Math.abs(v))) + 1);
const magnitude = (v: number, s: number): number => (v > 0 ? v : v + (1 << s) - 1);

export function coefJpeg(j: CoefJpeg): Uint8Array {
  const n = j.blocks.length, wide = j.qt.some((q) => q > 255);
  const dqt = seg(0xdb, [wide ? 0x10 : 0x00, ...ZIGZAG.flatMap((z) => (wide ? [j.qt[z]! >> 8, j.qt[z]! & 255] : [j.qt[z]!]))]);
  const bitsDc = new Array<number>(16).fill(0); bitsDc[3] = 12;
  const bitsAc = new Array<number>(16).fill(0); bitsAc[7] = AC_SYMBOLS.length;
  const dht = [...seg(0xc4, [0x00, ...bitsDc, ...Array.from({ length: 12 }, (_, i) => i)]), ...seg(0xc4, [0x10, ...bitsAc, ...AC_SYMBOLS])];
  const sof = seg(0xc0, [8, j.height >> 8, j.height & 255, j.width >> 8, j.width & 255, n, ...j.blocks.flatMap((_, c) => [c + 1, 0x11, 0])]);
  const sos = seg(0xda, [n, ...j.blocks.flatMap((_, c) => [c + 1, 0x00]), 0, 63, 0]);
  const jfif = seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const bits = new Bits(), pred = new Array<number>(n).fill(0);
  const block = (c: number, coef: number[]): void => {
    const diff = coef[0]! - pred[c]!;
    pred[c] = coef[0]!;
    const s = category(diff);
    if (s > 11) throw new Error('coefJpeg: DC difference outside +-2047');
    bits.put(s, 4);
    if (s > 0) bits.put(magnitude(diff, s), s);
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = coef[ZIGZAG[k]!]!;
      if (v === 0) { run++; continue; }
      while (run >= 16) { bits.put(AC_CODE.get(0xf0)!, 8); run -= 16; }
      const sz = category(v);
      if (sz > 10) throw new Error('coefJpeg: AC coefficient outside +-1023');
      bits.put(AC_CODE.get((run << 4) | sz)!, 8);
      bits.put(magnitude(v, sz), sz);
      run = 0;
    }
    if (run > 0) bits.put(AC_CODE.get(0x00)!, 8); // EOB
  };
  const count = Math.ceil(j.width / 8) * Math.ceil(j.height / 8);
  // One component: a non-interleaved scan over its blocks; three: interleaved, one block of each per MCU (all 1x1)
  for (let b = 0; b < count; b++) for (let c = 0; c < n; c++) block(c, j.blocks[c]![b]!);
  return new Uint8Array([0xff, 0xd8, ...jfif, ...dqt, ...sof, ...dht, ...sos, ...bits.end(), 0xff, 0xd9]);
}
