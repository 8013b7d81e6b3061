/**
 * The lookup tables of a DICOM file's display transform (dicom.ts): a
 * Modality / VOI LUT Sequence item or a palette colour table, read, checked
 * and applied. Pure; no DICOM parsing.
 */
import { refuse } from './dicom-values.js';

/** A LUT of a Modality/VOI LUT Sequence item: descriptor [entries, first mapped, bits] and data. */
export interface Lut { entries: number; first: number; bits: number; data: ArrayLike<number> }

/** The LUT of a Modality/VOI LUT Sequence (its first item), or undefined when it has none. */
export function lutOf(item: unknown, signedFirst: boolean): Lut | undefined {
  const it = (Array.isArray(item) ? item[0] : item) as Record<string, unknown> | undefined;
  if (!it || !Array.isArray(it.LUTDescriptor) || it.LUTData === undefined) return undefined;
  const [e, f, b] = it.LUTDescriptor as number[];
  let data: ArrayLike<number>;
  const d = it.LUTData;
  if (Array.isArray(d) && typeof d[0] === 'number') data = d as number[];
  else if (Array.isArray(d) && d[0] instanceof ArrayBuffer) data = new Uint16Array(d[0] as ArrayBuffer);
  else if (d instanceof ArrayBuffer) data = new Uint16Array(d);
  else return undefined;
  const entries = e === 0 ? 65536 : e!;
  let first = f ?? 0;
  if (signedFirst && first >= 32768) first -= 65536;
  return { entries, first, bits: b ?? 16, data };
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
