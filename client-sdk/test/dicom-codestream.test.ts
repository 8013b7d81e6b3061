/**
 * image/codestream.ts: what a compressed frame declares, read from codestreams
 * that real encoders wrote (dcmjs-codecs' wasm: libjpeg lossless, CharLS,
 * OpenJPEG, OpenJPH, libjxl, its RLE), and DICOM files built from them, for
 * the syntaxes the fixtures lack (JPEG lossless, JPEG-LS, HTJ2K, JPEG XL): they
 * decode to the uncompressed file's pixels, and with Rows and Columns swapped
 * (the same byte count) they are refused. The parsers on cut-short and edge
 * inputs (fill bytes, DNL, PackBits no-op and pad, a JP2 wrapper).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import dcmjsCodecs from 'dcmjs-codecs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError, decodeDicom } from '../src/index.js';
import { codestreamMismatch, declared, j2kSiz, jpegFrameHeader, packBitsLength, rleMismatch, samplesOutside, type CodecName } from '../src/image/codestream.js';
import type { Geometry } from '../src/image/dicom.js';
import { DICOM_DIR } from '../testing/fixtures.js';

const { Context, NativeCodecs } = dcmjsCodecs;
beforeAll(async () => { if (!NativeCodecs.isInitialized()) await NativeCodecs.initializeAsync({}); });

/** A deterministic 8-bit test image with structure in both directions. */
function image(w: number, h: number): Uint8Array {
  const px = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = (x * 3 + y * 5 + ((x * y) % 7) * 9) & 255;
  return px;
}

type Encoder = 'encodeJpeg' | 'encodeJpegLs' | 'encodeJpeg2000' | 'encodeHtJpeg2000' | 'encodeJpegXl' | 'encodeRle';
const SYNTAXES: [Encoder, CodecName, string][] = [
  ['encodeJpeg', 'decodeJpeg', '1.2.840.10008.1.2.4.70'],
  ['encodeJpegLs', 'decodeJpegLs', '1.2.840.10008.1.2.4.80'],
  ['encodeJpeg2000', 'decodeJpeg2000', '1.2.840.10008.1.2.4.90'],
  ['encodeHtJpeg2000', 'decodeHtJpeg2000', '1.2.840.10008.1.2.4.201'],
  ['encodeJpegXl', 'decodeJpegXl', '1.2.840.10008.1.2.4.110'],
  ['encodeRle', 'decodeRle', '1.2.840.10008.1.2.5'],
];

