/**
 * What a compressed DICOM frame's codestream itself declares, against the
 * header (Rows, Columns, SamplesPerPixel, BitsStored, PixelRepresentation),
 * before any decoder runs. The JPEG 2000 and RLE decoders decode into a buffer
 * of the header's size whatever the codestream says, so a frame of another
 * width, height or component count would come out as a scrambled image of the
 * header's size; this module reads the codestream's own declaration and says
 * what differs (dicom.ts refuses the file with DICOM_DECODE_FAILED).
 *
 *   JPEG (ITU T.81 B.2.2) and JPEG-LS (T.87 C.2.2): the SOF marker's X, Y, Nf, P.
 *   JPEG 2000 / HTJ2K (T.800 A.5.1): the SIZ marker's Xsiz−XOsiz, Ysiz−YOsiz,
 *     Csiz, and each component's Ssiz (precision, sign) and XRsiz/YRsiz.
 *   RLE (DICOM PS3.5 G.3–G.5): the header's segment count against
 *     SamplesPerPixel × BitsAllocated/8, and each segment's PackBits output
 *     length against Rows × Columns.
 *   JPEG XL (ISO/IEC 18181-1 D.2, A.6): the SizeHeader's xsize/ysize and the
 *     ImageMetadata's bits per sample (components are not read).
 *
 * Precision: wider than BitsAllocated is refused. Wider than BitsStored is
 * common and legitimate (CharLS, OpenJPH and libjxl write 16 for 12 bits
 * stored in 16), so then every decoded sample must fit BitsStored
 * (samplesOutside; the SDK keeps the low BitsStored bits: a wider value would
 * become another). Narrower is accepted, its values fit (as pydicom does for
 * JPEG 2000). Messages carry the declared geometry and counts, never a sample.
 */
import { isSofMarker, jpegSegments, type JpegWalkEndReason } from '../../../protocol/jpeg-segments.js';
import type { Geometry } from './dicom.js';

export type CodecName = 'decodeRle' | 'decodeJpeg' | 'decodeJpegLs' | 'decodeJpeg2000' | 'decodeHtJpeg2000' | 'decodeJpegXl';

/** What a codestream declares; undefined fields are not declared there (JPEG's Y = 0 with a DNL marker). */
export interface Declared {
  width?: number; height?: number; components?: number; precision?: number; signed?: boolean;
}

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const u32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);

/** T.81 B.1.1.3 SOFn (protocol/jpeg-segments.ts isSofMarker); T.87 adds SOF55 (FFF7). */
const isSof = (m: number): boolean => isSofMarker(m) || m === 0xf7;

/** Why the segment walk (protocol/jpeg-segments.ts) ended without a frame header. */
const NO_SOF: Record<JpegWalkEndReason, string> = {
  'sos': 'the JPEG codestream has no frame header (SOF) before its scan',
  'eoi': 'the JPEG codestream has no frame header (SOF) before its scan',
  'not-a-marker': 'the JPEG codestream has no frame header (SOF) before its data',
  'ff00': 'the JPEG codestream has no frame header (SOF) before its data', // not reached: FF 00 is read as a segment here
  'out-of-data': 'the JPEG codestream has no frame header (SOF)',
};

/** JPEG / JPEG-LS: the frame header (SOF: Lf, P, Y, X, Nf), walking the marker segments from SOI (fill bytes, RSTn, TEM skipped; FF 00 read as a segment). */
export function jpegFrameHeader(b: Uint8Array): Declared | string {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return 'the JPEG codestream does not start with SOI';
  for (const s of jpegSegments(b, { ff00: 'segment' })) {
    if (s.kind === 'end') return NO_SOF[s.why];
    if (!isSof(s.marker)) continue;
    const i = s.at;
    if (s.length < 8 || i + 2 + s.length > b.length) return 'the JPEG frame header (SOF) is cut short';
    const P = b[i + 4]!, Y = u16(b, i + 5), X = u16(b, i + 7), Nf = b[i + 9]!;
    return { precision: P, width: X, ...(Y !== 0 ? { height: Y } : {}), components: Nf };
  }
  return 'the JPEG codestream has no frame header (SOF)';
}

