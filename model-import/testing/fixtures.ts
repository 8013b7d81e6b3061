/**
 * Test helpers: where the shared fixtures are (../shared/fixtures from the
 * repository root, never copied into the repo), their golden files, and
 * private temp directories.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** <repo>/../shared/fixtures */
export const FIXTURES = path.resolve(here, '..', '..', '..', 'shared', 'fixtures');
export const KERAS_FIXTURES = path.join(FIXTURES, 'keras');
export const XRAY = path.join(FIXTURES, 'xray');
export const haveFixtures = existsSync(KERAS_FIXTURES);

/** The 12 acceptance models: folder -> model file. */
export const FIXTURE_MODELS: Record<string, string> = {
  'ahmedkamel-mnist-k3h5': 'best_model.h5',
  'angel-mnist-tfjs': 'model.json',
  'aryan-pneumonia': 'pneumonia.h5',
  'aslaskin-mnist-keras3': 'model.keras',
  'karancraze-mnist': 'mnist.h5',
  'nakul-pneumonia256': 'pneumonia.h5',
  'ravneet-pneumonia': 'pneumonia.h5',
  'saif-pneumonia64': 'pneumonia.h5',
  'templinb-cnn-keras3': 'CNN.keras',
  'trab-pneumonia-bn': 'pneumonia.h5',
  'vishal-pneumonia': 'pneumonia.h5',
  'zayed-pneumonia-keras3': 'pneumonia_model.keras',
};

export const fixtureModel = (dir: string): string => path.join(KERAS_FIXTURES, dir, FIXTURE_MODELS[dir]!);

export interface GoldenExact {
  file: string;
  shape: number[];
  image: string;
  output: number[];
}

export interface Golden {
  preprocessing: string;
  exact_inputs?: GoldenExact[];
  results: { image: string; label: string | number; output: number[]; pred: string | number }[];
}

export function golden(dir: string): Golden | undefined {
  const p = path.join(KERAS_FIXTURES, dir, 'golden', 'golden.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Golden) : undefined;
}

export function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** A fresh private temp directory and its remover. */
export function tempDir(prefix = 'mpc-import-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The path of a golden result image relative to the fixtures root ('models/<dir>/...' -> 'keras/<dir>/...'). */
export function goldenImage(p: string): string {
  return path.join(FIXTURES, p.replace(/^models\//, 'keras/'));
}

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? m : Infinity;
};
