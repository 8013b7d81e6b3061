/** The fixtures' patient, study and site data (PHI), and a search for it in captured bytes. */
import { readFileSync } from 'node:fs';
import dcmjs from 'dcmjs';

/** Header values that identify a patient, a study or a site, read from the fixtures themselves. */
const PHI_TAGS = ['PatientName', 'PatientID', 'PatientBirthDate', 'OtherPatientIDs', 'PatientAddress', 'InstitutionName', 'InstitutionAddress',
  'ReferringPhysicianName', 'PerformingPhysicianName', 'OperatorsName', 'StudyDate', 'SeriesDate', 'AcquisitionDate', 'ContentDate',
  'AccessionNumber', 'StudyID', 'StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID'];

export function phiStrings(files: string[]): string[] {
  const out = new Set<string>();
  for (const f of files) {
    const b = readFileSync(f);
    const dict = dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, {});
    const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
    for (const tag of PHI_TAGS) {
      for (const v of [ds[tag]].flat()) {
        const s = typeof v === 'string' ? v : (v as { Alphabetic?: string } | undefined)?.Alphabetic;
        if (typeof s === 'string' && s.trim().length >= 6) out.add(s.trim());
      }
    }
  }
  return [...out];
}

/** The forms a string could take on the wire: ASCII/UTF-8, URL-encoded, UTF-16LE. */
export function phiFound(sent: Buffer, phi: string[]): string[] {
  return phi.filter((s) => [Buffer.from(s), Buffer.from(encodeURIComponent(s)), Buffer.from(s, 'utf16le')].some((form) => sent.includes(form)));
}

