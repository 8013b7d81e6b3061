/**
 * Thin HDF5 access over h5wasm (node build: files are read from the host
 * filesystem by absolute path). HDF5 errors are turned into E_MODEL_FORMAT
 * with the library's one-line reason (never data).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import type { Dataset, File as H5File, Group } from 'h5wasm/node';
import { MpcError } from '../protocol/errors.js';

export type { Dataset, Group, H5File };

let readyPromise: Promise<void> | null = null;

/** Load the wasm module once and make HDF5 errors throw instead of printing. */
export function h5Ready(): Promise<void> {
  readyPromise ??= h5wasm.ready.then((m) => {
    m.activate_throwing_error_handler();
  });
  return readyPromise;
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True if `bytes` carries the HDF5 signature at offset 0 or a userblock offset (512, 1024, ...). */
export function hasHdf5Magic(bytes: Uint8Array): boolean {
  for (let off = 0; off + 8 <= bytes.length; off = off === 0 ? 512 : off * 2) {
    if (HDF5_MAGIC.every((b, i) => bytes[off + i] === b)) return true;
    if (off > 1 << 20) break;
  }
  return false;
}

/** The short reason from an HDF5 error stack ("File has been truncated"). */
export function hdf5Reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const minors = [...msg.matchAll(/minor: ([^\n]+)/g)].map((m) => m[1]!.trim());
  return minors.at(-1) ?? msg.split('\n')[0]!.slice(0, 200);
}

/** Open an HDF5 file read-only; refuses non-HDF5 bytes before handing them to the library. */
export async function openH5(file: string, what = 'model file'): Promise<H5File> {
  await h5Ready();
  const abs = path.resolve(file);
  const head = Buffer.alloc(1 << 16);
  let got = 0;
  try {
    const fd = openSync(abs, 'r');
    try {
      got = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new MpcError('E_MODEL_FORMAT', `${what}: cannot read ${path.basename(abs)}`, { step: 'import.parse', cause: e });
  }
  if (!hasHdf5Magic(head.subarray(0, got))) throw new MpcError('E_MODEL_FORMAT', `${what}: ${path.basename(abs)} is not an HDF5 file (bad signature)`, { step: 'import.parse' });
  try {
    return new h5wasm.File(abs, 'r');
  } catch (e) {
    throw new MpcError('E_MODEL_FORMAT', `${what}: HDF5 open failed (${hdf5Reason(e)})`, { step: 'import.parse', cause: e });
  }
}

/** Create (truncate) an HDF5 file for writing. */
export async function createH5(file: string): Promise<H5File> {
  await h5Ready();
  return new h5wasm.File(path.resolve(file), 'w');
}

export function isGroup(e: unknown): e is Group {
  return e instanceof h5wasm.Group;
}
export function isDataset(e: unknown): e is Dataset {
  return e instanceof h5wasm.Dataset;
}

/** A string or string-array attribute (vlen or fixed-length), or undefined. */
export function strAttr(obj: Group | Dataset, name: string): string | string[] | undefined {
  const attrs = obj.attrs;
  if (!(name in attrs)) return undefined;
  const v = attrs[name]!.value;
  const toStr = (x: unknown): string => (x instanceof Uint8Array ? new TextDecoder().decode(x) : String(x)).replace(/\0+$/, '');
  if (Array.isArray(v)) return v.map(toStr);
  if (v === null) return undefined;
  if (ArrayBuffer.isView(v) && !(v instanceof Uint8Array)) return (v as unknown as ArrayLike<unknown>).length === 0 ? [] : undefined;
  return toStr(v);
}

export function strListAttr(obj: Group | Dataset, name: string): string[] | undefined {
  const v = strAttr(obj, name);
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Read a floating-point dataset as float64 with its shape; E_MODEL_FORMAT for other types or read errors. */
export function readFloatDataset(ds: Dataset, what: string): { shape: number[]; data: Float64Array } {
  let meta;
  let value;
  try {
    meta = ds.metadata;
    value = ds.value;
  } catch (e) {
    throw new MpcError('E_MODEL_FORMAT', `${what}: HDF5 read failed (${hdf5Reason(e)})`, { step: 'import.parse', cause: e });
  }
  const shape = meta.shape ?? [];
  const n = shape.reduce((a, b) => a * b, 1);
  let data: Float64Array;
  if (value instanceof Float32Array || value instanceof Float64Array) data = Float64Array.from(value);
  else if (meta.type === 1 && meta.size === 2 && value instanceof Uint8Array) {
    const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
    data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = halfToFloat(dv.getUint16(2 * i, meta.littleEndian));
  } else throw new MpcError('E_MODEL_FORMAT', `${what}: weight is not a floating-point dataset`, { step: 'import.parse' });
  if (data.length !== n) throw new MpcError('E_MODEL_FORMAT', `${what}: dataset holds ${data.length} values for shape [${shape}]`, { step: 'import.parse' });
  return { shape, data };
}
