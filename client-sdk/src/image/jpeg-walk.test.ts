/**
 * The JPEG marker-segment walk's edge cases, through every reader that walks the segments: jpegFrame / jpegSupport
 * and withoutAdobe (jpeg-markers.ts), stripExif and jpegSize (exif.ts), jpegOrientation
 * (protocol/image-orientation.ts) and jpegFrameHeader (codestream.ts). The files are hand-built marker sequences
 * (no decoder runs): fill bytes (FF padding) before a marker, standalone markers (RSTn, TEM, a second SOI), a
 * segment length running past the data, a segment length below 2, bytes that are no marker, FF 00, no SOS, EOI
 * before the frame header. What each reader answers here is what it answered before the one walker
 * (protocol/jpeg-segments.ts) replaced their six loops; the one change, jpegOrientation now skipping fill bytes as
 * the others (and Pillow) do, is its own test at the end.
 */
import { describe, expect, it } from 'vitest';
import { jpegOrientation } from '../../../protocol/image-orientation.js';
import { jpegFrameHeader } from './codestream.js';
import { jpegSize, stripExif } from './exif.js';
import { jpegFrame, jpegSupport, withoutAdobe } from './jpeg-markers.js';

const SOI = [0xff, 0xd8];
const JFIF = [0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
/** APP1 Exif, big-endian TIFF, IFD0 with orientation 6. */
const EXIF = [0xff, 0xe1, 0, 34, 0x45, 0x78, 0x69, 0x66, 0, 0, 0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
const ADOBE = [0xff, 0xee, 0, 14, 0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, 1];
/** SOF0, 8-bit, 16 rows, 32 columns, YCbCr 4:2:0. */
const SOF = [0xff, 0xc0, 0, 17, 8, 0, 16, 0, 32, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0];
const SOS = [0xff, 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0, 0x12, 0x34, 0xff, 0x00, 0x56, 0xff, 0xd9];
const FRAME = { sof: 0xc0, precision: 8, components: [{ id: 1, h: 2, v: 2 }, { id: 2, h: 1, v: 1 }, { id: 3, h: 1, v: 1 }] };
const HEADER = { precision: 8, width: 32, height: 16, components: 3 };
const file = (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat());
const without = (b: Uint8Array, seg: number[]): number[] => { const i = indexOf(b, seg); return [...b.subarray(0, i), ...b.subarray(i + seg.length)]; };
function indexOf(b: Uint8Array, seg: number[]): number {
  for (let i = 0; i + seg.length <= b.length; i++) if (seg.every((v, j) => b[i + j] === v)) return i;
  throw new Error('segment not in the file');
}

/** Every reader's answer on one file. */
const readers = (b: Uint8Array) => ({
  frame: jpegFrame(b), support: jpegSupport(b), withoutAdobe: Array.from(withoutAdobe(b)), stripExif: Array.from(stripExif(b)),
  size: jpegSize(b), orientation: jpegOrientation(b), header: jpegFrameHeader(b),
});

describe('the JPEG segment walk: edge cases, every reader', () => {
  it('a well-formed file: every segment read, SOS ends the walk', () => {
    const b = file(SOI, JFIF, EXIF, ADOBE, SOF, SOS);
    expect(readers(b)).toEqual({
      frame: { ...FRAME, jfif: true, adobe: 1 }, support: { kind: 'ycc', h: 2, v: 2 }, withoutAdobe: without(b, ADOBE), stripExif: without(b, EXIF),
      size: { width: 32, height: 16 }, orientation: 6, header: HEADER,
    });
  });

  it('fill bytes (FF FF ...) before a marker are skipped by the frame, Adobe, Exif-strip, size and codestream readers', () => {
    const fill = [0xff, 0xff, 0xff];
    const b = file(SOI, fill, JFIF, fill, ADOBE, [0xff], SOF, fill, EXIF, fill, SOS);
    const r = readers(b);
    expect([r.frame, r.support, r.size, r.header]).toEqual([{ ...FRAME, jfif: true, adobe: 1 }, { kind: 'ycc', h: 2, v: 2 }, { width: 32, height: 16 }, HEADER]);
    expect(r.withoutAdobe).toEqual(without(b, ADOBE));
    expect(r.stripExif).toEqual(without(b, EXIF));
  });

  it('standalone markers (RST0..7, TEM, a second SOI) between segments have no length and are stepped over', () => {
    const b = file(SOI, [0xff, 0xd0], JFIF, [0xff, 0xd7, 0xff, 0x01], EXIF, [0xff, 0xd8], ADOBE, [0xff, 0xd3], SOF, SOS);
    expect(readers(b)).toEqual({
      frame: { ...FRAME, jfif: true, adobe: 1 }, support: { kind: 'ycc', h: 2, v: 2 }, withoutAdobe: without(b, ADOBE), stripExif: without(b, EXIF),
      size: { width: 32, height: 16 }, orientation: 6, header: HEADER,
    });
  });

  it('no SOS: the walk ends with the data, after the frame header', () => {
    const b = file(SOI, JFIF, EXIF, SOF);
    expect(readers(b)).toEqual({
      frame: { ...FRAME, jfif: true }, support: { kind: 'ycc', h: 2, v: 2 }, withoutAdobe: Array.from(b), stripExif: without(b, EXIF),
      size: { width: 32, height: 16 }, orientation: 6, header: HEADER,
    });
  });

  it('no SOF and no SOS; EOI before the frame header; SOS before it', () => {
    expect(readers(file(SOI, JFIF))).toMatchObject({ frame: undefined, support: undefined, size: undefined, orientation: 1, header: 'the JPEG codestream has no frame header (SOF)' });
    const eoi = readers(file(SOI, JFIF, [0xff, 0xd9], EXIF, SOF, SOS));
    expect(eoi).toMatchObject({ frame: undefined, size: undefined, orientation: 1, header: 'the JPEG codestream has no frame header (SOF) before its scan' });
    expect(eoi.stripExif).toEqual(Array.from(file(SOI, JFIF, [0xff, 0xd9], EXIF, SOF, SOS))); // the Exif after EOI is not a segment
    expect(readers(file(SOI, SOS, SOF))).toMatchObject({ frame: undefined, size: undefined, header: 'the JPEG codestream has no frame header (SOF) before its scan' });
  });

  it('a segment whose length runs past the data: the walk ends there; a cut frame header is refused where it is read in full', () => {
    const cutExif = file(SOI, JFIF, EXIF.slice(0, 20));
    expect(readers(cutExif)).toEqual({
      frame: undefined, support: undefined, withoutAdobe: Array.from(cutExif), stripExif: [...SOI, ...JFIF],
      size: undefined, orientation: 1, header: 'the JPEG codestream has no frame header (SOF)',
    });
    const cutSof = file(SOI, JFIF, SOF.slice(0, 12));
    const r = readers(cutSof);
    expect([r.frame, r.support, r.header]).toEqual([undefined, undefined, 'the JPEG frame header (SOF) is cut short']);
    expect(r.size).toEqual({ width: 32, height: 16 }); // jpegSize reads Y and X only (9 bytes), as before
    expect(readers(file(SOI, JFIF, SOF.slice(0, 8))).size).toBeUndefined(); // fewer than 9 bytes: not read
    // A length past the end of the data on a segment before the frame header hides it from every reader.
    const long = file(SOI, [0xff, 0xe2, 0x10, 0], SOF, SOS);
    expect(readers(long)).toMatchObject({ frame: undefined, size: undefined, orientation: 1, header: 'the JPEG codestream has no frame header (SOF)' });
  });

  it('a segment length below 2 ends the walk: the next position is inside the length field, not a marker', () => {
    for (const len of [0, 1]) {
      const b = file(SOI, JFIF, [0xff, 0xe2, 0, len], SOF, SOS);
      expect(readers(b), `length ${len}`).toMatchObject({ frame: undefined, support: undefined, size: undefined, orientation: 1, header: 'the JPEG codestream has no frame header (SOF) before its data' });
      // A frame header with such a length is refused by the readers that check it.
      const sof = readers(file(SOI, [0xff, 0xc0, 0, len], SOF.slice(4), SOS));
      expect([sof.frame, sof.header], `SOF length ${len}`).toEqual([undefined, 'the JPEG frame header (SOF) is cut short']);
    }
  });

  it('bytes that are no marker between segments end the walk', () => {
    const b = file(SOI, JFIF, [0x12, 0x34], EXIF, ADOBE, SOF, SOS);
    expect(readers(b)).toEqual({
      frame: undefined, support: undefined, withoutAdobe: Array.from(b), stripExif: Array.from(b),
      size: undefined, orientation: 1, header: 'the JPEG codestream has no frame header (SOF) before its data',
    });
  });

  it('FF 00 (no marker): the layout readers stop (jpegFrame: layout unknown); the Exif, size and codestream readers read a length after it', () => {
    // FF 00 then 00 02: read as a segment of length 2, the walk goes on to the next segment.
    const b = file(SOI, JFIF, [0xff, 0x00, 0x00, 0x02], EXIF, ADOBE, SOF, SOS);
    expect(readers(b)).toEqual({
      frame: undefined, support: undefined, withoutAdobe: Array.from(b), stripExif: without(b, EXIF),
      size: { width: 32, height: 16 }, orientation: 6, header: HEADER,
    });
  });

  it('the fill bytes ahead of an APP1 Exif segment do not hide the orientation (jpegOrientation read FF FF as a segment: orientation 1)', () => {
    expect(jpegOrientation(file(SOI, [0xff], EXIF, SOF, SOS))).toBe(6);
    expect(jpegOrientation(file(SOI, JFIF, [0xff, 0xff, 0xff], EXIF, SOF, SOS))).toBe(6);
    // And when the file stops right after fill bytes, there is no Exif to read.
    expect(jpegOrientation(file(SOI, JFIF, [0xff, 0xff, 0xff]))).toBe(1);
  });
});
