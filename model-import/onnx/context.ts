/**
 * What the ONNX converter keeps per value while it walks the graph, and the
 * helpers every operator mapping uses: attributes (each operator names the
 * ones it supports; any other is refused), constants, the NCHW -> NHWC
 * layout rule, and the coded errors.
 *
 * Layout: the runner is batch-first NHWC, so an ONNX activation [N, C, H, W]
 * is the IR tensor [H, W, C] and [N, F] is [F]; the batch is dynamic and
 * folded shape arithmetic sees it as 1. A flat value made from a C x H x W
 * map (Flatten / Reshape of NCHW) is in HWC order in the IR: `perm[j]` is the
 * ONNX position of IR element j, and the first Gemm / MatMul reading it takes
 * its weight rows in that order, so its result is identical.
 */
import { MpcError } from '../../protocol/errors.js';
import type { FloatTensor } from '../../protocol/ir.js';
import { WorkGraph, type WorkNode } from '../graph.js';
import { outputShape } from '../shapes.js';
import type { OnnxNode, OnnxTensor } from './read.js';
import { int64, type AttributeMsg } from './schema.js';

export interface ActVal {
  kind: 'act';
  /** Name of the IR node computing it ('input' for the model input). */
  ir: string;
  /** ONNX dims, batch included (as 1). */
  dims: number[];
  /** For a flat value: ONNX position of each IR element (absent: the identity). */
  perm?: Int32Array;
  /** Known to be >= 0 (after ReLU / ReLU6 / Clip(0, ..)). */
  nonneg: boolean;
}
export interface ConstVal { kind: 'const'; t: OnnxTensor }
export type Val = ActVal | ConstVal;

export function unsupported(n: OnnxNode, what: string): MpcError {
  return new MpcError('E_UNSUPPORTED_LAYER', `node #${n.index} '${n.name}' (${n.opType}): ${what}`, { step: 'import.convert' });
}
export function malformed(n: OnnxNode, what: string): MpcError {
  return new MpcError('E_MODEL_FORMAT', `node #${n.index} '${n.name}' (${n.opType}): ${what}`, { step: 'import.convert' });
}

/** IR shape (without batch) of ONNX dims. */
export function irShape(n: OnnxNode, dims: number[]): number[] {
  if (dims.length === 4) return [dims[2]!, dims[3]!, dims[1]!];
  if (dims.length === 2) return [dims[1]!];
  throw unsupported(n, `a tensor of rank ${dims.length} ([${dims}]) is not supported (NCHW images or [N, features])`);
}

/** IR axis of an ONNX axis of a rank-4 (NCHW) or rank-2 tensor; undefined for the batch. */
export function irAxis(rank: number, axis: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  if (rank === 4) return ({ 1: 2, 2: 0, 3: 1 } as Record<number, number>)[a];
  if (rank === 2) return a === 1 ? 0 : undefined;
  return undefined;
}

export class Ctx {
  readonly g = new WorkGraph();
  readonly shapes = new Map<string, number[]>();
  readonly vals = new Map<string, Val>();
  /** Every value name some node or the graph output reads. */
  readonly used = new Set<string>();
  constructor(readonly opset: number) {}

  get(n: OnnxNode, i: number): Val | undefined {
    const name = n.inputs[i];
    if (name === undefined || name === '') return undefined;
    const v = this.vals.get(name);
    if (!v) throw malformed(n, `input '${name}' is not produced before this node`);
    return v;
  }
  act(n: OnnxNode, i: number): ActVal {
    const v = this.get(n, i);
    if (!v) throw malformed(n, `input ${i} is missing`);
    if (v.kind !== 'act') throw unsupported(n, `input ${i} is a constant where the protocol needs a computed tensor`);
    return v;
  }
  konst(n: OnnxNode, i: number, what: string): OnnxTensor | undefined {
    const v = this.get(n, i);
    if (!v) return undefined;
    if (v.kind !== 'const') throw unsupported(n, `${what} (input ${i}) must be a constant (an initializer, a Constant node or shape arithmetic on them)`);
    return v.t;
  }

