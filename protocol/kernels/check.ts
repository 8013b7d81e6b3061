/**
 * Argument checks shared by the TS kernels. The native addon makes the same
 * checks in C++ (protocol/kernels/native/binding.cc) with the same codes and
 * messages, so a misuse fails the same way on either backend. Messages name
 * lengths and argument names, never values.
 */
import { MpcError } from '../errors.js';

type Typed = BigUint64Array | Uint32Array | Uint8Array;
type TypedCtor = BigUint64ArrayConstructor | Uint32ArrayConstructor | Uint8ArrayConstructor;

export function checkType(op: string, name: string, a: unknown, ctor: TypedCtor): void {
  if (!(a instanceof ctor)) throw new MpcError('E_DTYPE', `${op}: expected ${name} to be a ${ctor.name}`);
}

export function checkLen(op: string, name: string, got: number, want: number): void {
  if (got !== want) throw new MpcError('E_SHAPE', `${op}: expected ${name} of length ${want}, got ${got}`);
}

/** An integer in [lo, hi]. */
export function checkInt(op: string, name: string, v: unknown, lo: number, hi: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new MpcError('E_BAD_ARGUMENT', `${op}: expected ${name} to be an integer in [${lo}, ${hi}]`);
  }
}

export function checkBigint(op: string, name: string, v: unknown): asserts v is bigint {
  if (typeof v !== 'bigint') throw new MpcError('E_BAD_ARGUMENT', `${op}: expected ${name} to be a bigint`);
}

/** Product of sizes, failing when it is not a safe integer. */
export function sizeOf(op: string, what: string, ...dims: number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  if (!Number.isSafeInteger(p)) throw new MpcError('E_SHAPE', `${op}: ${what} is too large`);
  return p;
}

export function checkNoOverlap(op: string, an: string, a: Typed, bn: string, b: Typed): void {
  if (a.buffer !== b.buffer || a.byteLength === 0 || b.byteLength === 0) return;
  if (a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength) {
    throw new MpcError('E_BAD_ARGUMENT', `${op}: ${an} must not overlap ${bn}`);
  }
}

/** Elementwise binary op over Z_2^64 / Z_{2^64-1}: three BigUint64Arrays of one length. */
export function checkBinary(op: string, a: BigUint64Array, b: BigUint64Array, out: BigUint64Array): void {
  checkType(op, 'a', a, BigUint64Array);
  checkType(op, 'b', b, BigUint64Array);
  checkType(op, 'out', out, BigUint64Array);
  checkLen(op, 'b', b.length, a.length);
  checkLen(op, 'out', out.length, a.length);
}

export function checkUnary(op: string, a: BigUint64Array, out: BigUint64Array): void {
  checkType(op, 'a', a, BigUint64Array);
  checkType(op, 'out', out, BigUint64Array);
  checkLen(op, 'out', out.length, a.length);
}

/**
 * The checks of a PrivateCompare row kernel on the 32-bit ring (privateCompare32: W = 32 values sent and
 * X = 32 dealt per element; privateCompareR4: 16 and 48), as binding.cc's NarrowPcRows makes them; r < 2^31 is
 * the caller's (E_BAD_ARGUMENT). Returns r.length.
 */
export function checkNarrowPc(op: string, W: number, X: number, xname: string, j: unknown, x: Uint8Array, r: BigUint64Array, beta: Uint8Array, s: Uint8Array, rot: Uint8Array, mask: Uint8Array, d: Uint8Array): number {
  checkInt(op, 'j', j, 0, 1);
  checkType(op, xname, x, Uint8Array);
  checkType(op, 'r', r, BigUint64Array);
  for (const [name, a] of [['beta', beta], ['s', s], ['rot', rot], ['mask', mask], ['d', d]] as const) checkType(op, name, a, Uint8Array);
  const n = r.length, nw = sizeOf(op, `${W}*r.length`, n, W), nx = sizeOf(op, `${X}*r.length`, n, X);
  checkLen(op, `${xname} (${X}*r.length)`, x.length, nx);
  checkLen(op, 'beta (r.length)', beta.length, n);
  checkLen(op, `s (${W}*r.length)`, s.length, nw);
  checkLen(op, 'rot (r.length)', rot.length, n);
  checkLen(op, `mask (${W}*r.length)`, mask.length, nw);
  checkLen(op, `d (${W}*r.length)`, d.length, nw);
  checkNoOverlap(op, 'd', d, xname, x);
  checkNoOverlap(op, 'd', d, 's', s);
  checkNoOverlap(op, 'd', d, 'mask', mask);
  return n;
}

/** The stride and padding arguments of a windowed kernel (im2col, depthwise): the same checks and messages for both. */
export function checkStrideAndPad(op: string, sh: number, sw: number, padTop: number, padLeft: number): void {
  checkInt(op, 'sh', sh, 1, 2 ** 40);
  checkInt(op, 'sw', sw, 1, 2 ** 40);
  checkInt(op, 'padTop', padTop, -(2 ** 40), 2 ** 40);
  checkInt(op, 'padLeft', padLeft, -(2 ** 40), 2 ** 40);
}

/** The furthest input index a window reaches, (out + k) * s, fits the index range (both windowed kernels). */
export function checkWindowReach(op: string, outH: number, kh: number, sh: number, outW: number, kw: number, sw: number): void {
  sizeOf(op, '(outH+kh)*sh', outH + kh, sh);
  sizeOf(op, '(outW+kw)*sw', outW + kw, sw);
}
