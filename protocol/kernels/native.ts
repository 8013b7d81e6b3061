/**
 * Loader for the C++ N-API kernels (protocol/kernels/native/, built by
 * `npm ci` through scripts/build-addon.mjs into build/Release/securenn_kernels.node).
 * The addon checks every argument itself and throws Errors carrying a registry
 * code; the wrapper here re-throws them as MpcError.
 *
 * Environment (read once, when the addon loads):
 *  - MPC_NATIVE_ADDON=<path>: load the addon from another path;
 *  - MPC_KERNEL_THREADS=<n>: threads one large GEMM may use (default 2);
 *  - MPC_KERNEL_SIMD=scalar|avx2|avx512: cap the SIMD level (default: the
 *    best the CPU has; on arm64 that is 'neon', and 'scalar' forces the
 *    portable kernel). Neither changes any result, only the speed.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, type ErrorCode, MpcError } from '../errors.js';
import type { RingKernels } from './types.js';

/**
 * The raw addon: the RingKernels operations (same signatures; the addon
 * checks its arguments and throws Errors with a registry code) plus the AES
 * keystream and configuration.
 */
export type NativeAddon = Omit<RingKernels, 'name'> & {
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

const here = path.dirname(fileURLToPath(import.meta.url));
const ADDON_FILE = 'securenn_kernels.node';

/** Where the addon may be: the repo's build/ from the source tree or from a compiled dist/ tree. */
function candidates(): string[] {
  const list: string[] = [];
  if (process.env.MPC_NATIVE_ADDON) list.push(path.resolve(process.env.MPC_NATIVE_ADDON));
  // From protocol/kernels, from a compiled tree one level deeper, and from parties/ (the bundled party program).
  for (const up of ['../..', '../../..', '..']) {
    for (const kind of ['Release', 'Debug']) list.push(path.resolve(here, up, 'build', kind, ADDON_FILE));
  }
  return list;
}

let cachedAddon: NativeAddon | null | undefined;
let cachedKernels: RingKernels | null = null;
let loadError: string | null = null;

/** The raw addon, or null when it is not built (see nativeLoadError()). */
export function loadNativeAddon(): NativeAddon | null {
  if (cachedAddon !== undefined) return cachedAddon;
  cachedAddon = null;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const file of candidates()) {
    if (!existsSync(file)) { tried.push(file); continue; }
    try {
      cachedAddon = require(file) as NativeAddon;
      loadError = null;
      applyEnvSettings(cachedAddon);
      return cachedAddon;
    } catch (e) {
      // Built but unloadable (e.g. built for another Node ABI): say so once, then use the fallback.
      loadError = `kernels: could not load ${file}: ${(e as Error).message}`;
      process.emitWarning(loadError, { code: 'MPC_NATIVE_LOAD' });
      return null;
    }
  }
  loadError = `kernels: native addon not built (looked for ${tried.join(', ')}); run \`npm ci\` or \`node scripts/build-addon.mjs\``;
  return null;
}

function applyEnvSettings(addon: NativeAddon): void {
  const threads = process.env.MPC_KERNEL_THREADS, simd = process.env.MPC_KERNEL_SIMD;
  if (threads) {
    const t = Number(threads);
    if (Number.isInteger(t) && t >= 1 && t <= 64) addon.configure(null, t);
    else process.emitWarning(`MPC_KERNEL_THREADS must be an integer in [1, 64]; ignored`, { code: 'MPC_KERNEL_ENV' });
  }
  if (simd) {
    if (simd === 'scalar' || simd === 'avx2' || simd === 'avx512') addon.configure(simd, null);
    else process.emitWarning(`MPC_KERNEL_SIMD must be scalar, avx2 or avx512; ignored`, { code: 'MPC_KERNEL_ENV' });
  }
}

/** Why loadNativeKernels() returned null, or null if it did not. */
export function nativeLoadError(): string | null {
  loadNativeAddon();
  return loadError;
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

/** The native kernels, or null if the addon is not built. Loaded once and cached. */
export function loadNativeKernels(): RingKernels | null {
  if (cachedKernels) return cachedKernels;
  const addon = loadNativeAddon();
  if (!addon) return null;
  cachedKernels = Object.freeze(wrap(addon));
  return cachedKernels;
}

/** GEMM kernel and thread settings of the loaded addon, or null if none. */
export function nativeKernelInfo(): NativeInfo | null {
  return loadNativeAddon()?.info() ?? null;
}

/**
 * Caps the GEMM SIMD level and/or sets the thread count (null leaves one as
 * it is). Results never depend on either; this is for tests and benchmarks.
 */
export function configureNativeKernels(opts: { simd?: NativeSimd | null; threads?: number | null }): NativeInfo {
  const addon = loadNativeAddon();
  if (!addon) throw new MpcError('E_NATIVE', nativeLoadError() ?? 'kernels: native addon not built');
  try { return addon.configure(opts.simd ?? null, opts.threads ?? null); } catch (e) { rethrow(e); }
}