function encode(enc: Encoder, w: number, h: number, px: Uint8Array): Uint8Array {
  const ctx = new Context({ width: w, height: h, bitsAllocated: 8, bitsStored: 8, samplesPerPixel: 1, pixelRepresentation: 0, planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2', decodedBuffer: px });
  const out = enc === 'encodeJpeg' ? NativeCodecs.encodeJpeg(ctx, { lossy: false, predictor: 1 }) : NativeCodecs[enc](ctx, { lossy: false });
  return out.getEncodedBuffer()!.slice();
}

const geometry = (w: number, h: number): Geometry => ({ rows: h, cols: w, spp: 1, bitsAllocated: 8, bitsStored: 8, signed: false, planar: false, photometric: 'MONOCHROME2', frames: 1 });

/** MR_small's header with an 8-bit w x h MONOCHROME2 frame: uncompressed (syntax undefined) or the given codestream. */
function dicomFile(w: number, h: number, pixels: Uint8Array, syntax?: string): Uint8Array {
  const b = readFileSync(join(DICOM_DIR, 'MR_small.dcm'));
  const d = dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, {});
  const us = (v: number) => ({ vr: 'US', Value: [v] });
  Object.assign(d.dict, { '00280010': us(h), '00280011': us(w), '00280100': us(8), '00280101': us(8), '00280102': us(7), '00280103': us(0) });
  delete d.dict['00281050']; delete d.dict['00281051'];
  d.dict['7FE00010'] = { vr: 'OB', Value: [pixels.slice().buffer] };
  d.meta['00020010'] = { vr: 'UI', Value: [syntax ?? '1.2.840.10008.1.2.1'] };
  return new Uint8Array(d.write());
}

describe('codestream declarations read from real encoders\' output', () => {
  it.each(SYNTAXES)('%s: width, height, components and precision as encoded, at several sizes', (enc, codec) => {
    const sizes: [number, number][] = [[64, 48], [100, 37], [40, 320], ...(enc === 'encodeJpegXl' ? [[1000, 750], [17, 1]] as [number, number][] : [])];
    for (const [w, h] of sizes) {
      const b = encode(enc, w, h, image(w, h));
      if (codec === 'decodeRle') {
        expect(rleMismatch(b, geometry(w, h))).toBeUndefined();
        expect(rleMismatch(b, geometry(w, h - 1))).toMatch(new RegExp(`decodes to ${w * h} bytes; the header's ${w} x ${h - 1} frame needs ${w * (h - 1)}`));
        continue;
      }
      const d = declared(codec, b);
      expect(d, `${enc} ${w}x${h}`).toMatchObject({ width: w, height: h, precision: 8 });
      if (codec !== 'decodeJpegXl') expect(d).toMatchObject({ components: 1 });
      if (codec === 'decodeJpeg2000' || codec === 'decodeHtJpeg2000') expect(d).toMatchObject({ signed: false });
      expect(codestreamMismatch(codec, b, geometry(w, h), [b.buffer as ArrayBuffer])).toBeUndefined();
      expect(codestreamMismatch(codec, b, geometry(h, w), [b.buffer as ArrayBuffer])).toMatch(/^the codestream declares width/);
    }
  });

  it('every prefix of a codestream gives a declaration or a reason, never an exception', () => {
    for (const [enc, codec] of SYNTAXES) {
      const b = encode(enc, 64, 48, image(64, 48));
      for (let n = 0; n <= Math.min(b.length, 400); n++) {
        const got = codec === 'decodeRle' ? rleMismatch(b.subarray(0, n), geometry(64, 48)) : declared(codec, b.subarray(0, n));
        if (n < 4) expect(typeof got, `${enc} ${n} bytes`).toBe('string');
        else expect(['string', 'object', 'undefined']).toContain(typeof got);
      }
    }
  });
});

describe('DICOM files from those codestreams (syntaxes the fixtures lack)', () => {
  it.each(SYNTAXES)('%s: decodes to the uncompressed pixels; Rows and Columns swapped (same byte count) are refused, except RLE', async (enc, _codec, syntax) => {
    const [w, h] = [64, 48];
    const px = image(w, h);
    const plain = await decodeDicom(dicomFile(w, h, px));
    const got = await decodeDicom(dicomFile(w, h, encode(enc, w, h, px), syntax));
    expect(got.display.transferSyntax).toBe(syntax);
    expect(Buffer.from(got.data).equals(Buffer.from(plain.data))).toBe(true);
    const swapped = decodeDicom(dicomFile(h, w, encode(enc, w, h, px), syntax));
    if (enc === 'encodeRle') {
      // RLE declares no width: segments of w x h bytes fit an h x w header; only a count that differs is seen.
      await expect(swapped).resolves.toMatchObject({ width: h, height: w });
      await expect(decodeDicom(dicomFile(w, h + 1, encode(enc, w, h, px), syntax))).rejects.toMatchObject({ reason: 'DICOM_DECODE_FAILED', message: expect.stringMatching(/RLE segment 1 decodes to 3072 bytes/) });
      return;
    }
    const e = await swapped.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e).toMatchObject({ reason: 'DICOM_DECODE_FAILED', code: 'E_DTYPE', message: expect.stringMatching(/width 64 \(header: 48 columns\), height 48 \(header: 64 rows\)/) });
  });
});

