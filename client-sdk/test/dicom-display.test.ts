/**
 * Safety probe: DICOM attributes that make a viewer (PS3.3 C.11 / PS3.14
 * grayscale pipeline) or a pydicom training pipeline (apply_modality_lut +
 * apply_voi_lut, then MONOCHROME1 inverted) show another image than the one
 * the SDK gives the model. Each file is written here with dcmjs from
 * MR_small.dcm's header (never copied), with small pixel arrays whose 8-bit
 * result is computed by hand in the comments.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { decodeDicom } from '../src/index.js';
import { DICOM_DIR } from '../testing/fixtures.js';

type El = { vr: string; Value: unknown[] };
interface Spec { rows: number; cols: number; pixels: ArrayBufferView; bits?: number; signed?: boolean; photometric?: string; spp?: number; frames?: number; tags?: Record<string, El>; syntax?: string }

/** A DICOM file (explicit VR little endian) with MR_small.dcm's header, the given pixels and attributes, no window. */
function dicom(s: Spec): Uint8Array {
  const b = readFileSync(join(DICOM_DIR, 'MR_small.dcm'));
  const d = dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, {});
  for (const t of ['00281050', '00281051', '00280106', '00280107']) delete d.dict[t];
  if (s.syntax) d.meta['00020010'] = { vr: 'UI', Value: [s.syntax] }; // dcmjs writes OB/OW values' bytes as given
  const bits = s.bits ?? 16, us = (v: number): El => ({ vr: 'US', Value: [v] });
  Object.assign(d.dict, {
    '00280002': us(s.spp ?? 1), '00280004': { vr: 'CS', Value: [s.photometric ?? 'MONOCHROME2'] }, '00280010': us(s.rows), '00280011': us(s.cols),
    '00280100': us(bits), '00280101': us(bits), '00280102': us(bits - 1), '00280103': us(s.signed ? 1 : 0),
    '7FE00010': { vr: bits === 8 ? 'OB' : 'OW', Value: [s.pixels.buffer.slice(s.pixels.byteOffset, s.pixels.byteOffset + s.pixels.byteLength)] },
    ...(s.spp === 3 ? { '00280006': us(0) } : {}),
    ...(s.frames ? { '00280008': { vr: 'IS', Value: [s.frames] } } : {}),
    ...s.tags,
  });
  return new Uint8Array(d.write());
}

const ds = (v: number | number[]): El => ({ vr: 'DS', Value: Array.isArray(v) ? v : [v] });
const cs = (v: string): El => ({ vr: 'CS', Value: [v] });
const gray = async (file: Uint8Array, frame?: number) => { const img = await decodeDicom(file, frame === undefined ? {} : { frame }); return { px: [...img.data], display: img.display, width: img.width, height: img.height }; };
const refused = (file: Uint8Array, msg: RegExp) => expect(decodeDicom(file)).rejects.toMatchObject({ code: 'E_DTYPE', reason: 'DICOM_UNSUPPORTED_IMAGE', message: expect.stringMatching(msg) });

describe('Presentation LUT Shape (2050,0020) and Presentation LUT Sequence (2050,0010)', () => {
  // 1 x 3, stored 0, 50, 100; no window: the pixel range 0..100 -> 0, 128, 255 (MONOCHROME1: 255, 127, 0).
  const px = Uint16Array.from([0, 50, 100]);
  it('INVERSE on MONOCHROME2 and IDENTITY on MONOCHROME1 are refused (a viewer and pydicom show opposite polarities), naming the attribute', async () => {
    await refused(dicom({ rows: 1, cols: 3, pixels: px, tags: { '20500020': cs('INVERSE') } }), /Presentation LUT Shape \(2050,0020\) INVERSE on MONOCHROME2/);
    await refused(dicom({ rows: 1, cols: 3, pixels: px, photometric: 'MONOCHROME1', tags: { '20500020': cs('IDENTITY') } }), /Presentation LUT Shape \(2050,0020\) IDENTITY on MONOCHROME1/);
    await refused(dicom({ rows: 1, cols: 3, pixels: px, tags: { '20500020': cs('LOG') } }), /other than IDENTITY or INVERSE/);
    const seq = { vr: 'SQ', Value: [{ '00283002': { vr: 'US', Value: [2, 0, 8] }, '00283006': { vr: 'US', Value: [255, 0] } }] };
    await refused(dicom({ rows: 1, cols: 3, pixels: px, tags: { '20500010': seq } }), /Presentation LUT Sequence \(2050,0010\)/);
  });
  it('IDENTITY on MONOCHROME2 and INVERSE on MONOCHROME1 agree with the photometric interpretation: the same pixels as without them', async () => {
    expect((await gray(dicom({ rows: 1, cols: 3, pixels: px, tags: { '20500020': cs('IDENTITY') } }))).px).toEqual([0, 128, 255]);
    expect((await gray(dicom({ rows: 1, cols: 3, pixels: px, photometric: 'MONOCHROME1', tags: { '20500020': cs('INVERSE') } }))).px).toEqual([255, 127, 0]);
  });
});

