/**
 * Tensors of shares as the layer runner sees them: batch-first NHWC shape
 * (batch included) and one party's flat share data. P2 holds no data share:
 * its `data` is a zero-filled placeholder of the right length, never read as
 * a secret.
 */
import type { AShare } from '../ring/types.js';

export interface ShareTensor {
  /** Full shape including batch, e.g. [N, H, W, C] or [N, units]. */
  shape: number[];
  data: AShare;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
