/**
 * What the Node SDK's libjpeg-style chroma upsampling and YCbCr -> RGB
 * (client-sdk/src/image/jpeg-upsample.ts) cost on top of jpeg-js: decodeImageNode
 * (jpeg-js with colorTransform false + libjpegRgb) against jpeg-js's own decode
 * (box upsampling, float conversion) on a 4:2:0 colour JPEG, medians of N runs,
 * both in one process, alternating.
 *
 *   nice -n 10 npx tsx bench/jpeg-upsample.ts [runs] [width] [height]
 */
import jpeg from 'jpeg-js';
import { randomBytes } from 'node:crypto';
import { flatJpeg } from '../client-sdk/testing/jpeg-dc-writer.js';
import { decodeImageNode } from '../client-sdk/src/image/decode-node.js';

const [runs = 5, w = 3000, h = 2000] = process.argv.slice(2).map(Number);
// Flat 8x8 blocks with random levels (node:crypto): every MCU has 4 luma blocks and one Cb, one Cr block.
const rnd = (n: number): number[] => Array.from(randomBytes(n), (b) => 16 + (b % 224));
const mx = Math.ceil(w / 16), my = Math.ceil(h / 16);
const bytes = flatJpeg({ width: w, height: h, h: 2, v: 2, blocks: [rnd(mx * my * 4), rnd(mx * my), rnd(mx * my)] });
const t = { jpegjs: [] as number[], sdk: [] as number[] };
for (let r = 0; r < runs; r++) {
  let s = performance.now();
  jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048 });
  t.jpegjs.push(performance.now() - s);
  s = performance.now();
  await decodeImageNode(bytes);
  t.sdk.push(performance.now() - s);
}
const med = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
console.log(`${w} x ${h} 4:2:0, ${runs} runs: jpeg-js alone ${med(t.jpegjs).toFixed(0)} ms, decodeImageNode ${med(t.sdk).toFixed(0)} ms, ratio ${(med(t.sdk) / med(t.jpegjs)).toFixed(2)}`);
