import { randomInt } from 'node:crypto';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { coefJpeg } from '../../testing/jpeg-coef-writer.js';
import { decodeImageNode } from './decode-node.js';
import { decodeJpegJs } from './jpeg-decoder.js';
import { idctIslow } from './jpeg-idct.js';

/**
 * The Node JPEG decoder's samples against an independent transcription of libjpeg's jidctint.c
 * (jpeg_idct_islow) and jdmaster.c (prepare_range_limit_table), on files written by the test itself
 * (testing/jpeg-coef-writer.ts) from coefficients and quantisation tables it draws: extreme tables (all 255,
 * all 1, mixed, 16-bit steps) whose samples leave 0..255, where libjpeg wraps through its range-limit table.
 * The reference follows the C code with BigInt for JLONG (64-bit), BigInt.asIntN(32) for the (int) casts,
 * and builds the table with jdmaster.c's pointer arithmetic; no shortcut for all-zero AC columns / rows
 * (they are exact, so the results must not depend on them). Before this decoder (jpeg-js's pdf.js IDCT, which
 * rounds otherwise and clamps) these files decoded otherwise: the out-of-range test shows it on fixed values.
 */
const CONST_BITS = 13n, PASS1_BITS = 2n;
// jidctint.c: FIX(x) = (JLONG)(x * (1 << CONST_BITS) + 0.5)
const FIX = (x: number): bigint => BigInt(Math.floor(x * 8192 + 0.5));
const F = {
  a: FIX(0.298631336), b: FIX(0.390180644), c: FIX(0.541196100), d: FIX(0.765366865), e: FIX(0.899976223), f: FIX(1.175875602),
  g: FIX(1.501321110), h: FIX(1.847759065), i: FIX(1.961570560), j: FIX(2.053119869), k: FIX(2.562915447), l: FIX(3.072711026),
};
const DESCALE = (x: bigint, n: bigint): bigint => (x + (1n << (n - 1n))) >> n;

/** The eight sums of one 1-D pass of jidctint.c (even part, odd part), in output order 0..7, before DESCALE. */
function pass(i: bigint[]): bigint[] {
  let z2 = i[2]!, z3 = i[6]!;
  let z1 = (z2 + z3) * F.c;
  let tmp2 = z1 + z3 * -F.h, tmp3 = z1 + z2 * F.d;
  let tmp0 = (i[0]! + i[4]!) << CONST_BITS, tmp1 = (i[0]! - i[4]!) << CONST_BITS;
  const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
  tmp0 = i[7]!; tmp1 = i[5]!; tmp2 = i[3]!; tmp3 = i[1]!;
  z1 = tmp0 + tmp3; z2 = tmp1 + tmp2; z3 = tmp0 + tmp2;
  let z4 = tmp1 + tmp3;
  const z5 = (z3 + z4) * F.f;
  tmp0 *= F.a; tmp1 *= F.j; tmp2 *= F.l; tmp3 *= F.g;
  z1 *= -F.e; z2 *= -F.k; z3 *= -F.i; z4 *= -F.b;
  z3 += z5; z4 += z5;
  tmp0 += z1 + z3; tmp1 += z2 + z4; tmp2 += z2 + z3; tmp3 += z1 + z4;
  return [tmp10 + tmp3, tmp11 + tmp2, tmp12 + tmp1, tmp13 + tmp0, tmp13 - tmp0, tmp12 - tmp1, tmp11 - tmp2, tmp10 - tmp3];
}

/** jdmaster.c prepare_range_limit_table (MAXJSAMPLE 255, CENTERJSAMPLE 128); returns IDCT_range_limit's lookup. */
const rangeLimit: (i: number) => number = (() => {
  const t = new Array<number>(5 * 256 + 128).fill(-1);
  const base = 256; // table += MAXJSAMPLE + 1: cinfo->sample_range_limit
  for (let i = 0; i < 256; i++) { t[base - 256 + i] = 0; t[base + i] = i; }
  const post = base + 128; // table += CENTERJSAMPLE
  for (let i = 128; i < 512; i++) t[post + i] = 255;
  for (let i = 0; i < 512 - 128; i++) t[post + 512 + i] = 0;
  for (let i = 0; i < 128; i++) t[post + 1024 - 128 + i] = t[base + i]!;
  return (i: number) => t[post + i]!; // IDCT_range_limit = sample_range_limit + CENTERJSAMPLE
})();

