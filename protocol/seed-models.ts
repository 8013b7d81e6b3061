/**
 * The seed networks of PROTOCOL-NOTES.md, defined once: each architecture is
 * a list of layers (seedArchitecture); this file builds it as IR with random
 * weights from a seeded AES PRG, and model-import/seed-models.ts writes the
 * same list as a real Keras file (its own builder, drawing the weights in
 * the same order). Weights are He-uniform (so activations keep their scale
 * through the layers as in a trained network; Glorot's smaller weights give
 * logits of ~0.02 where one fixed-point ulp is a large relative error),
 * biases uniform in [-0.05, 0.05):
 *  - seed CNN (pneumonia, 150x125x1) with MaxPooling2D(2, 1), and its AveragePooling2D twin;
 *  - VGG16 on 224x224x3 with the Dense 512 - 32 - 2 head;
 *  - MNIST Network A: 784 - 128 - 128 - 10 (SecureML / SecureNN).
 * Used by tests, benchmarks, `npm start`'s demo model and `mpc-import --seed`.
 */
import { Prg } from './correlated/prg.js';
import { MpcError } from './errors.js';
import type { Activation, FloatTensor, LayerNode, ModelIR, Padding } from './ir.js';
import { IR_FORMAT_VERSION } from './ir.js';

/** Uniform floats in [-a, a) from a PRG (53-bit resolution; 8 bytes of the stream each, drawn in chunks). */
export function uniform(g: Prg, n: number, a: number): Float64Array {
  const out = new Float64Array(n);
  const CH = 1 << 16;
  for (let off = 0; off < n; off += CH) {
    const m = Math.min(CH, n - off);
    const w = new Uint32Array(g.bytes(8 * m).buffer);
    for (let i = 0; i < m; i++) out[off + i] = ((w[2 * i]! * 2 ** 21 + (w[2 * i + 1]! >>> 11)) / 2 ** 53) * 2 * a - a;
  }
  return out;
}

export const seededPrg = (seed: number): Prg => {
  const s = new Uint8Array(16);
  new DataView(s.buffer).setUint32(0, seed);
  return new Prg(s);
};

export const SEED_ARCHS = ['cnn-maxpool', 'cnn-avgpool', 'vgg16', 'mnist-a'] as const;
export type SeedArch = (typeof SEED_ARCHS)[number];

/** One layer of a seed architecture; the last layer's 'softmax' is the model's output activation. */
export type SeedLayer =
  | { op: 'conv'; filters: number; kernel: number; stride: number; padding: Padding; activation: 'relu' }
  | { op: 'pool'; kind: 'max' | 'avg'; size: number; stride: number }
  | { op: 'flatten' }
  | { op: 'dense'; units: number; activation: 'relu' | 'softmax' };

export interface SeedArchitecture {
  /** The Keras model name model-import gives it. */
  name: string;
  inputShape: number[];
  layers: SeedLayer[];
}

const conv = (filters: number, kernel: number, stride: number, padding: Padding): SeedLayer => ({ op: 'conv', filters, kernel, stride, padding, activation: 'relu' });
const pool = (kind: 'max' | 'avg', size: number, stride: number): SeedLayer => ({ op: 'pool', kind, size, stride });
const dense = (units: number, activation: 'relu' | 'softmax' = 'relu'): SeedLayer => ({ op: 'dense', units, activation });

/** The layers of a seed architecture (PROTOCOL-NOTES.md); `inputShape` overrides its input (e.g. a small VGG16 for tests). */
export function seedArchitecture(arch: SeedArch, inputShape?: number[]): SeedArchitecture {
  switch (arch) {
    case 'cnn-maxpool':
    case 'cnn-avgpool': {
      // Conv(16,8,s2,same) Pool Conv(32,4,s2) Pool Conv(64,4,s2) Pool Conv(32,4,s2) Pool Flatten Dense(32) Dense(2, softmax).
      const p = arch === 'cnn-maxpool' ? 'max' : 'avg';
      return { name: `seed_${arch.replace('-', '_')}`, inputShape: inputShape ?? [150, 125, 1], layers: [
        conv(16, 8, 2, 'same'), pool(p, 2, 1), conv(32, 4, 2, 'valid'), pool(p, 2, 1), conv(64, 4, 2, 'valid'), pool(p, 2, 1),
        conv(32, 4, 2, 'valid'), pool(p, 2, 1), { op: 'flatten' }, dense(32), dense(2, 'softmax'),
      ] };
    }
    case 'vgg16': {
      // 13 conv layers, 5 max-pools, then the seed's Dense 512 - 32 - 2 head.
      const layers: SeedLayer[] = [];
      for (const [reps, f] of [[2, 64], [2, 128], [3, 256], [3, 512], [3, 512]] as const) {
        for (let i = 0; i < reps; i++) layers.push(conv(f, 3, 1, 'same'));
        layers.push(pool('max', 2, 2));
      }
      return { name: 'vgg16', inputShape: inputShape ?? [224, 224, 3], layers: [...layers, { op: 'flatten' }, dense(512), dense(32), dense(2, 'softmax')] };
    }
    case 'mnist-a':
      return { name: 'network_a', inputShape: inputShape ?? [784], layers: [dense(128), dense(128), dense(10, 'softmax')] };
    default:
      throw new MpcError('E_BAD_ARGUMENT', `seed model: unknown architecture '${String(arch)}' (one of ${SEED_ARCHS.join(', ')})`);
  }
}

