/**
 * A PNG's Exif orientation (found by bench/e2e-oracle.ts --inputs exif against Pillow 9.4): a model that records
 * `orientation: 'exif'` was trained through ImageOps.exif_transpose, which turns a PNG by its eXIf chunk (or,
 * without one, a "Raw profile type exif" text chunk, or XMP) as it turns a JPEG by its APP1 segment; the SDK read
 * none of them and sent the stored pixels, silently (no imageOrientation note). Now png.ts reports it, preprocess.ts turns it for 'exif' only, and mpc-import's sample
 * images (model-import/images.ts) do the same.
 */
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeImage as importDecode } from '../../../model-import/images.js';
import { tiffOrientation } from '../../../protocol/image-orientation.js';
import type { InputPreprocessing } from '../../../protocol/input-preprocessing.js';
import { writePng } from '../../testing/png-writer.js';
import { decodeImageNode } from './decode-node.js';
import { applyOrientation } from './exif.js';
import { decodePng, pngExifOrientation } from './png.js';
import { orientationNotes, preprocessImage, specForInputShape } from './preprocess.js';

/** A TIFF structure (big- or little-endian) with IFD0 holding the orientation tag only: an eXIf chunk's data. Type 3 SHORT (else 4 LONG, 1 BYTE, 9 SLONG). */
function tiff(o: number, le = false, type = 3, count = 1): Uint8Array {
  const b = new Uint8Array(26);
  const dv = new DataView(b.buffer);
  b.set(le ? [0x49, 0x49] : [0x4d, 0x4d]);
  dv.setUint16(2, 42, le);
  dv.setUint32(4, 8, le);
  dv.setUint16(8, 1, le);
  dv.setUint16(10, 0x0112, le);
  dv.setUint16(12, type, le);
  dv.setUint32(14, count, le);
  if (type === 3) { dv.setUint16(18, o, le); if (count > 1) dv.setUint16(20, o, le); } else if (type === 1) dv.setUint8(18, o); else dv.setUint32(18, o, le);
  return b;
}

/** `png` with an eXIf (or another) chunk inserted before IDAT (or before IEND: after the image data, where Pillow reads it too). */
function withExifChunk(png: Uint8Array, data: Uint8Array, afterIdat = false, type = 'eXIf'): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const dv = new DataView(chunk.buffer);
  dv.setUint32(0, data.length);
  chunk.set(Array.from(type, (ch) => ch.charCodeAt(0)), 4);
  chunk.set(data, 8);
  dv.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  const at = afterIdat ? png.length - 12 : 33; // before IEND, or right after the signature and IHDR
  return Uint8Array.from([...png.subarray(0, at), ...chunk, ...png.subarray(at)]);
}

// 4 x 2 grey: a gradient, so every turn gives other pixels.
const W = 4, H = 2;
const px = Uint8Array.from({ length: W * H }, (_, i) => 10 + 30 * i);
const plain = writePng({ width: W, height: H, colorType: 0, depth: 8, samples: px });
const grey = (o: InputPreprocessing['orientation']): InputPreprocessing => ({ colorMode: 'grayscale', resize: 'nearest', scaling: 'raw', channelOrder: 'rgb', ...(o ? { orientation: o } : {}) });
const model = (o: InputPreprocessing['orientation'], shape: [number, number, 1] = [W, H, 1]) => specForInputShape(shape, undefined, grey(o));

const ascii = (t: string): number[] => Array.from(t, (ch) => ch.charCodeAt(0));
/** ImageMagick's "Raw profile type exif" text: a newline, 'exif', the length, then the hex of "Exif\0\0" + TIFF in lines. */
function rawProfile(o: number): string {
  const b = [...ascii('Exif\0\0'), ...tiff(o)];
  const hex = b.map((x) => x.toString(16).padStart(2, '0')).join('');
  return `\nexif\n${String(b.length).padStart(8)}\n${hex.slice(0, 40)}\n${hex.slice(40)}\n`;
}
const tEXt = (key: string, text: string): Uint8Array => Uint8Array.from([...ascii(key), 0, ...ascii(text)]);
const zTXt = (key: string, text: string): Uint8Array => Uint8Array.from([...ascii(key), 0, 0, ...deflateSync(Buffer.from(text, 'latin1'))]);
const iTXt = (key: string, text: string): Uint8Array => Uint8Array.from([...ascii(key), 0, 0, 0, 0, 0, ...Buffer.from(text, 'utf8')]);

