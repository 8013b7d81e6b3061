/**
 * Constant folding at import: Constant nodes, and the shape-only subgraphs
 * torch.onnx emits around Reshape / Resize / Pad (Shape -> Gather ->
 * Unsqueeze -> Concat ...), evaluated once on the known shapes (the batch
 * as 1) so that the operators reading them see constants. A node is folded
 * when every input it has is a constant (or, for Shape, has a known shape).
 */
import type { OnnxNode, OnnxTensor } from './read.js';
import { decodeTensor } from './read.js';
import { attrFloat, attrFloats, attrInt, attrInts, attrTensor, checkAttrs, malformed, numel, unsupported, type Ctx } from './context.js';

const FOLDABLE = new Set(['Constant', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast', 'Slice', 'Mul', 'Add', 'Sub', 'Div', 'Floor', 'Ceil', 'Identity', 'Reshape', 'ConstantOfShape', 'Transpose', 'Flatten', 'Neg', 'Sqrt', 'Reciprocal']);

const ints = (dims: number[], vals: number[]): OnnxTensor => ({ dims, kind: 'int', data: Float64Array.from(vals) });

function strides(d: readonly number[]): number[] {
  const s = new Array<number>(d.length).fill(1);
  for (let i = d.length - 2; i >= 0; i--) s[i] = s[i + 1]! * d[i + 1]!;
  return s;
}

function broadcast(n: OnnxNode, a: OnnxTensor, b: OnnxTensor, f: (x: number, y: number) => number): OnnxTensor {
  const r = Math.max(a.dims.length, b.dims.length);
  const da = [...new Array(r - a.dims.length).fill(1), ...a.dims], db = [...new Array(r - b.dims.length).fill(1), ...b.dims];
  const out = da.map((d, i) => {
    if (d !== db[i] && d !== 1 && db[i] !== 1) throw malformed(n, `cannot broadcast [${a.dims}] with [${b.dims}]`);
    return Math.max(d, db[i]!);
  });
  const sa = strides(da), sb = strides(db), so = strides(out);
  const data = new Float64Array(numel(out));
  for (let k = 0; k < data.length; k++) {
    let ia = 0, ib = 0;
    for (let ax = 0; ax < r; ax++) {
      const c = Math.floor(k / so[ax]!) % out[ax]!;
      if (da[ax] !== 1) ia += c * sa[ax]!;
      if (db[ax] !== 1) ib += c * sb[ax]!;
    }
    data[k] = f(a.data[ia]!, b.data[ib]!);
  }
  return { dims: out, kind: a.kind === 'float' || b.kind === 'float' ? 'float' : 'int', data };
}

function transpose(t: OnnxTensor, perm: number[]): OnnxTensor {
  const dims = perm.map((p) => t.dims[p]!);
  const si = strides(t.dims), so = strides(dims);
  const data = new Float64Array(t.data.length);
  for (let k = 0; k < data.length; k++) {
    let src = 0;
    for (let ax = 0; ax < dims.length; ax++) src += (Math.floor(k / so[ax]!) % dims[ax]!) * si[perm[ax]!]!;
    data[k] = t.data[src]!;
  }
  return { dims, kind: t.kind, data };
}

function constantNode(n: OnnxNode): OnnxTensor {
  checkAttrs(n, ['value', 'value_float', 'value_floats', 'value_int', 'value_ints']);
  const t = attrTensor(n, 'value');
  if (t) return decodeTensor(t, `Constant '${n.name}'`);
  if (n.attrs.has('value_float')) return { dims: [], kind: 'float', data: Float64Array.of(attrFloat(n, 'value_float', 0)) };
  if (n.attrs.has('value_floats')) { const v = attrFloats(n, 'value_floats')!; return { dims: [v.length], kind: 'float', data: Float64Array.from(v) }; }
  if (n.attrs.has('value_int')) return ints([], [attrInt(n, 'value_int', 0)]);
  if (n.attrs.has('value_ints')) { const v = attrInts(n, 'value_ints')!; return ints([v.length], v); }
  throw unsupported(n, 'a Constant without a dense value (sparse_value, strings) is not supported');
}

function evaluate(n: OnnxNode, c: (i: number) => OnnxTensor): OnnxTensor {
  const x = (): OnnxTensor => c(0);
  switch (n.opType) {
    case 'Constant': return constantNode(n);
    case 'Identity': return x();
    case 'Cast': { const to = attrInt(n, 'to', 1); const t = x(); return to === 1 || to === 10 || to === 11 ? { ...t, kind: 'float' } : { ...t, kind: 'int', data: t.data.map(Math.trunc) }; }
    case 'Floor': return { ...x(), data: x().data.map(Math.floor) };
    case 'Ceil': return { ...x(), data: x().data.map(Math.ceil) };
    case 'Neg': return { ...x(), data: x().data.map((v) => -v) };
    case 'Sqrt': return { ...x(), data: x().data.map(Math.sqrt) };
    case 'Reciprocal': return { ...x(), data: x().data.map((v) => 1 / v) };
    case 'Add': return broadcast(n, c(0), c(1), (a, b) => a + b);
    case 'Sub': return broadcast(n, c(0), c(1), (a, b) => a - b);
    case 'Mul': return broadcast(n, c(0), c(1), (a, b) => a * b);
    case 'Div': { const a = c(0), b = c(1); const isInt = a.kind === 'int' && b.kind === 'int'; return broadcast(n, a, b, (p, q) => (isInt ? Math.trunc(p / q) : p / q)); }
    case 'Concat': {
      const ts = n.inputs.map((_, i) => c(i));
      const r = ts[0]!.dims.length;
      const ax = attrInt(n, 'axis', 0);
      const axis = ax < 0 ? ax + r : ax;
      if (r !== 1 || axis !== 0) {
        // General concat of constants along `axis`.
        const outer = numel(ts[0]!.dims.slice(0, axis));
        const dims = ts[0]!.dims.slice();
        dims[axis] = ts.reduce((s, t) => s + t.dims[axis]!, 0);
        const data: number[] = [];
        for (let o = 0; o < outer; o++) for (const t of ts) { const blk = numel(t.dims.slice(axis)); data.push(...t.data.subarray(o * blk, (o + 1) * blk)); }
        return { dims, kind: ts.some((t) => t.kind === 'float') ? 'float' : 'int', data: Float64Array.from(data) };
      }
      const data = ts.flatMap((t) => Array.from(t.data));
      return { dims: [data.length], kind: ts.some((t) => t.kind === 'float') ? 'float' : 'int', data: Float64Array.from(data) };
    }
    case 'Unsqueeze': {
      // Axes: an attribute before opset 13, the second input from 13; negative ones count from the output's rank.
      const t = x(), raw = attrInts(n, 'axes') ?? Array.from(c(1).data), R = t.dims.length + raw.length;
      const dims = t.dims.slice();
      for (const a of raw.map((v) => (v < 0 ? v + R : v)).sort((p, q) => p - q)) dims.splice(a, 0, 1);
      return { ...t, dims };
    }
    case 'Squeeze': {
      const t = x(), raw = attrInts(n, 'axes') ?? (n.inputs[1] ? Array.from(c(1).data) : undefined);
      const axes = raw ? raw.map((v) => (v < 0 ? v + t.dims.length : v)) : t.dims.flatMap((d, i) => (d === 1 ? [i] : []));
      return { ...t, dims: t.dims.filter((_, i) => !axes.includes(i)) };
    }
    case 'Flatten': {
      const t = x();
      const ax = attrInt(n, 'axis', 1), a = ax < 0 ? ax + t.dims.length : ax;
      return { ...t, dims: [numel(t.dims.slice(0, a)), numel(t.dims.slice(a))] };
    }
    case 'Reshape': {
      const t = x(), s = Array.from(c(1).data);
      const dims = s.map((d, i) => (d === 0 ? t.dims[i]! : d));
      const k = dims.indexOf(-1);
      if (k >= 0) dims[k] = t.data.length / -numel(dims);
      if (numel(dims) !== t.data.length) throw malformed(n, `cannot reshape [${t.dims}] to [${s}]`);
      return { ...t, dims };
    }
    case 'Transpose': { const t = x(); return transpose(t, attrInts(n, 'perm') ?? t.dims.map((_, i) => t.dims.length - 1 - i)); }
    case 'ConstantOfShape': {
      const shape = Array.from(x().data);
      const vt = attrTensor(n, 'value');
      const v = vt ? decodeTensor(vt, `ConstantOfShape '${n.name}'`) : { dims: [1], kind: 'float' as const, data: Float64Array.of(0) };
      return { dims: shape, kind: v.kind, data: new Float64Array(numel(shape)).fill(v.data[0] ?? 0) };
    }
    case 'Gather': {
      const t = x(), idx = c(1);
      const ax = attrInt(n, 'axis', 0), axis = ax < 0 ? ax + t.dims.length : ax;
      const outer = numel(t.dims.slice(0, axis)), inner = numel(t.dims.slice(axis + 1)), D = t.dims[axis]!;
      const data: number[] = [];
      for (let o = 0; o < outer; o++) for (const raw of idx.data) {
        const i = raw < 0 ? raw + D : raw;
        if (!(i >= 0 && i < D)) throw malformed(n, `index ${raw} is outside [0, ${D})`);
        data.push(...t.data.subarray((o * D + i) * inner, (o * D + i + 1) * inner));
      }
      return { dims: [...t.dims.slice(0, axis), ...idx.dims, ...t.dims.slice(axis + 1)], kind: t.kind, data: Float64Array.from(data) };
    }
    case 'Slice': {
      const t = x();
      const starts = attrInts(n, 'starts') ?? Array.from(c(1).data);
      const ends = attrInts(n, 'ends') ?? Array.from(c(2).data);
      const axes = attrInts(n, 'axes') ?? (n.inputs[3] ? Array.from(c(3).data) : starts.map((_, i) => i));
      const steps = n.inputs[4] ? Array.from(c(4).data) : starts.map(() => 1);
      if (t.dims.length !== 1 || axes.some((a) => a !== 0 && a !== -1) || steps.some((s) => s !== 1)) throw unsupported(n, 'only slices of 1-D shape vectors with step 1 are folded');
      const D = t.dims[0]!;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + D : v, 0), D);
      const s = clamp(starts[0]!), e = clamp(ends[0]!);
      const data = t.data.slice(s, Math.max(s, e));
      return { dims: [data.length], kind: t.kind, data };
    }
    default:
      throw unsupported(n, 'cannot be folded');
  }
}

