/**
 * The SDK's Node JPEG decoder (client-sdk/src/image/jpeg-decoder.ts, jpeg-scan.ts: jpeg-js 0.4.4 brought into the
 * SDK with libjpeg's IDCT) is jpeg-js unchanged but for the IDCT: run with jpeg-js's own IDCT (its
 * quantizeAndInverse, ported below), it must give jpeg-js's result on every file, valid or not: the same size and
 * samples, or an error where jpeg-js throws one (the same message). Files: the X-ray fixtures, jpeg-js-encoded random
 * images (quality 1..100), Pillow's progressive / optimized files (where /usr/bin/python3 has Pillow), flat-block files of every layout (client-sdk/testing/jpeg-dc-writer.ts: 4:2:0, 4:1:1,
 * CMYK, YCCK, 2 components, Adobe), and corruptions of the small ones (truncated, bytes flipped, bytes inserted,
 * a marker dropped), drawn from a SHA-256 stream (node:crypto) of the seed. Exit 1 on any difference.
 *
 *   nice -n 10 npx tsx bench/jpeg-port-check.ts [corruptionsPerFile=40] [seed=1]
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { decodeJpegJs, type JpegDecodeOptions } from '../client-sdk/src/image/jpeg-decoder.js';
import { flatJpeg } from '../client-sdk/testing/jpeg-dc-writer.js';

const [perArg = '40', seedArg = '1'] = process.argv.slice(2);
const per = Number(perArg), seed = seedArg;

/** jpeg-js 0.4.4's quantizeAndInverse (pdf.js / poppler IDCT), as a BlockIdct. */
function jpegJsIdct(zz: Int32Array, qt: Int32Array, _ws: Float64Array, out: Uint8Array, offset: number, stride: number): void {
  const p = new Int32Array(64);
  const c1 = 4017, s1 = 799, c3 = 3406, s3 = 2276, c6 = 1567, s6 = 3784, r2 = 5793, r1d2 = 2896;
  let v0, v1, v2, v3, v4, v5, v6, v7, t;
  for (let i = 0; i < 64; i++) p[i] = zz[i]! * qt[i]!;
  for (let i = 0; i < 8; ++i) {
    const row = 8 * i;
    if (p[1 + row] === 0 && p[2 + row] === 0 && p[3 + row] === 0 && p[4 + row] === 0 && p[5 + row] === 0 && p[6 + row] === 0 && p[7 + row] === 0) {
      t = (r2 * p[row]! + 512) >> 10;
      for (let k = 0; k < 8; k++) p[k + row] = t;
      continue;
    }
    v0 = (r2 * p[row]! + 128) >> 8; v1 = (r2 * p[4 + row]! + 128) >> 8; v2 = p[2 + row]!; v3 = p[6 + row]!;
    v4 = (r1d2 * (p[1 + row]! - p[7 + row]!) + 128) >> 8; v7 = (r1d2 * (p[1 + row]! + p[7 + row]!) + 128) >> 8;
    v5 = p[3 + row]! << 4; v6 = p[5 + row]! << 4;
    t = (v0 - v1 + 1) >> 1; v0 = (v0 + v1 + 1) >> 1; v1 = t;
    t = (v2 * s6 + v3 * c6 + 128) >> 8; v2 = (v2 * c6 - v3 * s6 + 128) >> 8; v3 = t;
    t = (v4 - v6 + 1) >> 1; v4 = (v4 + v6 + 1) >> 1; v6 = t;
    t = (v7 + v5 + 1) >> 1; v5 = (v7 - v5 + 1) >> 1; v7 = t;
    t = (v0 - v3 + 1) >> 1; v0 = (v0 + v3 + 1) >> 1; v3 = t;
    t = (v1 - v2 + 1) >> 1; v1 = (v1 + v2 + 1) >> 1; v2 = t;
    t = (v4 * s3 + v7 * c3 + 2048) >> 12; v4 = (v4 * c3 - v7 * s3 + 2048) >> 12; v7 = t;
    t = (v5 * s1 + v6 * c1 + 2048) >> 12; v5 = (v5 * c1 - v6 * s1 + 2048) >> 12; v6 = t;
    p[row] = v0 + v7; p[7 + row] = v0 - v7; p[1 + row] = v1 + v6; p[6 + row] = v1 - v6;
    p[2 + row] = v2 + v5; p[5 + row] = v2 - v5; p[3 + row] = v3 + v4; p[4 + row] = v3 - v4;
  }
  for (let col = 0; col < 8; ++col) {
    if (p[8 + col] === 0 && p[16 + col] === 0 && p[24 + col] === 0 && p[32 + col] === 0 && p[40 + col] === 0 && p[48 + col] === 0 && p[56 + col] === 0) {
      t = (r2 * p[col]! + 8192) >> 14; // jpeg-js reads dataIn[i], the same array
      for (let k = 0; k < 64; k += 8) p[k + col] = t;
      continue;
    }
    v0 = (r2 * p[col]! + 2048) >> 12; v1 = (r2 * p[32 + col]! + 2048) >> 12; v2 = p[16 + col]!; v3 = p[48 + col]!;
    v4 = (r1d2 * (p[8 + col]! - p[56 + col]!) + 2048) >> 12; v7 = (r1d2 * (p[8 + col]! + p[56 + col]!) + 2048) >> 12;
    v5 = p[24 + col]!; v6 = p[40 + col]!;
    t = (v0 - v1 + 1) >> 1; v0 = (v0 + v1 + 1) >> 1; v1 = t;
    t = (v2 * s6 + v3 * c6 + 2048) >> 12; v2 = (v2 * c6 - v3 * s6 + 2048) >> 12; v3 = t;
    t = (v4 - v6 + 1) >> 1; v4 = (v4 + v6 + 1) >> 1; v6 = t;
    t = (v7 + v5 + 1) >> 1; v5 = (v7 - v5 + 1) >> 1; v7 = t;
    t = (v0 - v3 + 1) >> 1; v0 = (v0 + v3 + 1) >> 1; v3 = t;
    t = (v1 - v2 + 1) >> 1; v1 = (v1 + v2 + 1) >> 1; v2 = t;
    t = (v4 * s3 + v7 * c3 + 2048) >> 12; v4 = (v4 * c3 - v7 * s3 + 2048) >> 12; v7 = t;
    t = (v5 * s1 + v6 * c1 + 2048) >> 12; v5 = (v5 * c1 - v6 * s1 + 2048) >> 12; v6 = t;
    p[col] = v0 + v7; p[56 + col] = v0 - v7; p[8 + col] = v1 + v6; p[48 + col] = v1 - v6;
    p[16 + col] = v2 + v5; p[40 + col] = v2 - v5; p[24 + col] = v3 + v4; p[32 + col] = v3 - v4;
  }
  for (let i = 0; i < 64; ++i) {
    const sample = 128 + ((p[i]! + 8) >> 4);
    out[offset + (i >> 3) * stride + (i & 7)] = sample < 0 ? 0 : sample > 0xff ? 0xff : sample;
  }
}