describe("a PNG's eXIf orientation: reported by the decoder, applied for a model that records 'exif'", () => {
  it('also where Pillow 9.4 finds it without an eXIf chunk: a tEXt or zTXt "Raw profile type exif" (ImageMagick), XMP tiff:Orientation in iTXt; eXIf first', async () => {
    const xmp = '<x:xmpmeta><rdf:Description tiff:Orientation="8"/></x:xmpmeta>';
    const cases: [Uint8Array, number][] = [
      [withExifChunk(plain, tEXt('Raw profile type exif', rawProfile(6)), false, 'tEXt'), 6],
      [withExifChunk(plain, zTXt('Raw profile type exif', rawProfile(3)), false, 'zTXt'), 3],
      [withExifChunk(plain, iTXt('XML:com.adobe.xmp', xmp), false, 'iTXt'), 8],
      [withExifChunk(withExifChunk(plain, zTXt('Raw profile type exif', rawProfile(3)), false, 'zTXt'), tiff(5)), 5],
      [withExifChunk(plain, tEXt('Comment', rawProfile(6)), false, 'tEXt'), 1],
      // An eXIf tag of 1 is an orientation: Pillow keeps it and does not look at XMP; without the tag it does.
      [withExifChunk(withExifChunk(plain, iTXt('XML:com.adobe.xmp', xmp), false, 'iTXt'), tiff(1)), 1],
      [withExifChunk(withExifChunk(plain, iTXt('XML:com.adobe.xmp', xmp), false, 'iTXt'), Uint8Array.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 0])), 8],
    ];
    for (const [f, o] of cases) {
      expect(decodePng(f).orientation ?? 1).toBe(o);
      expect((await decodeImageNode(f)).orientation ?? 1).toBe(o);
      expect(pngExifOrientation(f)).toBe(o);
    }
  });

  it('the decoders (Node and the browser\'s png.ts) report the tag of an eXIf chunk before or after IDAT, big- or little-endian; none without one', async () => {
    for (const f of [withExifChunk(plain, tiff(6)), withExifChunk(plain, tiff(6, true)), withExifChunk(plain, tiff(6), true)]) {
      expect((await decodeImageNode(f)).orientation).toBe(6);
      expect(decodePng(f).orientation).toBe(6);
      expect(pngExifOrientation(f)).toBe(6);
    }
    expect((await decodeImageNode(plain)).orientation).toBeUndefined();
    expect(decodePng(withExifChunk(plain, tiff(1))).orientation).toBeUndefined();
    // The tag by its type, as Pillow 9.4 reads it (checked on Pillow-read JPEGs): a LONG or SLONG, big-endian too,
    // turns; a SHORT with 2 values turns by the first; a BYTE does not (Pillow gives bytes). Before, the value was
    // read as a SHORT whatever the type: a big-endian LONG 6 was read 0 (not turned), a little-endian BYTE 6 turned.
    for (const le of [false, true]) {
      expect(tiffOrientation(tiff(6, le, 4))).toBe(6);
      expect(tiffOrientation(tiff(6, le, 9))).toBe(6);
      expect(tiffOrientation(tiff(6, le, 3, 2))).toBe(6);
      expect(tiffOrientation(tiff(6, le, 1))).toBe(1);
    }
    // The JPEG header inside an eXIf chunk is not TIFF (Pillow raises on it): no orientation.
    expect(tiffOrientation(Uint8Array.from([0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff(6)]))).toBe(1);
  });

  it("'exif' turns the pixels upright as ImageOps.exif_transpose does (every tag 2..8); 'stored' keeps them; the result says so", async () => {
    const stored = await decodeImageNode(plain);
    for (let o = 2; o <= 8; o++) {
      const tagged = await decodeImageNode(withExifChunk(plain, tiff(o)));
      const shape: [number, number, 1] = o >= 5 ? [W, H, 1] : [H, W, 1];
      const upright = preprocessImage(applyOrientation(stored, o), model('exif', shape));
      expect(Array.from(preprocessImage(tagged, model('exif', shape)))).toEqual(Array.from(upright));
      expect(Array.from(preprocessImage(tagged, model('stored', [H, W, 1])))).toEqual(Array.from(preprocessImage(stored, model('stored', [H, W, 1]))));
      expect(Array.from(upright)).not.toEqual(Array.from(preprocessImage(stored, model('exif', shape))));
      expect(orientationNotes([tagged], { preprocessing: grey('exif') })).toEqual([{ tag: o, applied: true, recorded: true }]);
    }
    // Orientation 6 of the 4 x 2 gradient, by hand: the upright image is 2 x 4, its first row the stored first column read upwards.
    const six = preprocessImage(await decodeImageNode(withExifChunk(plain, tiff(6))), model('exif', [W, H, 1]));
    expect(Array.from(six)).toEqual([px[4], px[0], px[5], px[1], px[6], px[2], px[7], px[3]]);
  });

  it("mpc-import's sample images turn a tagged PNG for 'exif' as the SDK does, and keep it for 'stored'", () => {
    const f = withExifChunk(plain, tiff(6));
    const up = importDecode(f, 'x.png', grey('exif'));
    expect([up.width, up.height]).toEqual([H, W]);
    expect(Array.from(up.data.filter((_, i) => i % 3 === 0))).toEqual([px[4], px[0], px[5], px[1], px[6], px[2], px[7], px[3]]);
    const kept = importDecode(f, 'x.png', grey('stored'));
    expect([kept.width, kept.height]).toEqual([W, H]);
  });
});

