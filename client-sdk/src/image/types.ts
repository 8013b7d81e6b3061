/** A decoded image: 8-bit samples, row-major, interleaved channels. */
export interface RawImage {
  width: number;
  height: number;
  /** 1 (gray), 3 (RGB) or 4 (RGBA, not premultiplied). */
  channels: 1 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
  /**
   * A JPEG's Exif orientation (2..8), or a PNG's (png.ts: eXIf, raw profile or XMP), that the decoder did NOT apply: the pixels are as
   * stored, and preprocess.ts turns them upright only when the model records
   * `orientation: 'exif'` (or nothing). Absent or 1: nothing to turn.
   */
  orientation?: number;
  /**
   * A 16-bit PNG's samples (RGBA, as `data`); `data` then holds their high bytes, for
   * display only: preprocess.ts reduces them as the model records (`png16`) or refuses.
   */
  samples16?: Uint16Array;
  /** With samples16: a grey PNG (colour type 0), which Pillow opens as I;16 and saturates at 255 in convert. */
  grey16?: boolean;
}

/**
 * A result's note on an image input with an Exif orientation tag (2..8): `applied`, whether
 * the model was given it turned upright; `recorded`, whether the model records how its
 * training read the tag (false: a bundle from before the field, turned as the SDK did then,
 * so nobody knows whether the model saw such images turned: an app should say so).
 */
export interface OrientationNote { tag: number; applied: boolean; recorded: boolean }

/** Turns encoded image bytes (JPEG, PNG; in a browser whatever createImageBitmap reads) into pixels. */
export type ImageDecoder = (src: Uint8Array | Blob) => Promise<RawImage>;

export type ImageFormat = 'jpeg' | 'png';

/** The format from the magic bytes, or null. */
export function sniffImageFormat(b: Uint8Array): ImageFormat | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  return null;
}