const short = (x: number): bigint => BigInt.asIntN(16, BigInt(x));

/** jpeg_idct_islow of one block: coefficients and table in natural order -> 64 samples. */
function refIdct(coef: number[], qt: number[]): number[] {
  const ws: bigint[] = new Array<bigint>(64).fill(0n);
  for (let c = 0; c < 8; c++) {
    const col = pass([0, 1, 2, 3, 4, 5, 6, 7].map((r) => short(coef[r * 8 + c]!) * short(qt[r * 8 + c]!)));
    for (let r = 0; r < 8; r++) ws[r * 8 + c] = BigInt.asIntN(32, DESCALE(col[r]!, CONST_BITS - PASS1_BITS));
  }
  const out: number[] = [];
  for (let r = 0; r < 8; r++) {
    const row = pass(ws.slice(r * 8, r * 8 + 8));
    for (let c = 0; c < 8; c++) out.push(rangeLimit(Number(BigInt.asIntN(32, DESCALE(row[c]!, CONST_BITS + PASS1_BITS + 3n))) & 1023));
  }
  return out;
}

/** The image the reference makes of a component's blocks, cropped to width x height. */
function refImage(blocks: number[][], qt: number[], width: number, height: number): Uint8Array {
  const bw = Math.ceil(width / 8), img = new Uint8Array(width * height);
  blocks.forEach((b, i) => {
    const s = refIdct(b, qt), bx = (i % bw) * 8, by = Math.floor(i / bw) * 8;
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) if (by + y < height && bx + x < width) img[(by + y) * width + bx + x] = s[y * 8 + x]!;
  });
  return img;
}

/** Random blocks (node:crypto): DC in +-dc, AC nonzero with probability 1/density, in +-ac; some blocks DC only. */
const drawBlocks = (count: number, dc: number, ac: number, density: number): number[][] =>
  Array.from({ length: count }, (_, b) => Array.from({ length: 64 }, (_, k) => (k === 0 ? randomInt(-dc, dc + 1) : b % 5 === 4 || randomInt(density) ? 0 : randomInt(-ac, ac + 1))));

const TABLES: [string, () => number[]][] = [
  ['all 255', () => new Array<number>(64).fill(255)],
  ['all 1', () => new Array<number>(64).fill(1)],
  ['mixed 1..255', () => Array.from({ length: 64 }, () => randomInt(1, 256))],
  ['DC 1, AC 200..255', () => Array.from({ length: 64 }, (_, k) => (k === 0 ? 1 : randomInt(200, 256)))],
  ['16-bit steps 256..2000', () => Array.from({ length: 64 }, () => randomInt(256, 2001))],
];