/** One chunk's bytes (length, type, data, CRC). */
function chunkOf(type: string, data: Uint8Array): Buffer {
  const c = Buffer.alloc(12 + data.length);
  c.writeUInt32BE(data.length, 0);
  c.write(type, 4, 'latin1');
  c.set(data, 8);
  c.writeUInt32BE(crc32(c.subarray(4, 8 + data.length)), 8 + data.length);
  return c;
}
/** Chunks in file order: `before` right after IHDR, `after` just before IEND. */
function withChunks(before: [string, Uint8Array][], after: [string, Uint8Array][] = []): Uint8Array {
  const enc = (cs: [string, Uint8Array][]): Buffer[] => cs.map(([t, d]) => chunkOf(t, d));
  return Buffer.concat([plain.subarray(0, 33), ...enc(before), plain.subarray(33, plain.length - 12), ...enc(after), plain.subarray(plain.length - 12)]);
}
const iTXtRaw = (key: string, flag: number, method: number, body: Uint8Array): Uint8Array => Uint8Array.from([...ascii(key), 0, flag, method, 0, 0, ...body]);
const xmpOf = (o: number | string): string => `<x:xmpmeta><rdf:Description tiff:Orientation="${o}"/></x:xmpmeta>`;

describe("a PNG's orientation from hostile or disagreeing metadata chunks (review s38-probe)", () => {
  it("agrees with ImageOps.exif_transpose(Image.open(f)) in Pillow 9.4 where chunks repeat, disagree or are malformed", () => {
    // Each expectation is what Pillow 9.4.0 gave for the same bytes (/usr/bin/python3, Image.open(f).getexif()[0x0112],
    // 2..8 else 1). Before: the first text chunk of a keyword won (Pillow: the last), an eXIf after IDAT beat one
    // before it (Pillow reads past IDAT only without an early eXIf), XMP in invalid UTF-8 or of an unknown
    // compression method was read (Pillow skips the chunk), an XMP value of 0 or 9 was reported as a tag.
    const cases: [string, Uint8Array, number][] = [
      ['two raw profiles: the last', withChunks([['tEXt', tEXt('Raw profile type exif', rawProfile(6))], ['tEXt', tEXt('Raw profile type exif', rawProfile(3))]]), 3],
      ['raw profile before and after IDAT: the later', withChunks([['tEXt', tEXt('Raw profile type exif', rawProfile(6))]], [['zTXt', zTXt('Raw profile type exif', rawProfile(3))]]), 3],
      ['two XMP: the last', withChunks([['iTXt', iTXt('XML:com.adobe.xmp', xmpOf(8))], ['iTXt', iTXt('XML:com.adobe.xmp', xmpOf(6))]]), 6],
      ['eXIf before and after IDAT: the early one', withChunks([['eXIf', tiff(2)]], [['eXIf', tiff(4)]]), 2],
      ['two eXIf before IDAT: the last', withChunks([['eXIf', tiff(2)], ['eXIf', tiff(4)]]), 4],
      ['early eXIf without the tag hides a late XMP', withChunks([['eXIf', Uint8Array.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 0])]], [['iTXt', iTXt('XML:com.adobe.xmp', xmpOf(6))]]), 1],
      ['XMP in invalid UTF-8: skipped', withChunks([['iTXt', Uint8Array.from([...iTXt('XML:com.adobe.xmp', xmpOf(6)), 0xff, 0xfe])]]), 1],
      ['invalid UTF-8 XMP after a valid one: the valid one', withChunks([['iTXt', iTXt('XML:com.adobe.xmp', xmpOf(5))], ['iTXt', Uint8Array.from([...iTXt('XML:com.adobe.xmp', xmpOf(6)), 0xff])]]), 5],
      ['compressed XMP (method 0)', withChunks([['iTXt', iTXtRaw('XML:com.adobe.xmp', 1, 0, deflateSync(Buffer.from(xmpOf(6))))]]), 6],
      ['compressed XMP of method 1: skipped', withChunks([['iTXt', iTXtRaw('XML:com.adobe.xmp', 1, 1, deflateSync(Buffer.from(xmpOf(6))))]]), 1],
      ['XMP in UTF-16: no match', withChunks([['iTXt', iTXtRaw('XML:com.adobe.xmp', 0, 0, Buffer.from(xmpOf(6), 'utf16le'))]]), 1],
      ['XMP value 9: nothing to turn', withChunks([['iTXt', iTXt('XML:com.adobe.xmp', xmpOf(9))]]), 1],
      ['XMP value 0: nothing to turn', withChunks([['iTXt', iTXt('XML:com.adobe.xmp', xmpOf(0))]]), 1],
      ['raw profile with spaces between the pairs', withChunks([['tEXt', tEXt('Raw profile type exif', rawProfile(6).replace(/(..)/g, '$1 '))]]), 6],
      ['eXIf with 65535 entries (past the chunk)', withChunks([['eXIf', (() => { const t = tiff(6); new DataView(t.buffer).setUint16(8, 0xffff); return t; })()]]), 6],
      ['eXIf IFD offset past the end', withChunks([['eXIf', (() => { const t = tiff(6); new DataView(t.buffer).setUint32(4, 0xfffffff0); return t; })()]]), 1],
    ];
    for (const [what, f, o] of cases) {
      expect(pngExifOrientation(f), what).toBe(o);
      expect(decodePng(f).orientation ?? 1, what).toBe(o);
    }
  });

  it('a text chunk with a keyword of megabytes is read without a stack overflow (before: RangeError, not an InputError)', () => {
    const key = new Uint8Array(3_000_000).fill(0x41);
    key[key.length - 10] = 0;
    expect(pngExifOrientation(withChunks([['tEXt', key]]))).toBe(1);
    expect(pngExifOrientation(withChunks([['tEXt', key], ['tEXt', tEXt('Raw profile type exif', rawProfile(6))]]))).toBe(6);
  });

  it('zTXt decompression bombs in many chunks cost milliseconds (before: every text chunk inflated, 15 s of CPU for 1.6 MB)', () => {
    // 1 KiB of zlib inflating to 8 MiB, 200 times (1.6 MB of file): of another keyword, and of the raw profile's (past
    // Pillow's 1 MiB per text chunk: skipped), behind one good profile.
    const bomb = deflateSync(Buffer.alloc(8 << 20));
    for (const k of ['Comment', 'Raw profile type exif']) {
      const bombs = Array.from({ length: 200 }, (): [string, Uint8Array] => ['zTXt', Buffer.concat([Buffer.from(`${k}\0\0`, 'latin1'), bomb])]);
      const f = withChunks([['tEXt', tEXt('Raw profile type exif', rawProfile(6))], ...bombs]);
      const t0 = process.cpuUsage();
      expect(pngExifOrientation(f)).toBe(6);
      const c = process.cpuUsage(t0);
      expect((c.user + c.system) / 1000).toBeLessThan(3000);
    }
  });
});
