/**
 * DICOM Part 10 files -> the 8-bit image a model was trained on, on the
 * client (Node and browser alike). Nothing read from the header leaves this
 * module but the pixel geometry and the display transform; the header (patient
 * name, IDs, dates, institution) is never part of a result, a message or a
 * request.
 *
 * Parsing: dcmjs (dcmjs.data.DicomMessage.readFile). Decompression: the
 * native codecs of dcmjs-codecs compiled to WebAssembly (RLE, JPEG baseline /
 * extended 12-bit / lossless, JPEG-LS, JPEG 2000, HTJ2K, JPEG XL), loaded only
 * when a file is compressed. Display transform (DICOM PS3.3 C.11):
 *   stored value -> modality LUT (Modality LUT Sequence, else rescale
 *   slope/intercept) -> VOI LUT (VOI LUT Sequence, else the file's first
 *   window with its VOI LUT Function LINEAR / LINEAR_EXACT / SIGMOID, else the
 *   frame's non-padding pixel range) -> 0..255 rounded -> MONOCHROME1
 *   inverted (dicom-voi.ts, with what it refuses: Presentation LUT, invalid windows).
 * Colour files (RGB, YBR_* decoded to RGB, palette colour) give 8-bit RGB.
 * A compressed frame whose codestream declares another size, component count,
 * precision or sign than the header is refused before decoding (codestream.ts).
 */
import dcmjs from 'dcmjs';
import dcmjsCodecs from 'dcmjs-codecs';
import { codestreamMismatch, concat, samplesOutside, widerThanStored, type CodecName } from './codestream.js';
import { applyLut, checkLutEntries, lutFrom, owWords } from './dicom-lut.js';
import { num, refuse, str, type Dataset } from './dicom-values.js';
import { displayAttributes, grayscaleTo8, type VoiChoice } from './dicom-voi.js';
import type { RawImage } from './types.js';

export type { DicomProblem } from './dicom-values.js';

export interface DicomOptions {
  /** Frame of a multi-frame file, 0-based (default 0: the first). */
  frame?: number;
  /**
   * Where the codecs' WebAssembly (dcmjs-native-codecs.wasm) is: a URL in
   * browsers (default: ./dicom-codecs.wasm next to the SDK bundle), a file
   * path in Node (default: the one in node_modules/dcmjs-codecs).
   */
  codecsUrl?: string;
}

/** What was done to the pixels (no header field that identifies anyone). */
export interface DicomDisplay {
  transferSyntax: string;
  photometric: string;
  frames: number;
  frame: number;
  bitsStored: number;
  /** How the 8-bit range was chosen. */
  voi: VoiChoice | { kind: 'none' };
  inverted: boolean;
}

export interface DicomImage extends RawImage {
  display: DicomDisplay;
}

/** 'DICM' at byte 128: a DICOM Part 10 file. */
export function isDicom(b: Uint8Array): boolean {
  return b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}

const BIG_ENDIAN = '1.2.840.10008.1.2.2';
const NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2']);
const CODECS: Record<string, CodecName> = {
  '1.2.840.10008.1.2.5': 'decodeRle',
  '1.2.840.10008.1.2.4.50': 'decodeJpeg', '1.2.840.10008.1.2.4.51': 'decodeJpeg',
  '1.2.840.10008.1.2.4.57': 'decodeJpeg', '1.2.840.10008.1.2.4.70': 'decodeJpeg',
  '1.2.840.10008.1.2.4.80': 'decodeJpegLs', '1.2.840.10008.1.2.4.81': 'decodeJpegLs',
  '1.2.840.10008.1.2.4.90': 'decodeJpeg2000', '1.2.840.10008.1.2.4.91': 'decodeJpeg2000',
  '1.2.840.10008.1.2.4.201': 'decodeHtJpeg2000', '1.2.840.10008.1.2.4.202': 'decodeHtJpeg2000', '1.2.840.10008.1.2.4.203': 'decodeHtJpeg2000',
  '1.2.840.10008.1.2.4.110': 'decodeJpegXl', '1.2.840.10008.1.2.4.111': 'decodeJpegXl', '1.2.840.10008.1.2.4.112': 'decodeJpegXl',
};

