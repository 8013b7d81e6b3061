/**
 * Random layer-IR models for the differential fuzz of the secure forward pass
 * (fuzz-run.ts, bench/protocol-fuzz.ts): short chains and two-branch merges of
 * every layer kind secureForward runs, with weights of realistic and extreme
 * magnitudes. Seeded (AES-128-CTR from node:crypto, keyed by the seed): a
 * seed names one model and input, so a failure reruns exactly. Test-only.
 */
import { createCipheriv } from 'node:crypto';
import { IR_FORMAT_VERSION, type Activation, type FloatTensor, type LayerNode, type ModelIR } from '../ir.js';

/** Seeded draws: u() uniform in [0, 1) from a fixed-key AES-CTR stream. */
export class FuzzRng {
  private readonly stream;
  private buf = new Uint32Array(0);
  private at = 0;
  constructor(seed: number) {
    const key = Buffer.alloc(16);
    key.writeUInt32LE(seed >>> 0, 0);
    key.write('protocol-fuzz', 4, 'latin1');
    this.stream = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  }
  u(): number {
    if (this.at === this.buf.length) { this.buf = new Uint32Array(Uint8Array.from(this.stream.update(Buffer.alloc(4096))).buffer); this.at = 0; }
    return this.buf[this.at++]! / 2 ** 32;
  }
  int(lo: number, hi: number): number { return lo + Math.floor(this.u() * (hi - lo + 1)); }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.u() * xs.length)]!; }
  uniform(lo: number, hi: number): number { return lo + this.u() * (hi - lo); }
}

const ACTS: readonly Activation[] = ['linear', 'relu', 'relu6', 'hard_sigmoid', 'hard_sigmoid_k2', 'hard_silu', 'sigmoid', 'tanh', 'silu', 'gelu'];
/** Weight magnitude classes: fan-in scaled, below the fixed-point unit (round to 0 or 1 ulp), and large. */
export type Magnitude = 'normal' | 'tiny' | 'large';

interface Cur { name: string; shape: number[] }
/** A node without its name (distributes over the union, so each kind keeps its fields). */
type Spec<T = LayerNode<FloatTensor>> = T extends LayerNode<FloatTensor> ? Omit<T, 'name'> : never;

/** Builds one model node by node; `kinds` records every layer kind (and activation) used. */
class Builder {
  nodes: LayerNode<FloatTensor>[] = [];
  private n = 0;
  constructor(private readonly r: FuzzRng, private readonly mag: Magnitude) {}
  weights(shape: number[], fanIn: number): FloatTensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const s = this.mag === 'tiny' ? 2 ** -12 : this.mag === 'large' ? 3 : 1.5 / Math.sqrt(fanIn);
    const data = new Float64Array(size);
    for (let i = 0; i < size; i++) data[i] = this.r.u() < 0.1 ? 0 : this.r.uniform(-s, s);
    return { shape, data };
  }
  add(node: Spec, shape: number[]): Cur {
    const name = `${node.kind}_${this.n++}`;
    // Now and then a node marked for the 64-bit comparison ring (the runner escalates it under a 32-bit context).
    const wide = this.r.u() < 0.1 ? { compareBits: 64 as const } : {};
    this.nodes.push({ ...node, name, ...wide } as LayerNode<FloatTensor>);
    return { name, shape };
  }
}

const out = (h: number, k: number, s: number, pad: 'valid' | 'same') => (pad === 'same' ? Math.ceil(h / s) : Math.floor((h - k) / s) + 1);