describe('a codestream precision above BitsStored (16 for 12 bits stored in 16, as CharLS, OpenJPH and libjxl write)', () => {
  /** MR_small's header, 16 bits allocated, 12 stored, unsigned, with a w x h frame of `px` (uncompressed, or encoded by `enc`). */
  function file12(px: Uint16Array, enc?: Encoder, syntax?: string): Uint8Array {
    const [w, h] = [64, 48];
    const frame = enc ? encode16(enc, px) : new Uint8Array(px.buffer);
    const b = readFileSync(join(DICOM_DIR, 'MR_small.dcm'));
    const d = dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, {});
    const us = (v: number) => ({ vr: 'US', Value: [v] });
    Object.assign(d.dict, { '00280010': us(h), '00280011': us(w), '00280100': us(16), '00280101': us(12), '00280102': us(11), '00280103': us(0) });
    delete d.dict['00281050']; delete d.dict['00281051'];
    d.dict['7FE00010'] = { vr: enc ? 'OB' : 'OW', Value: [frame.slice().buffer] };
    d.meta['00020010'] = { vr: 'UI', Value: [syntax ?? '1.2.840.10008.1.2.1'] };
    return new Uint8Array(d.write());
  }

  it.each(SYNTAXES.filter(([e]) => e !== 'encodeRle'))('%s: 12-bit values decode as the uncompressed file; one value of 13 bits is refused, not masked', async (enc, codec, syntax) => {
    const px = Uint16Array.from({ length: 64 * 48 }, (_, i) => (i * 37) % 4096);
    const encoded = encode16(enc, px);
    // What each encoder writes (read once from their output): libjpeg and OpenJPEG the 12 bits stored, the others 16.
    const wide = ['encodeJpegLs', 'encodeHtJpeg2000', 'encodeJpegXl'].includes(enc);
    expect(declared(codec, encoded)).toMatchObject({ precision: wide ? 16 : 12 });
    const plain = await decodeDicom(file12(px));
    expect(Buffer.from((await decodeDicom(file12(px, enc, syntax))).data).equals(Buffer.from(plain.data))).toBe(true);
    if (wide) {
      px[100] = 5000;
      await expect(decodeDicom(file12(px, enc, syntax))).rejects.toMatchObject({ reason: 'DICOM_DECODE_FAILED', message: expect.stringMatching(/wider than the header's 12 bits stored and 1 decoded sample\(s\) do not fit/) });
    }
  });

  function encode16(enc: Encoder, px: Uint16Array): Uint8Array {
    const ctx = new Context({ width: 64, height: 48, bitsAllocated: 16, bitsStored: 12, samplesPerPixel: 1, pixelRepresentation: 0, planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2', decodedBuffer: new Uint8Array(px.buffer) });
    return (enc === 'encodeJpeg' ? NativeCodecs.encodeJpeg(ctx, { lossy: false, predictor: 1 }) : NativeCodecs[enc](ctx, { lossy: false })).getEncodedBuffer()!.slice();
  }

  it('samplesOutside counts values beyond BitsStored, signed ones sign-extended', () => {
    const u = new Uint8Array(Uint16Array.from([0, 4095, 4096, 65535]).buffer);
    expect(samplesOutside(u, { bitsAllocated: 16, bitsStored: 12, signed: false })).toBe(2);
    const s = new Uint8Array(Int16Array.from([-2048, 2047, -2049, 2048, -1]).buffer);
    expect(samplesOutside(s, { bitsAllocated: 16, bitsStored: 12, signed: true })).toBe(2);
    expect(samplesOutside(Uint8Array.from([0, 127, 128, 255]), { bitsAllocated: 8, bitsStored: 7, signed: false })).toBe(2);
  });
});

describe('the parsers on edge inputs', () => {
  it('JPEG: fill bytes and an APP segment before SOF; Y = 0 (height in a DNL marker) is left undeclared; no SOF is a reason', () => {
    const sof = [0xff, 0xc3, 0x00, 0x0b, 12, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0x11, 0x00];
    const app = [0xff, 0xe0, 0x00, 0x04, 0xaa, 0xbb];
    expect(jpegFrameHeader(Uint8Array.from([0xff, 0xd8, ...app, 0xff, 0xff, ...sof]))).toEqual({ precision: 12, width: 256, components: 1 });
    expect(jpegFrameHeader(Uint8Array.from([0xff, 0xd8, ...app, 0xff, 0xda, 0x00, 0x02]))).toMatch(/no frame header \(SOF\) before its scan/);
    expect(jpegFrameHeader(Uint8Array.from([0x00, 0xd8, 0xff, 0xc0]))).toMatch(/does not start with SOI/);
    // DHT (C4), JPG (C8) and DAC (CC) are not frame headers.
    expect(jpegFrameHeader(Uint8Array.from([0xff, 0xd8, 0xff, 0xc4, 0x00, 0x02, 0xff, 0xcc, 0x00, 0x02, ...sof]))).toMatchObject({ width: 256 });
  });

  it('JPEG 2000 in a JP2 wrapper (signature, ftyp, jp2c boxes) reads the same SIZ; a subsampled component is a reason', () => {
    const raw = encode('encodeJpeg2000', 64, 48, image(64, 48));
    const box = (type: string, body: Uint8Array) => { const b = new Uint8Array(8 + body.length); new DataView(b.buffer).setUint32(0, b.length); b.set(Buffer.from(type, 'latin1'), 4); b.set(body, 8); return b; };
    const jp2 = Buffer.concat([box('jP  ', Uint8Array.from([0x0d, 0x0a, 0x87, 0x0a])), box('ftyp', Buffer.from('jp2 \0\0\0\0jp2 ', 'latin1')), box('jp2c', raw)]);
    expect(j2kSiz(new Uint8Array(jp2))).toEqual(j2kSiz(raw));
    expect(j2kSiz(raw)).toMatchObject({ width: 64, height: 48 });
    const sub = raw.slice();
    sub[43] = 2; // XRsiz of component 0
    expect(j2kSiz(sub)).toMatch(/component 0 is subsampled \(XRsiz 2, YRsiz 1\)/);
  });

  it('PackBits lengths (PS3.5 G.3.1): literal runs, replicate runs, the -128 no-op, a trailing pad byte, a run cut by the segment end', () => {
    const b = Uint8Array.from([2, 9, 8, 7, 0xfe, 5, 0x80, 0x81, 1, 0]);
    expect(packBitsLength(b, 0, b.length)).toBe(3 + 3 + 0 + 128); // the last 0 (a literal header with nothing after it) is the pad
    expect(packBitsLength(b, 0, 3)).toBe(2); // a literal run of 3 with 2 bytes left
    expect(packBitsLength(b, 0, 0)).toBe(0);
  });
});