/** The transfer syntaxes decodeDicom reads. */
export const DICOM_TRANSFER_SYNTAXES: readonly string[] = [...NATIVE, ...Object.keys(CODECS)];

let codecsReady: Promise<void> | undefined;

function defaultCodecsUrl(): string | undefined {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  // In a browser bundle the wasm is served next to it (client-sdk/README.md); Node finds it in node_modules.
  return isNode ? undefined : new URL('./dicom-codecs.wasm', import.meta.url).href;
}

function loadCodecs(url: string | undefined): Promise<void> {
  const { NativeCodecs } = dcmjsCodecs;
  if (NativeCodecs.isInitialized()) return Promise.resolve();
  codecsReady ??= NativeCodecs.initializeAsync({ webAssemblyModulePathOrUrl: url ?? defaultCodecsUrl() }).catch((e: unknown) => {
    codecsReady = undefined;
    throw e;
  });
  return codecsReady;
}

/** A hostile header must not make the decoder allocate gigabytes (X-rays are under 10 MP; decode-node.ts has the same limit). */
const MAX_PIXELS = 100e6;

/** A parsed dataset and transfer syntax; every failure is an InputError with a reason. */
function parse(bytes: Uint8Array): { ds: Dataset; syntax: string } {
  if (!isDicom(bytes)) refuse('DICOM_UNREADABLE', 'not a DICOM Part 10 file (no DICM marker at byte 128)');
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let dict: { meta: Dataset; dict: Dataset };
  try {
    dict = dcmjs.data.DicomMessage.readFile(buf, {}) as typeof dict;
  } catch (e) {
    const insufficient = /insufficient data|end of|out of bounds|offset is outside/i.test(String((e as Error)?.message));
    refuse(insufficient ? 'DICOM_TRUNCATED' : 'DICOM_UNREADABLE', insufficient ? 'the file ends inside an element (truncated)' : 'the file could not be parsed', e);
  }
  const meta = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.meta) as Dataset;
  const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict) as Dataset;
  return { ds, syntax: str(meta.TransferSyntaxUID) ?? '1.2.840.10008.1.2' };
}

/**
 * The bytes available after the Pixel Data element's header: dcmjs zero-fills
 * a value cut short by the end of the file, so truncation is checked against
 * the file's own length. The element is the first (7FE0,0010) tag, at an even
 * offset, whose length field announces at least the image's size (an icon's
 * smaller Pixel Data in an Icon Image Sequence is passed over; the image's own
 * tag comes before any of its values, so they cannot be mistaken for it).
 */
function pixelBytesInFile(bytes: Uint8Array, explicit: boolean, bigEndian: boolean, minLength: number): number | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 132; i + 8 <= bytes.length; i += 2) {
    const group = dv.getUint16(i, !bigEndian), element = dv.getUint16(i + 2, !bigEndian);
    if (group !== 0x7fe0 || element !== 0x0010) continue;
    const vr = String.fromCharCode(bytes[i + 4]!, bytes[i + 5]!);
    const explicitHere = explicit && (vr === 'OB' || vr === 'OW');
    if (explicit && !explicitHere) continue;
    const lenAt = explicitHere ? i + 8 : i + 4;
    if (lenAt + 4 > bytes.length) continue;
    const len = dv.getUint32(lenAt, !bigEndian);
    if (len === 0xffffffff || len < minLength) continue;
    return bytes.length - (lenAt + 4);
  }
  return undefined;
}

export interface Geometry {
  rows: number; cols: number; spp: number; bitsAllocated: number; bitsStored: number; signed: boolean;
  planar: boolean; photometric: string; frames: number;
}