/** The contiguous codestream of a JP2 file (its jp2c box), or the bytes as they are (a raw J2K codestream). */
function j2kCodestream(b: Uint8Array): Uint8Array | undefined {
  if (b[0] === 0xff && b[1] === 0x4f) return b;
  if (!(b.length >= 12 && u32(b, 0) === 12 && u32(b, 4) === 0x6a502020)) return undefined; // 'jP  ' signature box
  for (let i = 0; i + 8 <= b.length;) {
    let size = u32(b, i), head = 8;
    if (size === 1) { size = u32(b, i + 8) * 2 ** 32 + u32(b, i + 12); head = 16; } else if (size === 0) size = b.length - i;
    if (u32(b, i + 4) === 0x6a703263) return b.subarray(i + head, Math.min(b.length, i + size)); // 'jp2c'
    if (size < head) return undefined;
    i += size;
  }
  return undefined;
}

/** JPEG 2000 / HTJ2K: SIZ (T.800 A.5.1), which must follow SOC directly. */
export function j2kSiz(raw: Uint8Array): Declared | string {
  const b = j2kCodestream(raw);
  if (!b || b.length < 4 || u16(b, 0) !== 0xff4f) return 'the JPEG 2000 codestream does not start with SOC';
  if (u16(b, 2) !== 0xff51) return 'the JPEG 2000 codestream has no SIZ marker after SOC';
  const Lsiz = u16(b, 4);
  if (Lsiz < 41 || 4 + Lsiz > b.length) return 'the JPEG 2000 SIZ marker is cut short';
  const Xsiz = u32(b, 8), Ysiz = u32(b, 12), XOsiz = u32(b, 16), YOsiz = u32(b, 20);
  const Csiz = u16(b, 40);
  if (Lsiz !== 38 + 3 * Csiz || Csiz === 0) return 'the JPEG 2000 SIZ marker\'s length does not match its component count';
  let precision = 0, signed = false;
  for (let c = 0; c < Csiz; c++) {
    const Ssiz = b[42 + 3 * c]!, XRsiz = b[43 + 3 * c]!, YRsiz = b[44 + 3 * c]!;
    const p = (Ssiz & 0x7f) + 1, s = (Ssiz & 0x80) !== 0;
    if (c === 0) { precision = p; signed = s; } else if (p !== precision || s !== signed) return `the JPEG 2000 components differ in precision or sign (component ${c}: ${p} bits${s ? ' signed' : ''})`;
    if (XRsiz !== 1 || YRsiz !== 1) return `JPEG 2000 component ${c} is subsampled (XRsiz ${XRsiz}, YRsiz ${YRsiz}): its size is not the header's`;
  }
  return { width: Xsiz - XOsiz, height: Ysiz - YOsiz, components: Csiz, precision, signed };
}

/** PackBits output length of one RLE segment (PS3.5 G.3.1); a header byte with nothing after it (the even-length pad) ends it. */
export function packBitsLength(b: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end;) {
    const h = b[i]!;
    if (h < 128) { if (i + 1 >= end) break; const k = Math.min(h + 1, end - i - 1); n += k; i += 1 + k; } else if (h > 128) { if (i + 1 >= end) break; n += 257 - h; i += 2; } else i++;
  }
  return n;
}

/** RLE: the segment count against samples x bytes per sample, and each segment's decoded length against rows x columns. */
export function rleMismatch(b: Uint8Array, g: Pick<Geometry, 'rows' | 'cols' | 'spp' | 'bitsAllocated'>): string | undefined {
  if (b.length < 64) return 'the RLE frame is shorter than its 64-byte header';
  const le = (i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)) + b[i + 3]! * 2 ** 24;
  const count = le(0), want = g.spp * (g.bitsAllocated / 8);
  if (count !== want) return `the RLE frame has ${count} segment(s); ${g.spp} sample(s) of ${g.bitsAllocated} bits need ${want}`;
  const offsets = Array.from({ length: count }, (_, s) => le(4 + 4 * s));
  const px = g.rows * g.cols;
  for (let s = 0; s < count; s++) {
    const start = offsets[s]!, end = s + 1 < count ? offsets[s + 1]! : b.length;
    if ((s === 0 && start !== 64) || start >= end || end > b.length) return `the RLE header's segment offsets are not increasing within the frame (segment ${s + 1})`;
    const n = packBitsLength(b, start, end);
    if (n !== px) return `RLE segment ${s + 1} decodes to ${n} bytes; the header's ${g.cols} x ${g.rows} frame needs ${px}`;
  }
  return undefined;
}

