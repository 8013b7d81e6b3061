/**
 * The `model` entry of a party's configuration (parties/config.ts): one
 * bundle directory or development file, or a PATE ensemble of 2..MAX_TEACHERS
 * teachers with its noise; checked here, and turned into the model source the
 * server loads (`modelSourceOf`).
 */
import { MpcError } from '../protocol/errors.js';
import type { PartyEntry, SingleModelEntry } from './config.js';
import { MAX_TEACHERS, type ModelSource, type PateNoise } from './model-source.js';

function bad(msg: string): never { throw new MpcError('E_BAD_ARGUMENT', `config: ${msg}`); }

function single(m: unknown, name: string, abs: (p: string) => string): SingleModelEntry {
  const o = m as Record<string, unknown> | null;
  if (o && typeof o === 'object' && typeof o.bundleDir === 'string') return { bundleDir: abs(o.bundleDir) };
  if (o && typeof o === 'object' && typeof o.devFile === 'string') return { devFile: abs(o.devFile) };
  return bad(`${name} needs bundleDir or devFile`);
}

export function modelEntry(m: unknown, name: string, abs: (p: string) => string): PartyEntry['model'] {
  const o = m as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || !('ensemble' in o)) return single(m, name, abs);
  const e = o.ensemble as { teachers?: unknown; noise?: unknown } | null;
  if (!e || typeof e !== 'object' || !Array.isArray(e.teachers) || e.teachers.length < 2 || e.teachers.length > MAX_TEACHERS) bad(`${name}.ensemble.teachers must list 2..${MAX_TEACHERS} teacher models`);
  const teachers = e.teachers.map((t, i) => single(t, `${name}.ensemble.teachers[${i}]`, abs));
  if (e.noise === undefined) return { ensemble: { teachers } };
  const n = e.noise as Partial<PateNoise> | null;
  if (!n || typeof n !== 'object' || (n.mechanism !== 'laplace' && n.mechanism !== 'gaussian')) bad(`${name}.ensemble.noise.mechanism must be 'laplace' or 'gaussian'`);
  if (typeof n.epsilon !== 'number' || !(n.epsilon > 0) || !Number.isFinite(n.epsilon)) bad(`${name}.ensemble.noise.epsilon must be a positive number`);
  if (n.mechanism === 'gaussian' && (typeof n.delta !== 'number' || !(n.delta > 0 && n.delta < 1))) bad(`${name}.ensemble.noise.delta must be in (0, 1) for the Gaussian mechanism`);
  if (n.sampler !== undefined && n.sampler !== 'discrete-exact' && n.sampler !== 'gamma-split') bad(`${name}.ensemble.noise.sampler must be 'discrete-exact' or 'gamma-split'`);
  return { ensemble: { teachers, noise: { mechanism: n.mechanism, epsilon: n.epsilon, ...(n.delta !== undefined ? { delta: n.delta } : {}), ...(n.sampler ? { sampler: n.sampler } : {}) } } };
}

/** The model source of a resolved config entry (server.ts). */
export function modelSourceOf(m: PartyEntry['model']): ModelSource {
  const one = (e: SingleModelEntry): Exclude<ModelSource, { kind: 'ensemble' }> => ('bundleDir' in e ? { kind: 'bundle', dir: e.bundleDir } : { kind: 'dev-file', path: e.devFile });
  if ('ensemble' in m) return { kind: 'ensemble', teachers: m.ensemble.teachers.map(one), ...(m.ensemble.noise ? { noise: m.ensemble.noise } : {}) };
  return one(m);
}