describe('Pixel Padding Value (0028,0120) / Pixel Padding Range Limit (0028,0121) in the pixel-range fallback', () => {
  it('padding pixels (-2000 around a CT-like frame) are left out of the range: the anatomy keeps 0..255 instead of being squeezed', async () => {
    // 1 x 5 signed: two padding pixels -2000 and anatomy 0, 500, 1000. Range of the anatomy 0..1000:
    // -2000 -> clamped 0; 0 -> 0; 500 -> 127.5 -> 128; 1000 -> 255. (With the padding in the range, -2000..1000,
    // the anatomy would have been 170, 212, 255: three grey levels' worth of 255 squeezed into 85.)
    const px = Int16Array.from([-2000, 0, 500, 1000, -2000]);
    const r = await gray(dicom({ rows: 1, cols: 5, pixels: px, signed: true, tags: { '00280120': { vr: 'SS', Value: [-2000] } } }));
    expect(r.px).toEqual([0, 0, 128, 255, 0]);
    expect(r.display.voi).toEqual({ kind: 'pixel-range', min: 0, max: 1000, padding: 2 });
    // Without the attribute the same pixels keep the full range (the pydicom + min-max behaviour).
    expect((await gray(dicom({ rows: 1, cols: 5, pixels: px, signed: true }))).px).toEqual([0, 170, 213, 255, 0]);
  });
  it('a padding range (value to limit, either order) in stored values, before the rescale; on MONOCHROME1 the padding clamps to the range end then inverts', async () => {
    // Stored 0..9 are padding (collimator); anatomy 100, 300; rescale x2 + 10 -> 210, 610. Range 210..610: 0, 255; padding clamps to 0.
    const px = Uint16Array.from([0, 9, 100, 300, 5]);
    const tags = { '00280120': { vr: 'US', Value: [9] }, '00280121': { vr: 'US', Value: [0] }, '00281053': ds(2), '00281052': ds(10) };
    const r = await gray(dicom({ rows: 1, cols: 5, pixels: px, tags }));
    expect(r.px).toEqual([0, 0, 0, 255, 0]);
    expect(r.display.voi).toEqual({ kind: 'pixel-range', min: 210, max: 610, padding: 3 });
    // MONOCHROME1, padding at the top (4095, X-ray collimation): anatomy 100..1100 -> 255 .. 0 after inversion; padding -> 255 -> 0.
    const m1 = await gray(dicom({ rows: 1, cols: 4, pixels: Uint16Array.from([4095, 100, 600, 1100]), photometric: 'MONOCHROME1', tags: { '00280120': { vr: 'US', Value: [4095] } } }));
    expect(m1.px).toEqual([0, 255, 127, 0]);
  });
  it('a window is applied to padding pixels like any other value (as pydicom and a viewer do); a frame of padding only keeps its full range', async () => {
    const tags = { '00280120': { vr: 'US', Value: [0] }, '00281050': ds(150.5), '00281051': ds(101) };
    // LINEAR, c = 150.5, w = 101: x <= 100 -> 0, x > 200 -> 255, 150 -> ((150 - 150) / 100 + 0.5) * 255 = 127.5 -> 128.
    expect((await gray(dicom({ rows: 1, cols: 3, pixels: Uint16Array.from([0, 150, 300]), tags }))).px).toEqual([0, 128, 255]);
    const all = await gray(dicom({ rows: 1, cols: 2, pixels: Uint16Array.from([0, 5]), tags: { '00280120': { vr: 'US', Value: [0] }, '00280121': { vr: 'US', Value: [10] } } }));
    expect(all.px).toEqual([0, 255]);
  });
});

