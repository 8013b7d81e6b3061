/**
 * Which JPEG layouts the SDK decodes as the training pipeline does (Pillow 9.4
 * on libjpeg-turbo 2.1, which Chromium's decoder also is), read from the
 * file's own markers before any decoder runs, on both platforms (Node:
 * decode-node.ts, browser: decode-browser.ts; the importer through
 * decode-node.ts too). A layout outside that set is refused with InputError
 * E_IMAGE_PREPROCESSING, reason JPEG_LAYOUT, naming the layout: a wrongly
 * decoded image would be a silent wrong diagnosis.
 *
 * Read: SOF0/1/2 (T.81 B.2.2: P, Nf, each Ci, Hi, Vi), JFIF APP0, Adobe APP14
 * (its transform byte). libjpeg's colour space (jdapimin.c
 * default_decompress_parms) for 3 components: JFIF -> YCbCr; else Adobe
 * transform 0 -> RGB, other -> YCbCr; else component ids 'R','G','B' -> RGB,
 * else YCbCr.
 *
 * Accepted (jpeg-upsample.ts matches libjpeg for these, measured by
 * bench/preproc-oracle.ts against Pillow):
 *   - 1 component, 8-bit (grey; its sampling factors do not matter);
 *   - 3 components, 8-bit, YCbCr, luma 1x1 / 2x1 / 2x2 / 1x2 / 4x1 and both
 *     chroma 1x1 (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1), with or without an Adobe
 *     segment;
 *   - 3 components, 8-bit, RGB (no colour transform), all three 1x1.
 * Refused: 4 components (CMYK, YCCK), 2 components, 12-bit samples,
 * arithmetic / lossless / hierarchical coding, every other sampling (chroma
 * other than 1x1, luma 4x2, 3x1, ..., subsampled RGB).
 */
import { isSofMarker, jpegSegments } from '../../../protocol/jpeg-segments.js';
import { InputError } from '../errors.js';

export interface JpegFrame {
  /** The SOF marker's second byte (0xc0 baseline, 0xc1 extended, 0xc2 progressive, ...). */
  sof: number;
  precision: number;
  /** Per component: id, horizontal and vertical sampling factor. */
  components: { id: number; h: number; v: number }[];
  jfif: boolean;
  /** The Adobe APP14 transform byte (0 none/RGB/CMYK, 1 YCbCr, 2 YCCK), absent without the segment. */
  adobe?: number;
}

/** The frame header and colour markers, walking the segments from SOI up to the first SOS (protocol/jpeg-segments.ts); undefined when there is no SOF before it, or the walk cannot follow the decoder (FF 00, a SOF length other than 8 + 3 Nf). */
export function jpegFrame(b: Uint8Array): JpegFrame | undefined {
  let jfif = false, adobe: number | undefined, frame: Omit<JpegFrame, 'jfif' | 'adobe'> | undefined;
  // FF 00 is no segment (jpeg-js skips the two bytes, libjpeg scans on for a marker): reading a length there could land
  // on a frame header the decoder never sees, so the layout is unknown (the walk stops: ff00 'stop').
  for (const s of jpegSegments(b, { ff00: 'stop' })) {
    if (s.kind === 'end') { if (s.why === 'ff00') return undefined; break; }
    const { marker: m, at: off, length: len } = s;
    const tag = (t: string): boolean => len >= 2 + t.length && [...t].every((c, i) => b[off + 4 + i] === c.charCodeAt(0));
    // JFIF only with libjpeg's 14 data bytes at least (jdmarker.c examine_app0, APP0_DATA_LEN)
    if (m === 0xe0 && len >= 16 && tag('JFIF\0')) jfif = true;
    if (m === 0xee && tag('Adobe') && len >= 14 && off + 15 < b.length) adobe = b[off + 15]!;
    if (isSofMarker(m) && !frame && off + 10 <= b.length) {
      const nf = b[off + 9]!;
      // libjpeg refuses a frame header whose length is not 8 + 3 Nf (JERR_BAD_LENGTH); jpeg-js reads Nf components and
      // then the next bytes as markers, which this walk, skipping by the length, would not see.
      if (len !== 8 + 3 * nf || off + 2 + len > b.length) return undefined;
      const components = [];
      for (let i = 0; i < nf && off + 12 + 3 * i < b.length; i++) {
        const f = b[off + 11 + 3 * i]!;
        components.push({ id: b[off + 10 + 3 * i]!, h: f >> 4, v: f & 15 });
      }
      frame = { sof: m, precision: b[off + 4]!, components };
    }
  }
  return frame && { ...frame, jfif, ...(adobe !== undefined ? { adobe } : {}) };
}

