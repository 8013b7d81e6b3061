/**
 * Safety probe: the client SDK's image preprocessing against Pillow 9.4 as an
 * independent oracle (probe 1), and its DICOM grey pipeline against pydicom
 * 2.3.1 (probe 2, bench/preproc-oracle/gen_dicom.py). Python generates random
 * inputs and what its pipeline makes of them; this script runs the SDK on the
 * same files and classifies each case equal / within tolerance / refused (coded
 * error) / different. Needs /usr/bin/python3 with PIL, pydicom and numpy; skips
 * (exit 0, says so) without them. Not a test: the repo's tests do not need Python.
 * Probe 3 ('layouts'): JPEG layouts Pillow cannot write (4:4:0, 4:1:1, RGB,
 * Adobe-marked, YCCK, 2 components), written here as flat-block files
 * (client-sdk/testing/jpeg-dc-writer.ts) and decoded by Pillow
 * (bench/preproc-oracle/decode_pillow.py) and the SDK: each layout equal, or
 * refused (client-sdk/src/image/jpeg-markers.ts).
 *
 *   nice -n 10 npx tsx bench/preproc-oracle.ts [images|dicom|dicom-luts|dicom-rle|both|layouts|png-chunks|jpeg-quality|dicom-jpeg] [count] [seed]
 * 'png-chunks': probe 1 with ancillary PNG chunks (gAMA, cHRM, sRGB, iCCP, tRNS; gen_images.py 'chunks').
 * 'dicom-luts': probe 2 with LUT layouts only the standard defines (gen_dicom.py 'luts'), against PS3.3's lookup.
 * 'dicom-rle': RLE Lossless files (pydicom's encoder), signed, garbage high bits, multi-frame, a frame drawn (gen_dicom.py 'rle').
 * 'jpeg-quality': Pillow-written JPEGs across quality 1..100, custom / extreme quantisation tables, subsampling,
 * progressive, optimize, restart intervals (jpegtran), odd sizes, X-ray crops (gen_jpeg_quality.py): the SDK's decoded
 * pixels against Pillow's, per group the files that differ, the largest |diff| and the share of differing samples.
 * 'dicom-jpeg': its grey baseline JPEGs encapsulated in DICOM (gen_dicom_jpeg.py), the SDK's DICOM path (dcmjs-codecs'
 * decoder, not the Node JPEG decoder) against pydicom's pixel_array (its Pillow handler).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImageNode } from '../client-sdk/src/image/decode-node.js';
import { decodeDicom } from '../client-sdk/src/image/dicom.js';
import { preprocessImage, specForInputShape } from '../client-sdk/src/image/preprocess.js';

const PY = '/usr/bin/python3';
const here = dirname(fileURLToPath(import.meta.url));
const [what = 'both', countArg = '300', seedArg = '1'] = process.argv.slice(2);
const count = Number(countArg), seed = Number(seedArg);

function havePython(mods: string): boolean {
  return spawnSync(PY, ['-c', `import ${mods}`]).status === 0;
}

type Verdict = 'equal' | 'within-1' | 'refused' | 'refused-as-standard' | 'documented' | 'pydicom-differs' | 'different';
const codeOf = (e: unknown): string => `${(e as { code?: string }).code ?? 'uncoded'}${(e as { reason?: string }).reason ? `/${(e as { reason?: string }).reason}` : ''}`;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function tally(rows: { verdict: Verdict; key: string; note: string }[], title: string): void {
  const by = new Map<string, number>(), worst = new Map<string, number>();
  for (const r of rows) {
    const k = `${r.verdict} ${r.key}`, d = Number(/max\|diff\| (\d+)/.exec(r.note)?.[1] ?? 0);
    by.set(k, (by.get(k) ?? 0) + 1);
    worst.set(k, Math.max(worst.get(k) ?? 0, d));
  }
  console.log(`\n== ${title}: ${rows.length} cases (count, verdict, case kind, largest max|diff|)`);
  for (const [k, v] of [...by].sort()) console.log(`${String(v).padStart(5)}  ${k}${worst.get(k) ? `  (max ${worst.get(k)})` : ''}`);
  const diffs = rows.filter((r) => r.verdict === 'different' || r.verdict === 'refused');
  for (const r of diffs.slice(0, 40)) console.log(`  ${r.verdict}: ${r.note}`);
}

async function probeImages(dir: string, extra: string[] = []): Promise<void> {
  const gen = spawnSync(PY, [join(here, 'preproc-oracle', 'gen_images.py'), dir, String(count), String(seed), ...extra], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`gen_images.py failed: ${gen.stderr}`);
  const cases = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, string & number>[];
  const rows: { verdict: Verdict; key: string; note: string }[] = [];
  for (const c of cases) {
    const key = `${c.fmt} ${c.srcMode}${c.fmt === 'jpeg' ? ` sub${c.subsampling}${c.progressive ? ' prog' : ''}${c.marker ? ` ${c.marker}` : ''}` : ''}${c.chunks ? ` [${c.chunks}]` : ''} -> ${c.colorMode}`;
    const expect = readFileSync(join(dir, `${c.file}.expect`));
    const decodedPil = readFileSync(join(dir, `${c.file}.decoded`));
    const ch = c.colorMode === 'grayscale' ? 1 : 3;
    const pre = { colorMode: c.colorMode, resize: c.resize, scaling: 'raw', channelOrder: 'rgb', orientation: 'stored', png16: 'pillow' } as const;
    let got: Float32Array, dec: Float32Array;
    try {
      const img = await decodeImageNode(readFileSync(join(dir, c.file)));
      got = preprocessImage(img, specForInputShape([c.H, c.W, ch], undefined, pre));
      dec = preprocessImage(img, specForInputShape([c.h, c.w, ch], undefined, { ...pre, resize: 'nearest' }));
    } catch (e) {
      rows.push({ verdict: 'refused', key: `${key} ${codeOf(e)}`, note: `${c.file} ${key} ${c.w}x${c.h}: ${codeOf(e)} ${(e as Error).message.slice(0, 120)}` });
      continue;
    }
    const d = maxDiff(got, expect), dd = maxDiff(dec, decodedPil);
    const verdict: Verdict = d === 0 ? 'equal' : d <= 1 ? 'within-1' : 'different';
    rows.push({ verdict, key, note: `${c.file} ${key} q${c.quality ?? '-'} ${c.w}x${c.h} -> ${c.W}x${c.H} ${c.resize}: max|diff| ${d} (decode alone ${dd})` });
  }
  tally(rows, `images vs Pillow ${count} (seed ${seed})`);
}

/** Probe 3: flat-block JPEGs in layouts Pillow cannot write (testing/jpeg-dc-writer.ts), decoded by Pillow and by the SDK. */
const LAYOUTS: { name: string; sampling: [number, number][]; ids?: number[]; adobe?: number; jfif?: boolean }[] = [
  { name: 'ycc 4:4:4', sampling: [[1, 1], [1, 1], [1, 1]], jfif: true },
  { name: 'ycc 4:2:0', sampling: [[2, 2], [1, 1], [1, 1]], jfif: true },
  { name: 'ycc 4:2:2 adobe1', sampling: [[2, 1], [1, 1], [1, 1]], adobe: 1 },
  { name: 'ycc 4:2:0 adobe2', sampling: [[2, 2], [1, 1], [1, 1]], adobe: 2 },
  { name: 'ycc 4:4:0', sampling: [[1, 2], [1, 1], [1, 1]], jfif: true },
  { name: 'ycc 4:1:1', sampling: [[4, 1], [1, 1], [1, 1]], jfif: true },
  { name: 'ycc 2x2,2x1,1x1', sampling: [[2, 2], [2, 1], [1, 1]], jfif: true },
  { name: 'ycc 4x2 (4:1:0)', sampling: [[4, 2], [1, 1], [1, 1]], jfif: true },
  { name: 'ycc 4:4:0 adobe1', sampling: [[1, 2], [1, 1], [1, 1]], adobe: 1 },
  { name: 'rgb ids 1x1', sampling: [[1, 1], [1, 1], [1, 1]], ids: [82, 71, 66] },
  { name: 'rgb adobe0 1x1', sampling: [[1, 1], [1, 1], [1, 1]], adobe: 0 },
  { name: 'rgb adobe0 2x2', sampling: [[2, 2], [1, 1], [1, 1]], adobe: 0 },
  { name: 'cmyk adobe0 1x1', sampling: [[1, 1], [1, 1], [1, 1], [1, 1]], adobe: 0 },
  { name: 'cmyk adobe0 2x2', sampling: [[2, 2], [1, 1], [1, 1], [2, 2]], adobe: 0 },
  { name: 'ycck adobe2 2x2', sampling: [[2, 2], [1, 1], [1, 1], [2, 2]], adobe: 2 },
  { name: 'grey', sampling: [[1, 1]] },
  { name: '2 components', sampling: [[1, 1], [1, 1]] },
];

