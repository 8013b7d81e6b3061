/**
 * 16-bit quantisation steps against libjpeg's C code: grey JPEGs written by client-sdk/testing/jpeg-coef-writer.ts
 * with tables whose steps are 32768..65535 (negative as libjpeg-turbo's ISLOW_MULT_TYPE, a short in builds WITH_SIMD)
 * or 256..32767, and drawn coefficients; decoded by the SDK (decodeJpegNode) and by Pillow with SIMD off
 * (JSIMD_FORCENONE=1: jidctint.c) and on. Prints how many files and samples differ. Needs /usr/bin/python3 with
 * Pillow and numpy. Coefficients from a SHA-256 stream of the seed.
 *
 *   npx tsx bench/jpeg-16bit-steps.ts [files=40] [seed=1]
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJpegNode } from '../client-sdk/src/image/decode-node.js';
import { coefJpeg } from '../client-sdk/testing/jpeg-coef-writer.js';

const [nArg = '40', seed = '1'] = process.argv.slice(2);
let ctr = 0, buf = Buffer.alloc(0), k = 0;
const r = (): number => { if (k >= buf.length) { buf = createHash('sha256').update(`${seed}:${ctr++}`).digest(); k = 0; } return buf[k++]!; };
const u16 = (): number => (r() << 8) | r();
const dir = mkdtempSync(join(tmpdir(), 'jpeg16-'));
const sdk: (Uint8Array | Uint8ClampedArray)[] = [];
const n = Number(nArg);
for (let f = 0; f < n; f++) {
  const high = f % 2 === 0; // even files: steps 32768..65535 (int16 negative); odd: 256..32767
  const qt = Array.from({ length: 64 }, () => (high ? 32768 + (u16() & 0x7fff) : 256 + (u16() % 32512)));
  const w = 16, h = 16, blocks = 4;
  let dc = 0;
  const comp = Array.from({ length: blocks }, () => Array.from({ length: 64 }, (_, i) => {
    if (i === 0) { dc = Math.max(-2047, Math.min(2047, dc + (r() % 21) - 10)); return dc; }
    return r() < 40 ? (r() % 7) - 3 : 0;
  }));
  const bytes = coefJpeg({ width: w, height: h, qt, blocks: [comp] });
  writeFileSync(join(dir, `${f}.jpeg`), bytes);
  sdk.push(decodeJpegNode(bytes).data);
}
const py = (simdOff: boolean): Buffer[] => {
  const p = spawnSync('/usr/bin/python3', ['-c', 'import sys, numpy as np\nfrom PIL import Image\nfor i in range(int(sys.argv[2])):\n    sys.stdout.buffer.write(np.asarray(Image.open(f"{sys.argv[1]}/{i}.jpeg").convert("RGB"), dtype=np.uint8).tobytes())', dir, String(n)], { env: { ...process.env, ...(simdOff ? { JSIMD_FORCENONE: '1' } : {}) }, maxBuffer: 1 << 26 });
  if (p.status !== 0) throw new Error(`python3: ${p.stderr.toString()}`);
  return Array.from({ length: n }, (_, i) => p.stdout.subarray(i * 768, (i + 1) * 768));
};
for (const simdOff of [true, false]) {
  const ref = py(simdOff);
  let files = 0, samples = 0, filesHigh = 0;
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let j = 0; j < 768; j++) if (ref[i]![j] !== sdk[i]![j]) d++;
    if (d) { files++; samples += d; if (i % 2 === 0) filesHigh++; }
  }
  console.log(`Pillow ${simdOff ? 'SIMD off (C jidctint.c)' : 'SIMD on (default)'}: ${files} of ${n} files differ from the SDK (${filesHigh} of them with steps >= 32768), ${samples} samples`);
}
rmSync(dir, { recursive: true, force: true });
