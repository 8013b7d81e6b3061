/**
 * The SDK's PNG decoder (client-sdk/src/image/png.ts: pure JS, the same code
 * in Node and the browser) with fflate's inflate (the browser's) and with
 * node:zlib's (the Node SDK's, decodeImageNode), against pngjs (node:zlib),
 * which the Node SDK used before, on an X-ray-sized image: 2000 x 2000 grey,
 * 8 and 16 bits, and RGBA 8 bits, written by pngjs (a gradient with noise
 * from node:crypto, so the filters and inflate have real work):
 *
 *   npx tsx bench/png-decode.ts [rounds = 5]
 *
 * Prints the median time of each decoder per image and the ratios to pngjs.
 */
import { randomBytes } from 'node:crypto';
import pngjs from 'pngjs';
import { decodeImageNode } from '../client-sdk/src/image/decode-node.js';
import { decodePng } from '../client-sdk/src/image/png.js';

const ROUNDS = Number(process.argv[2] ?? 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('usage: bench/png-decode.ts [rounds >= 1]');
const W = 2000, H = 2000;

function image(colorType: 0 | 6, bitDepth: 8 | 16): Uint8Array {
  const png = new pngjs.PNG({ width: W, height: H });
  const noise = randomBytes(W * H);
  for (let i = 0; i < W * H; i++) {
    const v = (((i % W) + Math.floor(i / W)) >> 4) + (noise[i]! & 7);
    png.data.fill(v, 4 * i, 4 * i + 3);
    png.data[4 * i + 3] = colorType === 6 ? 255 - (noise[i]! & 15) : 255;
  }
  return new Uint8Array(pngjs.PNG.sync.write(png, { colorType, bitDepth, inputColorType: 6 }));
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

for (const [name, bytes] of [['grey 8-bit', image(0, 8)], ['grey 16-bit', image(0, 16)], ['RGBA 8-bit', image(6, 8)]] as const) {
  const ours: number[] = [], node: number[] = [], theirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    decodePng(bytes);
    ours.push(performance.now() - t);
    t = performance.now();
    await decodeImageNode(bytes);
    node.push(performance.now() - t);
    t = performance.now();
    pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    theirs.push(performance.now() - t);
  }
  const a = median(ours), z = median(node), b = median(theirs);
  console.log(`${name} (${W} x ${H}, ${(bytes.length / 1e6).toFixed(2)} MB): png.ts+fflate ${a.toFixed(0)} ms (x${(a / b).toFixed(2)}), png.ts+node:zlib ${z.toFixed(0)} ms (x${(z / b).toFixed(2)}), pngjs ${b.toFixed(0)} ms`);
}
