/**
 * Writes the seed networks' weights and the benchmark's input in the formats
 * the peer frameworks read (bench/peers/README.md), so that MP-SPDZ and
 * CrypTen run the very same network on the very same image as
 * `npm run bench -- --model networkA,cnn-maxpool --batch 1`:
 *
 *   npx tsx bench/peers/export-weights.ts [--out DIR] [--model networkA,cnn-maxpool] [--no-secure]
 *
 * Per model, in DIR/<model>/:
 *  - Input-P0-0: MP-SPDZ's text input file for party 0 (whitespace-separated
 *    decimals): every weight tensor in the order bench/peers/peer_nets.mpc
 *    declares them (per layer kernel then bias, in our Keras layouts:
 *    conv [kh, kw, Cin, Cout], dense [in, units]), then the image (NHWC).
 *  - model.json: the same tensors with their shapes and layer parameters
 *    (read by crypten_nets.py), the input, our plaintext logits
 *    (protocol/reference plainForward) and our secure logits (the three
 *    parties in this process, run3, at the benchmark's fixed-point
 *    precision) to check the peers' outputs against (compare.ts).
 *
 * Weights: seedCnn() / networkA() (seeded AES PRG). Input: the benchmark's
 * own (bench/run.ts inputFor: uniform in [0, 1) from seededPrg(11)).
 */
import '../../runtime/install.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MpcError } from '../../protocol/errors.js';
import { decode, encode } from '../../protocol/fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { getKernels } from '../../protocol/kernels/index.js';
import { secureForward } from '../../protocol/layers/runner.js';
import { shareModel } from '../../protocol/layers/share-model.js';
import { sizeOf } from '../../protocol/layers/types.js';
import { plainForward } from '../../protocol/reference/forward.js';
import { reconstruct } from '../../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../../protocol/testing/run3.js';
import { networkA, seedCnn, seededPrg, uniform } from '../../protocol/seed-models.js';

/** The two networks of the peer comparison, with bench/run.ts's fixed-point precision for each. */
export const PEER_MODELS: Record<string, { make: () => ModelIR<FloatTensor>; fracBits: number }> = {
  networkA: { make: () => networkA(), fracBits: 16 },
  'cnn-maxpool': { make: () => seedCnn('maxpool2d'), fracBits: 13 },
};

/** The benchmark's input for one image (bench/run.ts inputFor). */
export const peerInput = (model: ModelIR<FloatTensor>): Float64Array => uniform(seededPrg(11), sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);

export interface PeerLayer {
  kind: string;
  /** conv2d: filters, kernel, stride, padding; pool: size, stride; dense: units, activation. */
  params: Record<string, unknown>;
  kernel?: { shape: number[]; data: number[] };
  bias?: { shape: number[]; data: number[] };
}

/** The model's layers as the peers read them (weights in the IR's Keras layouts). */
export function peerLayers(model: ModelIR<FloatTensor>): PeerLayer[] {
  const t = (x: FloatTensor | undefined) => (x ? { shape: x.shape, data: Array.from(x.data) } : undefined);
  return model.nodes.map((n): PeerLayer => {
    switch (n.kind) {
      case 'conv2d':
        return { kind: n.kind, params: { filters: n.filters, kernel: n.kernelSize, stride: n.strides, padding: n.padding, activation: n.activation }, kernel: t(n.kernel), bias: t(n.bias) };
      case 'dense':
        return { kind: n.kind, params: { units: n.units, activation: n.activation }, kernel: t(n.kernel), bias: t(n.bias) };
      case 'maxpool2d':
        return { kind: n.kind, params: { size: n.poolSize, stride: n.strides, padding: n.padding } };
      case 'flatten':
        return { kind: n.kind, params: {} };
      default:
        throw new MpcError('E_UNSUPPORTED_LAYER', `peer export: layer kind '${n.kind}' is not in the peer programs`, { step: 'peers.export' });
    }
  });
}

/** MP-SPDZ's Input-P0-0: every kernel then bias, layer by layer, then the image; one decimal per value. */
export function mpSpdzInput(layers: PeerLayer[], x: Float64Array): string {
  const parts: string[] = [];
  for (const l of layers) {
    if (l.kernel) parts.push(l.kernel.data.map(String).join(' '));
    if (l.bias) parts.push(l.bias.data.map(String).join(' '));
  }
  parts.push(Array.from(x, String).join(' '));
  return parts.join('\n') + '\n';
}

/** Our secure forward pass of one image, the three parties in this process (protocol/testing/run3). */
async function secureLogits(model: ModelIR<FloatTensor>, x: Float64Array, f: number): Promise<number[]> {
  const k = getKernels();
  const parts = shareModel(k, model, f);
  const xs = shareFor3(encode(x, f));
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...model.inputShape], data: xs[ctx.party] }), { fracBits: f });
  return Array.from(decode(reconstruct(k, r.results[0].data, r.results[1].data), f));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const out = opt('--out') ?? '/work/peers/data';
  const keys = (opt('--model') ?? Object.keys(PEER_MODELS).join(',')).split(',');
  for (const key of keys) {
    const spec = PEER_MODELS[key];
    if (!spec) throw new MpcError('E_BAD_ARGUMENT', `peer export: unknown model '${key}' (one of ${Object.keys(PEER_MODELS).join(', ')})`, { step: 'peers.export' });
    const model = spec.make();
    const x = peerInput(model);
    const layers = peerLayers(model);
    const plain = Array.from(plainForward(model, x, 1).data);
    const secure = argv.includes('--no-secure') ? null : await secureLogits(model, x, spec.fracBits);
    const dir = join(out, key);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Input-P0-0'), mpSpdzInput(layers, x));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ model: key, fracBits: spec.fracBits, inputShape: model.inputShape, layers, input: Array.from(x), plainLogits: plain, secureLogits: secure }));
    console.log(`${key}: ${dir} (plain logits ${plain.map((v) => v.toFixed(4)).join(', ')}${secure ? `; ours secure ${secure.map((v) => v.toFixed(4)).join(', ')}` : ''})`);
  }
}

if (process.argv[1]?.endsWith('export-weights.ts')) {
  main().catch((e: unknown) => { console.error(e); process.exit(1); });
}
