/**
 * The grayscale display transform of a DICOM frame (DICOM PS3.3 C.11): stored
 * values -> modality LUT -> VOI LUT -> 0..255 -> MONOCHROME1 inverted, with
 * the attributes that would otherwise make the SDK show the model another
 * image than a viewer (PS3.14 / PS3.4 N.2 grayscale pipeline) or pydicom's
 * apply_modality_lut + apply_voi_lut: refused where the two disagree or the
 * SDK does not apply them (Presentation LUT, an invalid window), applied where
 * they are defined (Pixel Padding Value in the pixel-range fallback).
 */
import { applyLut, checkLutEntries, lutOf } from './dicom-lut.js';
import { num, refuse, str, type Dataset } from './dicom-values.js';

/** How the 8-bit range was chosen; `padding`: padding pixels left out of the pixel range (PS3.3 C.7.5.1.1.2). */
export type VoiChoice =
  | { kind: 'window'; center: number; width: number; fn: string }
  | { kind: 'voi-lut' }
  | { kind: 'pixel-range'; min: number; max: number; padding?: number };

const VOI_FUNCTIONS = new Set(['LINEAR', 'LINEAR_EXACT', 'SIGMOID']);

/**
 * Enhanced multi-frame objects (PS3.3 C.7.6.16) keep the rescale and the
 * window (or a VOI LUT Sequence) in functional groups, not at the top level: the frame's own
 * (Per-frame Functional Groups), else the Shared ones, else the top level's.
 * Ignoring them would show the raw pixel range: another image for the model.
 */
export function displayAttributes(ds: Dataset, frame: number): Dataset {
  const item = (seq: unknown, i = 0): Dataset | undefined => (Array.isArray(seq) ? (seq[i] as Dataset | undefined) : (seq as Dataset | undefined) ?? undefined);
  const per = item(ds.PerFrameFunctionalGroupsSequence, frame), shared = item(ds.SharedFunctionalGroupsSequence);
  const pick = (macro: string): Dataset | undefined => item(per?.[macro]) ?? item(shared?.[macro]);
  const pvt = pick('PixelValueTransformationSequence'), voi = pick('FrameVOILUTSequence');
  if (!pvt && !voi) return ds;
  return {
    ...ds,
    ...(pvt ? { RescaleSlope: pvt.RescaleSlope, RescaleIntercept: pvt.RescaleIntercept } : {}),
    // The Frame VOI LUT With LUT macro (PS3.3 C.7.6.16.2.10b) puts a VOI LUT Sequence here too: the frame's own (was ignored).
    ...(voi ? { WindowCenter: voi.WindowCenter, WindowWidth: voi.WindowWidth, VOILUTFunction: voi.VOILUTFunction, VOILUTSequence: voi.VOILUTSequence } : {}),
  };
}

/**
 * Presentation LUT Shape (2050,0020) IDENTITY on MONOCHROME2 and INVERSE on
 * MONOCHROME1 say what the photometric interpretation already says. INVERSE
 * on MONOCHROME2 (or IDENTITY on MONOCHROME1) is shown with the other
 * polarity by a viewer that applies it (and by pydicom's
 * apply_presentation_lut), and ignored by apply_modality_lut + apply_voi_lut
 * pipelines: they disagree on which image is meant, so the file is refused; a
 * Presentation LUT Sequence
 * (2050,0010) is not applied by the SDK: refused too.
 */
function checkPresentation(ds: Dataset, photometric: string): void {
  if (ds.PresentationLUTSequence !== undefined && ds.PresentationLUTSequence !== null && !(Array.isArray(ds.PresentationLUTSequence) && ds.PresentationLUTSequence.length === 0)) {
    refuse('DICOM_UNSUPPORTED_IMAGE', 'a Presentation LUT Sequence (2050,0010) is not supported (the SDK would show the image without it)');
  }
  const shape = str(ds.PresentationLUTShape)?.toUpperCase();
  if (shape === undefined || shape === '') return;
  const agrees = photometric === 'MONOCHROME1' ? shape === 'INVERSE' : shape === 'IDENTITY';
  if (!agrees) {
    refuse('DICOM_UNSUPPORTED_IMAGE', shape === 'INVERSE' || shape === 'IDENTITY'
      ? `Presentation LUT Shape (2050,0020) ${shape} on ${photometric}: a viewer shows the ${shape === 'INVERSE' ? 'inverted' : 'non-inverted'} image, apply_voi_lut pipelines the other polarity`
      : 'Presentation LUT Shape (2050,0020) holds a value other than IDENTITY or INVERSE');
  }
}

/**
 * Which pixels are padding (PS3.3 C.7.5.1.1.2): stored values equal to Pixel
 * Padding Value (0028,0120), or between it and Pixel Padding Range Limit
 * (0028,0121) inclusive. Read before the modality LUT (stored values).
 */
function paddingMask(v: Float64Array, ds: Dataset, signed: boolean): Uint8Array | undefined {
  const asStored = (x: number): number => (signed && x >= 2 ** 15 && x < 2 ** 16 ? x - 2 ** 16 : x);
  const p = num(ds.PixelPaddingValue);
  if (p === undefined) return undefined;
  const limit = num(ds.PixelPaddingRangeLimit);
  const a = asStored(p), b = limit === undefined ? a : asStored(limit);
  const lo = Math.min(a, b), hi = Math.max(a, b);
  const mask = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) mask[i] = v[i]! >= lo && v[i]! <= hi ? 1 : 0;
  return mask;
}

