/**
 * The seed architectures (defined once, in protocol/seed-models.ts:
 * cnn-maxpool, cnn-avgpool, vgg16, mnist-a) with random weights, written as
 * real Keras files that the importer then loads like any other model.
 * Weights are He-uniform (limit sqrt(6 / fan_in)), biases uniform in
 * [-0.05, 0.05), from an AES-CTR PRG seeded by node:crypto (or a given seed).
 * The builder also records the float IR the file should import to, so tests
 * can compare "write -> import -> forward" with the original weights.
 */
import { randomBytes } from 'node:crypto';
import { Prg } from '../protocol/correlated/prg.js';
import { MpcError } from '../protocol/errors.js';
import { IR_FORMAT_VERSION, type Activation, type FloatTensor, type LayerNode, type ModelIR, type OutputActivation, type Padding } from '../protocol/ir.js';
import { writeKeras3, writeLegacyH5, type LegacyH5Options, type SeqLayer, type SeqModel } from './keras-writer.js';
import type { JsonObject } from './keras-config.js';
import { outputShape, sizeOf } from './shapes.js';
import { seedArchitecture, uniform, type SeedArch } from '../protocol/seed-models.js';

export { isSeedArch, PNEUMONIA_LABELS, SEED_ARCHS, uniform, type SeedArch } from '../protocol/seed-models.js';

export function prgFromSeed(seed?: number | Uint8Array): Prg {
  if (seed === undefined) return new Prg(randomBytes(16));
  if (seed instanceof Uint8Array) return new Prg(seed);
  const s = new Uint8Array(16);
  new DataView(s.buffer).setUint32(12, seed >>> 0);
  return new Prg(s);
}

/** A Sequential model built layer by layer: its Keras spec and the IR it should import to. */
export class SequentialBuilder {
  readonly layers: SeqLayer[] = [];
  readonly nodes: LayerNode<FloatTensor>[] = [];
  private shape: number[];
  private last = 'input';
  private outAct: OutputActivation = 'linear';
  private readonly counts = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly inputShape: number[],
    private readonly g: Prg,
  ) {
    this.shape = inputShape.slice();
  }

  get currentShape(): number[] {
    return this.shape.slice();
  }

  private nameFor(snake: string): string {
    const n = this.counts.get(snake) ?? 0;
    this.counts.set(snake, n + 1);
    return n === 0 ? snake : `${snake}_${n}`;
  }

  private finalAct(activation: Activation | 'softmax' | 'sigmoid'): Activation {
    if (activation === 'softmax' || activation === 'sigmoid') {
      this.outAct = activation;
      return 'linear';
    }
    return activation;
  }

  /** Add a raw Keras layer (no IR node; for tests of unsupported layers and no-ops). */
  raw(className: string, config: JsonObject, weights: { name: string; value: FloatTensor }[] = [], name?: string): this {
    this.layers.push({ className, name: name ?? this.nameFor(className.toLowerCase()), config, weights });
    return this;
  }

  private push(layer: SeqLayer, node: LayerNode<FloatTensor> | null): this {
    this.layers.push(layer);
    if (node) {
      this.shape = outputShape(node, node.inputs.map((i) => (i === this.last ? this.shape : [])));
      this.nodes.push(node);
      this.last = node.name;
    }
    return this;
  }

  conv2d(filters: number, k: number, stride: number, padding: Padding, activation: Activation | 'softmax' | 'sigmoid' = 'relu'): this {
    const name = this.nameFor('conv2d');
    const C = this.shape[2]!;
    const kernel = { shape: [k, k, C, filters], data: uniform(this.g, k * k * C * filters, Math.sqrt(6 / (k * k * C))) };
    const bias = { shape: [filters], data: uniform(this.g, filters, 0.05) };
    const act = this.finalAct(activation);
    return this.push(
      { className: 'Conv2D', name, config: { filters, kernel_size: [k, k], strides: [stride, stride], padding, data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation, use_bias: true }, weights: [{ name: 'kernel', value: kernel }, { name: 'bias', value: bias }] },
      { kind: 'conv2d', name, inputs: [this.last], filters, kernelSize: [k, k], strides: [stride, stride], padding, activation: act, kernel, bias },
    );
  }

  pool(kind: 'max' | 'avg', p: number, s: number, padding: Padding = 'valid'): this {
    const name = this.nameFor(kind === 'max' ? 'max_pooling2d' : 'average_pooling2d');
    return this.push(
      { className: kind === 'max' ? 'MaxPooling2D' : 'AveragePooling2D', name, config: { pool_size: [p, p], strides: [s, s], padding, data_format: 'channels_last' }, weights: [] },
      { kind: kind === 'max' ? 'maxpool2d' : 'avgpool2d', name, inputs: [this.last], poolSize: [p, p], strides: [s, s], padding },
    );
  }

  flatten(): this {
    const name = this.nameFor('flatten');
    return this.push({ className: 'Flatten', name, config: { data_format: 'channels_last' }, weights: [] }, { kind: 'flatten', name, inputs: [this.last] });
  }

  dense(units: number, activation: Activation | 'softmax' | 'sigmoid' = 'relu'): this {
    const name = this.nameFor('dense');
    const din = this.shape[0]!;
    const kernel = { shape: [din, units], data: uniform(this.g, din * units, Math.sqrt(6 / din)) };
    const bias = { shape: [units], data: uniform(this.g, units, 0.05) };
    const act = this.finalAct(activation);
    return this.push(
      { className: 'Dense', name, config: { units, activation, use_bias: true }, weights: [{ name: 'kernel', value: kernel }, { name: 'bias', value: bias }] },
      { kind: 'dense', name, inputs: [this.last], units, activation: act, kernel, bias },
    );
  }

  dropout(rate: number): this {
    return this.push({ className: 'Dropout', name: this.nameFor('dropout'), config: { rate }, weights: [] }, null);
  }

  /** A BatchNormalization with random statistics (no IR node: the importer folds it). */
  batchNorm(epsilon = 1e-3): this {
    const C = this.shape[this.shape.length - 1]!;
    const gamma = uniform(this.g, C, 1).map((v) => v + 1.5);
    const beta = uniform(this.g, C, 0.5);
    const mean = uniform(this.g, C, 0.5);
    const variance = uniform(this.g, C, 0.5).map((v) => v + 0.75);
    const t = (d: Float64Array): FloatTensor => ({ shape: [C], data: d });
    return this.push(
      { className: 'BatchNormalization', name: this.nameFor('batch_normalization'), config: { axis: -1, momentum: 0.99, epsilon, center: true, scale: true }, weights: [{ name: 'gamma', value: t(gamma) }, { name: 'beta', value: t(beta) }, { name: 'moving_mean', value: t(mean) }, { name: 'moving_variance', value: t(variance) }] },
      null,
    );
  }

  build(): SeqModel {
    return { name: this.name, inputShape: this.inputShape.slice(), layers: this.layers };
  }

  /** The IR this model should import to (valid only for models without BatchNormalization). */
  expectedIR(labels?: string[]): ModelIR<FloatTensor> {
    return { formatVersion: IR_FORMAT_VERSION, inputShape: this.inputShape.slice(), nodes: this.nodes, output: this.last, outputActivation: this.outAct, ...(labels ? { labels } : {}) };
  }
}


