/**
 * ReLU / ReLU6 moved after MaxPool (the secure runner's optimisation,
 * protocol/layers/runner.ts): for a layer whose activation is monotone
 * non-decreasing (relu, relu6) and whose only consumer is a MaxPool,
 * maxpool(act(z)) = act(maxpool(z)) exactly (max commutes with any monotone
 * non-decreasing map, and every pooling window holds at least one real
 * element, so the -2^60 padding never wins). The layer then runs linear and
 * the activation runs on the pooled tensor: a 2x2 pool needs a quarter of
 * the ReLUs (the seed CNN's and VGG16's largest ReLU layers). Same rounds,
 * same result.
 *
 * The values are the same, the compared ones are not: the MaxPool compares
 * the pre-activation z, whose differences reach 2 max|z| where those of
 * relu(z) stay below 2 max(z, 0) (a layer with large negative z). The range
 * checks (forward.ts onCompare, model-import/static-bounds.ts) note it with
 * poolNoteFor.
 */
import type { Activation, ModelIR } from '../ir.js';
import type { CompareKind } from './arith.js';

/** Per MaxPool node index, the activation to apply after it, the producer's name (its label) and index. */
export type Deferred = Map<number, { activation: Activation; from: string; producer: number }>;

export function deferredActivations(model: ModelIR<unknown>): Deferred {
  const consumers = new Map<string, number[]>();
  model.nodes.forEach((nd, i) => nd.inputs.forEach((s) => consumers.set(s, [...(consumers.get(s) ?? []), i])));
  const out: Deferred = new Map();
  model.nodes.forEach((nd, i) => {
    if (!('activation' in nd) || (nd.activation !== 'relu' && nd.activation !== 'relu6') || nd.name === model.output) return;
    const c = consumers.get(nd.name) ?? [];
    if (c.length !== 1 || model.nodes[c[0]!]!.kind !== 'maxpool2d') return;
    out.set(c[0]!, { activation: nd.activation, from: nd.name, producer: i });
  });
  return out;
}

type Note = (layer: string, kind: CompareKind, maxAbs: number) => void;

/**
 * Per producer node index whose activation the runner moves: a note callback for that node that passes every
 * note on and, for its activation's sign comparison (max|z|, + 6 for relu6), also notes the MaxPool's
 * differences of pre-activation values, 2 max|z| (+ 12 for relu6: conservative), under the MaxPool's name.
 */
export function poolNoteFor(model: ModelIR<unknown>, note: Note): Map<number, Note> {
  const out = new Map<number, Note>();
  for (const [pool, d] of deferredActivations(model)) {
    const name = model.nodes[pool]!.name;
    out.set(d.producer, (layer, kind, m) => {
      note(layer, kind, m);
      if (layer === d.from && kind === 'sign') note(name, 'difference', 2 * m);
    });
  }
  return out;
}
