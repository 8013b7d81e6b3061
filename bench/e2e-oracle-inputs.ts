/**
 * bench/e2e-oracle.ts --inputs png16,exif,dicom,resize: image inputs beyond 8-bit PNG/JPEG of the model's size,
 * sent through the parties, with the model input computed independently of the SDK by Pillow 9.4 / pydicom 2.3.1
 * (/usr/bin/python3, bench/preproc-oracle/e2e_inputs.py: the pipelines are described there):
 *   - png16: a 16-bit PNG (grey or RGB) under the model's recorded `png16` (pillow | high-byte, drawn at import);
 *   - exif:  a JPEG (or a PNG with an eXIf chunk) with an Exif orientation tag 1..8 under the recorded
 *            `orientation` (stored | exif, drawn);
 *   - dicom: a grey DICOM written with pydicom (MONOCHROME1/2, 8/16 bits allocated, 9..16 stored, signed or not,
 *            rescale slope/intercept, a window or none, three transfer syntaxes), or one of the fixtures;
 *   - resize: an 8-bit PNG (L, LA, RGB, RGBA, P) of another size;
 * each of another size than the model's input (sometimes the same), resized as the model records (`resize`
 * bilinear | nearest | tf-bilinear, drawn at import). Two checks per input (inputCheck):
 *   'preproc': the SDK's pixels (its decoder and preprocessImage, scaling left out) against Pillow's, in grey
 *              levels: equal, or within a bound (1: a resize's rounding; a colour JPEG 3, the decoders' documented gap: jpegBound), else a difference;
 *   then the secure output (one prediction, and all the inputs in one batch) against the reference and tfjs on the
 *   SDK's own tensor, and tfjs on the independent tensor where the two tensors are equal (bench/e2e-oracle.ts).
 * Without /usr/bin/python3 and its modules the inputs are skipped, and the run says so.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAnyImage } from '../client-sdk/src/image/dicom.js';
import { decodeImageNode } from '../client-sdk/src/image/decode-node.js';
import { preprocessImage, specForInputShape } from '../client-sdk/src/image/preprocess.js';
import type { BundleManifest } from '../model-import/bundle.js';
import { int, pick } from '../model-import/testing/keras-oracle-gen.js';
import type { Prg } from '../protocol/correlated/prg.js';
import { preprocessPixels } from './e2e-oracle-check.js';

const PY = '/usr/bin/python3';
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const INPUT_KINDS = ['png16', 'exif', 'dicom', 'resize'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];
const FIXTURE_DICOM = ['xray-mono2-8bit.dcm', 'xray-mono1-12bit.dcm', 'CT_small.dcm', 'MR_small.dcm', 'xray-jpeg-baseline.dcm'];

let pythonOk: boolean | undefined;
export function havePython(): boolean {
  return (pythonOk ??= spawnSync(PY, ['-c', 'import PIL, pydicom, numpy']).status === 0);
}

export interface InputPlan { flags: string[]; kinds: InputKind[]; seed: number; desc: string }

/** The import flags (resize, png16, orientation drawn) and the inputs to send (`per` of each kind), for an image model. */
export function inputPlan(g: Prg, kinds: readonly InputKind[], per = 1): InputPlan {
  const resize = pick(g, ['bilinear', 'nearest', 'tf-bilinear'] as const);
  const png16 = pick(g, ['pillow', 'high-byte'] as const);
  const orientation = pick(g, ['stored', 'exif'] as const);
  const flags = [`resize=${resize}`, ...(kinds.includes('png16') ? [`png16=${png16}`] : []), ...(kinds.includes('exif') ? [`orientation=${orientation}`] : [])];
  return { flags: flags.flatMap((f) => ['--preprocessing', f]), kinds: kinds.flatMap((k) => Array<InputKind>(per).fill(k)), seed: int(g, 0, 1 << 30), desc: flags.join(' ') };
}

export interface MadeInput { kind: InputKind; file: string; bytes: Uint8Array; expect: Float32Array; desc: string }

