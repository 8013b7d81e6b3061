/**
 * DICOM input in Node: the display transform against the fixtures' source
 * JPEGs, predictions through the fake parties (DICOM vs its source JPEG,
 * compared on the input the parties reconstruct), the refusals, multi-frame
 * files, and that no header field reaches a party (every byte sent captured).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, PrivateInferenceClient, convertChannels, decodeDicom, decodeImage, isDicom } from '../src/index.js';
import { grayscaleTo8 } from '../src/image/dicom.js';
import { captureParties } from '../testing/capture-proxy.js';
import { phiFound, phiStrings } from '../testing/phi.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';
import { DICOM_DIR, dicomExpected, dicomXrays } from '../testing/fixtures.js';

const bytes = (p: string): Uint8Array => new Uint8Array(readFileSync(p));
const fixture = (f: string): Uint8Array => bytes(join(DICOM_DIR, f));

describe('decodeDicom: the display transform (modality LUT, VOI, MONOCHROME1) to 8 bits', () => {
  it.each(dicomXrays().map(([d, j]) => [basename(d), d, j]))('%s decodes to the pixels of its source JPEG, exactly', async (_name, dcm, jpeg) => {
    const img = await decodeDicom(bytes(dcm));
    const src = convertChannels(await decodeImage(bytes(jpeg)), 1);
    expect([img.width, img.height, img.channels]).toEqual([src.width, src.height, 1]);
    let max = 0, differ = 0;
    for (let i = 0; i < src.data.length; i++) { const d = Math.abs(img.data[i]! - src.data[i]!); max = Math.max(max, d); if (d) differ++; }
    console.log(`${basename(dcm)} vs ${basename(jpeg)} (the SDK's JPEG decoder): ${img.width}x${img.height}, max |diff| ${max} grey level(s), ${(100 * differ / src.data.length).toFixed(1)}% of pixels differ; ${JSON.stringify(img.display.voi)}`);
    // Within 1 while Node decoded JPEGs with jpeg-js's IDCT; with libjpeg's (jpeg-idct.ts) the same pixels as the
    // DICOMs' own (the encapsulated one decoded by dcmjs-codecs' libjpeg-turbo)
    expect(max).toBe(0);
  });

  it('applies the 12-bit file\'s rescale, its window and the MONOCHROME1 inversion (and the 8-bit files keep their pixel range)', async () => {
    const mono1 = await decodeDicom(fixture('xray-mono1-12bit.dcm'));
    expect(mono1.display).toMatchObject({ photometric: 'MONOCHROME1', inverted: true, bitsStored: 12, voi: { kind: 'window', center: 2048, width: 4096, fn: 'LINEAR' } });
    const mono2 = await decodeDicom(fixture('xray-mono2-8bit.dcm'));
    expect(mono2.display).toMatchObject({ photometric: 'MONOCHROME2', inverted: false, voi: { kind: 'pixel-range' } });
    const jpeg = await decodeDicom(fixture('xray-jpeg-baseline.dcm'));
    expect(jpeg.display.transferSyntax).toBe('1.2.840.10008.1.2.4.50');
  });

  it('decodes every compressed syntax of the pydicom files (RLE, JPEG 12-bit lossy, JPEG 2000, RGB RLE) and CT/MR 16-bit', async () => {
    const mr = await decodeDicom(fixture('MR_small.dcm'));
    const rle = await decodeDicom(fixture('MR_small_RLE.dcm'));
    expect(rle.display.transferSyntax).toBe('1.2.840.10008.1.2.5');
    expect([rle.width, rle.height]).toEqual([64, 64]);
    expect(Buffer.from(rle.data).equals(Buffer.from(mr.data))).toBe(true); // RLE is lossless: the same pixels as the uncompressed file
    const ct = await decodeDicom(fixture('CT_small.dcm'));
    expect(ct.display.voi).toMatchObject({ kind: 'pixel-range' });
    const v = ct.display.voi as { min: number; max: number };
    expect(v.min).toBeLessThan(-500); // rescale intercept -1024 applied: air in Hounsfield units
    for (const [f, syntax] of [['JPEG-lossy.dcm', '1.2.840.10008.1.2.4.51'], ['JPEG2000.dcm', '1.2.840.10008.1.2.4.91']] as const) {
      const img = await decodeDicom(fixture(f));
      expect(img.display.transferSyntax).toBe(syntax);
      expect([img.width, img.height, img.channels]).toEqual([256, 1024, 1]);
      const hist = new Set(img.data);
      expect(hist.size).toBeGreaterThan(20); // an image, not a constant
    }
    const rgb = await decodeDicom(fixture('SC_rgb_rle.dcm'));
    expect(rgb.channels).toBe(3);
    // pydicom's SC_rgb test image: bands red, green, blue, then black to white from top to bottom.
    const px = (y: number): number[] => [...rgb.data.subarray(3 * (y * 100 + 50), 3 * (y * 100 + 50) + 3)];
    expect(px(5)).toEqual([255, 0, 0]);
    expect(px(25)).toEqual([0, 255, 0]);
    expect(px(45)).toEqual([0, 0, 255]);
    expect(px(65)).toEqual([0, 0, 0]);
    expect(px(95)).toEqual([255, 255, 255]);
  });

  it('refuses files it cannot use with a coded InputError saying which problem', async () => {
    const cases: [Uint8Array, string, string][] = [
      [fixture('MR_truncated.dcm'), 'DICOM_TRUNCATED', 'E_SHAPE'],
      [fixture('rtplan.dcm'), 'DICOM_NO_PIXEL_DATA', 'E_DTYPE'],
    ];
    // The JPEG-lossy file with its transfer syntax UID changed to the retired JPEG Extended (Process 3 & 5), same length.
    const lossy = fixture('JPEG-lossy.dcm');
    const at = Buffer.from(lossy).indexOf('1.2.840.10008.1.2.4.51');
    expect(at).toBeGreaterThan(128);
    const retired = lossy.slice();
    retired.set(Buffer.from('1.2.840.10008.1.2.4.52'), at);
    cases.push([retired, 'DICOM_UNSUPPORTED_SYNTAX', 'E_DTYPE']);
    for (const [b, reason, code] of cases) {
      const e = await decodeDicom(b).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect(e).toMatchObject({ reason, code });
      for (const phi of ['DOE^JANE', 'CompressedSamples', 'Last^First']) expect((e as Error).message).not.toContain(phi);
    }
    await expect(decodeDicom(new Uint8Array(200))).rejects.toMatchObject({ reason: 'DICOM_UNREADABLE' });
  });

  /** A fixture's dataset (dcmjs dict, tags as keys), to edit and write back. */
  const dictOf = (f: string) => { const b = readFileSync(join(DICOM_DIR, f)); return dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, {}); };
  const written = (d: ReturnType<typeof dictOf>): Uint8Array => new Uint8Array(d.write());

  it('refuses a sample layout it would misread: a high bit other than bits stored - 1, more bits stored than allocated', async () => {
    for (const [tag, value, msg] of [['00280102', 15, /high bit 15 with 12 bits stored/], ['00280101', 20, /20 bits stored in 16 allocated/], ['00280101', 0, /0 bits stored/]] as const) {
      const d = dictOf('xray-mono1-12bit.dcm');
      d.dict[tag] = { vr: 'US', Value: [value] };
      await expect(decodeDicom(written(d))).rejects.toMatchObject({ reason: 'DICOM_UNSUPPORTED_IMAGE', code: 'E_DTYPE', message: expect.stringMatching(msg) });
    }
  });

  it('a compressed frame, or uncompressed pixel data, larger than the header\'s rows x columns is refused (DICOM_DECODE_FAILED), not read as a scrambled image of the header\'s size', async () => {
    const d = dictOf('xray-jpeg-baseline.dcm');
    const cols = d.dict['00280011']!.Value[0] as number;
    d.dict['00280011'] = { vr: 'US', Value: [Math.floor(cols / 2)] };
    // Now seen in the codestream's SOF before the decoder runs (codestream.ts); the decoded-length check stays behind it.
    await expect(decodeDicom(written(d))).rejects.toMatchObject({ reason: 'DICOM_DECODE_FAILED', code: 'E_DTYPE', message: expect.stringMatching(new RegExp(`the codestream declares width ${cols} \\(header: ${Math.floor(cols / 2)} columns\\)`)) });
    // Uncompressed: more pixel data than the header's frames of rows x columns.
    const u = dictOf('xray-mono2-8bit.dcm');
    u.dict['00280010'] = { vr: 'US', Value: [Math.floor((u.dict['00280010']!.Value[0] as number) / 2)] };
    await expect(decodeDicom(written(u))).rejects.toMatchObject({ reason: 'DICOM_DECODE_FAILED', message: expect.stringMatching(/more than the 1 frame\(s\) of \d+ x \d+ the header describes/) });
  });

  describe('a compressed frame whose codestream declares another geometry than the header is refused (DICOM_DECODE_FAILED) before decoding', () => {
    const refused = async (b: Uint8Array, msg: RegExp) => {
      const e = await decodeDicom(b).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect(e).toMatchObject({ reason: 'DICOM_DECODE_FAILED', code: 'E_DTYPE' });
      expect((e as Error).message).toMatch(msg);
      for (const phi of ['DOE^JANE', 'Last^First', 'CompressedSamples']) expect((e as Error).message).not.toContain(phi);
    };
    const set = (d: ReturnType<typeof dictOf>, tags: Record<string, number>) => { for (const [t, v] of Object.entries(tags)) d.dict[t] = { vr: 'US', Value: [v] }; return d; };
    /** The fixture with its (single) compressed frame edited in memory. */
    const withFrame = (f: string, edit: (b: Uint8Array) => void) => {
      const d = dictOf(f);
      const px = d.dict['7FE00010']!.Value as ArrayBuffer[];
      expect(px.length).toBe(1);
      const frame = new Uint8Array(px[0]!.slice(0));
      edit(frame);
      d.dict['7FE00010']!.Value = [frame.buffer];
      return written(d);
    };
    const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

    it('JPEG 2000 (JPEG2000.dcm, 256 x 1024, 16-bit signed): the SIZ marker against Rows, Columns, BitsAllocated, PixelRepresentation', async () => {
      const ok = await decodeDicom(written(dictOf('JPEG2000.dcm'))); // written back unaltered: still decodes
      expect([ok.width, ok.height]).toEqual([256, 1024]);
      // Rows and Columns swapped: the same byte count, so the decoded length alone cannot see it.
      await refused(written(set(dictOf('JPEG2000.dcm'), { '00280010': 256, '00280011': 1024 })), /width 256 \(header: 1024 columns\), height 1024 \(header: 256 rows\)/);
      // The codestream's Xsiz halved (SOC FF4F, SIZ FF51, Lsiz, Rsiz, then Xsiz at byte 8).
      const sizAt = (b: Uint8Array) => { expect(dv(b).getUint32(0)).toBe(0xff4fff51); return 8; };
      await refused(withFrame('JPEG2000.dcm', (b) => dv(b).setUint32(sizAt(b), 128)), /width 128 \(header: 256 columns\)/);
      // XOsiz 16: the image area is Xsiz - XOsiz = 240 wide.
      await refused(withFrame('JPEG2000.dcm', (b) => dv(b).setUint32(16, 16)), /width 240 \(header: 256 columns\)/);
      // Ssiz: 0x8f is signed 16-bit; 0x0f unsigned 16-bit, 0x90 signed 17-bit.
      expect(new Uint8Array((dictOf('JPEG2000.dcm').dict['7FE00010']!.Value[0] as ArrayBuffer))[42]).toBe(0x8f);
      await refused(withFrame('JPEG2000.dcm', (b) => { b[42] = 0x0f; }), /unsigned samples \(header: pixel representation 1\)/);
      await refused(withFrame('JPEG2000.dcm', (b) => { b[42] = 0x90; }), /17-bit samples \(header: 16 bits allocated\)/);
      await refused(written(set(dictOf('JPEG2000.dcm'), { '00280103': 0 })), /signed samples \(header: pixel representation 0\)/);
      // Two codestreams in a file whose header says one frame (the decoder would show the first, silently).
      const two = dictOf('JPEG2000.dcm');
      const f0 = two.dict['7FE00010']!.Value[0] as ArrayBuffer;
      two.dict['7FE00010']!.Value = [f0, f0.slice(0)];
      await refused(written(two), /holds 2 codestream\(s\); the header describes 1 frame\(s\)/);
    });

    it('RLE (MR_small_RLE.dcm, SC_rgb_rle.dcm): the segment count against samples x bytes, each segment\'s length against Rows x Columns', async () => {
      const ok = await decodeDicom(written(dictOf('MR_small_RLE.dcm')));
      expect([ok.width, ok.height]).toEqual([64, 64]);
      await refused(written(set(dictOf('MR_small_RLE.dcm'), { '00280010': 32 })), /RLE segment 1 decodes to 4096 bytes; the header's 64 x 32 frame needs 2048/);
      await refused(written(set(dictOf('MR_small_RLE.dcm'), { '00280011': 128 })), /RLE segment 1 decodes to 4096 bytes; the header's 128 x 64 frame needs 8192/);
      await refused(written(set(dictOf('MR_small_RLE.dcm'), { '00280100': 8, '00280101': 8, '00280102': 7 })), /the RLE frame has 2 segment\(s\); 1 sample\(s\) of 8 bits need 1/);
      // The RLE header's segment count (little-endian at byte 0) set to 1: the one segment then runs to the frame's end.
      await refused(withFrame('MR_small_RLE.dcm', (b) => { expect(dv(b).getUint32(0, true)).toBe(2); dv(b).setUint32(0, 1, true); }), /the RLE frame has 1 segment\(s\); 1 sample\(s\) of 16 bits need 2/);
      // The second segment's offset moved: segment 1 ends early.
      await refused(withFrame('MR_small_RLE.dcm', (b) => { dv(b).setUint32(8, dv(b).getUint32(8, true) - 40, true); }), /RLE segment 1 decodes to \d+ bytes; the header's 64 x 64 frame needs 4096/);
      const rgb = dictOf('SC_rgb_rle.dcm');
      rgb.dict['00280002'] = { vr: 'US', Value: [1] };
      rgb.dict['00280004'] = { vr: 'CS', Value: ['MONOCHROME2'] };
      await refused(written(rgb), /the RLE frame has 3 segment\(s\); 1 sample\(s\) of 8 bits need 1/);
    });

    it('JPEG (JPEG-lossy.dcm, 12-bit extended): the SOF marker against Rows, Columns, SamplesPerPixel, BitsStored', async () => {
      // Rows and Columns swapped: the decoded length is the same, the image another.
      await refused(written(set(dictOf('JPEG-lossy.dcm'), { '00280010': 256, '00280011': 1024 })), /width 256 \(header: 1024 columns\), height 1024 \(header: 256 rows\)/);
      // P = 12 over 8 bits stored (within 16 allocated): decoded, and the 12-bit values above 255 are refused, not masked.
      await refused(written(set(dictOf('JPEG-lossy.dcm'), { '00280101': 8, '00280102': 7 })), /declares samples wider than the header's 8 bits stored and \d+ decoded sample\(s\) do not fit/);
      // SOF1 (FFC1) right after SOI: Lf, P, Y, X, Nf; Nf set to 3 (its component specs are then cut short, but the header check comes first).
      await refused(withFrame('JPEG-lossy.dcm', (b) => { expect(dv(b).getUint32(0)).toBe(0xffd8ffc1); b[11] = 3; }), /3 component\(s\) \(header: 1 sample\(s\) per pixel\)/);
    });
  });

  it('signed samples stored in fewer bits than allocated: masked to BitsStored and sign-extended (whatever the unused high bits hold)', async () => {
    const d16 = dictOf('MR_small.dcm'), d12 = dictOf('MR_small.dcm');
    const px = new Int16Array((d16.dict['7FE00010']!.Value[0] as ArrayBuffer).slice(0)).map((v) => Math.max(-2048, Math.min(2047, v - 1000)));
    expect(px.some((v) => v < 0) && px.some((v) => v > 0)).toBe(true);
    d16.dict['7FE00010']!.Value = [px.buffer];
    // 12 bits stored, high bit 11; the top 4 bits hold anything (overlay bits, junk): the decoder must ignore them.
    const raw = Uint16Array.from(px, (v, i) => (v & 0xfff) | ((i * 7) % 16) << 12);
    Object.assign(d12.dict, { '00280101': { vr: 'US', Value: [12] }, '00280102': { vr: 'US', Value: [11] }, '00280103': { vr: 'US', Value: [1] } });
    d12.dict['7FE00010']!.Value = [raw.buffer];
    const [a, b] = [await decodeDicom(written(d16)), await decodeDicom(written(d12))];
    expect(b.display.bitsStored).toBe(12);
    expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);
  });

  it('an enhanced object\'s rescale and window in functional groups (the frame\'s own over the shared ones) are applied, not replaced by the pixel range', async () => {
    const want = await decodeDicom(fixture('xray-mono1-12bit.dcm'));
    const moved = (perFrame: boolean) => {
      const d = dictOf('xray-mono1-12bit.dcm');
      const take = (t: string) => { const v = d.dict[t]; delete d.dict[t]; return v; };
      const pvt = { '00281053': take('00281053'), '00281052': take('00281052') }, voi = { '00281050': take('00281050'), '00281051': take('00281051') };
      const group = { '00289145': { vr: 'SQ', Value: [pvt] }, '00289132': { vr: 'SQ', Value: [voi] } };
      // Per frame: the shared group holds another rescale and window, which the frame's own override.
      const other = { '00289145': { vr: 'SQ', Value: [{ '00281053': { vr: 'DS', Value: [1] }, '00281052': { vr: 'DS', Value: [0] } }] }, '00289132': { vr: 'SQ', Value: [{ '00281050': { vr: 'DS', Value: [100] }, '00281051': { vr: 'DS', Value: [50] } }] } };
      d.dict['52009229'] = { vr: 'SQ', Value: [perFrame ? other : group] };
      if (perFrame) d.dict['52009230'] = { vr: 'SQ', Value: [group] };
      return written(d);
    };
    for (const perFrame of [false, true]) {
      const got = await decodeDicom(moved(perFrame));
      expect(got.display.voi).toEqual(want.display.voi);
      expect(Buffer.from(got.data).equals(Buffer.from(want.data))).toBe(true);
    }
  });

  it('reads the first frame of a multi-frame file, or the frame asked for', async () => {
    // A two-frame file written by dcmjs from MR_small: frame 1 is frame 0 inverted.
    const b = readFileSync(join(DICOM_DIR, 'MR_small.dcm'));
    const dict = dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, {});
    const f0 = new Int16Array((dict.dict['7FE00010']!.Value[0] as ArrayBuffer).slice(0));
    const f1 = f0.map((v) => 4000 - v);
    const both = new Int16Array(f0.length * 2);
    both.set(f0); both.set(f1, f0.length);
    dict.dict['7FE00010']!.Value = [both.buffer];
    dict.dict['00280008'] = { vr: 'IS', Value: [2] };
    delete dict.dict['00281050']; delete dict.dict['00281051']; // no window: each frame by its own pixel range
    const file = new Uint8Array(dict.write());
    expect(isDicom(file)).toBe(true);
    const first = await decodeDicom(file);
    const second = await decodeDicom(file, { frame: 1 });
    expect(first.display).toMatchObject({ frames: 2, frame: 0 });
    expect(second.display).toMatchObject({ frames: 2, frame: 1 });
    for (let i = 0; i < first.data.length; i++) expect(Math.abs(first.data[i]! + second.data[i]! - 255)).toBeLessThanOrEqual(1);
    await expect(decodeDicom(file, { frame: 2 })).rejects.toMatchObject({ reason: 'DICOM_BAD_FRAME', code: 'E_SHAPE' });
  });
});

