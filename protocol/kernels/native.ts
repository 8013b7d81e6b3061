/**
 * The C++ N-API kernels (protocol/kernels/native/, built by `npm ci` through
 * scripts/build-addon.mjs into build/Release/securenn_kernels.node) as a
 * RingKernels. Loading the addon from disk, and the MPC_NATIVE_ADDON /
 * MPC_KERNEL_THREADS / MPC_KERNEL_SIMD settings, are the runtime layer's
 * (runtime/native-addon.ts); this file only wraps a loaded addon. The addon
 * checks every argument itself and throws Errors carrying a registry code;
 * the wrapper re-throws them as MpcError.
 */
import { ERROR_CODES, type ErrorCode, MpcError } from '../errors.js';
import { tsKernels } from './ts.js';
import type { RingKernels } from './types.js';

/**
 * The raw addon: the RingKernels operations (same signatures; the addon
 * checks its arguments and throws Errors with a registry code) plus the AES
 * keystream and configuration.
 */
export type NativeAddon = Omit<RingKernels, 'name' | 'signedSum128' | 'blockComb128'> & {
  /** RingKernels.blockComb128 with coef's int8 bytes as a Uint8Array. */
  blockComb128?(out: Uint32Array, x0: Uint32Array, x1: Uint32Array, pat: Uint8Array, coef: Uint8Array, width: number, src: Uint32Array, len: number, one: Uint32Array): void;
  /** RingKernels.signedSum128 with k's int8 bytes as a Uint8Array (N-API's argument table has no Int8Array). */
  signedSum128?(acc: Uint32Array, x: Uint32Array, k: Uint8Array, len: number, stride: number): void;
  aesAvailable(): boolean;
  prgKeystream(key: Uint8Array, offset: number, out: Uint8Array): void;
  prgRejectSample(key: Uint8Array, offset: number, table: Uint8Array, out: Uint8Array): number;
  info(): NativeInfo;
  configure(simd: NativeSimd | null, threads: number | null): NativeInfo;
};

/** GEMM kernel levels: x86 scalar < avx2 < avx512; arm64 scalar < neon. */
export type NativeSimd = 'scalar' | 'avx2' | 'avx512' | 'neon';
export interface NativeInfo {
  /** GEMM micro-kernel in use. */
  simd: NativeSimd;
  /** Best one the CPU supports. */
  detectedSimd: NativeSimd;
  /** Threads a large GEMM may use. */
  threads: number;
}

function rethrow(e: unknown): never {
  if (e instanceof Error && !(e instanceof MpcError)) {
    const code = (e as Error & { code?: string }).code;
    throw new MpcError(code !== undefined && code in ERROR_CODES ? (code as ErrorCode) : 'E_NATIVE', e.message, { cause: e });
  }
  throw e;
}