function geometry(ds: Dataset): Geometry {
  const rows = num(ds.Rows), cols = num(ds.Columns);
  if (ds.PixelData === undefined && ds.FloatPixelData === undefined && ds.DoubleFloatPixelData === undefined) {
    refuse('DICOM_NO_PIXEL_DATA', 'the file has no image (no Pixel Data element); it may be a report, a plan or a structured document');
  }
  if (ds.PixelData === undefined) refuse('DICOM_UNSUPPORTED_IMAGE', 'float pixel data is not supported');
  if (!rows || !cols) refuse('DICOM_NO_PIXEL_DATA', 'the image has no rows or columns');
  const bitsAllocated = num(ds.BitsAllocated) ?? 0;
  const bitsStored = num(ds.BitsStored) ?? bitsAllocated;
  const spp = num(ds.SamplesPerPixel) ?? 1;
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) refuse('DICOM_UNSUPPORTED_IMAGE', `${bitsAllocated} bits allocated per sample is not supported`);
  // samples() reads the low BitsStored bits of each sample: a HighBit elsewhere (samples stored high, PS3.5 8.1.1)
  // or more bits stored than allocated would be read as other values, a different image.
  if (!Number.isInteger(bitsStored) || bitsStored < 1 || bitsStored > bitsAllocated) refuse('DICOM_UNSUPPORTED_IMAGE', `${bitsStored} bits stored in ${bitsAllocated} allocated is not a valid layout`);
  const highBit = num(ds.HighBit);
  if (highBit !== undefined && highBit !== bitsStored - 1) refuse('DICOM_UNSUPPORTED_IMAGE', `high bit ${highBit} with ${bitsStored} bits stored is not supported (samples must be stored from bit 0: high bit = bits stored - 1)`);
  if (spp !== 1 && spp !== 3) refuse('DICOM_UNSUPPORTED_IMAGE', `${spp} samples per pixel is not supported`);
  if (rows * cols > MAX_PIXELS) refuse('DICOM_UNSUPPORTED_IMAGE', `a ${cols} x ${rows} frame is larger than ${MAX_PIXELS / 1e6} megapixels`);
  return {
    rows, cols, spp, bitsAllocated, bitsStored, signed: num(ds.PixelRepresentation) === 1, planar: num(ds.PlanarConfiguration) === 1,
    photometric: str(ds.PhotometricInterpretation)?.toUpperCase() ?? (spp === 3 ? 'RGB' : 'MONOCHROME2'), frames: Math.max(1, num(ds.NumberOfFrames) ?? 1),
  };
}

