/**
 * Shape inference for model import: the IR toolkit's
 * (protocol/ir-kit/shapes.ts), with its shape errors reported as
 * E_MODEL_FORMAT at the 'import.shapes' step. pad1d is TF-style padding
 * (protocol/layers/geometry.ts).
 */
import { MpcError } from '../protocol/errors.js';
import type { LayerNode, ModelIR, Padding } from '../protocol/ir.js';
import { window1d } from '../protocol/layers/geometry.js';
import * as kit from '../protocol/ir-kit/shapes.js';

export { sizeOf } from '../protocol/layers/types.js';

export interface Pad1D {
  out: number;
  before: number;
  after: number;
}

export function pad1d(inSize: number, k: number, s: number, padding: Padding): Pad1D {
  if (padding === 'valid' && inSize < k) return { out: Math.floor((inSize - k) / s) + 1, before: 0, after: 0 };
  const w = window1d(inSize, k, s, padding);
  return { out: w.out, before: w.padBefore, after: w.padAfter };
}

function asImport<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof MpcError && e.code === 'E_SHAPE') throw new MpcError('E_MODEL_FORMAT', e.message, { step: 'import.shapes' });
    throw e;
  }
}

/** Output shape of one node from its input shapes. */
export function outputShape(node: LayerNode<unknown>, ins: number[][]): number[] {
  return asImport(() => kit.outputShape(node, ins));
}

/** Shapes of every node's output (and 'input'), in node order. */
export function inferShapes(model: Pick<ModelIR<unknown>, 'inputShape' | 'nodes'>): Map<string, number[]> {
  return asImport(() => kit.inferShapes(model));
}