/** One random layer on a [H, W, C] map; null when the drawn kind does not fit the shape. */
function mapLayer(b: Builder, r: FuzzRng, c: Cur): Cur | null {
  const [H, W, C] = c.shape as [number, number, number];
  const inputs = [c.name];
  const kind = r.pick(['conv2d', 'conv2d', 'depthwise_conv2d', 'conv2d_transpose', 'maxpool2d', 'maxpool2d', 'avgpool2d', 'activation', 'leaky_relu', 'prelu', 'zero_padding2d', 'cropping2d', 'upsampling2d', 'rescaling', 'reshape'] as const);
  const pad = r.pick(['valid', 'same'] as const);
  const k = r.int(1, 3), s = r.int(1, 2);
  const act = r.u() < 0.5 ? r.pick(ACTS) : 'linear';
  switch (kind) {
    case 'conv2d': case 'depthwise_conv2d': {
      const kh = Math.min(k, H), kw = Math.min(r.int(1, 3), W);
      // Atrous (DeepLab): a dilation d in a quarter of the convolutions; the window spans (k - 1) d + 1.
      const d = r.u() < 0.25 ? r.int(2, 3) : 1, dil = d > 1 ? { dilation: [d, d] as [number, number] } : {};
      const oh = out(H, (kh - 1) * d + 1, s, pad), ow = out(W, (kw - 1) * d + 1, s, pad);
      if (oh < 1 || ow < 1) return null;
      if (kind === 'conv2d') {
        const F = r.int(1, 3);
        return b.add({ kind, inputs, filters: F, kernelSize: [kh, kw], strides: [s, s], padding: pad, ...dil, activation: act, kernel: b.weights([kh, kw, C, F], kh * kw * C), ...(r.u() < 0.7 ? { bias: b.weights([F], 1) } : {}) }, [oh, ow, F]);
      }
      const m = r.int(1, 2);
      return b.add({ kind, inputs, depthMultiplier: m, kernelSize: [kh, kw], strides: [s, s], padding: pad, ...dil, activation: act, kernel: b.weights([kh, kw, C, m], kh * kw), ...(r.u() < 0.7 ? { bias: b.weights([C * m], 1) } : {}) }, [oh, ow, C * m]);
    }
    case 'conv2d_transpose': {
      const F = r.int(1, 2), ph = [r.int(0, k - 1), r.int(0, k - 1)] as [number, number], pw = [r.int(0, k - 1), r.int(0, k - 1)] as [number, number];
      const oh = (H - 1) * s + 1 + ph[0] + ph[1] - k + 1, ow = (W - 1) * s + 1 + pw[0] + pw[1] - k + 1;
      if (oh < 1 || ow < 1 || oh * ow > 100) return null;
      return b.add({ kind, inputs, filters: F, kernelSize: [k, k], strides: [s, s], pad: [ph, pw], activation: act, kernel: b.weights([k, k, C, F], k * k * C), ...(r.u() < 0.5 ? { bias: b.weights([F], 1) } : {}) }, [oh, ow, F]);
    }
    case 'maxpool2d': case 'avgpool2d': {
      const kh = Math.min(r.int(1, 3), H), kw = Math.min(r.int(1, 3), W), sh = r.int(1, 2);
      const oh = out(H, kh, sh, pad), ow = out(W, kw, sh, pad);
      if (oh < 1 || ow < 1) return null;
      return b.add({ kind, inputs, poolSize: [kh, kw], strides: [sh, sh], padding: pad }, [oh, ow, C]);
    }
    case 'activation': return b.add({ kind, inputs, activation: r.pick(ACTS.slice(1)) }, [H, W, C]);
    case 'leaky_relu': return b.add({ kind, inputs, alpha: r.pick([0.01, 0.1, 0.3, 0.5]) }, [H, W, C]);
    case 'prelu': return b.add({ kind, inputs, kernel: { shape: [C], data: Float64Array.from({ length: C }, () => r.uniform(-0.5, 0.5)) } }, [H, W, C]);
    case 'zero_padding2d': {
      const p = [[r.int(0, 1), r.int(0, 2)], [r.int(0, 2), r.int(0, 1)]] as [[number, number], [number, number]];
      return b.add({ kind, inputs, padding: p }, [H + p[0][0] + p[0][1], W + p[1][0] + p[1][1], C]);
    }
    case 'cropping2d': {
      const p = [[r.int(0, 1), r.int(0, 1)], [r.int(0, 1), 0]] as [[number, number], [number, number]];
      if (H - p[0][0] - p[0][1] < 1 || W - p[1][0] < 1) return null;
      return b.add({ kind, inputs, cropping: p }, [H - p[0][0] - p[0][1], W - p[1][0], C]);
    }
    case 'upsampling2d': {
      const sz = [r.int(1, 2), r.int(1, 3)] as [number, number];
      if (H * W * sz[0] * sz[1] > 100) return null;
      return b.add({ kind, inputs, size: sz, interpolation: r.pick(['nearest', 'bilinear'] as const) }, [H * sz[0], W * sz[1], C]);
    }
    case 'rescaling': return b.add({ kind, inputs, scale: r.pick([1 / 255, 0.5, 1 / 3, 2.5, -1, 1]), offset: r.pick([0, 0, -1, 0.25, 1.5]) }, [H, W, C]);
    case 'reshape': return b.add({ kind, inputs, targetShape: [W, H, C] }, [W, H, C]);
  }
}

/** One random layer on a [D] vector. */
function vecLayer(b: Builder, r: FuzzRng, c: Cur): Cur {
  const D = c.shape[0]!, inputs = [c.name];
  const kind = r.pick(['dense', 'dense', 'activation', 'leaky_relu', 'rescaling'] as const);
  if (kind === 'dense') {
    const U = r.int(1, 5);
    return b.add({ kind, inputs, units: U, activation: r.u() < 0.5 ? r.pick(ACTS) : 'linear', kernel: b.weights([D, U], D), ...(r.u() < 0.7 ? { bias: b.weights([U], 1) } : {}) }, [U]);
  }
  if (kind === 'activation') return b.add({ kind, inputs, activation: r.pick(ACTS.slice(1)) }, [D]);
  if (kind === 'leaky_relu') return b.add({ kind, inputs, alpha: r.pick([0.01, 0.2]) }, [D]);
  return b.add({ kind, inputs, scale: r.pick([0.5, 2.5, 1 / 3]), offset: r.pick([0, -0.5]) }, [D]);
}

