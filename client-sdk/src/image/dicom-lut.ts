/**
 * The lookup tables of a DICOM file's display transform (dicom.ts): a
 * Modality / VOI LUT Sequence item or a palette colour table, read, checked
 * and applied. Pure; no DICOM parsing.
 */
import { refuse } from './dicom-values.js';

/** A LUT of a Modality/VOI LUT Sequence item: descriptor [entries, first mapped, bits] and data. */
export interface Lut { entries: number; first: number; bits: number; data: ArrayLike<number> }

/**
 * The table of a LUT's data words (16-bit values, as US or OW) under its
 * descriptor: 8-bit entries packed two to a word, the first in the low byte
 * (PS3.3 C.11.1.1 / C.11.2.1.1: stored "as 8 bits allocated"; CP-522: a
 * writer that padded one 8-bit entry to a word is told apart by the value
 * length), else one entry a word. Data holding fewer entries than the
 * descriptor declares is refused: indexed past its end, every input above it
 * was mapped to its last entry (another image). pydicom 2.3.1 reads 8-bit
 * packed data one entry a word (an error or wrapped values) and fails on
 * short data.
 */
export function lutTable(words: ArrayLike<number>, entries: number, bits: number, what: string): ArrayLike<number> {
  // Entries are held in 16-bit words (8 or 16 bits by PS3.3 C.11.1.1 / C.7.6.3.1.5, 8 or 10-16 for a VOI LUT): a
  // descriptor's 32 bits scaled every entry by 255 / (2^32 - 1), a black image; 0 bits divided by 0.
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) refuse('DICOM_UNSUPPORTED_IMAGE', `the ${what} descriptor declares entries of other than 1 to 16 bits`);
  let table = words;
  if (bits <= 8 && words.length < entries && 2 * words.length >= entries) {
    const bytes = new Uint8Array(2 * words.length);
    for (let i = 0; i < words.length; i++) { bytes[2 * i] = words[i]! & 0xff; bytes[2 * i + 1] = (words[i]! >> 8) & 0xff; }
    table = bytes;
  }
  if (table.length < entries) refuse('DICOM_UNSUPPORTED_IMAGE', `the ${what} data holds fewer entries than its descriptor declares`);
  return table;
}

/**
 * OW LUT data as 16-bit words: dcmjs hands OW over as the file's bytes, so under Explicit VR Big Endian each word is
 * big-endian (PS3.5 7.3); read little-endian they were byte-swapped, 1000 read as 59395 (US values dcmjs parses itself).
 */
export function owWords(raw: ArrayBuffer, bigEndian: boolean): ArrayLike<number> {
  const n = Math.floor(raw.byteLength / 2);
  if (!bigEndian) return new Uint16Array(raw, 0, n);
  const dv = new DataView(raw), out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, false);
  return out;
}

/**
 * A LUT Descriptor's first value, the number of entries: 0 means 65536, and it is unsigned whatever the VR (PS3.3
 * C.11.1.1, C.7.6.3.1.5: US or SS governs the first value mapped only). Written SS (explicit VR), dcmjs reads 40000
 * entries as -25536: every lookup indexed below the table (a black image, NaN after a Modality LUT); pydicom adds 65536.
 */
export function lutEntries(e: number): number {
  return e === 0 ? 65536 : e < 0 ? e + 65536 : e;
}

/** The LUT of a Modality/VOI LUT Sequence (its first item), or undefined when it has none. */
export function lutOf(item: unknown, signedFirst: boolean, what: string, bigEndian = false): Lut | undefined {
  const it = (Array.isArray(item) ? item[0] : item) as Record<string, unknown> | undefined;
  if (!it) return undefined;
  // An item without its (Type 1) descriptor or data, or data of one US value (dcmjs naturalizes a single value to a
  // number): ignored, the image was shown without its LUT. Refused, or read as one entry.
  const desc = it.LUTDescriptor, d = it.LUTData;
  if (!Array.isArray(desc) || desc.length < 3 || d === undefined || d === null) refuse('DICOM_UNSUPPORTED_IMAGE', `a ${what} Sequence item without its LUT Descriptor (3 values) or LUT Data`);
  let words: ArrayLike<number>;
  if (typeof d === 'number') words = [d];
  else if (Array.isArray(d) && typeof d[0] === 'number') words = d as number[];
  else if (Array.isArray(d) && d[0] instanceof ArrayBuffer) words = owWords(d[0] as ArrayBuffer, bigEndian);
  else if (d instanceof ArrayBuffer) words = owWords(d, bigEndian);
  else refuse('DICOM_UNSUPPORTED_IMAGE', `the ${what} data could not be read`);
  return lutFrom(desc as number[], words, signedFirst, what);
}

/**
 * A LUT from its descriptor [entries, first value mapped, bits] and data words, for a Modality/VOI LUT item and a
 * palette alike: the entry count as lutEntries reads it, the first value mapped signed when `signedFirst` (a value
 * >= 32768 is negative), 16 bits when the descriptor gives none, the table as lutTable checks and unpacks it.
 */
export function lutFrom(desc: readonly number[], words: ArrayLike<number>, signedFirst: boolean, what: string): Lut {
  const [e, f, b] = desc;
  const entries = lutEntries(e!);
  let first = f ?? 0;
  if (signedFirst && first >= 32768) first -= 65536;
  const bits = b ?? 16;
  return { entries, first, bits, data: lutTable(words, entries, bits, what) };
}

/**
 * Whether an entry passes the 2^bits - 1 the descriptor declares: scaled by
 * 255 / (2^bits - 1) such an entry is above 255, and a Uint8Array keeps it
 * modulo 256 (an entry of 300 under 8 bits became 44: a bright structure
 * shown dark to the model). The caller refuses such a table.
 */
export function lutExceedsBits(lut: Lut): boolean {
  const top = 2 ** lut.bits - 1, n = Math.min(lut.entries, lut.data.length);
  for (let i = 0; i < n; i++) if (!(lut.data[i]! <= top)) return true;
  return false;
}

export function applyLut(x: number, lut: Lut): number {
  const i = Math.min(lut.entries - 1, Math.max(0, Math.round(x) - lut.first));
  return lut.data[Math.min(i, lut.data.length - 1)]!;
}

/** A LUT whose entries pass the bits its descriptor declares is refused (lutExceedsBits: kept in 8 bits they wrapped). */
export function checkLutEntries(lut: Lut, what: string): void {
  if (lutExceedsBits(lut)) refuse('DICOM_UNSUPPORTED_IMAGE', `the ${what} holds entries above the ${lut.bits} bits its descriptor declares`);
}
