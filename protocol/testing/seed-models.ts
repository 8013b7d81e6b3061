/**
 * The seed networks of PROTOCOL-NOTES.md as IR with random
 * weights from a seeded AES PRG (He-uniform, so activations keep
 * their scale through the layers as in a trained network; Glorot's smaller
 * weights give logits of ~0.02 where one fixed-point ulp is a large relative error), for tests and benchmarks:
 *  - seed CNN (pneumonia, 150x125x1) with MaxPooling2D(2, 1), and its AveragePooling2D twin;
 *  - VGG16 on 224x224x3 with the Dense 512 - 32 - 2 head;
 *  - MNIST Network A: 784 - 128 - 128 - 10 (SecureML / SecureNN).
 * model-import/ builds the same architectures as real Keras files.
 */
import { Prg } from '../correlated/prg.js';
import type { Activation, FloatTensor, LayerNode, ModelIR, Padding } from '../ir.js';
import { IR_FORMAT_VERSION } from '../ir.js';

/** Uniform floats in [-a, a) from a PRG (53-bit resolution). */
export function uniform(g: Prg, n: number, a: number): Float64Array {
  const w = new Uint32Array(g.bytes(8 * n).buffer);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = ((w[2 * i]! * 2 ** 21 + (w[2 * i + 1]! >>> 11)) / 2 ** 53) * 2 * a - a;
  return out;
}

export const seededPrg = (seed: number): Prg => {
  const s = new Uint8Array(16);
  new DataView(s.buffer).setUint32(0, seed);
  return new Prg(s);
};

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

/** Seed CNN: Conv(16,8,s2,same) Pool Conv(32,4,s2) Pool Conv(64,4,s2) Pool Conv(32,4,s2) Pool Flatten Dense(32) Dense(2, softmax). */
export function seedCnn(pool: 'maxpool2d' | 'avgpool2d' = 'maxpool2d', seed = 1, inputShape: [number, number, number] = [150, 125, 1]): ModelIR<FloatTensor> {
  const b = new Builder(seededPrg(seed), inputShape)
    .conv(16, 8, 2, 'same').pool(pool, 2, 1)
    .conv(32, 4, 2, 'valid').pool(pool, 2, 1)
    .conv(64, 4, 2, 'valid').pool(pool, 2, 1)
    .conv(32, 4, 2, 'valid').pool(pool, 2, 1)
    .flatten().dense(32).dense(2, 'linear');
  return b.build(inputShape, 'softmax', PNEUMONIA_LABELS);
}

/** MNIST Network A: 784 - 128 - 128 - 10, ReLU. */
export function networkA(seed = 2): ModelIR<FloatTensor> {
  return new Builder(seededPrg(seed), [784]).dense(128).dense(128).dense(10, 'linear').build([784], 'softmax');
}

/** VGG16 (13 conv layers, 5 max-pools) on 224x224x3 with the seed's Dense 512 - 32 - 2 head. */
export function vgg16(seed = 3, inputShape: [number, number, number] = [224, 224, 3]): ModelIR<FloatTensor> {
  const b = new Builder(seededPrg(seed), inputShape);
  for (const [reps, f] of [[2, 64], [2, 128], [3, 256], [3, 512], [3, 512]] as const) {
    for (let i = 0; i < reps; i++) b.conv(f, 3, 1, 'same');
    b.pool('maxpool2d', 2, 2);
  }
  return b.flatten().dense(512).dense(32).dense(2, 'linear').build(inputShape, 'softmax', PNEUMONIA_LABELS);
}
