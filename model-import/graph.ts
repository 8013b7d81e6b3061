/**
 * The working graph the converter rewrites before it becomes a ModelIR:
 * IR nodes plus BatchNormalization nodes still to be folded, with the Keras
 * origin of each node kept for error messages.
 */
import { MpcError } from '../protocol/errors.js';
import type { FloatTensor, LayerNode } from '../protocol/ir.js';

/** Per-channel affine y = x * scale + shift over the last axis (an inference-mode BatchNormalization). */
export interface AffineNode {
  kind: 'batchnorm';
  name: string;
  inputs: string[];
  scale: Float64Array;
  shift: Float64Array;
}

export type WorkNode = LayerNode<FloatTensor> | AffineNode;

export interface Origin {
  className: string;
  position: number;
  scope: string[];
}

export class WorkGraph {
  nodes: WorkNode[] = [];
  output = 'input';
  readonly origin = new Map<string, Origin>();
  /** Activations allowed only as the model's last op, by node name. */
  readonly finalActivation = new Map<string, 'softmax' | 'sigmoid'>();
  private readonly alias = new Map<string, string>();

  resolve(name: string): string {
    let n = name;
    for (let guard = 0; this.alias.has(n); guard++) {
      if (guard > 1e6) throw new MpcError('E_INTERNAL', 'import: alias cycle');
      n = this.alias.get(n)!;
    }
    return n;
  }

  /** Make `name` an alias of `target` (the node named `name`, if any, is dropped). */
  replace(name: string, target: string): void {
    this.alias.set(name, target);
    this.nodes = this.nodes.filter((n) => n.name !== name);
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => this.resolve(i));
    this.output = this.resolve(this.output);
  }

  add(node: WorkNode, origin: Origin): void {
    node.inputs = node.inputs.map((i) => this.resolve(i));
    this.nodes.push(node);
    this.origin.set(node.name, origin);
  }

  get(name: string): WorkNode | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  consumers(name: string): WorkNode[] {
    return this.nodes.filter((n) => n.inputs.includes(name));
  }

  /** Number of uses of `name` as an input or as the model output. */
  uses(name: string): number {
    let k = name === this.output ? 1 : 0;
    for (const n of this.nodes) for (const i of n.inputs) if (i === name) k++;
    return k;
  }

  /** A fresh node name derived from `base`. */
  fresh(base: string): string {
    const taken = new Set([...this.nodes.map((n) => n.name), ...this.alias.keys(), 'input']);
    let n = base;
    for (let k = 1; taken.has(n); k++) n = `${base}_${k}`;
    return n;
  }

  describe(name: string): string {
    const o = this.origin.get(name);
    if (!o) return `'${name}'`;
    return `layer #${o.position} '${name}' (${o.className})${o.scope.length ? ` in ${o.scope.join('/')}` : ''}`;
  }
}
