/**
 * Inputs for the CUDA kernels of ring-elems.h (mulScalar, addScalar,
 * divShare, sar, maskZp, im2col, depthwise), random and edge, shared by the
 * host check of the per-element logic (protocol/kernels/cuda/ring-elems.test.ts)
 * and the device equality cases (cuda-equality.ts), so the GPU and its host
 * build see the same inputs.
 *
 * Edge inputs: values 0, 1, 2^32 +- 1, 2^63 +- 1, 2^64 - 1 (every one against
 * every scalar, divisor or shift), divisors 1, 2^f up to 2^31, odd and 2^32 - 1
 * (broadcast and per element), shifts 0, 1, 13, 31, 32, 63, 64 and beyond, every
 * pair of bytes for maskZp, and windows with padding, negative padding (the
 * transposed convolution's sub-convolutions), strides, windows larger than the
 * image, depth multipliers and empty outputs.
 */
import { Prg } from '../correlated/prg.js';
import type { RingKernels } from '../kernels/types.js';

export type Geometry = { N: number; H: number; W: number; C: number; dm: number; kh: number; kw: number; sh: number; sw: number; padTop: number; padLeft: number; outH: number; outW: number };

export type ElemCase =
  | { kind: 'scalar'; op: 'mulScalar' | 'addScalar'; name: string; a: BigUint64Array; s: bigint }
  | { kind: 'div'; op: 'divShare'; name: string; a: BigUint64Array; d: Uint32Array; party: 0 | 1 }
  | { kind: 'sar'; op: 'sar'; name: string; a: BigUint64Array; f: number }
  | { kind: 'mask'; op: 'maskZp'; name: string; d: Uint8Array; mask: Uint8Array; subtract: boolean }
  | { kind: 'window'; op: 'im2col' | 'depthwise'; name: string; g: Geometry; x: BigUint64Array; w: BigUint64Array };

const M64 = (1n << 64n) - 1n;
export const EDGE_U64: readonly bigint[] = [0n, 1n, 2n, 0xffffffffn, 1n << 32n, (1n << 32n) + 1n, (1n << 63n) - 1n, 1n << 63n, (1n << 63n) + 1n, M64 - 1n, M64];

function prgFor(label: string): Prg {
  const seed = new Uint8Array(16);
  for (let i = 0; i < label.length; i++) seed[i % 16] = (seed[i % 16]! * 31 + label.charCodeAt(i)) & 0xff;
  return new Prg(seed);
}

/** n random values with the edge values at the front. */
function values(g: Prg, n: number): BigUint64Array {
  const a = g.u64(n);
  for (let i = 0; i < EDGE_U64.length && i < n; i++) a[i] = EDGE_U64[i]!;
  return a;
}

/** The output size of a window along one axis (as conv.ts computes it for valid / padded windows). */
const outSize = (h: number, k: number, s: number, pad: number, padEnd: number) => Math.max(0, Math.floor((h + pad + padEnd - k) / s) + 1);