let ctr = 0;
const stream = (tag: string): (() => number) => { let buf = Buffer.alloc(0), k = 0; return () => { if (k >= buf.length) { buf = createHash('sha256').update(`${seed}:${tag}:${ctr++}`).digest(); k = 0; } return buf[k++]!; }; };
const r = stream('main');
const u16 = (): number => (r() << 8) | r();

const files: { name: string; bytes: Uint8Array; small: boolean }[] = [];
const fx = join(import.meta.dirname, '..', '..', 'shared', 'fixtures', 'xray');
for (const d of ['NORMAL', 'PNEUMONIA']) {
  try { for (const f of readdirSync(join(fx, d))) files.push({ name: `${d}/${f}`, bytes: readFileSync(join(fx, d, f)), small: false }); } catch { /* fixtures absent: the generated files only */ }
}
for (let i = 0; i < 24; i++) {
  const w = 1 + (u16() % 90), h = 1 + (u16() % 70), data = new Uint8Array(w * h * 4);
  for (let k = 0; k < data.length; k++) data[k] = i % 3 === 0 ? r() : (((k >> 2) % w) * 3 + Math.floor((k >> 2) / w) * 2 + (r() & 15)) & 255;
  files.push({ name: `jpeg-js q${1 + (i * 7) % 100} ${w}x${h}`, bytes: jpeg.encode({ width: w, height: h, data }, 1 + (i * 7) % 100).data, small: true });
}
const LAYOUTS: [number, number][][] = [[[1, 1]], [[2, 2], [1, 1], [1, 1]], [[2, 1], [1, 1], [1, 1]], [[4, 1], [1, 1], [1, 1]], [[1, 1], [1, 1], [1, 1], [1, 1]], [[2, 2], [1, 1], [1, 1], [2, 2]], [[1, 1], [1, 1]]];
for (let i = 0; i < LAYOUTS.length * 2; i++) {
  const sampling = LAYOUTS[i % LAYOUTS.length]!, width = 1 + (u16() % 60), height = 1 + (u16() % 50);
  const mh = Math.max(...sampling.map((s) => s[0])), mv = Math.max(...sampling.map((s) => s[1]));
  const mx = Math.ceil(width / (8 * mh)), my = Math.ceil(height / (8 * mv));
  const blocks = sampling.map(([sh, sv]) => Array.from({ length: sampling.length === 1 ? Math.ceil(width / 8) * Math.ceil(height / 8) : mx * sh * my * sv }, () => r()));
  const adobe = sampling.length === 4 ? (i < LAYOUTS.length ? 0 : 2) : i >= LAYOUTS.length ? 1 : undefined;
  files.push({ name: `flat ${sampling.map((s) => s.join('x')).join(',')}${adobe !== undefined ? ` adobe${adobe}` : ''} ${width}x${height}`, bytes: flatJpeg({ width, height, h: 1, v: 1, blocks, sampling, ...(adobe !== undefined ? { adobe } : {}) }), small: true });
}