/**
 * Fold `n` if it computes a constant: returns false when an input is a
 * computed tensor (then the operator is converted to IR nodes instead).
 */
export function tryFold(ctx: Ctx, n: OnnxNode): boolean {
  if (!FOLDABLE.has(n.opType)) return false;
  if (n.opType === 'Shape') return false; // handled below (reads only the shape)
  const vals = n.inputs.map((_, i) => ctx.get(n, i));
  if (vals.some((v) => v && v.kind !== 'const')) return false;
  const t = evaluate(n, (i) => {
    const v = vals[i];
    if (!v || v.kind !== 'const') throw malformed(n, `input ${i} is missing`);
    return v.t;
  });
  ctx.vals.set(n.outputs[0]!, { kind: 'const', t });
  return true;
}

/** Shape of a computed tensor (the batch as 1): a constant. */
export function foldShape(ctx: Ctx, n: OnnxNode): void {
  checkAttrs(n, ['start', 'end']);
  const v = ctx.get(n, 0);
  if (!v) throw malformed(n, 'input 0 is missing');
  const dims = v.kind === 'act' ? v.dims : v.t.dims;
  const r = dims.length;
  const norm = (x: number) => Math.min(Math.max(x < 0 ? x + r : x, 0), r);
  const s = norm(attrInt(n, 'start', 0)), e = norm(attrInt(n, 'end', r));
  ctx.vals.set(n.outputs[0]!, { kind: 'const', t: ints([Math.max(e - s, 0)], dims.slice(s, e)) });
}
