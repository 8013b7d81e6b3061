/**
 * Decode time of the SDK's Node JPEG path, before (jpeg-js 0.4.4 from npm: pdf.js's IDCT, then libjpeg's
 * upsampling and colour conversion, as decode-node.ts did) against now (decodeJpegNode: the decoder in
 * client-sdk/src/image/jpeg-decoder.ts with libjpeg's islow IDCT, jpeg-idct.ts), alternating in one process,
 * CPU time of this process (process.cpuUsage, user + system), medians. Files: a photo-like 2000 x 2500 grey and
 * 3000 x 2000 colour 4:2:0 JPEG written by Pillow (/usr/bin/python3) at quality 90; without Pillow, jpeg-js's encoder
 * (colour 4:4:4 only, said so); and the 2297 x 2032 X-ray fixture NORMAL/IM-0043-0001.jpeg where present. Also checks that both give the same size and that the new one equals Pillow's decode
 * where Pillow wrote the file.
 *
 *   nice -n 10 npx tsx bench/jpeg-idct-speed.ts [rounds=7]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { decodeJpegNode } from '../client-sdk/src/image/decode-node.js';
import { jpegOrientation } from '../client-sdk/src/image/exif.js';
import { jpegSupport, withoutAdobe } from '../client-sdk/src/image/jpeg-markers.js';
import { libjpegRgb } from '../client-sdk/src/image/jpeg-upsample.js';

const rounds = Number(process.argv[2] ?? 7);

/** decode-node.ts's JPEG path before this change (jpeg-js from npm), refusals left out (the files are accepted layouts). */
function before(bytes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const layout = jpegSupport(bytes);
  const own = layout?.kind === 'ycc' || layout?.kind === 'rgb';
  let r: { width: number; height: number; data: Uint8Array } = jpeg.decode(layout?.kind === 'ycc' ? withoutAdobe(bytes) : bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: true, maxResolutionInMP: 100, maxMemoryUsageInMB: 1024, ...(own ? { colorTransform: false } : {}) });
  if (layout?.kind === 'ycc') r = { ...r, data: libjpegRgb(r.data, r.width, r.height, layout.h, layout.v) };
  jpegOrientation(bytes);
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'jpeg-speed-'));
const files: { name: string; bytes: Uint8Array; pillow?: Uint8Array }[] = [];
try {
  const py = spawnSync('/usr/bin/python3', ['-c', `import sys, numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.default_rng(5)
def photo(w, h, c):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    a = np.stack([128 + 60 * np.cos(xx / (37 + 11 * k)) * np.sin(yy / (53 - 7 * k)) + 30 * np.sin((xx + yy) / 211) for k in range(c)], axis=2)
    return np.clip(a + rng.normal(0, 6, (h, w, c)), 0, 255).astype(np.uint8)
Image.fromarray(photo(2000, 2500, 1)[:, :, 0], 'L').save(d + '/grey.jpeg', quality=90)
Image.fromarray(photo(3000, 2000, 3), 'RGB').save(d + '/colour.jpeg', quality=90, subsampling=2)
for n in ('grey', 'colour'):
    np.asarray(Image.open(d + '/' + n + '.jpeg').convert('RGB'), dtype=np.uint8).tofile(d + '/' + n + '.pillow')`, dir]);
  if (py.status === 0) {
    for (const n of ['grey', 'colour']) files.push({ name: `${n === 'grey' ? '2000 x 2500 grey' : '3000 x 2000 colour 4:2:0'} (Pillow q90)`, bytes: readFileSync(join(dir, `${n}.jpeg`)), pillow: readFileSync(join(dir, `${n}.pillow`)) });
  } else {
    console.log('no /usr/bin/python3 with Pillow: jpeg-js-encoded files (4:4:4; grey as 3 equal channels)');
    for (const [w, h, grey] of [[2000, 2500, true], [3000, 2000, false]] as const) {
      const data = new Uint8Array(w * h * 4);
      for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) data[i * 4 + k] = (128 + 60 * Math.cos((i % w) / (37 + (grey ? 0 : 11 * k))) * Math.sin(Math.floor(i / w) / 53)) | 0;
      files.push({ name: `${w} x ${h} ${grey ? 'grey-looking' : 'colour'} 4:4:4 (jpeg-js q90)`, bytes: jpeg.encode({ width: w, height: h, data }, 90).data });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
// A real chest X-ray (grey baseline, 2297 x 2032) from the fixtures beside the clone, where present
const xray = join(import.meta.dirname, '..', '..', 'shared', 'fixtures', 'xray', 'NORMAL', 'IM-0043-0001.jpeg');
if (existsSync(xray)) files.push({ name: 'X-ray fixture NORMAL/IM-0043-0001.jpeg, 2297 x 2032 grey', bytes: readFileSync(xray) });

const cpu = (f: () => unknown): number => { const t = process.cpuUsage(); f(); const d = process.cpuUsage(t); return (d.user + d.system) / 1000; };
const med = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]!; };
console.log('| image | before (jpeg-js IDCT) ms CPU | now (libjpeg islow) ms CPU | now / before | now equals Pillow |');
console.log('|---|---|---|---|---|');
for (const f of files) {
  const a = before(f.bytes), b = decodeJpegNode(f.bytes);
  if (a.width !== b.width || a.height !== b.height) throw new Error('sizes differ');
  const eq = f.pillow ? (Buffer.from(b.data).equals(f.pillow) ? 'yes' : 'NO') : 'not checked';
  const t = { old: [] as number[], now: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    if (r % 2) { t.now.push(cpu(() => decodeJpegNode(f.bytes))); t.old.push(cpu(() => before(f.bytes))); }
    else { t.old.push(cpu(() => before(f.bytes))); t.now.push(cpu(() => decodeJpegNode(f.bytes))); }
  }
  console.log(`| ${f.name}, ${f.bytes.length} bytes | ${med(t.old).toFixed(0)} | ${med(t.now).toFixed(0)} | ${(med(t.now) / med(t.old)).toFixed(2)} | ${eq} |`);
}