export function isSeedArch(s: string): s is SeedArch {
  return (SEED_ARCHS as readonly string[]).includes(s);
}

class Builder {
  nodes: LayerNode<FloatTensor>[] = [];
  private last = 'input';
  constructor(private g: Prg, private shape: number[]) {}
  private push(n: LayerNode<FloatTensor>, shape: number[]): this { this.nodes.push(n); this.last = n.name; this.shape = shape; return this; }
  private name(kind: string): string { return `${kind}_${this.nodes.length}`; }
  conv(filters: number, k: number, s: number, padding: Padding, activation: Activation = 'relu'): this {
    const [H, W, C] = this.shape as [number, number, number];
    const lim = Math.sqrt(6 / (k * k * C));
    const out = (n: number) => (padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
    return this.push({ kind: 'conv2d', name: this.name('conv2d'), inputs: [this.last], filters, kernelSize: [k, k], strides: [s, s], padding, activation,
      kernel: { shape: [k, k, C, filters], data: uniform(this.g, k * k * C * filters, lim) }, bias: { shape: [filters], data: uniform(this.g, filters, 0.05) } }, [out(H), out(W), filters]);
  }
  pool(kind: 'maxpool2d' | 'avgpool2d', p: number, s: number, padding: Padding = 'valid'): this {
    const [H, W, C] = this.shape as [number, number, number];
    const out = (n: number) => (padding === 'same' ? Math.ceil(n / s) : Math.floor((n - p) / s) + 1);
    return this.push({ kind, name: this.name(kind), inputs: [this.last], poolSize: [p, p], strides: [s, s], padding }, [out(H), out(W), C]);
  }
  flatten(): this { return this.push({ kind: 'flatten', name: this.name('flatten'), inputs: [this.last] }, [this.shape.reduce((a, b) => a * b, 1)]); }
  dense(units: number, activation: Activation = 'relu'): this {
    const din = this.shape[0]!;
    const lim = Math.sqrt(6 / din);
    return this.push({ kind: 'dense', name: this.name('dense'), inputs: [this.last], units, activation,
      kernel: { shape: [din, units], data: uniform(this.g, din * units, lim) }, bias: { shape: [units], data: uniform(this.g, units, 0.05) } }, [units]);
  }
  build(inputShape: number[], outputActivation: ModelIR['outputActivation'], labels?: string[]): ModelIR<FloatTensor> {
    return { formatVersion: IR_FORMAT_VERSION, inputShape, nodes: this.nodes, output: this.last, outputActivation, ...(labels ? { labels } : {}) };
  }
}

export const PNEUMONIA_LABELS = ['NORMAL', 'PNEUMONIA'];

/** A seed architecture as IR with random weights from seededPrg(seed) (or from the given PRG). */
export function seedModel(arch: SeedArch, seed: number | Prg, inputShape?: number[], labels?: string[]): ModelIR<FloatTensor> {
  const a = seedArchitecture(arch, inputShape);
  const b = new Builder(typeof seed === 'number' ? seededPrg(seed) : seed, a.inputShape);
  for (const l of a.layers) {
    if (l.op === 'conv') b.conv(l.filters, l.kernel, l.stride, l.padding, l.activation);
    else if (l.op === 'pool') b.pool(l.kind === 'max' ? 'maxpool2d' : 'avgpool2d', l.size, l.stride);
    else if (l.op === 'flatten') b.flatten();
    else b.dense(l.units, l.activation === 'softmax' ? 'linear' : l.activation);
  }
  return b.build(a.inputShape, 'softmax', labels);
}

/** Seed CNN (pneumonia) with MaxPooling2D or its AveragePooling2D twin. */
export function seedCnn(pool: 'maxpool2d' | 'avgpool2d' = 'maxpool2d', seed = 1, inputShape: [number, number, number] = [150, 125, 1]): ModelIR<FloatTensor> {
  return seedModel(pool === 'maxpool2d' ? 'cnn-maxpool' : 'cnn-avgpool', seed, inputShape, PNEUMONIA_LABELS);
}

/** MNIST Network A: 784 - 128 - 128 - 10, ReLU. */
export function networkA(seed = 2): ModelIR<FloatTensor> {
  return seedModel('mnist-a', seed);
}

/** VGG16 (13 conv layers, 5 max-pools) on 224x224x3 with the seed's Dense 512 - 32 - 2 head. */
export function vgg16(seed = 3, inputShape: [number, number, number] = [224, 224, 3]): ModelIR<FloatTensor> {
  return seedModel('vgg16', seed, inputShape, PNEUMONIA_LABELS);
}
