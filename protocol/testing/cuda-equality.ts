/**
 * Equality cases for the CUDA kernels: the same inputs (seeded PRG, random
 * and edge values) through the BigInt reference (small sizes only), every CPU
 * kernel set given (ts, native) and the CUDA kernels, byte-identical outputs
 * required. Malformed calls must fail with the same error code and message.
 *
 * Shared by cuda.test.ts (vitest) and bench/cuda-check.ts (a plain Node
 * script bundled for the GPU machine, which has no node_modules).
 */
import { Prg } from '../correlated/prg.js';
import { referenceKernels } from '../kernels/reference.js';
import type { RingKernels } from '../kernels/types.js';
import type { CudaKernels } from '../kernels/cuda/index.js';
import { elemCases, runElem } from './elem-cases.js';
import { narrowCases, runNarrow } from './narrow-cases.js';

export interface EqualityCase { name: string; run(): void }

const M64 = (1n << 64n) - 1n;
const P = 67;
const EDGES: bigint[] = [0n, 1n, 2n, 3n, 0xffffn, 0x10000n, 0xffffffffn, 1n << 32n, (1n << 32n) + 1n, 0x1234_5678_9abc_def0n,
  (1n << 63n) - 1n, 1n << 63n, (1n << 63n) + 1n, M64 - 2n, M64 - 1n, M64];
/** The reference does one BigInt op per multiply-add: keep its work small. */
const REF_MAX_WORK = 400_000;

function prgFor(label: string): Prg {
  // A fixed seed per case, derived from its name: reproducible runs.
  const seed = new Uint8Array(16);
  for (let i = 0; i < label.length; i++) seed[i % 16] = (seed[i % 16]! * 31 + label.charCodeAt(i)) & 0xff;
  return new Prg(seed);
}