describe('the display transform on synthetic values (the paths the fixtures do not take)', () => {
  const mono2 = { signed: false, photometric: 'MONOCHROME2' };
  const run = (values: number[], ds: Record<string, unknown>, g = mono2) => grayscaleTo8(Float64Array.from(values), ds, g);

  it('LINEAR window (PS3.3 C.11.2.1.2.1): its ends and centre, clamped outside', () => {
    const r = run([-5, 0, 2047.5, 4095, 5000], { WindowCenter: '2048', WindowWidth: '4096' });
    expect([...r.data]).toEqual([0, 0, 128, 255, 255]);
    expect(r.voi).toEqual({ kind: 'window', center: 2048, width: 4096, fn: 'LINEAR' });
  });

  it('LINEAR_EXACT and SIGMOID VOI LUT Functions', () => {
    expect([...run([0, 50, 100, 150, 200], { WindowCenter: 100, WindowWidth: 200, VOILUTFunction: 'LINEAR_EXACT' }).data]).toEqual([0, 64, 128, 191, 255]);
    const sig = run([-1000, 60, 100, 140, 1000], { WindowCenter: 100, WindowWidth: 80, VOILUTFunction: 'SIGMOID' }).data;
    expect(sig[2]).toBe(128); // 255 / (1 + e^0)
    expect(sig[0]).toBe(0);
    expect(sig[4]).toBe(255);
    expect(sig[1]! + sig[3]!).toBe(255); // symmetric about the centre
    expect(sig[1]).toBe(Math.round(255 / (1 + Math.exp(2)))); // -4 (60 - 100) / 80 = 2
  });

  it('a VOI LUT Sequence wins over a window; values outside its range take its end entries', () => {
    const ds = { WindowCenter: 0, WindowWidth: 1, VOILUTSequence: [{ LUTDescriptor: [4, 10, 8], LUTData: [0, 50, 200, 255] }] };
    const r = run([5, 10, 11, 12, 13, 20], ds);
    expect([...r.data]).toEqual([0, 0, 50, 200, 255, 255]);
    expect(r.voi).toEqual({ kind: 'voi-lut' });
  });

  it('a VOI LUT with an entry above what its descriptor\'s bits hold is refused, not wrapped modulo 256 (a bright pixel shown dark)', () => {
    // 8 bits declared, an entry of 300: before, 300 / 255 * 255 = 300 went into a Uint8Array as 44.
    const refused = (ds: Record<string, unknown>) => { try { run([10, 11], ds); } catch (e) { return e instanceof InputError && e.code === 'E_DTYPE' && e.reason === 'DICOM_UNSUPPORTED_IMAGE' ? e.message : 'other error'; } return 'accepted'; };
    expect(refused({ VOILUTSequence: [{ LUTDescriptor: [2, 10, 8], LUTData: [100, 300] }] })).toMatch(/VOI LUT.*8 bits/);
    expect(refused({ VOILUTSequence: [{ LUTDescriptor: [2, 10, 12], LUTData: [0, 5000] }] })).toMatch(/VOI LUT.*12 bits/);
    // Entries within the declared bits map as before.
    expect([...run([10, 11], { VOILUTSequence: [{ LUTDescriptor: [2, 10, 12], LUTData: [0, 4095] }] }).data]).toEqual([0, 255]);
  });

  it('the modality LUT: rescale slope and intercept, or a Modality LUT Sequence (signed first value), before the VOI', () => {
    // Rescale x2 - 100, then the window 0..100: stored 0 -> -100 -> 0; 50 -> 0 -> 0; 75 -> 50 -> 128; 100 -> 100 -> 255.
    expect([...run([0, 50, 75, 100], { RescaleSlope: '2', RescaleIntercept: '-100', WindowCenter: 50.5, WindowWidth: 101 }).data]).toEqual([0, 0, 128, 255]);
    // A table for stored values -2..0 (first mapped 65534 read as -2 for signed data), then the pixel range.
    const r = run([-2, -1, 0, 7], { ModalityLUTSequence: [{ LUTDescriptor: [3, 65534, 16], LUTData: [100, 200, 300] }] }, { signed: true, photometric: 'MONOCHROME2' });
    expect([...r.data]).toEqual([0, 128, 255, 255]);
    expect(r.voi).toEqual({ kind: 'pixel-range', min: 100, max: 300 });
  });

  it('MONOCHROME1 is inverted after the VOI; a constant image is black, not NaN', () => {
    const r = run([0, 10, 20], { WindowCenter: 10.5, WindowWidth: 21 }, { signed: false, photometric: 'MONOCHROME1' });
    expect([...r.data]).toEqual([255, 127, 0]); // 10 -> 127.5 -> 128, inverted
    expect(r.inverted).toBe(true);
    expect([...run([7, 7, 7], {}).data]).toEqual([0, 0, 0]);
  });
});

