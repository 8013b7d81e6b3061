/**
 * CPU time of the convolution ops that issue 20 rewrote, before and after,
 * on the shapes of the zoo models, in one process, alternating (CPU time,
 * process.cpuUsage, counts only the time this process ran, so it suffers
 * less than wall time from other work on a loaded machine; cache contention
 * still shows):
 *  - Conv2DTranspose (U-Net 128's four up-convolutions): before, the stride-1
 *    'valid' conv of the zero-dilated input (gather + conv2dOp); after,
 *    conv2dTransposeOp's sub-pixel phases;
 *  - DepthwiseConv2D (MobileNetV3-Small's eleven): before, one gathered tap
 *    and one broadcast weight row per kernel tap with the kernels' mul and
 *    add (the code conv.ts had, copied here); after, depthwiseOp (the
 *    kernels' depthwise).
 * Each op is applied as Beaver's step 4 applies it at P0 (twice per product).
 *
 *   npx tsx bench/conv-ops.ts [rounds = 3]
 */
import '../runtime/install.js';
import { randomFillSync } from 'node:crypto';
import { dilatePadIndex, gather } from '../protocol/ir-kit/layout.js';
import { inferShapes } from '../protocol/ir-kit/shapes.js';
import { getKernels } from '../protocol/kernels/index.js';
import type { RingKernels } from '../protocol/kernels/types.js';
import { conv2dOp, depthwiseOp, type ConvShape } from '../protocol/layers/conv.js';
import { conv2dTransposeOp } from '../protocol/layers/conv-transpose.js';
import { window2d } from '../protocol/layers/geometry.js';
import { zooModel } from './zoo-models.js';

const k = getKernels();
const rounds = Number(process.argv[2] ?? 3);
const rand = (n: number) => { const a = new BigUint64Array(n); randomFillSync(a); return a; };
const cpuMs = (f: () => void): number => { const t = process.cpuUsage(); f(); const d = process.cpuUsage(t); return (d.user + d.system) / 1000; };

/** The depthwise op as conv.ts had it before issue 20: per tap, a gathered copy of x and a broadcast weight row, then mul and add. */
function depthwiseBefore(k: RingKernels, s: ConvShape, dm: number, x: BigUint64Array, w: BigUint64Array): BigUint64Array {
  const { N, H, W, C, g } = s, rows = N * g.outH * g.outW, Co = C * dm;
  const out = new BigUint64Array(rows * Co), wt = new BigUint64Array(rows * Co), prod = new BigUint64Array(rows * Co);
  for (let ky = 0; ky < s.kh; ky++) for (let kx = 0; kx < s.kw; kx++) {
    const t = ky * s.kw + kx, wRow = w.subarray(t * Co, (t + 1) * Co);
    for (let r = 0; r < rows; r++) wt.set(wRow, r * Co);
    const tap = new BigUint64Array(rows * Co);
    const src = new Uint32Array(x.buffer, x.byteOffset, x.length * 2), dst = new Uint32Array(tap.buffer);
    let o = 0;
    for (let b = 0; b < N; b++) for (let oy = 0; oy < g.outH; oy++) {
      const y = oy * s.sh + ky - g.padTop;
      for (let ox = 0; ox < g.outW; ox++) {
        const xx = ox * s.sw + kx - g.padLeft, inside = y >= 0 && y < H && xx >= 0 && xx < W;
        const base = inside ? 2 * (((b * H + y) * W + xx) * C) : 0;
        for (let c = 0; c < C; c++) for (let m = 0; m < dm; m++, o += 2) if (inside) { dst[o] = src[base + 2 * c]!; dst[o + 1] = src[base + 2 * c + 1]!; }
      }
    }
    k.mul(tap, wt, prod);
    k.add(out, prod, out);
  }
  return out;
}

interface Case { what: string; before: () => BigUint64Array; after: () => BigUint64Array }
const cases: Case[] = [];
const unet = await zooModel('unet128'), unetShapes = inferShapes(unet);
for (const n of unet.nodes) {
  if (n.kind !== 'conv2d_transpose') continue;
  const [H, W, C] = unetShapes.get(n.inputs[0]!)! as [number, number, number];
  const [kh, kw] = n.kernelSize, x = rand(H * W * C), w = rand(kh * kw * C * n.filters);
  const Hd = (H - 1) * n.strides[0] + 1 + n.pad[0][0] + n.pad[0][1], Wd = (W - 1) * n.strides[1] + 1 + n.pad[1][0] + n.pad[1][1];
  const dil = conv2dOp({ N: 1, H: Hd, W: Wd, C, kh, kw, sh: 1, sw: 1, g: window2d(Hd, Wd, [kh, kw], [1, 1], 'valid') }, n.filters);
  const phase = conv2dTransposeOp({ N: 1, H, W, C, kh, kw, strides: n.strides, pad: n.pad }, n.filters);
  cases.push({ what: `unet ${n.name} ${H}x${W}x${C} -> ${n.filters}, ${kh}x${kw}/${n.strides[0]}`, before: () => dil.apply(k, gather(x, dilatePadIndex([H, W, C], n.strides, n.pad, 1)), w), after: () => phase.apply(k, x, w) });
}
const mnv3 = await zooModel('mobilenetv3small'), mShapes = inferShapes(mnv3);
for (const n of mnv3.nodes) {
  if (n.kind !== 'depthwise_conv2d') continue;
  const [H, W, C] = mShapes.get(n.inputs[0]!)! as [number, number, number];
  const [kh, kw] = n.kernelSize, [sh, sw] = n.strides;
  const s: ConvShape = { N: 1, H, W, C, kh, kw, sh, sw, g: window2d(H, W, n.kernelSize, n.strides, n.padding) };
  const x = rand(H * W * C), w = rand(kh * kw * C * n.depthMultiplier), op = depthwiseOp(s, n.depthMultiplier);
  cases.push({ what: `mnv3 ${n.name} ${H}x${W}x${C}, ${kh}x${kw}/${sh}`, before: () => depthwiseBefore(k, s, n.depthMultiplier, x, w), after: () => op.apply(k, x, w) });
}

console.log(`kernels ${k.name}; ${rounds} rounds, before/after alternating; CPU ms per op (2 applies, as P0's step 4)`);
const sum = { ct: [0, 0], dw: [0, 0] };
for (const c of cases) {
  // Same result first (exact in Z_2^64).
  const a = c.before(), b = c.after();
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) throw new Error(`${c.what}: before and after differ`);
  const t = [Infinity, Infinity];
  for (let r = 0; r < rounds; r++) {
    t[0] = Math.min(t[0]!, cpuMs(() => { c.before(); c.before(); }));
    t[1] = Math.min(t[1]!, cpuMs(() => { c.after(); c.after(); }));
  }
  const acc = c.what.startsWith('unet') ? sum.ct : sum.dw;
  acc[0] += t[0]!; acc[1] += t[1]!;
  console.log(`${c.what}: before ${t[0]!.toFixed(1)} ms, after ${t[1]!.toFixed(1)} ms, ratio ${(t[0]! / t[1]!).toFixed(2)}`);
}
console.log(`U-Net Conv2DTranspose (4 layers): before ${sum.ct[0]!.toFixed(0)} ms, after ${sum.ct[1]!.toFixed(0)} ms, ratio ${(sum.ct[0]! / sum.ct[1]!).toFixed(2)}`);
console.log(`MobileNetV3 DepthwiseConv2D (11 layers): before ${sum.dw[0]!.toFixed(0)} ms, after ${sum.dw[1]!.toFixed(0)} ms, ratio ${(sum.dw[0]! / sum.dw[1]!).toFixed(2)}`);
