/**
 * What dicom.ts and dicom-voi.ts share: reading a naturalized dcmjs value as
 * a number or a string, and refusing a file with a coded InputError
 * (reason: DicomProblem). Messages name attributes, never their values.
 */
import { InputError } from '../errors.js';

/** Why a DICOM file was refused (InputError.reason). */
export type DicomProblem =
  | 'DICOM_UNREADABLE' | 'DICOM_NO_PIXEL_DATA' | 'DICOM_TRUNCATED' | 'DICOM_UNSUPPORTED_SYNTAX'
  | 'DICOM_UNSUPPORTED_IMAGE' | 'DICOM_BAD_FRAME' | 'DICOM_DECODE_FAILED';

/** A naturalized dcmjs dataset (attribute keyword -> value). */
export type Dataset = Record<string, unknown>;

export function refuse(reason: DicomProblem, message: string, cause?: unknown): never {
  const code = reason === 'DICOM_TRUNCATED' || reason === 'DICOM_BAD_FRAME' ? 'E_SHAPE' : 'E_DTYPE';
  throw new InputError(code, `DICOM: ${message}`, { reason, ...(cause !== undefined ? { cause } : {}) });
}

/** The first value of a (possibly multi-valued) numeric attribute. */
export function num(v: unknown): number | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  const n = typeof x === 'string' ? Number(x) : x;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** The first value of a (possibly multi-valued) string attribute, trimmed. */
export function str(v: unknown): string | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' ? x.trim() : undefined;
}