/** Writes the plan's inputs under `dir` with the independent expectations; `skipped`: what Python could not make. */
export function makeInputs(dir: string, plan: InputPlan, m: BundleManifest, fixtures: string): { made: MadeInput[]; skipped: string[] } {
  const [H, W, C] = m.inputShape as [number, number, number];
  const p = m.preprocessing!;
  const cases = plan.kinds.map((kind, i) => ({
    file: `in${i}.${kind === 'dicom' ? 'dcm' : kind === 'exif' ? 'jpg' : 'png'}`, kind, seed: plan.seed + i, H, W, C, resize: p.resize ?? 'bilinear',
    ...(p.png16 ? { png16: p.png16 } : {}), orientation: p.orientation ?? 'exif',
    ...(kind === 'dicom' && (plan.seed + i) % 3 === 0 ? { fixture: path.join(fixtures, 'dicom', FIXTURE_DICOM[(plan.seed >> 2) % FIXTURE_DICOM.length]!) } : {}),
  }));
  writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases));
  const r = spawnSync(PY, [path.join(HERE, 'preproc-oracle', 'e2e_inputs.py'), dir, path.join(dir, 'cases.json')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`e2e_inputs.py failed: ${r.stderr.slice(0, 400)}`);
  const made: MadeInput[] = [], skipped: string[] = [];
  for (const c of cases) {
    const info = JSON.parse(readFileSync(path.join(dir, `${c.file}.json`), 'utf8')) as { desc?: string; error?: string };
    if (info.error !== undefined) { skipped.push(`${c.kind}: Python: ${info.error}`); continue; }
    const e = readFileSync(path.join(dir, `${c.file}.expect`));
    made.push({ kind: c.kind, file: c.file, bytes: new Uint8Array(readFileSync(path.join(dir, c.file))), expect: new Float32Array(e.buffer, e.byteOffset, e.byteLength / 4).slice(), desc: info.desc! });
  }
  return { made, skipped };
}

export interface InputCheck {
  /** The SDK's model input (scaled as the model records) or its coded refusal. */
  sdk?: Float32Array;
  refused?: string;
  /** The model input from the independent pixels. */
  indep: Float32Array;
  /** max |SDK pixel - Pillow pixel| in grey levels (0..255), before the scaling; where, and the two values. */
  d: number;
  where: string;
  verdict: 'equal' | 'within' | 'DIFFERENT' | 'refused';
}

/** The SDK's pixels for `bytes` (decodeAnyImage: DICOM or PNG/JPEG, then preprocessImage) with the model's scaling or raw. */
async function sdkPixels(bytes: Uint8Array, m: BundleManifest, raw: boolean): Promise<Float32Array> {
  const img = await decodeAnyImage(bytes, decodeImageNode);
  const p = m.preprocessing!;
  const pre = raw ? { ...p, scaling: 'raw' as const, channelOrder: 'rgb' as const, mean: undefined, std: undefined } : p;
  const [h, w, c] = m.inputShape as [number, number, number];
  return preprocessImage(img, specForInputShape([h, w, c], undefined, pre));
}

/** The preprocessing check of one input (module doc); a coded SDK refusal is 'refused', an uncoded one throws. */
export async function inputCheck(x: MadeInput, m: BundleManifest): Promise<InputCheck> {
  const c = m.inputShape[2]!;
  const indep = preprocessPixels(x.expect, c, m.preprocessing!);
  let sdkRaw: Float32Array, sdk: Float32Array;
  try {
    sdkRaw = await sdkPixels(x.bytes, m, true);
    sdk = await sdkPixels(x.bytes, m, false);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (!code) throw e;
    return { refused: `${code}${(e as { reason?: string }).reason ? `/${(e as { reason?: string }).reason}` : ''}`, indep, d: 0, where: '', verdict: 'refused' };
  }
  return { sdk, indep, ...pixelDiff(sdkRaw, x.expect, jpegBound(x, c)) };
}

/**
 * The decoders' gap for a JPEG while Node used jpeg-js's IDCT (client-sdk/README.md "resize", Pillow 9.4 on random
 * files): colour within 3 per RGB channel, grey within 1; 1 for the rest (a rounding step). Node's decode now equals
 * Pillow's (libjpeg's IDCT, client-sdk/src/image/jpeg-idct.ts; BENCHMARKS.md): the bound is kept until a run of this
 * oracle shows the JPEG rows within 1.
 * A resize averages neighbours, so it keeps the bound. The exif inputs are JPEGs written grey for a grey model.
 */
export const jpegBound = (x: Pick<MadeInput, 'kind' | 'desc'>, c: number): number => (x.kind === 'exif' && c === 3 && !x.desc.startsWith('png') ? 3 : 1);

/** Grey-level comparison: 'equal' (within 1e-3: tf-bilinear's float pixels), 'within' the bound, else DIFFERENT. */
export function pixelDiff(got: ArrayLike<number>, want: ArrayLike<number>, bound = 1): { d: number; where: string; verdict: 'equal' | 'within' | 'DIFFERENT' } {
  if (got.length !== want.length) return { d: Infinity, where: `${got.length} values, expected ${want.length}`, verdict: 'DIFFERENT' };
  let d = 0, at = -1;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (Number.isNaN(e)) { d = Number.NaN; at = i; break; }
    if (e > d) { d = e; at = i; }
  }
  const where = at >= 0 ? `at ${at}: SDK ${got[at]}, independent ${want[at]}` : '';
  return { d, where, verdict: d <= 1e-3 ? 'equal' : d <= bound + 1e-3 ? 'within' : 'DIFFERENT' };
}
