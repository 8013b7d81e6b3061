/**
 * Inputs for the kernels of the 32-bit comparison ring (bitShareZp32,
 * zeroTest32, privateCompare32; digitShareZp16, zeroTest16, privateCompareR4),
 * random and edge, shared by the host check of the CUDA per-element logic
 * (protocol/kernels/cuda/zp-rows.test.ts) and the device equality cases
 * (cuda-equality.ts), so the GPU and its host build see the same inputs.
 *
 * Edge inputs: all-zero and all-0xff rows, r = 0, 1, 2^31-1 and the
 * alternating digit patterns, every rotation, beta bytes other than 0 and 1,
 * arbitrary bytes where the CPU kernels take them (x shares, s, mask, r of
 * the share kernels), and P2-dealt shares of values x that differ from r at
 * every position (and ties, x = r), whose d values, combined by P2's zero
 * test, must say beta XOR (x > r): `truth` holds what that test must give.
 */
import { Prg } from '../correlated/prg.js';
import type { RingKernels } from '../kernels/types.js';

export type ShareOp = 'bitShareZp32' | 'digitShareZp16';
export type ZeroOp = 'zeroTest32' | 'zeroTest16';
export type PcOp = 'privateCompare32' | 'privateCompareR4';

export type NarrowCase =
  | { kind: 'share'; op: ShareOp; name: string; n: number; x: BigUint64Array; r: Uint8Array }
  | { kind: 'zero'; op: ZeroOp; name: string; n: number; d0: Uint8Array; d1: Uint8Array }
  | { kind: 'pc'; op: PcOp; name: string; n: number; j: 0 | 1; x: Uint8Array; r: BigUint64Array; beta: Uint8Array; s: Uint8Array; rot: Uint8Array; mask: Uint8Array;
    /** Dealt shares of real values (pairs of cases j = 0, 1 with one `truth`): zeroTest(d0, d1) must equal it. */
    truth?: Uint8Array;
    /** Bytes outside Z_p in x, s or mask: the ts and native kernels agree on them, the padded wide reference (narrow.ts, Z_p inputs) is no oracle. */
    anyBytes?: boolean };

/** Values sent (W) and dealt (X) per element. */
export const ROWS: Record<PcOp | ShareOp | ZeroOp, { W: number; X: number }> = {
  privateCompare32: { W: 32, X: 32 }, privateCompareR4: { W: 16, X: 48 },
  bitShareZp32: { W: 32, X: 32 }, digitShareZp16: { W: 48, X: 48 },
  zeroTest32: { W: 32, X: 32 }, zeroTest16: { W: 16, X: 16 },
};

const P = 67;
const TOP31 = (1n << 31n) - 1n;
/** r values below 2^31 that stress carries, digits and the top position. */
export const EDGE_R31: bigint[] = [0n, 1n, 2n, 3n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n, 0x55555555n, 0x2aaaaaaan, (1n << 30n) - 1n, 1n << 30n, TOP31 - 1n, TOP31];
const EDGE_X: bigint[] = [0n, 1n, TOP31, 1n << 31n, 0xffffffffn, 1n << 32n, 0x5555555555555555n, 0xaaaaaaaaaaaaaaaan, (1n << 64n) - 1n];

function prgFor(label: string): Prg {
  const seed = new Uint8Array(16);
  for (let i = 0; i < label.length; i++) seed[i % 16] = (seed[i % 16]! * 31 + label.charCodeAt(i)) & 0xff;
  return new Prg(seed);
}

/** Random inputs of a PrivateCompare row kernel: Z_p values, or any bytes (fullBytes); r < 2^31 with edge values; beta any byte. */
function randomPc(op: PcOp, n: number, fullBytes: boolean, label: string): Omit<Extract<NarrowCase, { kind: 'pc' }>, 'j' | 'name'> {
  const g = prgFor(label), { W, X } = ROWS[op];
  const r = g.u64(n).map((v) => v & TOP31);
  const pick = g.bytes(n);
  for (let e = 0; e < n; e++) if (pick[e]! < 64) r[e] = EDGE_R31[pick[e]! % EDGE_R31.length]!;
  const beta = fullBytes ? g.bytes(n) : g.bits(n);
  const rot = g.bytes(n);
  for (let e = 0; e < Math.min(n, 256); e++) rot[e] = e; // every rotation byte
  return { kind: 'pc', op, n, r, beta, rot, x: fullBytes ? g.bytes(n * X) : g.zp(n * X), s: fullBytes ? g.bytes(n * W) : g.zpStar(n * W), mask: fullBytes ? g.bytes(n * W) : g.zp(n * W) };
}

/**
 * Dealt shares of values x that differ from r at every position (x = r with
 * bit i flipped, i = 0..31), ties (x = r) and neighbours (r +- 1), for both
 * beta: the two parties' cases and the zero test's expected answer.
 */
function dealtPc(op: PcOp, cpu: RingKernels, label: string): NarrowCase[] {
  const xs: bigint[] = [], rs: bigint[] = [];
  for (const r of EDGE_R31) {
    for (let i = 0; i < 32; i++) { xs.push(r ^ (1n << BigInt(i))); rs.push(r); }
    for (const x of [r, r + 1n, r === 0n ? 0n : r - 1n]) { xs.push(x); rs.push(r); }
  }
  const half = xs.length, n = 2 * half;
  const x = new BigUint64Array([...xs, ...xs]), r = new BigUint64Array([...rs, ...rs]);
  const beta = new Uint8Array(n).fill(1, half); // beta = 0 for the first half, 1 for the second
  const g = prgFor(label), { W, X } = ROWS[op];
  const x0 = g.zp(n * X), x1 = new Uint8Array(n * X);
  if (op === 'privateCompare32') cpu.bitShareZp32(x, x0, x1); else cpu.digitShareZp16(x, x0, x1);
  const s = g.zpStar(n * W), rot = g.bytes(n), mask = g.zp(n * W);
  const truth = beta.map((b, e) => b ^ (x[e]! > r[e]! ? 1 : 0));
  return ([[0, x0], [1, x1]] as const).map(([j, xj]) => ({ kind: 'pc' as const, op, name: `${op} j=${j}: dealt shares of x differing from r at every position, ties and neighbours, beta 0 and 1`, n, j, x: xj, r, beta, s, rot, mask, truth }));
}

