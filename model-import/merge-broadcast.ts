/**
 * Keras merges (Add, Subtract, Multiply, Average, Maximum) of inputs whose shapes differ. Keras's
 * _Merge layer (Keras 2 and 3, as tfjs-layers) first gives each lower-rank input new axes right after
 * the batch (expand_dims(x, axis=1) until the ranks agree: a [C] vector against a [H, W, C] map becomes
 * [1, 1, C]) and then broadcasts numpy-style. The IR's add / subtract / average / maximum take equal
 * shapes and its multiply broadcasts equal ranks, so this inserts a reshape for the new axes and, for
 * the former, a nearest UpSampling2D of the size-1 spatial axes (an exact copy, local to each party).
 * Broadcasting the channels ([H, W, 1] against [H, W, C]) or outside a rank-3 map is refused.
 */
import type { WorkGraph, WorkNode } from './graph.js';
import type { KerasLayer } from './keras-config.js';
import { badConfig, unsupported } from './layer-args.js';

export interface Broadcast {
  /** Nodes to add before the merge (reshapes, upsamplings), in order. */
  pre: WorkNode[];
  /** The merge's inputs: L.inputs, or the broadcast versions. */
  inputs: string[];
}

/** `full`: every input must reach the common shape (add, subtract, average, maximum); else only the ranks (multiply). */
export function broadcastMerge(L: KerasLayer, ins: number[][], g: WorkGraph, full: boolean): Broadcast {
  const rank = Math.max(...ins.map((s) => s.length));
  const expanded = ins.map((s) => [...new Array<number>(rank - s.length).fill(1), ...s]);
  const target = expanded[0]!.map((_, a) => Math.max(...expanded.map((s) => s[a]!)));
  for (const s of expanded) {
    if (s.some((d, a) => d !== target[a] && d !== 1)) throw badConfig(L, `inputs of shapes ${ins.map((x) => `[${x}]`).join(', ')} cannot be broadcast together`);
  }
  const pre: WorkNode[] = [];
  const inputs = L.inputs.map((name, i) => {
    const s = expanded[i]!;
    let cur = name;
    if (ins[i]!.length < rank) {
      const r = g.fresh(`${L.name}/expand${i}`);
      pre.push({ kind: 'reshape', name: r, inputs: [cur], targetShape: s.slice() });
      cur = r;
    }
    if (!full || s.every((d, a) => d === target[a])) return cur;
    if (rank !== 3 || s[2] !== target[2]) {
      throw unsupported(L, `broadcasting [${ins[i]}] to [${target}] is not supported (only the height and width of a [H, W, C] map may be 1: a [1, 1, C] or [C] gate; not the channels)`);
    }
    const u = g.fresh(`${L.name}/broadcast${i}`);
    pre.push({ kind: 'upsampling2d', name: u, inputs: [cur], size: [target[0]! / s[0]!, target[1]! / s[1]!], interpolation: 'nearest' });
    return u;
  });
  return { pre, inputs };
}
