/**
 * Input kinds and the checks made before any request is sent.
 */
import { InputError } from './errors.js';

/** A preprocessed tensor (NHWC, already scaled as the model expects). */
export interface Tensor {
  data: Float32Array | Float64Array;
  shape: readonly number[];
}

/** Encoded image bytes (JPEG, PNG or a DICOM Part 10 file; in a browser also anything createImageBitmap reads). */
export type ImageBytes = Uint8Array | ArrayBuffer | Blob;

export type ImageInput = Tensor | ImageBytes;

export type ClassifiedInput = { kind: 'tensor'; tensor: Tensor } | { kind: 'image'; src: Uint8Array | Blob };

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

export function classifyInput(x: unknown, what = 'input'): ClassifiedInput {
  if (x instanceof Uint8Array) return { kind: 'image', src: x };
  if (x instanceof ArrayBuffer) return { kind: 'image', src: new Uint8Array(x) };
  if (typeof Blob !== 'undefined' && x instanceof Blob) return { kind: 'image', src: x };
  if (typeof x === 'object' && x !== null && 'data' in x && 'shape' in x) {
    const t = x as { data: unknown; shape: unknown };
    checkTensor(t, what);
    return { kind: 'tensor', tensor: t as Tensor };
  }
  throw new InputError('E_DTYPE', `${what}: expected a tensor { data, shape } or image bytes (Uint8Array, ArrayBuffer, Blob), got ${typeName(x)}`);
}

/** dtype, shape/length agreement and finiteness; messages never contain values. */
function checkTensor(t: { data: unknown; shape: unknown }, what: string): void {
  if (!(t.data instanceof Float32Array) && !(t.data instanceof Float64Array)) {
    throw new InputError('E_DTYPE', `${what}: tensor data must be a Float32Array or Float64Array, got ${typeName(t.data)}`);
  }
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new InputError('E_SHAPE', `${what}: tensor shape must be a non-empty array of positive integers`);
  }
  const n = shape.reduce((a: number, d: number) => a * d, 1);
  if (n !== t.data.length) {
    throw new InputError('E_SHAPE', `${what}: tensor shape [${shape.join(', ')}] has ${n} elements but data has ${t.data.length}`);
  }
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) throw new InputError('E_RANGE', `${what}: tensor element ${i} is not a finite number`);
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Check a tensor against the model's input shape: one image is
 * inputShape or [1, ...inputShape]; a batched tensor is [batch, ...inputShape].
 */
export function checkTensorShape(t: Tensor, inputShape: readonly number[], batched: boolean, what = 'input'): number {
  const s = t.shape;
  if (!batched && (sameShape(s, inputShape) || (s[0] === 1 && sameShape(s.slice(1), inputShape)))) return 1;
  if (batched && sameShape(s.slice(1), inputShape)) return s[0]!;
  const want = batched ? `[batch, ${inputShape.join(', ')}]` : `[${inputShape.join(', ')}]`;
  throw new InputError('E_SHAPE', `${what}: tensor shape [${s.join(', ')}] does not match the model input ${want}`);
}