/** One frame's bytes, decoded (little-endian samples); photometric/planar as the decoder left them. */
async function frameBytes(bytes: Uint8Array, ds: Dataset, syntax: string, g: Geometry, frame: number, codecsUrl: string | undefined): Promise<{ data: Uint8Array; photometric: string; planar: boolean; bigEndian: boolean }> {
  let frameSize = g.rows * g.cols * g.spp * (g.bitsAllocated / 8);
  const fragments = ds.PixelData as ArrayBuffer[];
  if (NATIVE.has(syntax)) {
    const bigEndian = syntax === '1.2.840.10008.1.2.2';
    const ybr422 = g.spp === 3 && g.photometric.endsWith('_422');
    if (ybr422) frameSize = ycc422FrameSize(g);
    const all = fragments[0];
    const need = frameSize * g.frames;
    if (!(all instanceof ArrayBuffer)) refuse('DICOM_NO_PIXEL_DATA', 'the Pixel Data element is empty');
    if (syntax !== '1.2.840.10008.1.2.1.99') {
      const inFile = pixelBytesInFile(bytes, syntax !== '1.2.840.10008.1.2', bigEndian, Math.min(need, all.byteLength));
      if (all.byteLength < need || (inFile !== undefined && inFile < Math.min(need, all.byteLength))) {
        refuse('DICOM_TRUNCATED', `the pixel data is truncated: ${Math.min(all.byteLength, inFile ?? all.byteLength)} of ${need} bytes present`);
      }
    } else if (all.byteLength < need) {
      refuse('DICOM_TRUNCATED', `the pixel data is truncated: ${all.byteLength} of ${need} bytes present`);
    }
    // More than the header's frames need (beyond the even-length pad byte): rows, columns or frames are wrong; read as given, a scrambled image.
    if (all.byteLength > need + 1) refuse('DICOM_DECODE_FAILED', `the pixel data holds ${all.byteLength} bytes, more than the ${g.frames} frame(s) of ${g.cols} x ${g.rows} the header describes (${need})`);
    const data = new Uint8Array(all, frame * frameSize, frameSize);
    if (ybr422) return { data: expand422(data), photometric: 'YBR_FULL', planar: false, bigEndian };
    return { data, photometric: g.photometric, planar: g.planar, bigEndian };
  }
  const codec = CODECS[syntax];
  if (codec === undefined) refuse('DICOM_UNSUPPORTED_SYNTAX', `transfer syntax ${syntax} is not supported (supported: uncompressed, RLE, JPEG, JPEG-LS, JPEG 2000, HTJ2K, JPEG XL)`);
  // dcmjs gives one buffer per frame when the offset table or the fragment count says so.
  let encoded: Uint8Array;
  if (fragments.length === g.frames) encoded = new Uint8Array(fragments[frame]!);
  else if (g.frames === 1) encoded = concat(fragments);
  else refuse('DICOM_UNSUPPORTED_IMAGE', `${fragments.length} compressed fragments for ${g.frames} frames without an offset table`);
  if (encoded.byteLength === 0) refuse('DICOM_NO_PIXEL_DATA', 'the compressed frame is empty');
  // What the codestream declares (SOF, SIZ, RLE segments, JPEG XL SizeHeader) against the header: the JPEG 2000
  // and RLE decoders fill a buffer of the header's size whatever the codestream says (codestream.ts).
  const mismatch = codestreamMismatch(codec, encoded, g, fragments);
  if (mismatch !== undefined) refuse('DICOM_DECODE_FAILED', `${mismatch}; decoded as the header says, it would be another image`);
  try {
    await loadCodecs(codecsUrl);
  } catch (e) {
    refuse('DICOM_DECODE_FAILED', 'the image codecs (WebAssembly) could not be loaded', e);
  }
  const { Context, NativeCodecs } = dcmjsCodecs;
  const ctx = new Context({
    width: g.cols, height: g.rows, bitsAllocated: g.bitsAllocated, bitsStored: g.bitsStored, samplesPerPixel: g.spp,
    pixelRepresentation: g.signed ? 1 : 0, planarConfiguration: g.planar ? 1 : 0, photometricInterpretation: g.photometric, encodedBuffer: encoded,
  });
  let out: InstanceType<typeof Context>;
  try {
    out = codec === 'decodeJpeg' ? NativeCodecs.decodeJpeg(ctx, { convertColorspaceToRgb: true }) : NativeCodecs[codec](ctx, {});
  } catch (e) {
    refuse('DICOM_DECODE_FAILED', `the compressed image could not be decoded (transfer syntax ${syntax}); the file may be damaged or truncated`, e);
  }
  const data = out.getDecodedBuffer();
  if (!data || data.byteLength < frameSize) refuse('DICOM_TRUNCATED', `the compressed image decodes to ${data?.byteLength ?? 0} of ${frameSize} bytes`);
  // More than the header's rows x columns (a mismatch the codestream check above did not see): read as the header's, a scrambled image.
  if (data.byteLength > frameSize) refuse('DICOM_DECODE_FAILED', `the compressed image decodes to ${data.byteLength} bytes, more than the ${g.cols} x ${g.rows} frame the header describes (${frameSize})`);
  const outside = widerThanStored(codec, encoded, g) ? samplesOutside(data.subarray(0, frameSize), g) : 0;
  if (outside > 0) refuse('DICOM_DECODE_FAILED', `the codestream declares samples wider than the header's ${g.bitsStored} bits stored and ${outside} decoded sample(s) do not fit them (kept to ${g.bitsStored} bits, they would be other values)`);
  return { data: data.subarray(0, frameSize), photometric: (out.getPhotometricInterpretation() ?? g.photometric).toUpperCase(), planar: out.getPlanarConfiguration() === 1, bigEndian: false };
}

