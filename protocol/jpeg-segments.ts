/**
 * The one walk over a JPEG's marker segments (ITU T.81 B.1.1.2-B.1.1.4), from
 * after SOI up to the first SOS or EOI: the SDK's layout check and Adobe cut
 * (client-sdk/src/image/jpeg-markers.ts), its Exif strip and stored size
 * (exif.ts), the DICOM codestream check (codestream.ts) and the Exif
 * orientation (image-orientation.ts, shared with mpc-import) all read the
 * segments through it. Here, not in client-sdk/, because protocol/ is the
 * lowest layer both the SDK and the importer import; no I/O.
 *
 * At each position (the first at offset 2, after SOI, which is not checked):
 *  - fewer than 4 bytes left: the walk ends ('out-of-data');
 *  - a byte other than FF: ends ('not-a-marker'; bytes between segments are
 *    not skipped as libjpeg's next_marker does);
 *  - FF FF: a fill byte (B.1.1.2), one byte skipped;
 *  - FF D0-D7 (RSTn), FF 01 (TEM), FF D8 (SOI): standalone, two bytes skipped;
 *  - FF DA (SOS), FF D9 (EOI): ends ('sos', 'eoi');
 *  - FF 00 (a stuffed zero, no marker): ends ('ff00') or, with
 *    `ff00: 'segment'`, is read as a marker with a length like the rest;
 *  - any other FF xx: a segment, yielded with its length field Lp (which
 *    counts itself: data at [at + 4, at + 2 + Lp)), then the walk goes on at
 *    at + 2 + Lp. The length is not checked: a segment running past the data
 *    is yielded (the reader checks what it reads of it) and the walk ends
 *    after it ('out-of-data'); a length below 2 makes the
 *    next position fall inside the length field (00 00 or 00 01), so the
 *    walk ends there ('not-a-marker', or 'out-of-data' at the very end).
 * The last step is always one 'end', with where and why.
 */

/** A marker segment: its marker byte (the one after FF), its offset (of the FF) and its length field. */
export interface JpegSegment { kind: 'segment'; marker: number; at: number; length: number }

export type JpegWalkEndReason = 'sos' | 'eoi' | 'ff00' | 'not-a-marker' | 'out-of-data';

/** Where and why the walk ended (the offset of the marker or byte that ended it, or of the position past the data). */
export interface JpegWalkEnd { kind: 'end'; why: JpegWalkEndReason; at: number }

export interface JpegWalkOptions {
  /**
   * FF 00 where a marker should be: 'stop' ends the walk (the layout check: what follows is not what the decoder
   * reads); 'segment' reads the next two bytes as its length and walks on (the Exif, size and codestream readers,
   * as they always did).
   */
  ff00: 'stop' | 'segment';
}

/** The segments from offset 2 to the first SOS or EOI, then one end step. */
export function* jpegSegments(b: Uint8Array, opts: JpegWalkOptions): Generator<JpegSegment | JpegWalkEnd, void, undefined> {
  let at = 2;
  for (;;) {
    const why = at + 4 > b.length ? 'out-of-data' : b[at] !== 0xff ? 'not-a-marker' : undefined;
    if (why) { yield { kind: 'end', why, at }; return; }
    const marker = b[at + 1]!;
    if (marker === 0xff) { at += 1; continue; }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { at += 2; continue; }
    if (marker === 0xda || marker === 0xd9 || (marker === 0x00 && opts.ff00 === 'stop')) {
      yield { kind: 'end', why: marker === 0xda ? 'sos' : marker === 0xd9 ? 'eoi' : 'ff00', at };
      return;
    }
    const length = (b[at + 2]! << 8) | b[at + 3]!;
    yield { kind: 'segment', marker, at, length };
    at += 2 + length;
  }
}

/** T.81 B.1.1.3: SOFn is FFC0-FFCF but DHT (C4), JPG (C8) and DAC (CC). */
export const isSofMarker = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