/**
 * The cases. `cpu` deals the shares of the real-value cases (any CPU kernel
 * set: the dealt bytes are inputs, checked later against every set). `large`
 * adds a 50 000-element random case per kernel (the device check).
 */
export function narrowCases(cpu: RingKernels, opts: { large?: boolean } = {}): NarrowCase[] {
  const cases: NarrowCase[] = [];
  const sizes = opts.large ? [0, 1, 3, 1000, 50_000] : [0, 1, 3, 1000];
  for (const op of ['bitShareZp32', 'digitShareZp16'] as const) {
    for (const n of sizes) {
      const g = prgFor(`${op}${n}`);
      const x = g.u64(n);
      for (let e = 0; e < Math.min(n, EDGE_X.length); e++) x[e] = EDGE_X[e]!;
      cases.push({ kind: 'share', op, name: `${op} n=${n} (any r bytes, edge x)`, n, x, r: g.bytes(n * ROWS[op].X) });
    }
    for (const fill of [0, 66, 67, 255]) {
      const n = EDGE_X.length, x = new BigUint64Array(EDGE_X);
      cases.push({ kind: 'share', op, name: `${op}: every r byte ${fill}`, n, x, r: new Uint8Array(n * ROWS[op].X).fill(fill) });
    }
  }
  for (const op of ['zeroTest32', 'zeroTest16'] as const) {
    const W = ROWS[op].W;
    for (const n of sizes) {
      const g = prgFor(`${op}${n}`);
      const d0 = g.bytes(n * W), d1 = g.bytes(n * W);
      // Half the rows get one zero sum mod p, at every position in turn (values up to 255 too).
      for (let e = 0; e < n; e += 2) { const i = e * W + ((e >> 1) % W); d1[i] = (2 * P - (d0[i]! % P)) % P + (e & 2 ? P : 0); }
      cases.push({ kind: 'zero', op, name: `${op} n=${n} (half the rows with one zero sum, at every position)`, n, d0, d1 });
    }
    const n = 3;
    cases.push({ kind: 'zero', op, name: `${op}: all-zero, all-0xff and all-(66, 1) rows`, n, d0: Uint8Array.from([...new Uint8Array(W), ...new Uint8Array(W).fill(255), ...new Uint8Array(W).fill(66)]), d1: Uint8Array.from([...new Uint8Array(W), ...new Uint8Array(W).fill(255), ...new Uint8Array(W).fill(1)]) });
  }
  for (const op of ['privateCompare32', 'privateCompareR4'] as const) {
    for (const n of sizes) {
      for (const fullBytes of [false, true]) {
        const base = randomPc(op, n, fullBytes, `${op}${n}${fullBytes}`);
        for (const j of [0, 1] as const) cases.push({ ...base, j, anyBytes: fullBytes, name: `${op} j=${j} n=${n}${fullBytes ? ' (any bytes: x, s, mask, beta)' : ' (Z_p values)'}` });
      }
    }
    const { W, X } = ROWS[op];
    for (const fill of [0, 255]) {
      const n = EDGE_R31.length;
      for (const j of [0, 1] as const) {
        cases.push({ kind: 'pc', op, name: `${op} j=${j}: every input byte ${fill}, r at the edges`, n, j, anyBytes: fill >= P, x: new Uint8Array(n * X).fill(fill), r: new BigUint64Array(EDGE_R31), beta: new Uint8Array(n).fill(fill), s: new Uint8Array(n * W).fill(fill), rot: new Uint8Array(n).fill(fill), mask: new Uint8Array(n * W).fill(fill) });
      }
    }
    cases.push(...dealtPc(op, cpu, `${op}-dealt`));
  }
  return cases;
}

/** Runs a case on a kernel set into a fresh output (prior contents poisoned: every byte must be written). */
export function runNarrow(k: RingKernels, c: NarrowCase): Uint8Array {
  if (c.kind === 'share') { const out = new Uint8Array(c.n * ROWS[c.op].X).fill(0xee); k[c.op](c.x, c.r, out); return out; }
  if (c.kind === 'zero') { const out = new Uint8Array(c.n).fill(0xee); k[c.op](c.d0, c.d1, out); return out; }
  const d = new Uint8Array(c.n * ROWS[c.op].W).fill(0xee);
  k[c.op](c.j, c.x, c.r, c.beta, c.s, c.rot, c.mask, d);
  return d;
}

/** The arguments of protocol/kernels/cuda/zp-rows-check.cc for a case: OP N J and stdin. */
export function hostArgs(c: NarrowCase): { args: string[]; input: Uint8Array } {
  const bytes = (a: BigUint64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const parts = c.kind === 'share' ? [bytes(c.x), c.r] : c.kind === 'zero' ? [c.d0, c.d1] : [c.x, bytes(c.r), c.beta, c.s, c.rot, c.mask];
  const input = new Uint8Array(parts.reduce((t, p) => t + p.length, 0));
  let at = 0;
  for (const p of parts) { input.set(p, at); at += p.length; }
  return { args: [c.op, String(c.n), String(c.kind === 'pc' ? c.j : 0)], input };
}
