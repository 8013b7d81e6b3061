/**
 * The architectures medical imaging uses, as benchmark targets of bench/run.ts
 * (`npm run bench -- --model densenet121,efficientnetb0,mobilenetv3small,unet128,resnet50 --batch 1`):
 *  - the four Keras 3.15.1 models of ../shared/fixtures/zoo (random,
 *    BatchNorm-calibrated weights), imported by model-import's loadModel and
 *    fed their first golden X-ray input (input_0.f32: x/255, or raw 0..255
 *    for the two models that rescale inside); fractional bits as in
 *    model-import/zoo.test.ts (the least that meets 1e-3 there); the
 *    truncation rule and comparison ring are what the importer's chooser
 *    accepts at that f on the bench input (bench/zoo-precision.ts, run by
 *    bench/run.ts before the parties start);
 *  - ResNet-50: no fixture holds one (../shared/fixtures/keras has none), so
 *    this is the Keras applications layout built here with random
 *    He-uniform weights (BatchNorm folded, as import does), the last
 *    convolution of each residual branch scaled by 0.2 so that the 16
 *    residual sums keep their scale without trained BatchNorm statistics,
 *    and a 2-class head. Its latency, traffic and rounds are those of the
 *    architecture; its outputs mean nothing.
 * Per-image targets of the issue on a 2-core machine (batch 1) ride along
 * as `targetMs`; peak RSS must stay under 4 GB per party.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Activation, FloatTensor, LayerNode, ModelIR } from '../protocol/ir.js';
import { IR_FORMAT_VERSION } from '../protocol/ir.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';

/** ../shared/fixtures/zoo, or MPC_ZOO_DIR (the device script's packed copy, bench/cuda-device.sh). */
export const ZOO_DIR = process.env.MPC_ZOO_DIR ? path.resolve(process.env.MPC_ZOO_DIR) : path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'shared', 'fixtures', 'zoo');

/** The per-image latency target (batch 1) of each bench key, ms. */
export const ZOO_TARGET_MS: Record<string, number> = { densenet121: 20_000, efficientnetb0: 30_000, mobilenetv3small: 3_000, unet128: 5_000, resnet50: 8_000 };
export const RSS_LIMIT_BYTES = 4 * 2 ** 30;

/** bench key -> fixture folder and fractional bits. */
export const ZOO_FIXTURES: Record<string, { dir: string; fracBits: number; label: string }> = {
  densenet121: { dir: 'densenet121-chexnet', fracBits: 16, label: 'DenseNet-121 CheXNet head (14 sigmoid) 224x224x3' },
  efficientnetb0: { dir: 'efficientnetb0', fracBits: 16, label: 'EfficientNet-B0 224x224x3' },
  mobilenetv3small: { dir: 'mobilenetv3small', fracBits: 13, label: 'MobileNetV3-Small 224x224x3' },
  unet128: { dir: 'unet-128', fracBits: 16, label: 'U-Net 128x128x1 (sigmoid mask)' },
};

/** A zoo model's IR (model-import's loader; imported lazily so that the seed benchmarks do not load it). */
export async function zooModel(key: string): Promise<ModelIR<FloatTensor>> {
  const { loadModel } = await import('../model-import/load.js');
  return (await loadModel(path.join(ZOO_DIR, ZOO_FIXTURES[key]!.dir, 'model.keras'))).ir;
}

/** The fixture's first golden input (or golden input `index`), N times (float32 HWC, as the model expects it). */
export function zooInput(key: string, N: number, index = 0): Float64Array {
  const b = readFileSync(path.join(ZOO_DIR, ZOO_FIXTURES[key]!.dir, `input_${index}.f32`));
  const one = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const out = new Float64Array(one.length * N);
  for (let i = 0; i < N; i++) out.set(one, i * one.length);
  return out;
}

/** ResNet-50 (Keras applications layout: 7x7/2 stem, 3x3/2 max-pool, bottleneck stages 3-4-6-3, GAP, Dense 2), random weights. */
export function resnet50(seed = 5): ModelIR<FloatTensor> {
  const g = seededPrg(seed);
  const nodes: LayerNode<FloatTensor>[] = [];
  let shape: [number, number, number] = [224, 224, 3];
  const add = (n: LayerNode<FloatTensor>, s: [number, number, number]): string => { nodes.push(n); shape = s; return n.name; };
  const conv = (from: string, inShape: [number, number, number], filters: number, k: number, s: number, padding: 'same' | 'valid', activation: Activation, gain = 1): string => {
    const [H, W, C] = inShape;
    const out = (n: number) => (padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
    const lim = gain * Math.sqrt(6 / (k * k * C));
    return add({ kind: 'conv2d', name: `conv_${nodes.length}`, inputs: [from], filters, kernelSize: [k, k], strides: [s, s], padding, activation,
      kernel: { shape: [k, k, C, filters], data: uniform(g, k * k * C * filters, lim) }, bias: { shape: [filters], data: uniform(g, filters, 0.05) } }, [out(H), out(W), filters]);
  };
  let x = add({ kind: 'zero_padding2d', name: 'conv1_pad', inputs: ['input'], padding: [[3, 3], [3, 3]] }, [230, 230, 3]);
  x = conv(x, shape, 64, 7, 2, 'valid', 'relu');
  x = add({ kind: 'zero_padding2d', name: 'pool1_pad', inputs: [x], padding: [[1, 1], [1, 1]] }, [shape[0] + 2, shape[1] + 2, 64]);
  x = add({ kind: 'maxpool2d', name: 'pool1_pool', inputs: [x], poolSize: [3, 3], strides: [2, 2], padding: 'valid' }, [Math.floor((shape[0] - 3) / 2) + 1, Math.floor((shape[1] - 3) / 2) + 1, 64]);
  for (const [stage, [blocks, f]] of ([[3, 64], [4, 128], [6, 256], [3, 512]] as const).entries()) {
    for (let b = 0; b < blocks; b++) {
      const s = b === 0 && stage > 0 ? 2 : 1;
      const inShape = shape;
      const shortcut = b === 0 ? conv(x, inShape, 4 * f, 1, s, 'valid', 'linear', 0.2) : x;
      let y = conv(x, inShape, f, 1, s, 'valid', 'relu');
      y = conv(y, shape, f, 3, 1, 'same', 'relu');
      y = conv(y, shape, 4 * f, 1, 1, 'valid', 'linear', 0.2);
      const merged = add({ kind: 'add', name: `add_${nodes.length}`, inputs: [shortcut, y] }, shape);
      x = add({ kind: 'activation', name: `relu_${nodes.length}`, inputs: [merged], activation: 'relu' }, shape);
    }
  }
  x = add({ kind: 'global_avgpool2d', name: 'avg_pool', inputs: [x] }, [1, 1, shape[2]]);
  const lim = Math.sqrt(6 / 2048);
  add({ kind: 'dense', name: 'predictions', inputs: [x], units: 2, activation: 'linear', kernel: { shape: [2048, 2], data: uniform(g, 4096, lim) }, bias: { shape: [2], data: uniform(g, 2, 0.05) } }, [1, 1, 2]);
  return { formatVersion: IR_FORMAT_VERSION, inputShape: [224, 224, 3], nodes, output: 'predictions', outputActivation: 'softmax', labels: ['NORMAL', 'PNEUMONIA'] };
}