  /** Add IR nodes for ONNX node `n`; the last one's value becomes n's output `out`. */
  emit(n: OnnxNode, nodes: WorkNode[], out: Omit<ActVal, 'kind' | 'ir'>, outName = n.outputs[0]!): ActVal {
    // The last node carries the ONNX value's name, unless that name is the IR's 'input' or already taken.
    const last = nodes[nodes.length - 1];
    if (last && (last.name === 'input' || this.g.get(last.name))) last.name = this.g.fresh(`${last.name}#`);
    for (const w of nodes) {
      this.g.add(w, { className: n.opType, position: n.index, scope: [] });
      const ins = w.inputs.map((i) => this.shapes.get(i)!);
      this.shapes.set(w.name, w.kind === 'batchnorm' ? ins[0]!.slice() : outputShape(w, ins));
    }
    const v: ActVal = { kind: 'act', ir: nodes.length ? nodes[nodes.length - 1]!.name : '', ...out };
    // The ONNX dims this mapping claims and the IR's own shape inference must agree.
    const got = this.shapes.get(v.ir), want = irShape(n, v.dims);
    if (!got || got.length !== want.length || got.some((d, i) => d !== want[i])) throw new MpcError('E_INTERNAL', `import: node #${n.index} '${n.name}' (${n.opType}): IR shape [${got ?? []}] differs from ONNX dims [${v.dims}]`, { step: 'import.convert' });
    this.vals.set(outName, v);
    return v;
  }
  /** n's output is the same value as `v` (Identity, Dropout, a zero Pad). */
  alias(n: OnnxNode, v: Val): void {
    this.vals.set(n.outputs[0]!, v);
  }
  fresh(base: string): string {
    return this.g.fresh(base);
  }
}

// ---- attributes ---------------------------------------------------------------

/** Refuse any attribute of `n` outside `allowed`. */
export function checkAttrs(n: OnnxNode, allowed: readonly string[]): void {
  for (const [k, a] of n.attrs) {
    if (!allowed.includes(k)) throw unsupported(n, `attribute '${k}'${describeAttr(a)} is not supported`);
    if (a.ref_attr_name) throw unsupported(n, `attribute '${k}' refers to a function attribute`);
  }
}

function describeAttr(a: AttributeMsg): string {
  const v = attrValue(a);
  return v === undefined ? '' : ` = ${typeof v === 'string' ? `'${v}'` : JSON.stringify(v)}`;
}

/** Hyperparameters only (numbers, integer lists, strings): float lists and tensors may hold weights and are never printed. */
function attrValue(a: AttributeMsg): number | number[] | string | undefined {
  switch (a.type) {
    case 1: return a.f;
    case 2: return int64(a.i);
    case 3: return a.s ? Buffer.from(a.s).toString('utf8').slice(0, 64) : '';
    case 7: return a.ints.slice(0, 8).map(int64);
    default: return undefined;
  }
}

export function attrInt(n: OnnxNode, key: string, dflt: number): number {
  const a = n.attrs.get(key);
  if (!a) return dflt;
  if (a.type !== 2 && a.i === undefined) throw malformed(n, `attribute '${key}' must be an integer`);
  return int64(a.i);
}
export function attrFloat(n: OnnxNode, key: string, dflt: number): number {
  const a = n.attrs.get(key);
  if (!a) return dflt;
  if (a.type === 2) return int64(a.i);
  return a.f ?? 0;
}
export function attrInts(n: OnnxNode, key: string): number[] | undefined {
  const a = n.attrs.get(key);
  if (!a) return undefined;
  return a.ints.map(int64);
}
export function attrFloats(n: OnnxNode, key: string): number[] | undefined {
  const a = n.attrs.get(key);
  return a ? a.floats.slice() : undefined;
}
export function attrString(n: OnnxNode, key: string, dflt: string): string {
  const a = n.attrs.get(key);
  return a?.s ? Buffer.from(a.s).toString('utf8') : dflt;
}
export function attrTensor(n: OnnxNode, key: string): AttributeMsg['t'] {
  return n.attrs.get(key)?.t;
}

export function tensorOf(t: OnnxTensor): FloatTensor {
  return { shape: t.dims.slice(), data: t.data };
}
export const numel = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