/** LSB-first bit reader of the JPEG XL codestream (18181-1 A.3.1). */
function jxlBits(b: Uint8Array, from: number): { u: (n: number) => number; u32: (d: [number, number][]) => number } {
  let pos = from * 8;
  const u = (n: number): number => {
    let v = 0;
    for (let k = 0; k < n; k++, pos++) {
      if (pos >> 3 >= b.length) throw new RangeError('end of codestream');
      v += ((b[pos >> 3]! >> (pos & 7)) & 1) * 2 ** k;
    }
    return v;
  };
  // U32(d0..d3): a 2-bit selector, then [offset, bits] of the chosen distribution.
  return { u, u32: (d) => { const [off, bits] = d[u(2)]!; return off + u(bits); } };
}

/** The JPEG XL codestream in a container (jxlc, or the first jxlp after its index), or the bytes as they are. */
function jxlCodestream(b: Uint8Array): Uint8Array | undefined {
  if (b[0] === 0xff && b[1] === 0x0a) return b;
  if (!(b.length >= 12 && u32(b, 0) === 12 && u32(b, 4) === 0x4a584c20)) return undefined; // 'JXL ' signature box
  for (let i = 0; i + 8 <= b.length;) {
    let size = u32(b, i), head = 8;
    if (size === 1) { size = u32(b, i + 8) * 2 ** 32 + u32(b, i + 12); head = 16; } else if (size === 0) size = b.length - i;
    const type = u32(b, i + 4);
    if (type === 0x6a786c63) return b.subarray(i + head, Math.min(b.length, i + size)); // 'jxlc'
    if (type === 0x6a786c70) return b.subarray(i + head + 4, Math.min(b.length, i + size)); // 'jxlp'
    if (size < head) return undefined;
    i += size;
  }
  return undefined;
}

/** JPEG XL: SizeHeader (D.2) and, when no preview or animation header comes first, BitDepth of ImageMetadata (A.6). */
export function jxlHeader(raw: Uint8Array): Declared | string {
  const b = jxlCodestream(raw);
  if (!b || b[0] !== 0xff || b[1] !== 0x0a) return 'the JPEG XL codestream does not start with its signature';
  try {
    const r = jxlBits(b, 2);
    const dim: [number, number][] = [[1, 9], [1, 13], [1, 18], [1, 30]];
    const size = (): { w: number; h: number } => {
      const div8 = r.u(1) === 1;
      const h = div8 ? (1 + r.u(5)) * 8 : r.u32(dim);
      const ratio = r.u(3);
      const RATIOS = [[1, 1], [12, 10], [4, 3], [3, 2], [16, 9], [5, 4], [2, 1]] as const;
      const w = ratio === 0 ? (div8 ? (1 + r.u(5)) * 8 : r.u32(dim)) : Math.floor((h * RATIOS[ratio - 1]![0]) / RATIOS[ratio - 1]![1]);
      return { w, h };
    };
    const { w, h } = size();
    const out: Declared = { width: w, height: h };
    if (r.u(1) === 1) return { ...out, precision: 8 }; // all_default: 8-bit integer samples
    if (r.u(1) === 1) { // extra_fields
      r.u(3); // orientation
      if (r.u(1) === 1) size(); // intrinsic size
      if (r.u(1) === 1 || r.u(1) === 1) return out; // a preview or animation header: bit depth not read
    }
    if (r.u(1) === 1) return 'JPEG XL float samples are not integer pixel data';
    return { ...out, precision: r.u32([[8, 0], [10, 0], [12, 0], [1, 6]]) };
  } catch {
    return 'the JPEG XL header is cut short';
  }
}

/** The codestream's declaration for a codec. */
export function declared(codec: CodecName, b: Uint8Array): Declared | string {
  if (codec === 'decodeJpeg' || codec === 'decodeJpegLs') return jpegFrameHeader(b);
  if (codec === 'decodeJpeg2000' || codec === 'decodeHtJpeg2000') return j2kSiz(b);
  if (codec === 'decodeJpegXl') return jxlHeader(b);
  return {};
}