/** The window's VOI LUT Function, refused where PS3.3 C.11.2.1.2 and pydicom's apply_windowing refuse it (never a silent fallback). */
function windowFunction(ds: Dataset, width: number): string {
  const fn = (str(ds.VOILUTFunction) || 'LINEAR').toUpperCase();
  if (!VOI_FUNCTIONS.has(fn)) refuse('DICOM_UNSUPPORTED_IMAGE', 'VOI LUT Function (0028,1056) is not LINEAR, LINEAR_EXACT or SIGMOID');
  if (fn === 'LINEAR' ? !(width >= 1) : !(width > 0)) {
    refuse('DICOM_UNSUPPORTED_IMAGE', `Window Width (0028,1051) must be ${fn === 'LINEAR' ? 'at least 1 for a LINEAR' : `above 0 for a ${fn}`} window (PS3.3 C.11.2.1.2)`);
  }
  return fn;
}

/**
 * (Exported for its unit test; not part of the SDK's API.)
 * Modality LUT then VOI LUT to 0..255 (rounded), then MONOCHROME1 inverted
 * (PS3.3 C.11.1, C.11.2; the linear window of C.11.2.1.2.1, LINEAR_EXACT of
 * C.11.2.1.3.2, SIGMOID of C.11.2.1.3.1). Several windows or VOI LUTs: the
 * first (PS3.3 C.11.2.1.2: a viewer's default; pydicom's index 0). A VOI LUT
 * Sequence wins over a window (pydicom's prefer_lut). Without either, the
 * range of the frame's non-padding pixels; padding pixels clamp to its ends.
 */
export function grayscaleTo8(v: Float64Array, ds: Dataset, g: { signed: boolean; photometric: string; bitsStored?: number; bigEndian?: boolean }): { data: Uint8Array; voi: VoiChoice; inverted: boolean } {
  checkPresentation(ds, g.photometric);
  const n = v.length;
  const padding = paddingMask(v, ds, g.signed);
  const mlut = lutOf(ds.ModalityLUTSequence, g.signed, 'Modality LUT', g.bigEndian);
  // The VOI LUT descriptor's first value mapped (PS3.3 C.11.2.1.1) is signed as Pixel Representation says without a
  // modality transform, SS where the rescale's possible output may be negative, US otherwise (a Modality LUT's output,
  // a rescale that cannot go below 0). Keyed on Pixel Representation alone, a US 65534 (-2) under a 12-bit CT's -1024
  // intercept put every pixel before the table (black), a 40000 after a signed image's Modality LUT past it (white).
  // A rescale whose output spans both signs and passes 32767 (a value >= 32768 may be either): Pixel Representation.
  let voiSigned = g.signed;
  if (mlut) {
    voiSigned = false;
    for (let i = 0; i < n; i++) v[i] = applyLut(v[i]!, mlut);
  } else {
    const slope = num(ds.RescaleSlope) ?? 1, intercept = num(ds.RescaleIntercept) ?? 0;
    if (slope !== 1 || intercept !== 0) {
      const bits = g.bitsStored ?? 16, lo = g.signed ? -(2 ** (bits - 1)) : 0, hi = g.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
      const min = Math.min(lo * slope, hi * slope) + intercept, max = Math.max(lo * slope, hi * slope) + intercept;
      voiSigned = min >= 0 ? false : max < 32768 ? true : g.signed;
      for (let i = 0; i < n; i++) v[i] = v[i]! * slope + intercept;
    }
  }
  const out = new Uint8Array(n);
  const vlut = lutOf(ds.VOILUTSequence, voiSigned, 'VOI LUT', g.bigEndian);
  const center = num(ds.WindowCenter), width = num(ds.WindowWidth);
  if (!vlut && (center === undefined) !== (width === undefined)) refuse('DICOM_UNSUPPORTED_IMAGE', `a Window ${center === undefined ? 'Width' : 'Center'} without a Window ${center === undefined ? 'Center (0028,1050)' : 'Width (0028,1051)'}`);
  let voi: VoiChoice;
  if (vlut) {
    checkLutEntries(vlut, 'VOI LUT');
    const top = 2 ** vlut.bits - 1;
    for (let i = 0; i < n; i++) out[i] = Math.round((applyLut(v[i]!, vlut) / top) * 255);
    voi = { kind: 'voi-lut' };
  } else if (center !== undefined && width !== undefined) {
    const fn = windowFunction(ds, width);
    for (let i = 0; i < n; i++) out[i] = window8(v[i]!, center, width, fn);
    voi = { kind: 'window', center, width, fn };
  } else {
    let min = Infinity, max = -Infinity, padded = 0;
    for (let i = 0; i < n; i++) {
      if (padding?.[i]) { padded++; continue; }
      const x = v[i]!; if (x < min) min = x; if (x > max) max = x;
    }
    if (padded === n) { min = max = v[0] ?? 0; for (let i = 0; i < n; i++) { min = Math.min(min, v[i]!); max = Math.max(max, v[i]!); } }
    const span = max - min;
    for (let i = 0; i < n; i++) out[i] = span > 0 ? Math.round((Math.min(1, Math.max(0, (v[i]! - min) / span))) * 255) : 0;
    voi = { kind: 'pixel-range', min, max, ...(padding ? { padding: padded } : {}) };
  }
  const inverted = g.photometric === 'MONOCHROME1';
  if (inverted) for (let i = 0; i < n; i++) out[i] = 255 - out[i]!;
  return { data: out, voi, inverted };
}

function window8(x: number, c: number, w: number, fn: string): number {
  if (fn === 'SIGMOID') return Math.round(255 / (1 + Math.exp((-4 * (x - c)) / w)));
  if (fn === 'LINEAR_EXACT') return Math.round(Math.min(255, Math.max(0, ((x - (c - w / 2)) / w) * 255)));
  if (w <= 1) return x <= c - 0.5 ? 0 : 255;
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 255;
  return Math.round(((x - (c - 0.5)) / (w - 1) + 0.5) * 255);
}