/**
 * Uncompressed YBR_FULL_422 (PS3.3 C.7.6.3.1.2) stores two pixels in four
 * samples, Y1 Y2 Cb Cr: rows x columns x 2 bytes a frame, not x 3. Read as
 * three samples a pixel it was refused as truncated (one frame) or read
 * shifted (several). Expanded as pydicom does, each pixel of a pair with the
 * pair's Cb Cr. YBR_PARTIAL_422 (retired uncompressed; partial range) is refused.
 */
function ycc422FrameSize(g: Geometry): number {
  if (g.photometric !== 'YBR_FULL_422') refuse('DICOM_UNSUPPORTED_IMAGE', `uncompressed photometric interpretation ${g.photometric} is not supported`);
  if (g.bitsAllocated !== 8 || g.cols % 2 !== 0) refuse('DICOM_UNSUPPORTED_IMAGE', 'uncompressed YBR_FULL_422 needs 8 bits allocated and an even number of columns');
  // PS3.3 C.7.6.3.1.3: Planar Configuration shall be 0 for YBR_FULL_422; read as interleaved it would mix the planes silently.
  if (g.planar) refuse('DICOM_UNSUPPORTED_IMAGE', 'uncompressed YBR_FULL_422 with Planar Configuration 1 is not valid DICOM');
  return g.rows * g.cols * 2;
}

function expand422(d: Uint8Array): Uint8Array {
  const out = new Uint8Array((d.length / 4) * 6);
  for (let j = 0; 4 * j < d.length; j++) {
    const cb = d[4 * j + 2]!, cr = d[4 * j + 3]!;
    out.set([d[4 * j]!, cb, cr, d[4 * j + 1]!, cb, cr], 6 * j);
  }
  return out;
}

/** Stored sample values of one frame, masked to BitsStored and sign-extended; interleaved. */
function samples(data: Uint8Array, g: Geometry, bigEndian: boolean): Float64Array {
  const n = g.rows * g.cols * g.spp;
  const out = new Float64Array(n);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const bits = Math.min(g.bitsStored, g.bitsAllocated);
  const mask = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
  const signBit = 2 ** (bits - 1);
  for (let i = 0; i < n; i++) {
    let v = g.bitsAllocated === 8 ? data[i]! : g.bitsAllocated === 16 ? dv.getUint16(2 * i, !bigEndian) : dv.getUint32(4 * i, !bigEndian);
    if (bits < 32) v = v % (mask + 1);
    if (g.signed && v >= signBit) v -= 2 * signBit;
    out[i] = v;
  }
  return out;
}

export { grayscaleTo8 } from './dicom-voi.js';

/** Colour samples (RGB, YBR_FULL after decoding, palette colour) to interleaved 8-bit RGB. */
function colourTo8(v: Float64Array, ds: Dataset, g: Geometry, photometric: string, planar: boolean, bigEndian: boolean): Uint8Array {
  const px = g.rows * g.cols;
  const out = new Uint8Array(px * 3);
  if (photometric === 'PALETTE COLOR') {
    const luts = ['Red', 'Green', 'Blue'].map((c) => {
      const desc = ds[`${c}PaletteColorLookupTableDescriptor`] as number[] | undefined;
      const data = ds[`${c}PaletteColorLookupTableData`];
      const raw = Array.isArray(data) && data[0] instanceof ArrayBuffer ? data[0] : data instanceof ArrayBuffer ? data : undefined;
      if (!Array.isArray(desc) || !raw) refuse('DICOM_UNSUPPORTED_IMAGE', 'palette colour image without its lookup tables');
      // Type 1, three values: with fewer the entry count was undefined (every pixel black).
      if (desc.length < 3) refuse('DICOM_UNSUPPORTED_IMAGE', `the ${c.toLowerCase()} palette lookup table descriptor does not hold 3 values`);
      // 8-bit entries written one per 16-bit word (PS3.3 C.7.6.3.1.6 allows OW; pydicom reads the data's own width):
      // read byte by byte, every other entry was a high byte (0): wrong colours. An entry in the high byte is refused (> 255).
      // Packed two to a word when the value length says so; fewer entries than the descriptor's: refused (lutTable).
      // The first value mapped is signed when Pixel Representation is 1, as pydicom reads it.
      const lut = lutFrom(desc, owWords(raw, bigEndian), g.signed, `${c.toLowerCase()} palette lookup table`);
      checkLutEntries(lut, `${c.toLowerCase()} palette lookup table`);
      return { lut, top: 2 ** lut.bits - 1 };
    });
    for (let i = 0; i < px; i++) for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round((applyLut(v[i]!, luts[c]!.lut) / luts[c]!.top) * 255);
    return out;
  }
  const scale = 255 / (2 ** Math.min(g.bitsStored, g.bitsAllocated) - 1);
  const at = (i: number, c: number): number => (planar ? v[c * px + i]! : v[3 * i + c]!);
  const ybr = photometric.startsWith('YBR_FULL');
  for (let i = 0; i < px; i++) {
    let r = at(i, 0) * scale, gg = at(i, 1) * scale, b = at(i, 2) * scale;
    if (ybr) {
      const y = r, cb = gg - 128, cr = b - 128;
      r = y + 1.402 * cr; gg = y - 0.344136 * cb - 0.714136 * cr; b = y + 1.772 * cb;
    }
    out[3 * i] = Math.round(Math.min(255, Math.max(0, r)));
    out[3 * i + 1] = Math.round(Math.min(255, Math.max(0, gg)));
    out[3 * i + 2] = Math.round(Math.min(255, Math.max(0, b)));
  }
  return out;
}