describe('windows: several, their VOI LUT Function and width', () => {
  const px = Uint16Array.from([0, 100, 150, 200, 400]);
  it('several windows: the first (PS3.3 C.11.2.1.2, pydicom index 0), whatever WindowCenterWidthExplanation says', async () => {
    // First window c = 150.5, w = 101 (100..200); the second (c = 300, w = 200) would give 0, 0, 0, 0, 255 + other levels.
    const tags = { '00281050': ds([150.5, 300]), '00281051': ds([101, 200]), '00281055': { vr: 'LO', Value: ['BONE', 'LUNG'] } };
    const r = await gray(dicom({ rows: 1, cols: 5, pixels: px, tags }));
    expect(r.px).toEqual([0, 0, 128, 255, 255]);
    expect(r.display.voi).toEqual({ kind: 'window', center: 150.5, width: 101, fn: 'LINEAR' });
  });
  it('a VOI LUT Sequence of several LUTs: the first; with a window present too, the LUT (pydicom prefer_lut)', async () => {
    const lut = (data: number[]) => ({ '00283002': { vr: 'US', Value: [3, 100, 8] }, '00283006': { vr: 'US', Value: data } });
    const tags = { '00283010': { vr: 'SQ', Value: [lut([0, 100, 255]), lut([255, 255, 0])] }, '00281050': ds(0), '00281051': ds(1) };
    // stored 0 -> before the first entry: 0; 100 -> 0; 150 -> last (index clamped): 255; 200, 400 -> 255. Entry 101 maps 101 only.
    const r = await gray(dicom({ rows: 1, cols: 6, pixels: Uint16Array.from([0, 100, 101, 102, 200, 400]), tags }));
    expect(r.px).toEqual([0, 0, 100, 255, 255, 255]);
    expect(r.display.voi).toEqual({ kind: 'voi-lut' });
  });
  it('a VOI LUT of a signed image: its first value mapped, written as US 65534, is -2 (PS3.3 C.11.2.1.1), not 65534 (every pixel before the table: black)', async () => {
    const tags = { '00283010': { vr: 'SQ', Value: [{ '00283002': { vr: 'US', Value: [4, 65534, 8] }, '00283006': { vr: 'US', Value: [0, 85, 170, 255] } }] } };
    // stored -2, -1, 0, 1 -> entries 0, 85, 170, 255 (8 bits: / 255 * 255).
    expect((await gray(dicom({ rows: 1, cols: 4, signed: true, pixels: Int16Array.from([-2, -1, 0, 1]), tags }))).px).toEqual([0, 85, 170, 255]);
  });
  it('a window the standard and pydicom reject is refused, not replaced by the pixel range or read as LINEAR', async () => {
    await refused(dicom({ rows: 1, cols: 5, pixels: px, tags: { '00281050': ds(100), '00281051': ds(0.5) } }), /Window Width \(0028,1051\) must be at least 1 for a LINEAR window/);
    await refused(dicom({ rows: 1, cols: 5, pixels: px, tags: { '00281050': ds(100), '00281051': ds(0) } }), /at least 1 for a LINEAR/);
    await refused(dicom({ rows: 1, cols: 5, pixels: px, tags: { '00281050': ds(100), '00281051': ds(0), '00281056': cs('SIGMOID') } }), /above 0 for a SIGMOID/);
    await refused(dicom({ rows: 1, cols: 5, pixels: px, tags: { '00281050': ds(100), '00281051': ds(10), '00281056': cs('LOG') } }), /VOI LUT Function \(0028,1056\)/);
    await refused(dicom({ rows: 1, cols: 5, pixels: px, tags: { '00281050': ds(100) } }), /Window Center without a Window Width/);
    // Both present but empty (no window, as dcmjs reads a zero-length DS): the pixel range 0..400, as before.
    expect((await gray(dicom({ rows: 1, cols: 5, pixels: px, tags: { '00281050': ds([]), '00281051': ds([]) } }))).px).toEqual([0, 64, 96, 128, 255]);
  });
  it('LINEAR_EXACT at width 1 and 0.5 (allowed above 0): y = (x - (c - w/2)) / w * 255, clamped', async () => {
    // c = 100, w = 1: 99.5..100.5; stored 99 -> 0, 100 -> 127.5 -> 128, 101 -> 255.
    expect((await gray(dicom({ rows: 1, cols: 3, pixels: Uint16Array.from([99, 100, 101]), tags: { '00281050': ds(100), '00281051': ds(1), '00281056': cs('LINEAR_EXACT') } }))).px).toEqual([0, 128, 255]);
    expect((await gray(dicom({ rows: 1, cols: 3, pixels: Uint16Array.from([99, 100, 101]), tags: { '00281050': ds(100), '00281051': ds(0.5), '00281056': cs('LINEAR_EXACT') } }))).px).toEqual([0, 128, 255]);
  });
  it('per-frame windows of an enhanced multi-frame object: each frame its own (and the first frame by default)', async () => {
    const group = (c: number, w: number) => ({ '00289132': { vr: 'SQ', Value: [{ '00281050': ds(c), '00281051': ds(w) }] } });
    const tags = { '52009230': { vr: 'SQ', Value: [group(150.5, 101), group(50.5, 101)] } };
    const file = dicom({ rows: 1, cols: 3, frames: 2, pixels: Uint16Array.from([100, 150, 200, 0, 50, 100]), tags });
    expect((await gray(file)).px).toEqual([0, 128, 255]); // frame 0, window 100..200
    expect((await gray(file, 1)).px).toEqual([0, 128, 255]); // frame 1, window 0..100
    const wrong = await gray(dicom({ rows: 1, cols: 3, frames: 2, pixels: Uint16Array.from([100, 150, 200, 0, 50, 100]), tags: { '52009230': { vr: 'SQ', Value: [group(150.5, 101), group(150.5, 101)] } } }), 1);
    expect(wrong.px).toEqual([0, 0, 0]); // the frame's window does matter: frame 0's window on frame 1 is black
  });
  it("a VOI LUT Sequence inside a frame's Frame VOI LUT Sequence (PS3.3 C.7.6.16.2.10b) is that frame's VOI LUT (was ignored: the pixel range)", async () => {
    const lut = (data: number[]) => ({ '00283010': { vr: 'SQ', Value: [{ '00283002': { vr: 'US', Value: [3, 0, 8] }, '00283006': { vr: 'US', Value: data } }] } });
    const group = (data: number[]) => ({ '00289132': { vr: 'SQ', Value: [lut(data)] } });
    const tags = { '52009230': { vr: 'SQ', Value: [group([255, 0, 100]), group([10, 20, 30])] } };
    const file = dicom({ rows: 1, cols: 3, frames: 2, pixels: Uint16Array.from([0, 1, 2, 2, 1, 0]), tags });
    expect((await gray(file)).px).toEqual([255, 0, 100]); // frame 0: its table; the pixel range gave 0, 128, 255
    expect((await gray(file, 1)).px).toEqual([30, 20, 10]);
    expect((await gray(file)).display.voi).toEqual({ kind: 'voi-lut' });
  });
});