/** How the SDK decodes a JPEG: grey, YCbCr with luma sampling h x v (chroma 1x1), plain RGB; or why it refuses. */
export type JpegSupport =
  | { kind: 'grey' }
  | { kind: 'ycc'; h: 1 | 2 | 4; v: 1 | 2 }
  | { kind: 'rgb' }
  | { kind: 'refused'; layout: string };

const factors = (f: JpegFrame): string => f.components.map((c) => `${c.h}x${c.v}`).join(', ');

/** libjpeg's colour space of a 3-component frame (jdapimin.c default_decompress_parms). */
function threeComponentSpace(f: JpegFrame): 'YCbCr' | 'RGB' {
  if (f.jfif) return 'YCbCr';
  if (f.adobe !== undefined) return f.adobe === 0 ? 'RGB' : 'YCbCr';
  const [a, b, c] = f.components.map((x) => x.id);
  return a === 82 && b === 71 && c === 66 ? 'RGB' : 'YCbCr';
}

/** The layout's class; undefined when no frame header precedes the scan (the decoder then refuses the file). */
export function jpegSupport(bytes: Uint8Array): JpegSupport | undefined {
  const f = jpegFrame(bytes);
  if (!f) return undefined;
  const n = f.components.length;
  if (f.sof !== 0xc0 && f.sof !== 0xc1 && f.sof !== 0xc2) return { kind: 'refused', layout: `SOF${f.sof - 0xc0} coding (arithmetic, lossless or hierarchical)` };
  if (f.precision !== 8) return { kind: 'refused', layout: `${f.precision}-bit samples` };
  if (n === 1) return { kind: 'grey' };
  if (n === 4) return { kind: 'refused', layout: `4 components (${f.adobe === 2 ? 'YCCK' : 'CMYK'}), sampling ${factors(f)}` };
  if (n !== 3) return { kind: 'refused', layout: `${n} components` };
  const [y, cb, cr] = f.components as [JpegFrame['components'][0], JpegFrame['components'][0], JpegFrame['components'][0]];
  const space = threeComponentSpace(f);
  const chroma11 = cb.h === 1 && cb.v === 1 && cr.h === 1 && cr.v === 1;
  if (space === 'RGB') return chroma11 && y.h === 1 && y.v === 1 ? { kind: 'rgb' } : { kind: 'refused', layout: `RGB (no colour transform) with sampling ${factors(f)}` };
  const luma = `${y.h}x${y.v}`;
  if (chroma11 && ['1x1', '2x1', '2x2', '1x2', '4x1'].includes(luma)) return { kind: 'ycc', h: y.h as 1 | 2 | 4, v: y.v as 1 | 2 };
  return { kind: 'refused', layout: `YCbCr sampling ${factors(f)}` };
}

/** The refusal: coded, names the layout (markers only, never a sample), before any share is sent. */
export function refuseJpegLayout(layout: string): never {
  throw new InputError('E_IMAGE_PREPROCESSING', `image: a JPEG with ${layout}; the SDK cannot decode this layout as the training pipeline (Pillow / libjpeg) does, so it is not sent. Convert it to a 4:4:4, 4:2:2 or 4:2:0 YCbCr JPEG, a grey JPEG or a PNG`, { reason: 'JPEG_LAYOUT' });
}

/** Adobe APP14 segments cut out (libjpeg's colour space kept: jpeg-js would otherwise force its own YCbCr transform); the walk as jpegFrame's. */
export function withoutAdobe(b: Uint8Array): Uint8Array {
  const keep: Uint8Array[] = [];
  let from = 0;
  for (const s of jpegSegments(b, { ff00: 'stop' })) {
    if (s.kind === 'segment' && s.marker === 0xee) { keep.push(b.subarray(from, s.at)); from = s.at + 2 + s.length; }
  }
  if (!keep.length) return b;
  keep.push(b.subarray(from));
  const out = new Uint8Array(keep.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of keep) { out.set(p, o); o += p.length; }
  return out;
}