async function probeLayouts(dir: string): Promise<void> {
  const { flatJpeg } = await import('../client-sdk/testing/jpeg-dc-writer.js');
  const { createHash } = await import('node:crypto');
  // Deterministic per (seed, case): bytes of SHA-256 chains (node:crypto), not Math.random
  const stream = (i: number): (() => number) => { let buf = Buffer.alloc(0), k = 0, n = 0; return () => { if (k >= buf.length) { buf = createHash('sha256').update(`${seed}:${i}:${n++}`).digest(); k = 0; } return buf[k++]!; }; };
  const cases = Array.from({ length: count }, (_, i) => {
    const r = stream(i), L = LAYOUTS[i % LAYOUTS.length]!;
    const width = 1 + ((r() << 8 | r()) % 96), height = 1 + ((r() << 8 | r()) % 80);
    const mh = Math.max(...L.sampling.map((s) => s[0])), mv = Math.max(...L.sampling.map((s) => s[1]));
    const mx = Math.ceil(width / (8 * mh)), my = Math.ceil(height / (8 * mv));
    const blocks = L.sampling.map(([h, v]) => Array.from({ length: L.sampling.length === 1 ? Math.ceil(width / 8) * Math.ceil(height / 8) : mx * h * my * v }, () => r()));
    const file = `${String(i).padStart(4, '0')}.jpeg`;
    writeFileSync(join(dir, file), flatJpeg({ width, height, h: 1, v: 1, blocks, sampling: L.sampling, ...(L.ids ? { ids: L.ids } : {}), ...(L.adobe !== undefined ? { adobe: L.adobe } : {}), ...(L.jfif ? { jfif: true } : {}) }));
    return { file, layout: L.name, width, height };
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(cases));
  const dec = spawnSync(PY, [join(here, 'preproc-oracle', 'decode_pillow.py'), dir], { encoding: 'utf8' });
  if (dec.status !== 0) throw new Error(`decode_pillow.py failed: ${dec.stderr}`);
  const pil = JSON.parse(readFileSync(join(dir, 'pillow.json'), 'utf8')) as Record<string, { mode?: string; error?: string }>;
  const rows: { verdict: Verdict; key: string; note: string }[] = [];
  for (const c of cases) {
    const p = pil[c.file]!;
    let img: Awaited<ReturnType<typeof decodeImageNode>>;
    try {
      img = await decodeImageNode(readFileSync(join(dir, c.file)));
    } catch (e) {
      rows.push({ verdict: 'refused', key: `${c.layout} ${codeOf(e)}${p.error ? ' (Pillow fails too)' : ''}`, note: `${c.file} ${c.layout} ${c.width}x${c.height}: ${codeOf(e)}${p.error ? `; Pillow: ${p.error.slice(0, 80)}` : ''}` });
      continue;
    }
    if (p.error) { rows.push({ verdict: 'different', key: `${c.layout} pillow-failed`, note: `${c.file} ${c.layout}: SDK decoded, Pillow raised ${p.error.slice(0, 80)}` }); continue; }
    const rgb = img.channels === 3 ? img.data : Uint8Array.from({ length: img.width * img.height * 3 }, (_, k) => img.data[Math.floor(k / 3) * img.channels]!);
    const d = maxDiff(rgb, readFileSync(join(dir, `${c.file}.decoded`)));
    rows.push({ verdict: d === 0 ? 'equal' : d <= 1 ? 'within-1' : 'different', key: `${c.layout} (Pillow ${p.mode})`, note: `${c.file} ${c.layout} ${c.width}x${c.height}: max|diff| ${d}` });
  }
  tally(rows, `JPEG layouts vs Pillow ${count} (seed ${seed})`);
}

/** Probe 4: the decode alone (no resize), SDK against Pillow, on Pillow-written JPEGs of every encoder setting. */
async function probeJpegQuality(dir: string): Promise<void> {
  const gen = spawnSync(PY, [join(here, 'preproc-oracle', 'gen_jpeg_quality.py'), dir, String(count), String(seed), join(here, '..', '..', 'shared', 'fixtures')], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`gen_jpeg_quality.py failed: ${gen.stderr}`);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { jpegtran: boolean; cases: { file: string; mode: string; w: number; h: number; key: string; kind: string; q: string; sub: string }[] };
  // Pillow's libjpeg-turbo again with its SIMD off (JSIMD_FORCENONE=1: the C jidctint.c the SDK follows) -> <file>.decoded-c
  const c = spawnSync(PY, ['-c', 'import json, sys, numpy as np\nfrom PIL import Image\nfor c in json.load(open(sys.argv[1] + "/manifest.json"))["cases"]:\n    np.asarray(Image.open(sys.argv[1] + "/" + c["file"]), dtype=np.uint8).tofile(sys.argv[1] + "/" + c["file"] + ".decoded-c")', dir], { encoding: 'utf8', env: { ...process.env, JSIMD_FORCENONE: '1' } });
  if (c.status !== 0) throw new Error(`the C-path decode failed: ${c.stderr}`);
  let simdVsC = 0, sdkVsC = 0;
  type G = { files: number; differ: number; refused: number; max: number; samples: number; off: number };
  const groups = new Map<string, G>();
  const add = (k: string, d: number, off: number, samples: number, refused: boolean): void => {
    const g = groups.get(k) ?? { files: 0, differ: 0, refused: 0, max: 0, samples: 0, off: 0 };
    g.files++; g.samples += samples; g.off += off; if (d > 0) g.differ++; if (refused) g.refused++; g.max = Math.max(g.max, d);
    groups.set(k, g);
  };
  const worst: string[] = [];
  for (const c of m.cases) {
    const pil = readFileSync(join(dir, `${c.file}.decoded`)), pilC = readFileSync(join(dir, `${c.file}.decoded-c`)), ch = c.mode === 'L' ? 1 : 3;
    if (!pil.equals(pilC)) simdVsC++;
    let d = 0, off = 0, refused = false;
    try {
      const img = await decodeImageNode(readFileSync(join(dir, c.file)));
      if (img.width !== c.w || img.height !== c.h) throw new Error(`size ${img.width}x${img.height}`);
      let offC = 0;
      for (let p = 0; p < c.w * c.h; p++) for (let k = 0; k < ch; k++) {
        const e = Math.abs(img.data[p * img.channels + k]! - pil[p * ch + k]!);
        if (e) { off++; if (e > d) d = e; }
        if (img.data[p * img.channels + k] !== pilC[p * ch + k]) offC++;
      }
      if (offC) sdkVsC++;
    } catch (e) { refused = true; d = 256; worst.push(`${c.file} ${c.key} ${c.w}x${c.h}: ${codeOf(e)} ${(e as Error).message.slice(0, 100)}`); }
    if (d > 0 && !refused && worst.length < 30) worst.push(`${c.file} ${c.key} ${c.w}x${c.h}: max|diff| ${d}, ${off} of ${c.w * c.h * ch} samples`);
    const flags = c.key.split(' ').filter((t) => t === 'prog' || t === 'opt' || t.startsWith('rst')).join('+') || 'plain';
    for (const k of ['ALL', `${c.mode} ${c.sub}`.trim(), `quant ${c.q}`, `content ${c.kind}`, `coding ${flags}`, `size ${c.w === 1 || c.h === 1 ? '1xN/Nx1' : c.w % 8 || c.h % 8 ? 'not multiple of 8' : 'multiple of 8'}`]) add(k, d, off, c.w * c.h * ch, refused);
  }
  console.log(`\n== JPEG decode vs Pillow 9.4 (libjpeg-turbo), ${count} files (seed ${seed})${m.jpegtran ? '' : '; no jpegtran: no restart intervals'}`);
  console.log('group | files | files differing | refused/failed | max |diff| | differing samples');
  for (const [k, g] of [...groups].sort((a, b) => (a[0] === 'ALL' ? -1 : b[0] === 'ALL' ? 1 : a[0] < b[0] ? -1 : 1))) {
    console.log(`${k} | ${g.files} | ${g.differ} | ${g.refused} | ${g.max} | ${(100 * g.off / Math.max(1, g.samples)).toFixed(3)}%`);
  }
  console.log(`Pillow with SIMD off (JSIMD_FORCENONE=1, libjpeg-turbo's C code): differs from Pillow's default decode in ${simdVsC} files; the SDK differs from it in ${sdkVsC} files`);
  // A crafted file no encoder writes from pixels: flat blocks whose samples lie far outside 0..255 before the clamp
  // (x = 100 .. 1200 and -100 .. -1000 after the IDCT, client-sdk/testing/jpeg-coef-writer.ts)
  const { coefJpeg } = await import('../client-sdk/testing/jpeg-coef-writer.js');
  const ks = [100, 300, 511, 512, 800, 895, 896, 1000, 1200, -100, -300, -512, -513, -600, -896, -897, -1000];
  writeFileSync(join(dir, 'crafted.jpeg'), coefJpeg({ width: 8 * ks.length, height: 8, qt: new Array<number>(64).fill(8), blocks: [ks.map((k) => [k, ...new Array<number>(63).fill(0)])] }));
  const dec = (simd: boolean): number[] => [...spawnSync(PY, ['-c', 'import sys, numpy as np\nfrom PIL import Image\nsys.stdout.buffer.write(np.asarray(Image.open(sys.argv[1]), dtype=np.uint8)[0, ::8].tobytes())', join(dir, 'crafted.jpeg')], { env: { ...process.env, ...(simd ? {} : { JSIMD_FORCENONE: '1' }) } }).stdout];
  const sdk = await decodeImageNode(readFileSync(join(dir, 'crafted.jpeg')));
  const mine = ks.map((_, i) => sdk.data[i * 8 * sdk.channels]!), pSimd = dec(true), pC = dec(false);
  const n = (a: number[]): number => a.filter((v, i) => v !== mine[i]).length;
  console.log(`crafted out-of-range file (x = ${ks.join(', ')}): SDK ${mine.join(' ')}; Pillow SIMD off ${pC.join(' ')} (${n(pC)} blocks differ); Pillow default ${pSimd.join(' ')} (${n(pSimd)} blocks differ)`);
  for (const w of worst) console.log(`  ${w}`);
}

/** Probe 4b: the probe-4 grey baseline JPEGs inside DICOM files (gen_dicom_jpeg.py): the SDK's DICOM path (dcmjs-codecs) against pydicom. */
async function probeDicomJpeg(dir: string): Promise<void> {
  const gen = spawnSync(PY, [join(here, 'preproc-oracle', 'gen_jpeg_quality.py'), dir, String(count), String(seed), join(here, '..', '..', 'shared', 'fixtures')], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`gen_jpeg_quality.py failed: ${gen.stderr}`);
  const wrap = spawnSync(PY, [join(here, 'preproc-oracle', 'gen_dicom_jpeg.py'), dir], { encoding: 'utf8' });
  if (wrap.status !== 0) throw new Error(`gen_dicom_jpeg.py failed: ${wrap.stderr}`);
  const cases = JSON.parse(readFileSync(join(dir, 'dicom-jpeg.json'), 'utf8')) as { file: string; key: string; w: number; h: number; error?: string }[];
  let equal = 0, differ = 0, failed = 0, max = 0, vsNode = 0;
  const notes: string[] = [];
  for (const c of cases) {
    if (c.error) { failed++; notes.push(`${c.file} ${c.key}: pydicom raised ${c.error.slice(0, 80)}`); continue; }
    try {
      const img = await decodeDicom(readFileSync(join(dir, c.file)));
      const d = maxDiff(img.data, readFileSync(join(dir, `${c.file}.expect`)));
      // and against the SDK's own Node JPEG decode of the same codestream
      const node = await decodeImageNode(readFileSync(join(dir, c.file.replace(/\.dcm$/, ''))));
      if (maxDiff(img.data, Uint8Array.from({ length: c.w * c.h }, (_, p) => node.data[p * node.channels]!)) > 0) vsNode++;
      if (d === 0) equal++; else { differ++; max = Math.max(max, d); if (notes.length < 20) notes.push(`${c.file} ${c.key} ${c.w}x${c.h}: max|diff| ${d}`); }
    } catch (e) { failed++; notes.push(`${c.file} ${c.key}: SDK ${codeOf(e)} ${(e as Error).message.slice(0, 100)}`); }
  }
  console.log(`\n== DICOM JPEG Baseline (grey) vs pydicom ${pydicomVersion()}: ${cases.length} files: equal ${equal}, differ ${differ} (max |diff| ${max}), failed ${failed}; the SDK's DICOM decode differs from its Node JPEG decode of the same codestream in ${vsNode}`);
  for (const n of notes) console.log(`  ${n}`);
}

const pydicomVersion = (): string => spawnSync(PY, ['-c', 'import pydicom; print(pydicom.__version__)'], { encoding: 'utf8' }).stdout.trim();

async function probeDicom(dir: string): Promise<void> {
  const gen = spawnSync(PY, [join(here, 'preproc-oracle', 'gen_dicom.py'), dir, String(count), String(seed), ...(what === 'dicom-luts' ? ['luts'] : what === 'dicom-rle' ? ['rle'] : [])], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`gen_dicom.py failed: ${gen.stderr}`);
  const cases = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, string>[];
  const rows: { verdict: Verdict; key: string; note: string }[] = [];
  for (const c of cases) {
    const key = c.key!;
    let got: Uint8Array;
    try {
      got = (await decodeDicom(readFileSync(join(dir, c.file!)), c.frame === undefined ? {} : { frame: Number(c.frame) })).data as Uint8Array;
    } catch (e) {
      const asStandard = c.refuse !== undefined && (e as { reason?: string }).reason === c.refuse;
      rows.push({ verdict: asStandard ? 'refused-as-standard' : 'refused', key: `${key} ${codeOf(e)}`, note: `${c.file} ${c.desc}: ${codeOf(e)} ${(e as Error).message.slice(0, 140)}` });
      continue;
    }
    // gen_dicom.py 'luts': a layout the standard says to refuse (LUT data shorter than its descriptor) came back decoded
    if (c.refuse !== undefined) { rows.push({ verdict: 'different', key: `${key} not-refused`, note: `${c.file} ${c.desc}: decoded; expected ${c.refuse}` }); continue; }
    // ... or one only the standard's lookup (computed in gen_dicom.py) defines: pydicom 2.3.1 raised on it or reads it otherwise
    if (c.expect === undefined && c.std !== undefined) {
      const d = maxDiff(got, readFileSync(join(dir, c.std)));
      rows.push({ verdict: d === 0 ? 'equal' : d <= 1 ? 'within-1' : 'different', key: `${key} vs PS3.3 (pydicom ${c.error ? 'raised' : c.pydicom === 'ran' ? 'ran' : 'not run'})`, note: `${c.file} ${c.desc}: max|diff| ${d} vs the standard's lookup${c.error ? `; pydicom raised ${c.error}` : ''}` });
      continue;
    }
    if (c.expect === undefined) { rows.push({ verdict: 'different', key: `${key} pydicom-failed`, note: `${c.file} ${c.desc}: pydicom raised ${c.error}` }); continue; }
    const expect = readFileSync(join(dir, c.expect));
    const d = maxDiff(got, expect);
    let where = '';
    if (d > 0 && d !== Infinity) { for (let i = 0; i < got.length; i++) if (got[i] !== expect[i]) { where = ` first at ${i}: sdk ${got[i]} pydicom ${expect[i]}`; break; } }
    // A VOI LUT case that differs from pydicom but equals the standard's table lookup (rounded, no uint8 index): pydicom 2.3.1's
    const std = d > 1 && c.std !== undefined ? maxDiff(got, readFileSync(join(dir, c.std))) : Infinity;
    if (std === 0) { rows.push({ verdict: 'pydicom-differs', key, note: `${c.file} ${c.desc}: max|diff| ${d} vs pydicom, 0 vs PS3.3 C.11.2.1.1 (rounded, int index)` }); continue; }
    // README "DICOM": padding left out of the pixel-range fallback; a signed image's LUT first value mapped read signed
    // when written as US (pydicom reads it unsigned in explicit VR: every pixel before the table)
    const documented = d > 1 && ((/ padding/.test(key) && /range/.test(key)) || /signedfirst-US/.test(key));
    rows.push({ verdict: d === 0 ? 'equal' : d <= 1 ? 'within-1' : documented ? 'documented' : 'different', key, note: `${c.file} ${c.desc}: max|diff| ${d}${where}` });
  }
  tally(rows, `DICOM vs pydicom ${count} (seed ${seed})`);
}

const mods = what === 'dicom-jpeg' ? 'PIL, pydicom, numpy' : what === 'dicom' || what === 'dicom-luts' || what === 'dicom-rle' ? 'pydicom, numpy' : what === 'images' || what === 'layouts' || what === 'png-chunks' || what === 'jpeg-quality' ? 'PIL, numpy' : 'PIL, pydicom, numpy';
if (!havePython(mods)) {
  console.log(`skipped: ${PY} lacks ${mods}`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'preproc-oracle-'));
  try {
    if (what === 'layouts') await probeLayouts(dir);
    else if (what === 'jpeg-quality') await probeJpegQuality(dir);
    else if (what === 'dicom-jpeg') await probeDicomJpeg(dir);
    else if (what === 'png-chunks') await probeImages(join(dir, ''), ['chunks']);
    else if (!what.startsWith('dicom')) await probeImages(join(dir, ''));
    if (what !== 'images' && what !== 'layouts' && what !== 'png-chunks' && what !== 'jpeg-quality' && what !== 'dicom-jpeg') { const d2 = mkdtempSync(join(tmpdir(), 'preproc-oracle-dcm-')); try { await probeDicom(d2); } finally { rmSync(d2, { recursive: true, force: true }); } }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