function wrap(k: NativeAddon): RingKernels {
  return {
    name: 'native',
    add(a, b, out) { try { k.add(a, b, out); } catch (e) { rethrow(e); } },
    sub(a, b, out) { try { k.sub(a, b, out); } catch (e) { rethrow(e); } },
    mul(a, b, out) { try { k.mul(a, b, out); } catch (e) { rethrow(e); } },
    mulScalar(a, s, out) {
      if (typeof s !== 'bigint') throw new MpcError('E_BAD_ARGUMENT', 'mulScalar: expected s to be a bigint');
      try { k.mulScalar(a, BigInt.asUintN(64, s), out); } catch (e) { rethrow(e); }
    },
    addScalar(a, s, out) {
      if (typeof s !== 'bigint') throw new MpcError('E_BAD_ARGUMENT', 'addScalar: expected s to be a bigint');
      try { k.addScalar(a, BigInt.asUintN(64, s), out); } catch (e) { rethrow(e); }
    },
    divShare(a, d, party, out) { try { k.divShare(a, d, party, out); } catch (e) { rethrow(e); } },
    sar(a, f, out) { try { k.sar(a, f, out); } catch (e) { rethrow(e); } },
    wrap(a, b, out) { try { k.wrap(a, b, out); } catch (e) { rethrow(e); } },
    addOdd(a, b, out) { try { k.addOdd(a, b, out); } catch (e) { rethrow(e); } },
    subOdd(a, b, out) { try { k.subOdd(a, b, out); } catch (e) { rethrow(e); } },
    reduceOdd(a, out) { try { k.reduceOdd(a, out); } catch (e) { rethrow(e); } },
    gemm(A, B, m, kk, n, out) { try { k.gemm(A, B, m, kk, n, out); } catch (e) { rethrow(e); } },
    im2col(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, out) {
      try { k.im2col(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, out); } catch (e) { rethrow(e); }
    },
    // An addon built before depthwise existed (a stale build/) lacks it: the TS kernel gives the same result.
    depthwise: typeof k.depthwise !== 'function' ? tsKernels.depthwise : (x, w, N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW, out) => {
      try { k.depthwise(x, w, N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW, out); } catch (e) { rethrow(e); }
    },
    bitShareZp(x, r, out) { try { k.bitShareZp(x, r, out); } catch (e) { rethrow(e); } },
    privateCompare(j, xb, r, beta, s, u, perm, d) { try { k.privateCompare(j, xb, r, beta, s, u, perm, d); } catch (e) { rethrow(e); } },
    zeroTest(d0, d1, out) { try { k.zeroTest(d0, d1, out); } catch (e) { rethrow(e); } },
    bitShareZp32(x, r, out) { try { k.bitShareZp32(x, r, out); } catch (e) { rethrow(e); } },
    privateCompare32(j, xb, r, beta, s, rot, mask, d) { try { k.privateCompare32(j, xb, r, beta, s, rot, mask, d); } catch (e) { rethrow(e); } },
    zeroTest32(d0, d1, out) { try { k.zeroTest32(d0, d1, out); } catch (e) { rethrow(e); } },
    digitShareZp16(x, r, out) { try { k.digitShareZp16(x, r, out); } catch (e) { rethrow(e); } },
    privateCompareR4(j, xl, r, beta, s, rot, mask, d) { try { k.privateCompareR4(j, xl, r, beta, s, rot, mask, d); } catch (e) { rethrow(e); } },
    zeroTest16(d0, d1, out) { try { k.zeroTest16(d0, d1, out); } catch (e) { rethrow(e); } },
    maskZp(d, mask, subtract) { try { k.maskZp(d, mask, subtract); } catch (e) { rethrow(e); } },
    rejectSample(raw, table, out, filled) { try { return k.rejectSample(raw, table, out, filled); } catch (e) { return rethrow(e); } },
  };
}

/** The Z_2^128 kernels the addon has (one built before them, a stale build/, has none: the callers fall back). */
type Kernels128 = Pick<RingKernels, 'gemm128' | 'mul128' | 'mulScalar128' | 'add128' | 'sub128' | 'signedSum128' | 'blockComb128'>;
function wrap128(k: NativeAddon): Kernels128 {
  const checked = <A extends unknown[]>(f: ((...a: A) => void) | undefined): ((...a: A) => void) | undefined =>
    typeof f !== 'function' ? undefined : (...a: A) => { try { f(...a); } catch (e) { rethrow(e); } };
  const out: Kernels128 = {};
  const gemm128 = checked(k.gemm128), mul128 = checked(k.mul128), mulScalar128 = checked(k.mulScalar128), add128 = checked(k.add128), sub128 = checked(k.sub128);
  if (gemm128) out.gemm128 = gemm128;
  if (mul128) out.mul128 = mul128;
  if (mulScalar128) out.mulScalar128 = mulScalar128;
  if (add128) out.add128 = add128;
  if (sub128) out.sub128 = sub128;
  const signed = k.signedSum128;
  if (typeof signed === 'function') {
    out.signedSum128 = (acc, x, kk, len, stride) => {
      try { signed(acc, x, new Uint8Array(kk.buffer, kk.byteOffset, kk.length), len, stride); } catch (e) { rethrow(e); }
    };
  }
  const comb = k.blockComb128;
  if (typeof comb === 'function') {
    out.blockComb128 = (o, x0, x1, pat, coef, width, src, len, one) => {
      try { comb(o, x0, x1, pat, new Uint8Array(coef.buffer, coef.byteOffset, coef.length), width, src, len, one); } catch (e) { rethrow(e); }
    };
  }
  return out;
}

/** The RingKernels over a loaded addon (runtime/native-addon.ts loads it). */
export function nativeKernelsFromAddon(addon: NativeAddon): RingKernels {
  return Object.freeze({ ...wrap(addon), ...wrap128(addon) });
}

/** Sets the addon's GEMM SIMD cap and/or thread count, errors as MpcError. */
export function configureAddon(addon: NativeAddon, simd: NativeSimd | null, threads: number | null): NativeInfo {
  try { return addon.configure(simd, threads); } catch (e) { return rethrow(e); }
}