export function elemCases(opts: { large?: boolean } = {}): ElemCase[] {
  const large = opts.large ?? false;
  const n = large ? 50_000 : 3000;
  const cases: ElemCase[] = [];
  for (const op of ['mulScalar', 'addScalar'] as const) {
    for (const s of [...EDGE_U64, 0x9e3779b97f4a7c15n]) cases.push({ kind: 'scalar', op, name: `${op} s=${s}`, a: values(prgFor(`${op}${s}`), 300), s });
    cases.push({ kind: 'scalar', op, name: `${op} n=${n} random`, a: values(prgFor(`${op}big`), n), s: prgFor(`${op}s`).u64(1)[0]! });
  }
  for (const party of [0, 1] as const) {
    for (const dv of [1, 2, 8192, 2 ** 31, 3, 7, 1_000_003, 2 ** 32 - 1]) {
      cases.push({ kind: 'div', op: 'divShare', name: `divShare party ${party} d=${dv} (broadcast)`, a: values(prgFor(`div${party}${dv}`), 500), d: Uint32Array.of(dv), party });
    }
    const m = 2000 + EDGE_U64.length * 8;
    const a = values(prgFor(`divper${party}`), m), d = new Uint32Array(prgFor(`divd${party}`).u64(m).buffer, 0, m).map((v) => v || 1);
    // Every edge value against every edge divisor.
    const DIVS = [1, 2, 2 ** 13, 2 ** 31, 3, 2 ** 32 - 1, 0x80000001, 65537];
    for (let i = 0; i < EDGE_U64.length; i++) for (let k = 0; k < DIVS.length; k++) { a[i * DIVS.length + k] = EDGE_U64[i]!; d[i * DIVS.length + k] = DIVS[k]!; }
    cases.push({ kind: 'div', op: 'divShare', name: `divShare party ${party} per-element divisors`, a, d, party });
  }
  for (const f of [0, 1, 13, 31, 32, 63, 64, 1000]) cases.push({ kind: 'sar', op: 'sar', name: `sar f=${f}`, a: values(prgFor(`sar${f}`), 400), f });
  for (const subtract of [false, true]) {
    const d = new Uint8Array(65536), mask = new Uint8Array(65536);
    for (let i = 0; i < 65536; i++) { d[i] = i >> 8; mask[i] = i & 255; }
    cases.push({ kind: 'mask', op: 'maskZp', name: `maskZp ${subtract ? 'subtract' : 'add'}: every pair of bytes`, d, mask, subtract });
  }
  const win = (op: 'im2col' | 'depthwise', name: string, N: number, H: number, W: number, C: number, dm: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, pb = pt, pr = pl) => {
    const g: Geometry = { N, H, W, C, dm, kh, kw, sh, sw, padTop: pt, padLeft: pl, outH: outSize(H, kh, sh, pt, pb), outW: outSize(W, kw, sw, pl, pr) };
    const r = prgFor(`${op}${name}`);
    cases.push({ kind: 'window', op, name: `${op} ${name}`, g, x: values(r, N * H * W * C), w: op === 'depthwise' ? values(r, kh * kw * C * dm) : new BigUint64Array(0) });
  };
  for (const op of ['im2col', 'depthwise'] as const) {
    win(op, '3x3 same, 2 images', 2, 9, 7, 3, 1, 3, 3, 1, 1, 1, 1);
    win(op, '3x3 stride 2 valid', 1, 11, 10, 4, 2, 3, 3, 2, 2, 0, 0);
    win(op, '4x4 stride (2, 3), uneven padding', 1, 12, 13, 2, 1, 4, 4, 2, 3, 1, 2, 2, 1);
    win(op, 'negative padding (a transposed convolution\'s sub-convolution)', 1, 8, 8, 3, 1, 2, 2, 1, 1, -1, -1, 1, 1);
    win(op, 'window larger than the image', 1, 2, 3, 2, 3, 5, 5, 1, 1, 2, 2);
    win(op, '1x1', 3, 5, 5, 6, 1, 1, 1, 1, 1, 0, 0);
    win(op, 'empty output (C = 0)', 1, 4, 4, 0, 1, 3, 3, 1, 1, 1, 1);
    if (large) win(op, '3x3 same, 56x56x64', 1, 56, 56, 64, 1, 3, 3, 1, 1, 1, 1);
  }
  return cases;
}

/** The case through a RingKernels; returns the output's bytes. */
export function runElem(k: RingKernels, c: ElemCase): Uint8Array {
  const bytes = (a: BigUint64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (c.kind) {
    case 'scalar': { const out = new BigUint64Array(c.a.length); k[c.op](c.a, c.s, out); return bytes(out); }
    case 'div': { const out = new BigUint64Array(c.a.length); k.divShare(c.a, c.d, c.party, out); return bytes(out); }
    case 'sar': { const out = new BigUint64Array(c.a.length); k.sar(c.a, c.f, out); return bytes(out); }
    case 'mask': { const d = c.d.slice(); k.maskZp(d, c.mask, c.subtract); return d; }
    case 'window': {
      const g = c.g;
      if (c.op === 'im2col') {
        const out = new BigUint64Array(g.N * g.outH * g.outW * g.kh * g.kw * g.C).fill(0xdeadn);
        k.im2col(c.x, g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.outH, g.outW, out);
        return bytes(out);
      }
      const out = new BigUint64Array(g.N * g.outH * g.outW * g.C * g.dm).fill(0xdeadn);
      k.depthwise(c.x, c.w, g.N, g.H, g.W, g.C, g.dm, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.outH, g.outW, out);
      return bytes(out);
    }
  }
}

/** The host check program's command line and stdin for a case (ring-elems-check.cc). */
export function elemHostArgs(c: ElemCase): { args: string[]; input: Uint8Array } {
  const bytes = (a: BigUint64Array | Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const cat = (parts: Uint8Array[]) => { const o = new Uint8Array(parts.reduce((t, p) => t + p.length, 0)); let at = 0; for (const p of parts) { o.set(p, at); at += p.length; } return o; };
  switch (c.kind) {
    case 'scalar': return { args: [c.op, String(c.a.length), String(BigInt.asUintN(64, c.s))], input: bytes(c.a) };
    case 'div': return { args: [c.op, String(c.a.length), String(c.party), String(c.d.length)], input: cat([bytes(c.a), bytes(c.d)]) };
    case 'sar': return { args: [c.op, String(c.a.length), String(c.f)], input: bytes(c.a) };
    case 'mask': return { args: [c.op, String(c.d.length), c.subtract ? '1' : '0'], input: cat([c.d, c.mask]) };
    case 'window': {
      const g = c.g;
      return { args: [c.op, ...[g.N, g.H, g.W, g.C, g.dm, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.outH, g.outW].map(String)], input: cat([bytes(c.x), bytes(c.w)]) };
    }
  }
}