export interface SeedOptions {
  seed?: number | Uint8Array;
  /** Overrides the architecture's input shape (e.g. a small VGG16 for tests). */
  inputShape?: number[];
}

/** Build a seed architecture (protocol/seed-models.ts) with random weights. */
export function seedBuilder(arch: SeedArch, opts: SeedOptions = {}): SequentialBuilder {
  const a = seedArchitecture(arch, opts.inputShape);
  const b = new SequentialBuilder(a.name, a.inputShape, prgFromSeed(opts.seed));
  for (const l of a.layers) {
    if (l.op === 'conv') b.conv2d(l.filters, l.kernel, l.stride, l.padding, l.activation);
    else if (l.op === 'pool') b.pool(l.kind, l.size, l.stride);
    else if (l.op === 'flatten') b.flatten();
    else b.dense(l.units, l.activation);
  }
  return b;
}

/** Number of weight values of a built model. */
export function paramCount(m: SeqModel): number {
  return m.layers.reduce((a, l) => a + l.weights.reduce((b, w) => b + sizeOf(w.value.shape), 0), 0);
}

/**
 * Write a model as a Keras file: `.keras` (Keras 3 zip) or `.h5` (legacy).
 * Returns the builder (its `expectedIR()` is what the file should import to).
 */
export async function writeModelFile(b: SequentialBuilder, file: string, legacy: LegacyH5Options = {}): Promise<void> {
  const m = b.build();
  if (/\.keras$/i.test(file)) await writeKeras3(file, m);
  else if (/\.h5$/i.test(file)) await writeLegacyH5(file, m, legacy);
  else throw new MpcError('E_BAD_ARGUMENT', `seed model: file name must end in .keras or .h5, got ${file}`);
}

/** Build a seed architecture with random weights and write it to `file` (.keras or .h5). */
export async function writeSeedModel(arch: SeedArch, file: string, opts: SeedOptions & LegacyH5Options = {}): Promise<SequentialBuilder> {
  const b = seedBuilder(arch, opts);
  await writeModelFile(b, file, opts);
  return b;
}
