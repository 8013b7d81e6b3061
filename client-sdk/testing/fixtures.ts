/** Paths to the shared real fixtures (read in place, never copied into the repo). */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const XRAY_DIR = join(REPO_ROOT, '../shared/fixtures/xray');
export const KERAS_DIR = join(REPO_ROOT, '../shared/fixtures/keras');
/** The one progressive JPEG with an Exif header (a baseline-only decoder fails on it). */
export const PROGRESSIVE_XRAY = join(XRAY_DIR, 'PNEUMONIA/person1673_virus_2889.jpeg');

export function allXrays(): string[] {
  return ['NORMAL', 'PNEUMONIA'].flatMap((d) => readdirSync(join(XRAY_DIR, d)).filter((f) => f.endsWith('.jpeg')).sort().map((f) => join(XRAY_DIR, d, f)));
}

export const DICOM_DIR = join(REPO_ROOT, '../shared/fixtures/dicom');

/** The DICOM fixtures' expected.json: file -> { source, decode }. */
export function dicomExpected(): Record<string, { source: string; decode: string }> {
  return JSON.parse(readFileSync(join(DICOM_DIR, 'expected.json'), 'utf8')) as Record<string, { source: string; decode: string }>;
}

/** The X-ray DICOM fixtures wrapped from a source JPEG in xray/: [dicom path, source JPEG path]. */
export function dicomXrays(): [string, string][] {
  return Object.entries(dicomExpected()).filter(([, e]) => e.source.endsWith('.jpeg')).map(([f, e]) => [join(DICOM_DIR, f), join(XRAY_DIR, e.source)]);
}

/**
 * P0's static files for a demo page test: the page and script from
 * client-sdk/demo, the SDK bundle built into `work`, any `extra` files, and
 * config.json with the party URLs and token that `config()` gives when asked.
 */
export function demoStaticFiles(work: string, config: () => object, extra: Record<string, { body: string | Uint8Array; type: string }> = {}): () => Record<string, { body: string | Uint8Array; type: string }> {
  const demo = join(REPO_ROOT, 'client-sdk/demo');
  return () => ({
    'index.html': { body: readFileSync(join(demo, 'index.html'), 'utf8'), type: 'text/html; charset=utf-8' },
    'app.js': { body: readFileSync(join(demo, 'app.js'), 'utf8'), type: 'text/javascript; charset=utf-8' },
    'sdk.js': { body: readFileSync(join(work, 'sdk.js'), 'utf8'), type: 'text/javascript; charset=utf-8' },
    ...extra,
    'config.json': { body: JSON.stringify(config()), type: 'application/json' },
  });
}