// Progressive and optimized files from Pillow where /usr/bin/python3 has it (jpeg-js's encoder writes baseline only)
const pyDir = mkdtempSync(join(tmpdir(), 'jpeg-port-'));
const py = spawnSync('/usr/bin/python3', ['-c', `import sys, numpy as np
from PIL import Image
rng = np.random.default_rng(${Number(seed)})
for i in range(12):
    w, h = int(rng.integers(1, 80)), int(rng.integers(1, 60))
    a = np.clip(rng.normal(128, 60, (h, w, 3)), 0, 255).astype(np.uint8)
    im = Image.fromarray(a, 'RGB') if i % 2 else Image.fromarray(a[:, :, 0], 'L')
    im.save(f'{sys.argv[1]}/{i}.jpeg', quality=int(rng.integers(1, 100)), progressive=i % 3 != 2, optimize=i % 4 == 0, subsampling=i % 3)`, pyDir]);
if (py.status === 0) for (const f of readdirSync(pyDir)) files.push({ name: `pillow ${f}`, bytes: readFileSync(join(pyDir, f)), small: true });
else console.log('no /usr/bin/python3 with Pillow and numpy: no progressive files');
rmSync(pyDir, { recursive: true, force: true });

function corrupt(b: Uint8Array, k: number): Uint8Array {
  const at = (n: number): number => (u16() * 256 + r()) % Math.max(1, n);
  switch (k % 4) {
    case 0: return b.subarray(0, at(b.length));
    case 1: { const c = Uint8Array.from(b); for (let i = 0, n = 1 + (r() % 4); i < n; i++) c[at(c.length)] = r(); return c; }
    case 2: { const p = at(b.length), ins = Uint8Array.from({ length: 1 + (r() % 3) }, () => (r() & 1 ? 0xff : r())); const c = new Uint8Array(b.length + ins.length); c.set(b.subarray(0, p)); c.set(ins, p); c.set(b.subarray(p), p + ins.length); return c; }
    default: { const p = at(b.length - 1), c = Uint8Array.from(b); if (c[p] === 0xff) c[p + 1] = r(); else c[p] = 0xff; return c; }
  }
}

type Out = { ok: true; w: number; h: number; data: Uint8Array } | { ok: false; msg: string };
const run = (f: () => { width: number; height: number; data: Uint8Array }): Out => {
  try { const x = f(); return { ok: true, w: x.width, h: x.height, data: x.data }; } catch (e) { return { ok: false, msg: (e as Error).message }; }
};
const same = (a: Out, b: Out): boolean => (a.ok && b.ok ? a.w === b.w && a.h === b.h && Buffer.from(a.data).equals(Buffer.from(b.data)) : !a.ok && !b.ok && a.msg === b.msg);

const optSets: JpegDecodeOptions[] = [
  { formatAsRGBA: false, tolerantDecoding: true, maxResolutionInMP: 100, maxMemoryUsageInMB: 1024, colorTransform: false },
  { formatAsRGBA: false, tolerantDecoding: true, maxResolutionInMP: 100, maxMemoryUsageInMB: 1024 },
  { formatAsRGBA: true, tolerantDecoding: false, maxResolutionInMP: 0.002, maxMemoryUsageInMB: 1 },
];
let cases = 0, decoded = 0, errors = 0;
const bad: string[] = [];
for (const f of files) {
  const variants = [f.bytes, ...(f.small ? Array.from({ length: per }, (_, k) => corrupt(f.bytes, k)) : [])];
  for (const [vi, bytes] of variants.entries()) {
    for (const [oi, o] of optSets.entries()) {
      if (!f.small && oi === 2) continue;
      const a = run(() => jpeg.decode(bytes, { ...o, useTArray: true })), b = run(() => decodeJpegJs(bytes, o, jpegJsIdct));
      cases++;
      if (a.ok) decoded++; else errors++;
      if (!same(a, b)) bad.push(`${f.name} variant ${vi} opts ${oi}: jpeg-js ${a.ok ? `${a.w}x${a.h}` : a.msg} / port ${b.ok ? `${b.w}x${b.h}` : b.msg}`);
    }
  }
}
console.log(`${files.length} files, ${per} corruptions per small file, ${cases} decodes: jpeg-js decoded ${decoded}, threw ${errors}; port with jpeg-js's IDCT different in ${bad.length}`);
for (const b of bad.slice(0, 20)) console.log(`  ${b}`);
process.exit(bad.length ? 1 : 0);