describe('the modality LUT before the window (the window is in modality output units)', () => {
  it('RescaleType US, a negative and non-integer slope and intercept: no rounding before the window', async () => {
    // slope -0.5, intercept 100.25: stored 0 -> 100.25, 100 -> 50.25, 101 -> 49.75, 200 -> 0.25.
    // LINEAR c = 50, w = 11 (edges 44.5 / 54.5): 100.25 -> 255; 50.25 -> ((50.25 - 49.5) / 10 + 0.5) * 255 = 146.6 -> 147;
    // 49.75 -> ((49.75 - 49.5) / 10 + 0.5) * 255 = 133.9 -> 134 (rounded to 50 first both would be 140); 0.25 -> 0.
    const tags = { '00281053': ds(-0.5), '00281052': ds(100.25), '00281054': { vr: 'LO', Value: ['US'] }, '00281050': ds(50), '00281051': ds(11) };
    expect((await gray(dicom({ rows: 1, cols: 4, pixels: Uint16Array.from([0, 100, 101, 200]), tags }))).px).toEqual([255, 147, 134, 0]);
  });
  it('a Modality LUT Sequence in the file, then the window on its output', async () => {
    // Table for stored 0..3: 1000, 1100, 1200, 1300; window c = 1150.5, w = 201 (1050..1250): 0, 64, 191, 255.
    // 1100 -> ((1100 - 1150) / 200 + 0.5) * 255 = 63.75 -> 64; 1200 -> 191.25 -> 191.
    const tags = { '00283000': { vr: 'SQ', Value: [{ '00283002': { vr: 'US', Value: [4, 0, 16] }, '00283006': { vr: 'US', Value: [1000, 1100, 1200, 1300] }, '00283004': { vr: 'LO', Value: ['HU'] } }] }, '00281050': ds(1150.5), '00281051': ds(201) };
    expect((await gray(dicom({ rows: 1, cols: 4, pixels: Uint16Array.from([0, 1, 2, 3]), tags }))).px).toEqual([0, 64, 191, 255]);
  });
});

