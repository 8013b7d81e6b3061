/**
 * CPU time of crafted progressive JPEGs (client-sdk/testing/jpeg-hostile.ts manyScansJpeg: `scans` AC scans of
 * end-of-band runs over a width x height grey frame, about 100 bytes a scan) in jpeg-js 0.4.4, in the SDK's decoder
 * without a scan limit (decodeJpegJs, as jpeg-js) and in the SDK's Node path (decodeJpegNode: at most 100 scans,
 * decode-node.ts). Each decoder runs `reps` times, in alternating order; prints user+system CPU seconds per decode
 * and the process's max RSS. With `frames` first: manyFramesJpeg (one scan, then frames - 1 more frame headers),
 * decodeJpegNode only, once.
 *
 *   nice -n 10 npx tsx bench/jpeg-hostile.ts [width=8000] [height=8000] [scans=1000] [reps=2]
 *   nice -n 10 npx tsx bench/jpeg-hostile.ts frames [width=10000] [height=10000] [frames=3]
 */
import jpeg from 'jpeg-js';
import { decodeJpegNode } from '../client-sdk/src/image/decode-node.js';
import { decodeJpegJs } from '../client-sdk/src/image/jpeg-decoder.js';
import { manyFramesJpeg, manyScansJpeg } from '../client-sdk/testing/jpeg-hostile.js';

if (process.argv[2] === 'frames') {
  const [fw = 10000, fh = 10000, frames = 3] = process.argv.slice(3).map(Number);
  const f = manyFramesJpeg(fw, fh, frames);
  const c0 = process.cpuUsage();
  let outcome = 'decoded';
  try { decodeJpegNode(f); } catch (e) { outcome = `threw: ${(e as Error).message} (${((e as Error).cause as Error | undefined)?.message})`; }
  const c = process.cpuUsage(c0);
  console.log(`${fw}x${fh}, ${frames} frame headers: ${f.length} bytes; decodeJpegNode CPU s ${((c.user + c.system) / 1e6).toFixed(2)}, ${outcome}; max RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB; load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  process.exit(0);
}

const [w = 8000, h = 8000, scans = 1000, reps = 2] = process.argv.slice(2).map(Number);
const file = manyScansJpeg(w, h, scans);
console.log(`${w}x${h} grey progressive, ${scans} scans: ${file.length} bytes`);
const opts = { formatAsRGBA: false, tolerantDecoding: true, maxResolutionInMP: 100, maxMemoryUsageInMB: 1024 };
const runs: [string, () => unknown][] = [
  ['jpeg-js 0.4.4', () => jpeg.decode(file, { ...opts, useTArray: true })],
  ['SDK decoder, no scan limit', () => decodeJpegJs(file, opts)],
  ['SDK Node path (decodeJpegNode)', () => decodeJpegNode(file)],
];
const cpu: number[][] = runs.map(() => []);
const outcome: string[] = runs.map(() => '');
for (let rep = 0; rep < reps; rep++) {
  const order = rep % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
  for (const i of order) {
    const c0 = process.cpuUsage();
    try { runs[i]![1](); outcome[i] = 'decoded'; } catch (e) { outcome[i] = `threw: ${(e as Error).message}${(e as Error).cause ? ` (${((e as Error).cause as Error).message})` : ''}`; }
    const c = process.cpuUsage(c0);
    cpu[i]!.push((c.user + c.system) / 1e6);
  }
}
for (const [i, [name]] of runs.entries()) console.log(`${name}: CPU s per decode ${cpu[i]!.map((x) => x.toFixed(2)).join(', ')}; ${outcome[i]}`);
console.log(`max RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB; load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
