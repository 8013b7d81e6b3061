/** The plaintext max pool the malicious MaxPool tests (maxpool.test.ts, binary/maxpool-bin.test.ts) compare with. */
import { window2d } from '../layers/geometry.js';
import type { PoolInput, PoolWindow } from '../malicious/maxpool.js';

/** Plaintext max pool (TensorFlow semantics: the maximum over the real, unpadded values of each window), NHWC, one image. */
export function maxPoolReference(x: bigint[], sh: PoolInput, p: PoolWindow): bigint[] {
  const g = window2d(sh.h, sh.w, [p.kh, p.kw], [p.sh, p.sw], p.padding ?? 'valid');
  const out: bigint[] = [];
  for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) for (let ch = 0; ch < sh.c; ch++) {
    let best: bigint | null = null;
    for (let dy = 0; dy < p.kh; dy++) for (let dx = 0; dx < p.kw; dx++) {
      const y = oy * p.sh + dy - g.padTop, xx = ox * p.sw + dx - g.padLeft;
      if (y < 0 || y >= sh.h || xx < 0 || xx >= sh.w) continue;
      const v = x[(y * sh.w + xx) * sh.c + ch]!;
      if (best === null || v > best) best = v;
    }
    out.push(best!);
  }
  return out;
}
