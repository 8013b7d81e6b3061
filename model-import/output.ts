/** The client-side output activation (softmax / sigmoid after reconstruction), row by row. */
import type { OutputActivation } from '../protocol/ir.js';

export function applyOutputActivation(logits: Float32Array | Float64Array, batch: number, act: OutputActivation): Float32Array {
  const out = new Float32Array(logits.length);
  const k = logits.length / batch;
  for (let b = 0; b < batch; b++) {
    const row = logits.subarray(b * k, (b + 1) * k);
    if (act === 'softmax') {
      let m = -Infinity;
      for (const v of row) m = Math.max(m, v);
      let s = 0;
      for (const v of row) s += Math.exp(v - m);
      for (let i = 0; i < k; i++) out[b * k + i] = Math.exp(row[i]! - m) / s;
    } else if (act === 'sigmoid') for (let i = 0; i < k; i++) out[b * k + i] = 1 / (1 + Math.exp(-row[i]!));
    else out.set(row, b * k);
  }
  return out;
}

/** Index of the largest value in each row; for one sigmoid output, 1 if the logit is > 0. */
export function argmaxRows(v: ArrayLike<number>, batch: number): number[] {
  const k = v.length / batch;
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    if (k === 1) {
      out.push(v[b]! > 0 ? 1 : 0);
      continue;
    }
    let best = 0;
    for (let i = 1; i < k; i++) if (v[b * k + i]! > v[b * k + best]!) best = i;
    out.push(best);
  }
  return out;
}