/** A shape-preserving layer (the second branch before a merge). */
function sameShape(b: Builder, r: FuzzRng, c: Cur): Cur {
  const C = c.shape[c.shape.length - 1]!;
  if (c.shape.length === 3 && r.u() < 0.5) return b.add({ kind: 'conv2d', inputs: [c.name], filters: C, kernelSize: [1, 1], strides: [1, 1], padding: 'same', activation: r.pick(ACTS), kernel: b.weights([1, 1, C, C], C) }, c.shape);
  if (r.u() < 0.5) return b.add({ kind: 'activation', inputs: [c.name], activation: r.pick(ACTS.slice(1)) }, c.shape);
  return b.add({ kind: 'rescaling', inputs: [c.name], scale: r.pick([0.5, -1, 1 / 3]), offset: r.pick([0, 0.25]) }, c.shape);
}

/** Merge c with a same-shape branch from it. */
function merge(b: Builder, r: FuzzRng, c: Cur): Cur {
  const other = sameShape(b, r, c);
  const kind = r.pick(['add', 'subtract', 'multiply', 'maximum', 'average', 'concatenate'] as const);
  const inputs = [c.name, other.name];
  if (kind === 'concatenate') {
    const axis = r.int(0, c.shape.length - 1);
    return b.add({ kind, inputs, axis }, c.shape.map((d, i) => (i === axis ? 2 * d : d)));
  }
  return b.add({ kind, inputs }, c.shape);
}

export interface FuzzModel { model: ModelIR<FloatTensor>; magnitude: Magnitude }

/** A random model: input [H, W, C] (2..6, 2..6, 1..3), 2..6 layers and merges, optionally a global pool or flatten and a dense head. */
export function randomModel(r: FuzzRng): FuzzModel {
  const magnitude: Magnitude = r.u() < 0.7 ? 'normal' : r.pick(['tiny', 'large'] as const);
  const b = new Builder(r, magnitude);
  const inputShape = [r.int(2, 6), r.int(2, 6), r.int(1, 3)];
  let c: Cur = { name: 'input', shape: inputShape };
  const steps = r.int(2, 6);
  for (let i = 0; i < steps; i++) {
    if (r.u() < 0.2) { c = merge(b, r, c); continue; }
    const next = c.shape.length === 3 ? mapLayer(b, r, c) : vecLayer(b, r, c);
    if (next) c = next;
    if (c.shape.length === 3 && c.shape[0]! * c.shape[1]! * c.shape[2]! > 150) c = b.add({ kind: 'maxpool2d', inputs: [c.name], poolSize: [2, 2], strides: [2, 2], padding: 'same' }, [Math.ceil(c.shape[0]! / 2), Math.ceil(c.shape[1]! / 2), c.shape[2]!]);
  }
  if (c.shape.length === 3 && r.u() < 0.5) {
    c = r.u() < 0.5 ? b.add({ kind: 'global_avgpool2d', inputs: [c.name] }, [c.shape[2]!]) : b.add({ kind: 'flatten', inputs: [c.name] }, [c.shape[0]! * c.shape[1]! * c.shape[2]!]);
    c = vecLayer(b, r, c);
  }
  if (b.nodes.length === 0) c = b.add({ kind: 'activation', inputs: [c.name], activation: 'relu' }, c.shape);
  return { model: { formatVersion: IR_FORMAT_VERSION, inputShape, nodes: b.nodes, output: c.name, outputActivation: 'linear' }, magnitude };
}

/** Names of what a model exercises, for counts: each layer kind, with its activation when not linear. */
export function layerTags(m: ModelIR<FloatTensor>): string[] {
  const tags = new Set<string>();
  for (const n of m.nodes) {
    tags.add(n.kind === 'upsampling2d' ? `upsampling2d:${n.interpolation}` : n.kind);
    if ('activation' in n && n.activation !== 'linear') tags.add(`act:${n.activation}`);
    if (n.compareBits === 64) tags.add('compareBits: 64 node');
    if ((n.kind === 'conv2d' || n.kind === 'depthwise_conv2d') && n.dilation) tags.add('dilation');
  }
  return [...tags];
}

/**
 * A random input batch of N images: each image drawn from one of the edge
 * classes: all zeros, exact ties (a few repeated values), uniform in
 * [-amp, amp], or max-magnitude (+-amp).
 */
export function randomInput(r: FuzzRng, size: number, N: number, amp: number): { x: Float64Array; kind: string } {
  const x = new Float64Array(size * N);
  const kinds: string[] = [];
  for (let b = 0; b < N; b++) {
    const kind = r.pick(['uniform', 'uniform', 'ties', 'zeros', 'max']);
    kinds.push(kind);
    for (let i = 0; i < size; i++) {
      x[b * size + i] = kind === 'zeros' ? 0 : kind === 'ties' ? r.pick([0, 0.5, -0.5, 1, -1, 2]) * amp / 2 : kind === 'max' ? (r.u() < 0.5 ? -amp : amp) : r.uniform(-amp, amp);
    }
  }
  return { x, kind: kinds.join('+') };
}