describe('predict(dicomBytes) through the parties', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [224, 224, 1] } }); });
  afterAll(async () => { await fake.close(); });

  it.each(dicomXrays().map(([d, j]) => [basename(d), d, j]))('%s gives the prediction of its source JPEG (inputs within 1 grey level)', async (_name, dcm, jpeg) => {
    const client = new PrivateInferenceClient({ parties: fake.urls, token: fake.token });
    const stages: string[] = [];
    const rd = await client.predict(bytes(dcm), { onProgress: (e) => stages.push(e.stage) });
    const rj = await client.predict(bytes(jpeg));
    const xd = fake.inputs.get(rd.sessionId)!, xj = fake.inputs.get(rj.sessionId)!;
    expect(xd.length).toBe(224 * 224);
    let max = 0;
    for (let i = 0; i < xd.length; i++) max = Math.max(max, Math.abs(xd[i]! - xj[i]!));
    const maxProb = Math.max(...rd.probabilities.map((p, i) => Math.abs(p - rj.probabilities[i]!)));
    console.log(`${basename(dcm)}: model input max |DICOM - JPEG| = ${(max * 255).toFixed(3)} grey levels; label ${rd.label} vs ${rj.label}; max |dp| ${maxProb.toExponential(2)}`);
    expect(max * 255).toBeLessThanOrEqual(1 + 255 / 2 ** 12); // one grey level, plus fixed-point rounding (2^-13 per value)
    expect(rd.label).toBe(rj.label);
    expect(stages).toEqual(['encoding', 'uploading', 'computing', 'reconstructing', 'done']);
  });

  it('refuses an unusable DICOM file before any request', async () => {
    const client = new PrivateInferenceClient({ parties: fake.urls, token: fake.token });
    const before = fake.requests.length;
    await expect(client.predict(fixture('rtplan.dcm'))).rejects.toMatchObject({ name: 'InputError', reason: 'DICOM_NO_PIXEL_DATA' });
    await expect(client.predict(fixture('MR_truncated.dcm'))).rejects.toMatchObject({ name: 'InputError', reason: 'DICOM_TRUNCATED' });
    await expect(client.predict(fixture('MR_small.dcm'), { dicom: { frame: 3 } })).rejects.toMatchObject({ reason: 'DICOM_BAD_FRAME' });
    expect(fake.requests.length).toBe(before);
  });

  it('sends no header field to any party: every byte the SDK sends is free of the fixtures\' PHI', async () => {
    const files = Object.keys(dicomExpected()).map((f) => join(DICOM_DIR, f));
    const phi = phiStrings(files);
    expect(phi).toEqual(expect.arrayContaining(['DOE^JANE^Q', 'PHI-4711-SECRET', 'SMITH^JOHN', 'General Hospital', '19800101']));
    const wire = await captureParties(fake.urls);
    try {
      const client = new PrivateInferenceClient({ parties: wire.urls, token: fake.token });
      const usable = files.filter((f) => !/truncated|rtplan/.test(f));
      for (const f of usable) await client.predict(bytes(f));
      await client.predict(usable.map(bytes), { batch: true });
      const sent = wire.sent();
      expect(sent.length).toBeGreaterThan(usable.length * 224 * 224 * 8 * 2); // the shares went through the capture
      expect(sent.includes(Buffer.from('PUT /v1/sessions/'))).toBe(true);
      expect(phiFound(sent, phi)).toEqual([]);
      // The check would see a leak: the same search finds the strings in the files themselves.
      expect(phiFound(Buffer.concat(files.map((f) => readFileSync(f))), phi).length).toBe(phi.length);
    } finally {
      await wire.close();
    }
  });
});