/**
 * Decodes one frame of a DICOM file to 8-bit pixels (gray or RGB) with the
 * file's display transform. Throws InputError (reason: DicomProblem) for
 * files without an image, truncated pixel data, unsupported transfer
 * syntaxes or layouts, or a frame out of range. Messages never carry header
 * values or pixel values.
 */
export async function decodeDicom(src: Uint8Array | Blob, options: DicomOptions = {}): Promise<DicomImage> {
  const bytes = src instanceof Uint8Array ? src : new Uint8Array(await src.arrayBuffer());
  const { ds, syntax } = parse(bytes);
  const g = geometry(ds);
  const frame = options.frame ?? 0;
  if (!Number.isInteger(frame) || frame < 0 || frame >= g.frames) refuse('DICOM_BAD_FRAME', `frame ${String(frame)} requested; the file has ${g.frames} frame(s), numbered from 0`);
  const f = await frameBytes(bytes, ds, syntax, g, frame, options.codecsUrl);
  const v = samples(f.data, g, f.bigEndian);
  const base = { transferSyntax: syntax, frames: g.frames, frame, bitsStored: g.bitsStored };
  if (g.spp === 3 || f.photometric === 'PALETTE COLOR') {
    // The tables' OW data is big-endian under Explicit VR Big Endian (owWords); pixel data is read by f.bigEndian.
    const data = colourTo8(v, ds, g, f.photometric, f.planar, syntax === BIG_ENDIAN);
    return { width: g.cols, height: g.rows, channels: 3, data, display: { ...base, photometric: f.photometric, voi: { kind: 'none' }, inverted: false } };
  }
  if (f.photometric !== 'MONOCHROME1' && f.photometric !== 'MONOCHROME2') refuse('DICOM_UNSUPPORTED_IMAGE', `photometric interpretation ${f.photometric} is not supported`);
  const gray = grayscaleTo8(v, displayAttributes(ds, frame), { ...g, bigEndian: syntax === BIG_ENDIAN });
  return { width: g.cols, height: g.rows, channels: 1, data: gray.data, display: { ...base, photometric: f.photometric, voi: gray.voi, inverted: gray.inverted } };
}

/** DICOM bytes (DICM marker) through decodeDicom, anything else through the platform's decoder. */
export async function decodeAnyImage(src: Uint8Array | Blob, decodeImage: (src: Uint8Array | Blob) => Promise<RawImage>, options: DicomOptions = {}): Promise<RawImage> {
  const head = src instanceof Uint8Array ? src : new Uint8Array(await src.slice(0, 132).arrayBuffer());
  if (isDicom(head)) return decodeDicom(src, options);
  return decodeImage(src);
}