describe('LUT data against its descriptor (PS3.3 C.11.1.1, C.11.2.1.1; CP-522)', () => {
  const ow = (bytes: number[]): El => ({ vr: 'OW', Value: [Uint8Array.from(bytes).buffer] });
  const item = (desc: number[], data: El, extra: Record<string, El> = {}) => ({ '00283002': { vr: 'US', Value: desc }, '00283006': data, ...extra });
  it('a Modality LUT of 8-bit entries packed two to a word (OW or US words): each byte an entry, low byte first (read as words: a silently other image)', async () => {
    // Table for stored 0..3: 10, 20, 30, 40 (bytes 10 20 | 30 40); window c = 25.5, w = 31 (10..40): 10 -> 0, 20 -> 85, 30 -> 170, 40 -> 255.
    // ((20 - 25) / 30 + 0.5) * 255 = 85. Read as words, entry 0 was 20 * 256 + 10 = 5130: every pixel white.
    const tagsOf = (data: El) => ({ '00283000': { vr: 'SQ', Value: [item([4, 0, 8], data, { '00283004': { vr: 'LO', Value: ['US'] } })] }, '00281050': ds(25.5), '00281051': ds(31) });
    const pixels = Uint16Array.from([0, 1, 2, 3]);
    expect((await gray(dicom({ rows: 1, cols: 4, pixels, tags: tagsOf(ow([10, 20, 30, 40])) }))).px).toEqual([0, 85, 170, 255]);
    expect((await gray(dicom({ rows: 1, cols: 4, pixels, tags: tagsOf({ vr: 'US', Value: [10 + 20 * 256, 30 + 40 * 256] }) }))).px).toEqual([0, 85, 170, 255]);
    // An odd number of entries: the last word's high byte is padding. Entries 10, 20, 30 for stored 0..2; stored 3 -> last entry.
    const odd = { '00283000': { vr: 'SQ', Value: [item([3, 0, 8], ow([10, 20, 30, 0]))] }, '00281050': ds(25.5), '00281051': ds(31) };
    expect((await gray(dicom({ rows: 1, cols: 4, pixels, tags: odd }))).px).toEqual([0, 85, 170, 170]);
  });
  it('a VOI LUT of 8-bit entries packed two to a word is applied (was refused as entries above 8 bits); one entry a word still reads', async () => {
    // Entries 255, 170, 85, 0 for stored 0..3 (8 bits: / 255 * 255).
    const tags = (data: El) => ({ '00283010': { vr: 'SQ', Value: [item([4, 0, 8], data)] } });
    const pixels = Uint16Array.from([0, 1, 2, 3]);
    expect((await gray(dicom({ rows: 1, cols: 4, pixels, tags: tags(ow([255, 170, 85, 0])) }))).px).toEqual([255, 170, 85, 0]);
    expect((await gray(dicom({ rows: 1, cols: 4, pixels, tags: tags({ vr: 'US', Value: [255, 170, 85, 0] }) }))).px).toEqual([255, 170, 85, 0]);
  });
  it("a VOI LUT's first value mapped is signed or not as the modality output's range is (PS3.3 C.11.2.1.1), not by Pixel Representation alone", async () => {
    const voi = (first: number) => ({ '00283010': { vr: 'SQ', Value: [item([4, first, 16], { vr: 'US', Value: [0, 21845, 43690, 65535] })] } });
    // Signed pixels through a Modality LUT (output 40000..40003, unsigned: "US otherwise"): first 40000 is 40000, not -25536
    // (read signed, every pixel was past the table: white).
    const mlut = { '00283000': { vr: 'SQ', Value: [item([4, 65534, 16], { vr: 'US', Value: [40000, 40001, 40002, 40003] })] } };
    expect((await gray(dicom({ rows: 1, cols: 4, signed: true, pixels: Int16Array.from([-2, -1, 0, 1]), tags: { ...mlut, ...voi(40000) } }))).px).toEqual([0, 85, 170, 255]);
    // Unsigned 12-bit pixels with a rescale that can give negative values (intercept -1024, output -1024..3071): SS, so a
    // US 65534 is -2 (read unsigned, every pixel was before the table: black). Stored 1022..1025 -> -2..1.
    const hu = { '00281052': ds(-1024), '00281053': ds(1), '00280101': { vr: 'US', Value: [12] }, '00280102': { vr: 'US', Value: [11] } };
    expect((await gray(dicom({ rows: 1, cols: 4, pixels: Uint16Array.from([1022, 1023, 1024, 1025]), tags: { ...hu, ...voi(65534) } }))).px).toEqual([0, 85, 170, 255]);
    // 16 bits stored under the same rescale (output -1024..64511: a first value >= 32768 may be either): Pixel
    // Representation decides, unsigned here, as pydicom reads it. Stored 41000..41003 -> 39976..39979 with first 39976.
    const hu16 = { '00281052': ds(-1024), '00281053': ds(1) };
    expect((await gray(dicom({ rows: 1, cols: 4, pixels: Uint16Array.from([41000, 41001, 41002, 41003]), tags: { ...hu16, ...voi(39976) } }))).px).toEqual([0, 85, 170, 255]);
    // A rescale whose output cannot be negative keeps US: first 40000 for stored 19999..20002 * 2 + 2 = 40000..40006 (every other entry).
    const pos = { '00281052': ds(2), '00281053': ds(2) };
    expect((await gray(dicom({ rows: 1, cols: 4, pixels: Uint16Array.from([19999, 20000, 20001, 20002]), tags: { ...pos, ...voi(40000) } }))).px).toEqual([0, 170, 255, 255]);
  });
  it('OW LUT data under Explicit VR Big Endian is read as big-endian words (Modality, VOI, palette); little-endian it was byte-swapped', async () => {
    const BE = '1.2.840.10008.1.2.2';
    const be = (words: number[]): El => ({ vr: 'OW', Value: [Uint8Array.from(words.flatMap((w) => [w >> 8, w & 0xff])).buffer] });
    const pixels = Uint8Array.from([0, 0, 0, 1, 0, 2]); // stored 0, 1, 2 (big-endian words)
    // VOI LUT 1000, 20000, 65535 of 16 bits: 3.9 -> 4, 77.8 -> 78, 255. Byte-swapped, 1000 read as 59395 (231).
    const voi = { '00283010': { vr: 'SQ', Value: [item([3, 0, 16], be([1000, 20000, 65535]))] } };
    expect((await gray(dicom({ rows: 1, cols: 3, pixels, syntax: BE, tags: voi }))).px).toEqual([4, 78, 255]);
    // Modality LUT 300, 100, 200 then the pixel range 100..300: 255, 0, 128 (127.5 rounds up).
    const mod = { '00283000': { vr: 'SQ', Value: [item([3, 0, 16], be([300, 100, 200]))] } };
    expect((await gray(dicom({ rows: 1, cols: 3, pixels, syntax: BE, tags: mod }))).px).toEqual([255, 0, 128]);
    // Palette tables of 16 bits: red 1000, 20000, 65535 -> 4, 78, 255 (pydicom 2.3.1's apply_color_lut reads them little-endian: 231, 32, 255).
    const d16 = { vr: 'US', Value: [3, 0, 16] };
    const pal = { '00281101': d16, '00281102': d16, '00281103': d16, '00281201': be([1000, 20000, 65535]), '00281202': be([0, 0, 0]), '00281203': be([65535, 65535, 65535]) };
    const img = await decodeDicom(dicom({ rows: 1, cols: 3, bits: 8, photometric: 'PALETTE COLOR', pixels: Uint8Array.from([0, 1, 2]), syntax: BE, tags: pal }));
    expect([...img.data]).toEqual([4, 0, 255, 78, 0, 255, 255, 0, 255]);
  });
  it('a LUT of one entry (LUT Data a single US value) is applied; an item without LUT Data or a full descriptor is refused (both were ignored)', async () => {
    const pixels = Uint16Array.from([0, 1, 2, 3]);
    // VOI LUT of one entry, 170 of 8 bits: every pixel 170.
    expect((await gray(dicom({ rows: 1, cols: 4, pixels, tags: { '00283010': { vr: 'SQ', Value: [item([1, 0, 8], { vr: 'US', Value: [170] })] } } }))).px).toEqual([170, 170, 170, 170]);
    // Modality LUT of two entries cut to one value: refused as short, not skipped (the pixel range of 0..3 was shown).
    await refused(dicom({ rows: 1, cols: 4, pixels, tags: { '00283000': { vr: 'SQ', Value: [item([2, 0, 16], { vr: 'US', Value: [500] })] } } }), /Modality LUT data holds fewer entries/);
    await refused(dicom({ rows: 1, cols: 4, pixels, tags: { '00283000': { vr: 'SQ', Value: [{ '00283002': { vr: 'US', Value: [4, 0, 16] } }] } } }), /Modality LUT Sequence item without its LUT Descriptor/);
    await refused(dicom({ rows: 1, cols: 4, pixels, tags: { '00283010': { vr: 'SQ', Value: [{ '00283006': { vr: 'US', Value: [1, 2, 3, 4] } }] } } }), /VOI LUT Sequence item without its LUT Descriptor/);
  });
  it('LUT data with fewer entries than its descriptor (Modality, VOI, palette) is refused, not clamped to its last entry', async () => {
    const pixels = Uint16Array.from([0, 1, 2, 3]);
    const short = { vr: 'US', Value: [0, 100] }; // descriptor: 4 entries of 16 bits; 2 given
    await refused(dicom({ rows: 1, cols: 4, pixels, tags: { '00283000': { vr: 'SQ', Value: [item([4, 0, 16], short)] } } }), /Modality LUT data holds fewer entries than its descriptor/);
    await refused(dicom({ rows: 1, cols: 4, pixels, tags: { '00283010': { vr: 'SQ', Value: [item([4, 0, 16], short)] } } }), /VOI LUT data holds fewer entries than its descriptor/);
    // 8-bit entries: 3 bytes cannot hold 8 entries even packed.
    await refused(dicom({ rows: 1, cols: 4, pixels, tags: { '00283010': { vr: 'SQ', Value: [item([8, 0, 8], ow([1, 2, 3, 0]))] } } }), /VOI LUT data holds fewer entries/);
    const t = (n: number): El => ({ vr: 'OW', Value: [new Uint16Array(n).buffer] });
    const d16 = { vr: 'US', Value: [4, 0, 16] };
    const pal = { '00281101': d16, '00281102': d16, '00281103': d16, '00281201': t(4), '00281202': t(2), '00281203': t(4) };
    await refused(dicom({ rows: 1, cols: 4, bits: 8, photometric: 'PALETTE COLOR', pixels: Uint8Array.from([0, 1, 2, 3]), tags: pal }), /green palette lookup table data holds fewer entries/);
  });
  it('a descriptor written SS (explicit VR) with more than 32767 entries: the count is unsigned (PS3.3 C.11.1.1; pydicom adds 65536), not a negative index', async () => {
    // 40000 entries 0..39999, read by dcmjs as SS -25536: every lookup indexed below 0 (a black image, NaN after a Modality LUT).
    const data: El = { vr: 'OW', Value: [Uint16Array.from({ length: 40000 }, (_, i) => i).buffer] }, desc = { vr: 'SS', Value: [40000 - 65536, 0, 16] };
    const pixels = Uint16Array.from([0, 10000, 20000, 39999]);
    // VOI LUT of 16 bits: 10000 / 65535 * 255 = 38.9 -> 39, 77.8 -> 78, 155.6 -> 156 (the same as the descriptor written US).
    expect((await gray(dicom({ rows: 1, cols: 4, pixels, tags: { '00283010': { vr: 'SQ', Value: [{ '00283002': desc, '00283006': data }] } } }))).px).toEqual([0, 39, 78, 156]);
    // Modality LUT (identity) then the pixel range 0..39999: 10000 / 39999 * 255 = 63.8 -> 64, 127.5 -> 128, 255.
    const m = await gray(dicom({ rows: 1, cols: 4, pixels, tags: { '00283000': { vr: 'SQ', Value: [{ '00283002': desc, '00283006': data }] } } }));
    expect(m.px).toEqual([0, 64, 128, 255]);
    expect(m.display.voi).toEqual({ kind: 'pixel-range', min: 0, max: 39999 });
    // Palette tables of 40000 16-bit entries: red i, green 0, blue 65535.
    const blue: El = { vr: 'OW', Value: [new Uint16Array(40000).fill(65535).buffer] }, green: El = { vr: 'OW', Value: [new Uint16Array(40000).buffer] };
    const pal = { '00281101': desc, '00281102': desc, '00281103': desc, '00281201': data, '00281202': green, '00281203': blue };
    const img = await decodeDicom(dicom({ rows: 1, cols: 4, photometric: 'PALETTE COLOR', pixels, tags: pal }));
    expect([...img.data]).toEqual([0, 0, 255, 39, 0, 255, 78, 0, 255, 156, 0, 255]);
    // A palette descriptor of two values (Type 1, three values): refused, as a LUT item's is (its count was read as undefined: black).
    await refused(dicom({ rows: 1, cols: 4, photometric: 'PALETTE COLOR', pixels, tags: { ...pal, '00281101': { vr: 'US', Value: [4, 0] } } }), /red palette lookup table descriptor/);
  });
  it('a descriptor declaring entries wider than the 16-bit words that hold them (or 0 bits) is refused: 16-bit entries scaled as 32 bits were a black image', async () => {
    const pixels = Uint16Array.from([0, 1, 2, 3]), data: El = { vr: 'US', Value: [0, 21845, 43690, 65535] };
    for (const bits of [32, 0]) {
      await refused(dicom({ rows: 1, cols: 4, pixels, tags: { '00283010': { vr: 'SQ', Value: [item([4, 0, bits], data)] } } }), /VOI LUT descriptor declares entries of other than 1 to 16 bits/);
      const d = { vr: 'US', Value: [4, 0, bits] }, t: El = { vr: 'OW', Value: [Uint16Array.from([0, 1, 2, 3]).buffer] };
      await refused(dicom({ rows: 1, cols: 4, photometric: 'PALETTE COLOR', pixels, tags: { '00281101': d, '00281102': d, '00281103': d, '00281201': t, '00281202': t, '00281203': t } }), /red palette lookup table descriptor declares/);
    }
    // 16 bits, the same table: 0, 85, 170, 255.
    expect((await gray(dicom({ rows: 1, cols: 4, pixels, tags: { '00283010': { vr: 'SQ', Value: [item([4, 0, 16], data)] } } }))).px).toEqual([0, 85, 170, 255]);
  });
});