/** Whether a fragment opens a codestream of its own (SOI, SOC + SIZ, JP2 or JPEG XL signature); RLE cannot tell. */
export function startsCodestream(codec: CodecName, b: Uint8Array): boolean {
  if (codec === 'decodeJpeg' || codec === 'decodeJpegLs') return b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
  // SOC, SIZ and an Lsiz that fits its Csiz: FF4F may occur in packet data, not these 42 bytes too.
  if (codec === 'decodeJpeg2000' || codec === 'decodeHtJpeg2000') return (b.length >= 42 && u16(b, 0) === 0xff4f && u16(b, 2) === 0xff51 && u16(b, 4) === 38 + 3 * u16(b, 40)) || (b.length >= 12 && u32(b, 0) === 12 && u32(b, 4) === 0x6a502020);
  if (codec === 'decodeJpegXl') return b.length >= 12 && ((b[0] === 0xff && b[1] === 0x0a) || (u32(b, 0) === 12 && u32(b, 4) === 0x4a584c20));
  return false;
}

/**
 * Why one frame's codestream does not match the header, or undefined when it
 * does. `fragments`: the Pixel Data's items as dcmjs gives them (one per frame
 * when an offset table says so); the codestreams they open must be as many as
 * the header's frames (RLE frames have no start marker: not counted).
 */
export function codestreamMismatch(codec: CodecName, encoded: Uint8Array, g: Geometry, fragments: readonly ArrayBuffer[]): string | undefined {
  const opened = fragments.filter((f) => startsCodestream(codec, new Uint8Array(f))).length;
  if (opened > 0 && opened !== g.frames) return `the pixel data holds ${opened} codestream(s); the header describes ${g.frames} frame(s)`;
  if (codec === 'decodeRle') return rleMismatch(encoded, g);
  const d = declared(codec, encoded);
  if (typeof d === 'string') return d;
  const diffs: string[] = [];
  if (d.width !== undefined && d.width !== g.cols) diffs.push(`width ${d.width} (header: ${g.cols} columns)`);
  if (d.height !== undefined && d.height !== g.rows) diffs.push(`height ${d.height} (header: ${g.rows} rows)`);
  if (d.components !== undefined && d.components !== g.spp) diffs.push(`${d.components} component(s) (header: ${g.spp} sample(s) per pixel)`);
  if (d.precision !== undefined && d.precision > g.bitsAllocated) diffs.push(`${d.precision}-bit samples (header: ${g.bitsAllocated} bits allocated)`);
  if (d.signed !== undefined && d.signed !== g.signed) diffs.push(`${d.signed ? 'signed' : 'unsigned'} samples (header: pixel representation ${g.signed ? 1 : 0})`);
  return diffs.length ? `the codestream declares ${diffs.join(', ')}` : undefined;
}

/** Whether the codestream declares samples wider than BitsStored: then the decoded samples go through samplesOutside. */
export function widerThanStored(codec: CodecName, encoded: Uint8Array, g: Geometry): boolean {
  if (codec === 'decodeRle') return false; // RLE keeps the stored words as they are, unused high bits included
  const d = declared(codec, encoded);
  return typeof d !== 'string' && d.precision !== undefined && d.precision > g.bitsStored;
}

/** How many decoded samples (little-endian, BitsAllocated each) lie outside the range of BitsStored bits (signed: sign-extended). */
export function samplesOutside(data: Uint8Array, g: Pick<Geometry, 'bitsAllocated' | 'bitsStored' | 'signed'>): number {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const bytes = g.bitsAllocated / 8, n = Math.floor(data.byteLength / bytes);
  const lo = g.signed ? -(2 ** (g.bitsStored - 1)) : 0, hi = g.signed ? 2 ** (g.bitsStored - 1) - 1 : 2 ** g.bitsStored - 1;
  let out = 0;
  for (let i = 0; i < n; i++) {
    const v = bytes === 1 ? (g.signed ? dv.getInt8(i) : dv.getUint8(i)) : bytes === 2 ? (g.signed ? dv.getInt16(2 * i, true) : dv.getUint16(2 * i, true)) : g.signed ? dv.getInt32(4 * i, true) : dv.getUint32(4 * i, true);
    if (v < lo || v > hi) out++;
  }
  return out;
}

export function concat(parts: readonly ArrayBuffer[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(new Uint8Array(p), o); o += p.byteLength; }
  return out;
}
