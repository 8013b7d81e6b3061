/** Output shape (without batch) of an IR model, from the IR toolkit's shape inference; weights are not read. */
import type { ModelIR } from '../protocol/ir.js';
import { modelOutputShape } from '../protocol/ir-kit/shapes.js';

export function outputShapeOf(model: ModelIR<unknown>): number[] {
  return modelOutputShape(model);
}