describe('pixel aspect, sample layouts and colour', () => {
  it('non-square pixels (PixelAspectRatio, row/column PixelSpacing, ImagerPixelSpacing) are not resampled: Rows x Columns as stored, as pydicom pipelines read them', async () => {
    const px = Uint16Array.from([0, 10, 20, 30, 40, 50]);
    const plain = await gray(dicom({ rows: 2, cols: 3, pixels: px }));
    for (const tags of <Record<string, El>[]>[{ '00280034': { vr: 'IS', Value: [2, 1] } }, { '00280030': ds([0.2, 0.1]) }, { '00181164': ds([0.1, 0.3]) }]) {
      const r = await gray(dicom({ rows: 2, cols: 3, pixels: px, tags }));
      expect([r.width, r.height]).toEqual([3, 2]);
      expect(r.px).toEqual(plain.px);
    }
  });
  it('refuses float pixel data and 1 bit allocated, naming them', async () => {
    const float = dicom({ rows: 1, cols: 2, pixels: Uint16Array.from([0, 1]), tags: { '7FE00008': { vr: 'OF', Value: [Float32Array.from([0.5, 1.5]).buffer] } } });
    const withoutInt = (() => { const b = Buffer.from(float); const d = dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, {}); delete d.dict['7FE00010']; return new Uint8Array(d.write()); })();
    await refused(withoutInt, /float pixel data/);
    const dbl = (() => { const b = Buffer.from(float); const d = dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, {}); delete d.dict['7FE00010']; delete d.dict['7FE00008']; d.dict['7FE00009'] = { vr: 'OD', Value: [Float64Array.from([0.5, 1.5]).buffer] }; return new Uint8Array(d.write()); })();
    await refused(dbl, /float pixel data/);
    await expect(decodeDicom(dicom({ rows: 1, cols: 2, pixels: Uint16Array.from([0, 1]), tags: { '00280100': { vr: 'US', Value: [1] }, '00280101': { vr: 'US', Value: [1] }, '00280102': { vr: 'US', Value: [0] } } })))
      .rejects.toMatchObject({ reason: 'DICOM_UNSUPPORTED_IMAGE', message: expect.stringMatching(/1 bits allocated/) });
  });
  it('uncompressed RGB with Planar Configuration 1 (RRR GGG BBB) gives the interleaved pixels', async () => {
    const planar = Uint8Array.from([10, 20, 30, 40, 50, 60]); // R: 10, 20; G: 30, 40; B: 50, 60
    const img = await decodeDicom(dicom({ rows: 1, cols: 2, bits: 8, spp: 3, photometric: 'RGB', pixels: planar, tags: { '00280006': { vr: 'US', Value: [1] } } }));
    expect([...img.data]).toEqual([10, 30, 50, 20, 40, 60]);
  });
  it('uncompressed YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair, 2 bytes a pixel) is expanded and converted to RGB, not refused as truncated', async () => {
    // Pair 1: Y 100, 200, Cb = Cr = 128 -> greys (100,100,100), (200,200,200). Pair 2: Y 128, 128, Cb 128, Cr 228:
    // R = 128 + 1.402 * 100 = 268.2 -> 255; G = 128 - 0.714136 * 100 = 56.6 -> 57; B = 128.
    const px = Uint8Array.from([100, 200, 128, 128, 128, 128, 128, 228]);
    const img = await decodeDicom(dicom({ rows: 1, cols: 4, bits: 8, spp: 3, photometric: 'YBR_FULL_422', pixels: px }));
    expect([...img.data]).toEqual([100, 100, 100, 200, 200, 200, 255, 57, 128, 255, 57, 128]);
    expect(img.display.photometric).toBe('YBR_FULL');
    // Two frames: the second is read from byte 8, not 12.
    const two = await decodeDicom(dicom({ rows: 1, cols: 2, bits: 8, spp: 3, photometric: 'YBR_FULL_422', frames: 2, pixels: px }), { frame: 1 });
    expect([...two.data]).toEqual([255, 57, 128, 255, 57, 128]);
    await refused(dicom({ rows: 1, cols: 3, bits: 8, spp: 3, photometric: 'YBR_FULL_422', pixels: Uint8Array.from([1, 2, 3, 4, 5, 6]) }), /even number of columns/);
    await refused(dicom({ rows: 1, cols: 2, bits: 8, spp: 3, photometric: 'YBR_PARTIAL_422', pixels: Uint8Array.from([1, 2, 3, 4]) }), /YBR_PARTIAL_422 is not supported/);
    // Planar Configuration 1 is forbidden for YBR_FULL_422 (PS3.3 C.7.6.3.1.3): refused, not read as interleaved (review).
    await refused(dicom({ rows: 1, cols: 4, bits: 8, spp: 3, photometric: 'YBR_FULL_422', pixels: px, tags: { '00280006': { vr: 'US', Value: [1] } } }), /Planar Configuration 1/);
  });
  it('palette colour with 8-bit entries written one per 16-bit word: each word an entry (not every other byte); an entry in the high byte refused', async () => {
    const t = (data: number[]): El => ({ vr: 'OW', Value: [Uint16Array.from(data).buffer] });
    const d8 = { vr: 'US', Value: [3, 0, 8] };
    const tags = (red: number[]) => ({ '00281101': d8, '00281102': d8, '00281103': d8, '00281201': t(red), '00281202': t([10, 20, 30]), '00281203': t([255, 128, 0]) });
    // index 0 -> (0, 10, 255); 1 -> (100, 20, 128); 2 -> (200, 30, 0). Read byte by byte, index 1 was (0, 0, 0).
    const img = await decodeDicom(dicom({ rows: 1, cols: 3, bits: 8, photometric: 'PALETTE COLOR', pixels: Uint8Array.from([0, 1, 2]), tags: tags([0, 100, 200]) }));
    expect([...img.data]).toEqual([0, 10, 255, 100, 20, 128, 200, 30, 0]);
    await refused(dicom({ rows: 1, cols: 3, bits: 8, photometric: 'PALETTE COLOR', pixels: Uint8Array.from([0, 1, 2]), tags: tags([0, 100 << 8, 200 << 8]) }), /red palette lookup table holds entries above the 8 bits/);
  });
  it('palette colour with 16-bit entries: entry / 65535 * 255', async () => {
    const t = (data: number[]): El => ({ vr: 'OW', Value: [Uint16Array.from(data).buffer] });
    const tags = {
      '00281101': { vr: 'US', Value: [3, 0, 16] }, '00281102': { vr: 'US', Value: [3, 0, 16] }, '00281103': { vr: 'US', Value: [3, 0, 16] },
      '00281201': t([0, 65535, 32768]), '00281202': t([65535, 0, 257]), '00281203': t([0, 0, 65535]),
    };
    const img = await decodeDicom(dicom({ rows: 1, cols: 3, bits: 8, photometric: 'PALETTE COLOR', pixels: Uint8Array.from([0, 1, 2, 0]).subarray(0, 3), tags }));
    // index 0 -> (0, 255, 0); 1 -> (255, 0, 0); 2 -> (32768 / 257 = 127.5 -> 128, 1, 255).
    expect([...img.data]).toEqual([0, 255, 0, 255, 0, 0, 128, 1, 255]);
  });
});