describe('Node JPEG decode: libjpeg islow IDCT and range limiting, bit for bit', () => {
  for (const [name, table] of TABLES) {
    it(`grey, quantisation table ${name}: every sample equals jidctint.c's`, async () => {
      const width = 37, height = 21, qt = table();
      const blocks = drawBlocks(Math.ceil(width / 8) * Math.ceil(height / 8), 60, name === 'all 1' ? 300 : 40, 3);
      const bytes = coefJpeg({ width, height, qt, blocks: [blocks] });
      const want = refImage(blocks, qt, width, height);
      const img = await decodeImageNode(bytes);
      expect([img.width, img.height, img.channels]).toEqual([width, height, 3]); // grey comes back as RGB, as before
      const got = Uint8Array.from({ length: width * height }, (_, p) => img.data[p * 3]!);
      for (let p = 0; p < width * height; p++) expect([img.data[p * 3 + 1], img.data[p * 3 + 2]]).toEqual([got[p], got[p]]);
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
    });
  }

  it('samples far out of range wrap as through jdmaster.c\'s table (C code), e.g. x = 1000 -> 104, x = -600 -> 255', async () => {
    // DC-only blocks, step 8: coefficient k dequantises to 8k, pass 1 gives 32k, pass 2 (32k + 16) >> 5 = k: x = k.
    const ks = [100, 127, 128, 300, 511, 512, 800, 895, 896, 1000, 1023, 1024, 1200, -100, -128, -129, -300, -512, -513, -600, -896, -897, -1000];
    const blocks = ks.map((k) => [k, ...new Array<number>(63).fill(0)]);
    const img = await decodeImageNode(coefJpeg({ width: 8 * ks.length, height: 8, qt: new Array<number>(64).fill(8), blocks: [blocks] }));
    const got = ks.map((_, i) => img.data[i * 8 * 3]!);
    expect(got).toEqual(ks.map((k) => rangeLimit(k & 1023)));
    // By hand from jdmaster.c: x & 1023 in [0, 128) -> x + 128, [128, 512) -> 255, [512, 896) -> 0, [896, 1024) -> x - 896
    expect(got.slice(0, 4)).toEqual([228, 255, 255, 255]);
    expect([got[9], got[19], got[21], got[22]]).toEqual([104, 255, 255, 152]);
    // Before (jpeg-js: pdf.js's IDCT, then a clamp): 255 where libjpeg's C code wraps to 0 (x = 800) or 104 (x = 1000)
    const old = jpeg.decode(coefJpeg({ width: 8 * ks.length, height: 8, qt: new Array<number>(64).fill(8), blocks: [blocks] }), { useTArray: true, formatAsRGBA: false });
    expect([old.data[6 * 8 * 3], old.data[9 * 8 * 3]]).toEqual([255, 255]);
    expect([got[6], got[9]]).toEqual([0, 104]);
    // Every block is flat: all 64 samples the same
    for (let i = 0; i < ks.length; i++) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) expect(img.data[(y * 8 * ks.length + i * 8 + x) * 3]).toBe(got[i]);
  });

  it('colour 4:4:4: each component\'s samples (before libjpeg\'s colour conversion) equal jidctint.c\'s', () => {
    const width = 19, height = 26, qt = TABLES[2]![1]();
    const count = Math.ceil(width / 8) * Math.ceil(height / 8);
    const comps = [drawBlocks(count, 50, 30, 2), drawBlocks(count, 20, 30, 4), drawBlocks(count, 20, 30, 4)];
    const r = decodeJpegJs(coefJpeg({ width, height, qt, blocks: comps }), { formatAsRGBA: false, colorTransform: false });
    for (let c = 0; c < 3; c++) {
      const want = refImage(comps[c]!, qt, width, height);
      expect(Buffer.from(Uint8Array.from({ length: width * height }, (_, p) => r.data[p * 3 + c]!)).equals(Buffer.from(want))).toBe(true);
    }
  });

  it('any coefficients and steps (hostile files: int32 coefficients cast to int16, steps 0..65535 read as int16): idctIslow equals the reference', () => {
    const ws = new Float64Array(64), out = new Uint8Array(64);
    for (let b = 0; b < 300; b++) {
      // A third of the blocks at the extremes, the rest anywhere; some columns and rows left zero (the shortcuts)
      const pick = (lim: number): number => (b % 3 === 0 ? (randomInt(2) ? lim - 1 - randomInt(4) : -lim + randomInt(4)) : randomInt(-lim, lim));
      const coef = Int32Array.from({ length: 64 }, (_, k) => ((k & 7) === b % 8 && k > 7 ? 0 : pick(2 ** 20)));
      const qt = Int32Array.from({ length: 64 }, () => randomInt(0, 65536));
      idctIslow(coef, qt, ws, out, 0, 8);
      expect(Array.from(out)).toEqual(refIdct(Array.from(coef), Array.from(qt)));
    }
  });

  it('the reference itself: within 1 of the exact (float) inverse DCT for in-range blocks', () => {
    const cu = (u: number): number => (u === 0 ? Math.SQRT1_2 : 1);
    const qt = new Array<number>(64).fill(1);
    for (const b of drawBlocks(40, 300, 20, 4)) {
      const ref = refIdct(b, qt);
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
        let s = 0;
        for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) s += cu(u) * cu(v) * b[v * 8 + u]! * Math.cos(((2 * x + 1) * u * Math.PI) / 16) * Math.cos(((2 * y + 1) * v * Math.PI) / 16);
        const exact = Math.min(255, Math.max(0, s / 4 + 128));
        expect(Math.abs(ref[y * 8 + x]! - exact)).toBeLessThanOrEqual(1);
      }
    }
  });
});