function bytesOf(a: BigUint64Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function assertSame(what: string, got: BigUint64Array | Uint8Array, want: BigUint64Array | Uint8Array): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length}, want ${want.length}`);
  const g = bytesOf(got), w = bytesOf(want);
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== w[i]) {
      const el = got instanceof BigUint64Array ? Math.floor(i / 8) : i;
      throw new Error(`${what}: first difference at element ${el} of ${got.length}: got ${String(got[el])}, want ${String(want[el])}`);
    }
  }
}

/** Random values with every edge value, and every pair of edge values across a and b, at the front. */
function edgePairs(g: Prg, n: number): [BigUint64Array, BigUint64Array] {
  const a = g.u64(n), b = g.u64(n);
  for (let i = 0; i < EDGES.length && i * EDGES.length < n; i++) {
    for (let j = 0; j < EDGES.length && i * EDGES.length + j < n; j++) { a[i * EDGES.length + j] = EDGES[i]!; b[i * EDGES.length + j] = EDGES[j]!; }
  }
  return [a, b];
}

/** Random matrix; in `edgy` mode, a fifth of the entries are edge values (carries, 2^63, 2^64-1). */
function matrix(g: Prg, n: number, edgy: boolean): BigUint64Array {
  const a = g.u64(n);
  if (edgy) {
    const pick = g.bytes(n);
    for (let i = 0; i < n; i++) if (pick[i]! < 51) a[i] = EDGES[pick[i]! % EDGES.length]!;
  }
  return a;
}

function errorOf(fn: () => void): string {
  try { fn(); } catch (e) { return `${(e as { code?: string }).code ?? '?'}: ${(e as Error).message}`; }
  return 'no error';
}

/**
 * The cases. `cpus` are the CPU kernel sets to agree with (ts, and native
 * where built); `cuda` should be built with thresholds of 0 and strict: true
 * so that every call of a GPU op actually runs on the GPU.
 */
export function equalityCases(cuda: CudaKernels, cpus: RingKernels[], opts: { large?: boolean } = {}): EqualityCase[] {
  const ref = referenceKernels;
  const cases: EqualityCase[] = [];
  const add = (name: string, run: () => void) => cases.push({ name, run });
  const large = opts.large ?? true;

  /** Runs `call` on every backend with fresh outputs from `mk`; all must equal the first CPU's (and the reference's when small). */
  function agree<T extends BigUint64Array | Uint8Array>(what: string, small: boolean, mk: () => T, call: (k: RingKernels, out: T) => void): void {
    const want = mk();
    call(cpus[0]!, want);
    const others: RingKernels[] = [...cpus.slice(1), cuda, ...(small ? [ref] : [])];
    for (const k of others) {
      const out = mk();
      call(k, out);
      assertSame(`${what} [${k.name}]`, out, want);
    }
  }

  // ---- GEMM ----
  const shapes: [number, number, number][] = [[1, 1, 1], [2, 3, 4], [7, 5, 3], [17, 33, 65], [64, 8, 64], [65, 9, 65], [129, 17, 33], [33, 100, 31],
    [128, 16, 64], [130, 7, 129], [0, 5, 3], [5, 0, 3], [5, 3, 0]];
  if (large) shapes.push([1000, 576, 64], [4725, 64, 16], [333, 1000, 100], [3, 4096, 513], [2048, 300, 40]);
  for (const [m, k, n] of shapes) {
    for (const edgy of [false, true]) {
      add(`gemm ${m}x${k}x${n}${edgy ? ' edge values' : ''}`, () => {
        const g = prgFor(`gemm${m},${k},${n},${edgy}`);
        const A = matrix(g, m * k, edgy), B = matrix(g, k * n, edgy);
        const fill = () => { const o = new BigUint64Array(m * n); o.fill(0xdeadbeefn); return o; }; // poisoned: every element must be written
        agree(`gemm ${m}x${k}x${n}`, m * k * n <= REF_MAX_WORK, fill, (kk, out) => kk.gemm(A, B, m, k, n, out));
      });
    }
  }
  // Every compiled tile shape, on shapes that hit partial tiles.
  add('gemm: every GPU tile variant agrees', () => {
    const g = prgFor('gemm-variants');
    for (const [m, k, n] of [[130, 19, 70], [65, 33, 31], [257, 64, 129]] as const) {
      const A = matrix(g, m * k, true), B = matrix(g, k * n, true);
      const want = new BigUint64Array(m * n);
      cpus[0]!.gemm(A, B, m, k, n, want);
      try {
        for (let v = 0; v < 4; v++) {
          cuda.addon.setGemmVariant(v);
          const out = new BigUint64Array(m * n).fill(7n);
          cuda.gemm(A, B, m, k, n, out);
          assertSame(`gemm ${m}x${k}x${n} variant ${v}`, out, want);
        }
      } finally {
        cuda.addon.setGemmVariant(-1);
      }
    }
  });
  add('gemm: device-resident benchmark kernel checks one output against the host', () => {
    for (let v = -1; v < 4; v++) {
      const r = cuda.addon.benchGemm(130, 77, 70, v, 1);
      if (r.probe !== r.probeWant) throw new Error(`benchGemm variant ${v}: probe ${r.probe} != ${r.probeWant}`);
    }
  });

  // ---- elementwise ----
  const ewSizes = large ? [0, 1, 257, 1 << 17] : [0, 1, 257, 5000];
  for (const op of ['add', 'sub', 'mul'] as const) {
    for (const n of ewSizes) {
      add(`${op} n=${n} (edge pairs + random)`, () => {
        const [a, b] = edgePairs(prgFor(`${op}${n}`), n);
        agree(`${op} n=${n}`, n <= REF_MAX_WORK / 4, () => new BigUint64Array(n), (k, out) => k[op](a, b, out));
      });
    }
    add(`${op}: out aliasing an input`, () => {
      const [a, b] = edgePairs(prgFor(`${op}alias`), 4096);
      const want = new BigUint64Array(a.length);
      ref[op](a, b, want);
      for (const k of [...cpus, cuda]) {
        const x = a.slice(), y = b.slice();
        k[op](x, y, x);
        assertSame(`${op} out=a [${k.name}]`, x, want);
        const x2 = a.slice(), y2 = b.slice();
        k[op](x2, y2, y2);
        assertSame(`${op} out=b [${k.name}]`, y2, want);
      }
    });
  }

  // ---- bitShareZp ----
  for (const n of large ? [0, 1, 3, 1000, 70_000] : [0, 1, 3, 1000]) {
    add(`bitShareZp n=${n}`, () => {
      const g = prgFor(`bsz${n}`);
      const [x] = edgePairs(g, n);
      const r = g.bytes(64 * n); // any byte, not only Z_p
      agree(`bitShareZp n=${n}`, 64 * n <= REF_MAX_WORK, () => new Uint8Array(64 * n), (k, out) => k.bitShareZp(x, r, out));
    });
  }

  // ---- PrivateCompare ----
  const pcInputs = (label: string, n: number, fullBytes: boolean, special: boolean) => {
    const g = prgFor(label);
    const r = g.u64(n);
    const beta = g.bits(n);
    const edges = [M64, 0n, M64 - 1n, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 1n << 32n];
    const pick = g.bytes(n);
    for (let e = 0; e < n; e++) if (pick[e]! < 64) r[e] = edges[pick[e]! % edges.length]!;
    if (!special) for (let e = 0; e < n; e++) if (r[e] === M64) beta[e] = 0;
    const xb = fullBytes ? g.bytes(64 * n) : g.zp(64 * n);
    const s = fullBytes ? g.bytes(64 * n) : g.zpStar(64 * n);
    const u = special ? (fullBytes ? g.bytes(64 * n) : g.zp(64 * n)) : null;
    const perm = g.permutations(n, 64);
    const d0 = g.bytes(64 * n); // prior contents of d
    return { r, beta, xb, s, u, perm, d0 };
  };
  for (const n of large ? [1, 7, 1000, 50_000] : [1, 7, 300]) {
    for (const j of [0, 1] as const) {
      for (const [fullBytes, special] of [[false, true], [false, false], [true, true]] as const) {
        add(`privateCompare j=${j} n=${n}${fullBytes ? ' (any bytes)' : ''}${special ? ' (with r = 2^64-1, beta = 1)' : ' (u = null)'}`, () => {
          const { r, beta, xb, s, u, perm, d0 } = pcInputs(`pc${n},${j},${fullBytes},${special}`, n, fullBytes, special);
          agree(`privateCompare j=${j} n=${n}`, 64 * n <= REF_MAX_WORK / 4, () => d0.slice(), (k, d) => k.privateCompare(j, xb, r, beta, s, u, perm, d));
        });
      }
    }
  }
  add('privateCompare: perm groups that are not permutations go to the CPU kernels behind cuda (GPU flags them, d untouched)', () => {
    const n = 500;
    const { r, beta, xb, s, u, d0 } = pcInputs('pc-nonperm', n, false, true);
    const perm = prgFor('pc-nonperm-perm').bytes(64 * n).map((v) => v & 63);
    const before = cuda.counters.recomputed;
    // Outside the interface's contract (perm is a permutation), so only the CPU set behind cuda is the oracle here.
    const want = d0.slice(), got = d0.slice();
    cuda.cpu.privateCompare(1, xb, r, beta, s, u, perm, want);
    cuda.privateCompare(1, xb, r, beta, s, u, perm, got);
    assertSame(`privateCompare non-permutation [cuda vs ${cuda.cpu.name}]`, got, want);
    if (cuda.counters.recomputed !== before + 1) throw new Error('privateCompare: the GPU did not flag a non-permutation');
  });
  add('privateCompare: perm entry > 63 and missing u fail as on the CPU', () => {
    const n = 100;
    const { r, beta, xb, s, u, perm } = pcInputs('pc-bad', n, false, true);
    const bad = perm.slice();
    bad[64 * 37 + 5] = 64;
    const special = r.findIndex((v, e) => v === M64 && beta[e] === 1);
    if (special < 0) throw new Error('test inputs lack a special element');
    for (const [what, call] of [
      ['perm > 63', (k: RingKernels) => k.privateCompare(0, xb, r, beta, s, u, bad, new Uint8Array(64 * n))],
      ['u missing', (k: RingKernels) => k.privateCompare(1, xb, r, beta, s, null, perm, new Uint8Array(64 * n))],
    ] as const) {
      const want = errorOf(() => call(cuda.cpu));
      if (want === 'no error') throw new Error(`${what}: the CPU kernels accepted it`);
      const got = errorOf(() => call(cuda));
      if (got !== want) throw new Error(`${what} [cuda]: '${got}', want '${want}' (${cuda.cpu.name})`);
    }
  });

  // ---- zeroTest ----
  for (const n of large ? [0, 1, 1000, 100_000] : [0, 1, 1000]) {
    add(`zeroTest n=${n}`, () => {
      const g = prgFor(`zt${n}`);
      const d0 = g.bytes(64 * n), d1 = g.bytes(64 * n);
      // About half the groups get one zero sum mod p (values also beyond p).
      const pick = g.bytes(n);
      for (let e = 0; e < n; e++) {
        if (pick[e]! & 1) { const i = e * 64 + (pick[e]! >> 2); d1[i] = (2 * P - (d0[i]! % P)) % P + (pick[e]! & 2 ? P : 0); }
      }
      agree(`zeroTest n=${n}`, 64 * n <= REF_MAX_WORK, () => new Uint8Array(n), (k, out) => k.zeroTest(d0, d1, out));
    });
  }

  // ---- the 32-bit comparison ring: 32-position and radix-4 kernels (kernels-narrow.cu; the same cases as the host check zp-rows.test.ts) ----
  const narrow = narrowCases(cpus[0]!, { large });
  for (const c of narrow) {
    add(`${c.name}`, () => {
      const want = runNarrow(cpus[0]!, c);
      const oracles = [...cpus.slice(1), cuda, ...(c.n <= 1000 && !(c.kind === 'pc' && c.anyBytes) ? [ref] : [])];
      for (const k of oracles) assertSame(`${c.name} [${k.name}]`, runNarrow(k, c), want);
    });
  }
  add('32-bit ring: the GPU d values of dealt shares, through the GPU zero test, say beta XOR (x > r)', () => {
    for (const op of ['privateCompare32', 'privateCompareR4'] as const) {
      const [c0, c1] = narrow.filter((c) => c.kind === 'pc' && c.op === op && c.truth);
      if (c0?.kind !== 'pc' || c1?.kind !== 'pc') throw new Error(`${op}: no dealt-share cases`);
      const got = new Uint8Array(c0.n);
      cuda[op === 'privateCompare32' ? 'zeroTest32' : 'zeroTest16'](runNarrow(cuda, c0), runNarrow(cuda, c1), got);
      assertSame(`${op}: zero test of the dealt cases`, got, c0.truth!);
    }
  });

  // ---- the ops of ring-elems.h (kernels-elems.cu; the same cases as the host check ring-elems.test.ts) ----
  for (const c of elemCases({ large })) {
    add(c.name, () => {
      const want = runElem(cpus[0]!, c);
      const oracles = [...cpus.slice(1), cuda, ...(c.op !== 'maskZp' && (c.kind !== 'window' || c.x.length < 5000) ? [ref] : [])];
      for (const k of oracles) assertSame(`${c.name} [${k.name}]`, runElem(k, c), want);
    });
  }

  // ---- conv2d's im2col + GEMM in one device call (kernels-gemm.cu): the bytes of im2col then gemm on the CPU ----
  for (const c of elemCases({ large })) {
    if (c.kind !== 'window' || c.op !== 'im2col') continue;
    add(`im2colGemm: ${c.name}`, () => {
      const g = c.g, m = g.N * g.outH * g.outW, k = g.kh * g.kw * g.C, n = large && m * k > 1e6 ? 64 : 5;
      const B = matrix(prgFor(`im2colGemm ${c.name}`), k * n, true);
      const cols = new BigUint64Array(m * k), want = new BigUint64Array(m * n);
      cpus[0]!.im2col(c.x, g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.outH, g.outW, cols);
      cpus[0]!.gemm(cols, B, m, k, n, want);
      const got = new BigUint64Array(m * n).fill(0xdeadn);
      cuda.im2colGemm!(c.x, g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.outH, g.outW, B, n, got);
      assertSame(`im2colGemm ${c.name} [cuda]`, got, want);
    });
  }

  // ---- malformed calls fail exactly as on the CPU kernels the CUDA set delegates to ----
  add('malformed calls: same error code and message as the CPU kernels behind the CUDA set', () => {
    const a = new BigUint64Array(6), b = new BigUint64Array(6);
    const calls: [string, (k: RingKernels) => void][] = [
      ['gemm wrong A length', (k) => k.gemm(new BigUint64Array(5), b, 2, 3, 2, new BigUint64Array(4))],
      ['gemm out overlapping A', (k) => k.gemm(a, b.subarray(0, 6), 2, 3, 2, a.subarray(2, 6))],
      ['mul length mismatch', (k) => k.mul(a, new BigUint64Array(5), new BigUint64Array(6))],
      ['zeroTest wrong d1 length', (k) => k.zeroTest(new Uint8Array(128), new Uint8Array(127), new Uint8Array(2))],
      ['bitShareZp wrong r length', (k) => k.bitShareZp(a, new Uint8Array(10), new Uint8Array(6 * 64))],
      ['privateCompare32 r >= 2^31', (k) => k.privateCompare32(0, new Uint8Array(64), BigUint64Array.of(1n, 1n << 31n), new Uint8Array(2), new Uint8Array(64).fill(1), new Uint8Array(2), new Uint8Array(64), new Uint8Array(64))],
      ['privateCompareR4 r >= 2^31', (k) => k.privateCompareR4(1, new Uint8Array(96), BigUint64Array.of(1n << 40n, 1n), new Uint8Array(2), new Uint8Array(32).fill(1), new Uint8Array(2), new Uint8Array(32), new Uint8Array(32))],
      ['zeroTest16 wrong d0 length', (k) => k.zeroTest16(new Uint8Array(31), new Uint8Array(32), new Uint8Array(2))],
      ['digitShareZp16 wrong out length', (k) => k.digitShareZp16(a, new Uint8Array(6 * 48), new Uint8Array(6 * 47))],
      ['divShare divisor 0', (k) => k.divShare(a, Uint32Array.of(3, 0, 1, 1, 1, 1), 1, new BigUint64Array(6))],
      ['divShare party 2', (k) => k.divShare(a, Uint32Array.of(3), 2 as 0, new BigUint64Array(6))],
      ['sar negative f', (k) => k.sar(a, -1, new BigUint64Array(6))],
      ['maskZp wrong mask length', (k) => k.maskZp(new Uint8Array(6), new Uint8Array(5), false)],
      ['im2col wrong out length', (k) => k.im2col(new BigUint64Array(16), 1, 4, 4, 1, 2, 2, 1, 1, 0, 0, 3, 3, new BigUint64Array(35))],
      ['im2col stride 0', (k) => k.im2col(new BigUint64Array(16), 1, 4, 4, 1, 2, 2, 0, 1, 0, 0, 3, 3, new BigUint64Array(36))],
      ['depthwise wrong w length', (k) => k.depthwise(new BigUint64Array(16), new BigUint64Array(3), 1, 4, 4, 1, 1, 2, 2, 1, 1, 0, 0, 3, 3, new BigUint64Array(9))],
      ['privateCompare j = 2', (k) => k.privateCompare(2 as 0, new Uint8Array(64), new BigUint64Array(1), new Uint8Array(1), new Uint8Array(64), null, new Uint8Array(64), new Uint8Array(64))],
    ];
    for (const [what, call] of calls) {
      const want = errorOf(() => call(cuda.cpu));
      if (want === 'no error') throw new Error(`${what}: the CPU kernels accepted it`);
      const got = errorOf(() => call(cuda));
      if (got !== want) throw new Error(`${what} [cuda]: '${got}', want '${want}' (${cuda.cpu.name})`);
    }
  });

  return cases;
}
