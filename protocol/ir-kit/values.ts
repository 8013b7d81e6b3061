/**
 * The values of an IR walk, by node name: what every pass over a ModelIR
 * (the float64 / fixed-point forward pass, the interval bounds, the
 * semi-honest runner over shares, the malicious runner over MACed shares)
 * keeps between layers. Nodes run in list order; a node reads the values of
 * its inputs ('input' is the model's input), and each value is freed after
 * its last consumer (VGG16's activations are large), except the model's
 * output. The pass itself (sync or async, what a node computes) stays with
 * its caller.
 */
import { MpcError, type ErrorCode } from '../errors.js';
import type { LayerNode, ModelIR } from '../ir.js';

export class IRValues<V> {
  private readonly vals: Map<string, V>;
  /** Index of the last node that reads each value. */
  private readonly lastUse = new Map<string, number>();

  /** `code`: the error a missing value or output is (each pass keeps the code it has always used). */
  constructor(private readonly model: ModelIR<unknown>, input: V, private readonly code: ErrorCode) {
    this.vals = new Map<string, V>([['input', input]]);
    model.nodes.forEach((nd, i) => nd.inputs.forEach((s) => this.lastUse.set(s, i)));
  }

  /** The values node reads, in its input order; one not computed before it is an error. */
  inputsOf(node: LayerNode<unknown>): V[] {
    return node.inputs.map((s) => {
      const v = this.vals.get(s);
      if (v === undefined) throw new MpcError(this.code, `layer '${node.name}' reads '${s}', which is not computed before it`);
      return v;
    });
  }

  /** Store node i's value and free its inputs that no later node reads. */
  set(i: number, node: LayerNode<unknown>, v: V): void {
    this.vals.set(node.name, v);
    for (const s of node.inputs) if (this.lastUse.get(s) === i && s !== this.model.output) this.vals.delete(s);
  }

  /** The model's output value. */
  output(): V {
    const out = this.vals.get(this.model.output);
    if (out === undefined) throw new MpcError(this.code, `model output '${this.model.output}' is not a node`);
    return out;
  }
}
