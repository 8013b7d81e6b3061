/**
 * Hostile PNG metadata against the PNG orientation reader (client-sdk/src/image/png.ts pngExifOrientation): CPU per
 * file (process.cpuUsage, this process) and the answer or the error, for the checkout at --root (default: this one),
 * so a baseline checkout can be compared in alternation:
 *   npx tsx bench/png-meta-bomb.ts [--root ../other-checkout]
 * Files: a tEXt keyword of 3 MB (no NUL before it); 200 zTXt chunks of 8 MiB of zeros each (1.6 MB of file) under an
 * unrelated keyword and under "Raw profile type exif" (behind one good profile, orientation 6); 40 tEXt of 1 MiB.
 */
import { crc32, deflateSync } from 'node:zlib';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { writePng } from '../client-sdk/testing/png-writer.js';

const argv = process.argv.slice(2);
const root = path.resolve(argv.includes('--root') ? argv[argv.indexOf('--root') + 1]! : path.join(import.meta.dirname, '..'));
const chunk = (type: string, data: Uint8Array): Buffer => {
  const c = Buffer.alloc(12 + data.length);
  c.writeUInt32BE(data.length, 0);
  c.write(type, 4, 'latin1');
  c.set(data, 8);
  c.writeUInt32BE(crc32(c.subarray(4, 8 + data.length)), 8 + data.length);
  return c;
};
const plain = writePng({ width: 4, height: 2, colorType: 0, depth: 8, samples: Uint8Array.from({ length: 8 }, (_, i) => 10 + 30 * i) });
const withChunks = (cs: Buffer[]): Buffer => Buffer.concat([plain.subarray(0, 33), ...cs, plain.subarray(33)]);
const A = (t: string): Buffer => Buffer.from(t, 'latin1');
const tiff6 = Buffer.from('4d4d002a000000080001011200030000000100060000', 'hex');
const hex = Buffer.concat([A('Exif\0\0'), tiff6]).toString('hex');
const goodRaw = chunk('tEXt', Buffer.concat([A('Raw profile type exif\0'), A(`\nexif\n${String(hex.length / 2).padStart(8)}\n${hex}\n`)]));
const bomb = deflateSync(Buffer.alloc(8 << 20));
const key = Buffer.alloc(3_000_000, 0x41);
key[key.length - 10] = 0;
const files: Record<string, Buffer> = {
  'tEXt keyword of 3 MB': withChunks([chunk('tEXt', key)]),
  '200 zTXt bombs, other keyword': withChunks([goodRaw, ...Array.from({ length: 200 }, () => chunk('zTXt', Buffer.concat([A('Comment\0\0'), bomb])))]),
  '200 zTXt bombs, raw-profile keyword': withChunks([goodRaw, ...Array.from({ length: 200 }, () => chunk('zTXt', Buffer.concat([A('Raw profile type exif\0\0'), bomb])))]),
  '40 tEXt of 1 MiB': withChunks(Array.from({ length: 40 }, () => chunk('tEXt', Buffer.concat([A('Comment\0'), Buffer.alloc(1 << 20, 0x41)])))),
};
const { pngExifOrientation } = (await import(pathToFileURL(path.join(root, 'client-sdk/src/image/png.ts')).href)) as { pngExifOrientation: (b: Uint8Array) => number };
for (const [name, f] of Object.entries(files)) {
  const t0 = process.cpuUsage();
  let r: string;
  try { r = String(pngExifOrientation(f)); } catch (e) { r = `${(e as Error).name} ${(e as { code?: string }).code ?? ''} ${(e as Error).message.slice(0, 40)}`.trim(); }
  const c = process.cpuUsage(t0);
  console.log(`${name.padEnd(36)} ${(f.length / 1e6).toFixed(2).padStart(6)} MB  cpu ${((c.user + c.system) / 1000).toFixed(0).padStart(6)} ms  -> ${r}`);
}
