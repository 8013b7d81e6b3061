/**
 * The same network in the other forms torch.onnx and other writers use
 * (rewritten from the real seed-cnn-torch and MobileNetV2 exports, so
 * onnxruntime's golden logits still apply): a Reshape head fed by a folded
 * Shape -> Gather -> Unsqueeze -> Concat subgraph instead of Flatten,
 * MatMul + Add instead of Gemm, a weight in a Constant node instead of an
 * initializer, Clip with attributes (opset 10) instead of inputs. Then the
 * refusals: an unsupported operator, attribute or domain names the node, its
 * op_type and the attribute (E_UNSUPPORTED_LAYER); a truncated or corrupt
 * file is E_MODEL_FORMAT.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../load.js';
import { referenceLogits } from '../reference.js';
import { maxAbsDiff, tempDir } from '../testing/fixtures.js';
import { loadOnnx } from './load.js';
import { readOnnx } from './read.js';
import type { ModelMsg, NodeMsg, TensorMsg } from './schema.js';
import { attr, decodeModel, encodeModel, haveOnnxFixtures, intTensor, node, onnxGolden, onnxInputHwc, onnxModelFile } from '../testing/onnx.js';

const SEED = 'seed-cnn-torch', MOBILE = 'torchvision-mobilenet_v2';
const fixture = (m: string): ModelMsg => decodeModel(readFileSync(onnxModelFile(m)));
const nodeOf = (g: ModelMsg, op: string): NodeMsg => g.graph!.node.find((n) => n.op_type === op)!;

function expectGolden(m: string, bytes: Uint8Array, has: string[], hasNot: string[]): void {
  const ops = new Set(readOnnx(bytes).nodes.map((n) => n.opType));
  for (const op of has) expect(ops.has(op), `the rewritten file has ${op}`).toBe(true);
  for (const op of hasNot) expect(ops.has(op), `the rewritten file has no ${op}`).toBe(false);
  const { ir } = loadOnnx(bytes);
  for (let i = 0; i < 2; i++) expect(maxAbsDiff(referenceLogits(ir, onnxInputHwc(m, i), 1), onnxGolden(m).outputs[i]!), `input ${i}`).toBeLessThan(1e-4);
}

describe.skipIf(!haveOnnxFixtures)('other export forms of the same network give onnxruntime\'s logits (< 1e-4)', () => {
  it('Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) instead of Flatten: the shape subgraph is folded', () => {
    const m = fixture(SEED);
    const g = m.graph!;
    const fl = nodeOf(m, 'Flatten');
    const [x, y] = [fl.input[0]!, fl.output[0]!];
    const sub: NodeMsg[] = [
      node('Shape', [x], ['s']), node('Gather', ['s', 'zero'], ['b'], [attr('axis', 0)]), node('Unsqueeze', ['b', 'axes0'], ['bu']),
      node('Concat', ['bu', 'minus1'], ['shape'], [attr('axis', 0)]), node('Reshape', [x, 'shape'], [y]),
    ];
    g.node.splice(g.node.indexOf(fl), 1, ...sub);
    g.initializer.push(intTensor('zero', [], [0]), intTensor('axes0', [1], [0]), intTensor('minus1', [1], [-1]));
    expectGolden(SEED, encodeModel(m), ['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape'], ['Flatten']);
  });

  it('MatMul with a Constant-node weight [K, N] + Add of the bias instead of Gemm(transB = 1); a conv weight as a Constant node', () => {
    const m = fixture(SEED);
    const g = m.graph!;
    const gemms = g.node.filter((n) => n.op_type === 'Gemm');
    for (const gm of gemms) {
      const W = g.initializer.find((t) => t.name === gm.input[1])!;
      const [N, K] = W.dims.map(Number) as [number, number];
      const src = new Float32Array(new Uint8Array(W.raw_data!).buffer);
      const t = new Float32Array(K * N);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) t[k * N + n] = src[n * K + k]!;
      const wT = { name: `${gm.input[1]}_T`, dims: [K, N], data_type: 1, raw_data: new Uint8Array(t.buffer) } as unknown as TensorMsg;
      const mm = `${gm.output[0]}_mm`;
      g.node.splice(g.node.indexOf(gm), 1, node('Constant', [], [wT.name!], [attr('value', wT)]), node('MatMul', [gm.input[0]!, wT.name!], [mm]), node('Add', [mm, gm.input[2]!], [gm.output[0]!]));
    }
    const conv = nodeOf(m, 'Conv');
    const wi = g.initializer.findIndex((t) => t.name === conv.input[1]);
    const [w] = g.initializer.splice(wi, 1);
    g.node.unshift(node('Constant', [], [w!.name!], [attr('value', w!)]));
    g.input = g.input.filter((v) => v.name !== w!.name);
    const bytes = encodeModel(m);
    expect(readOnnx(bytes).initializers.has(w!.name!)).toBe(false);
    expectGolden(SEED, bytes, ['MatMul', 'Add', 'Constant'], ['Gemm']);
  });

  it('Clip with min/max attributes (opset 10) instead of Constant inputs (opset 13)', () => {
    const m = fixture(MOBILE);
    m.opset_import = [{ domain: '', version: 10 }];
    for (const c of m.graph!.node.filter((n) => n.op_type === 'Clip')) {
      c.input = [c.input[0]!];
      c.attribute = [attr('min', { float: 0 }), attr('max', { float: 6 })];
    }
    const bytes = encodeModel(m);
    expect(readOnnx(bytes).opset).toBe(10);
    expect(readOnnx(bytes).nodes.filter((n) => n.opType === 'Clip').every((n) => n.inputs.length === 1 && n.attrs.has('max'))).toBe(true);
    expectGolden(MOBILE, bytes, ['Clip'], []);
  }, 120_000);
});

describe.skipIf(!haveOnnxFixtures)('refusals name the node, its op_type and the attribute', () => {
  const refuse = (mutate: (m: ModelMsg) => void, re: RegExp) => {
    const m = fixture(SEED);
    mutate(m);
    expect(() => loadOnnx(encodeModel(m))).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(re) }));
  };
  it('an operator outside the supported set (Einsum)', () => refuse((m) => { nodeOf(m, 'Relu').op_type = 'Einsum'; }, /^node #1 '\/1\/Relu' \(Einsum\): operator Einsum is not supported by the secure protocol \(supported: .*Conv.*\)/));
  it('MaxPool dilations 2 (Conv dilations are mapped)', () => refuse((m) => { nodeOf(m, 'MaxPool').attribute.push(attr('dilations', [2, 2])); }, /^node #2 '\/2\/MaxPool' \(MaxPool\): attribute 'dilations' = \[2,2\] is not supported \(1 only\)/));
  it('an attribute the operator does not have (MaxPool foo)', () => refuse((m) => { nodeOf(m, 'MaxPool').attribute.push(attr('foo', 3)); }, /'\/2\/MaxPool' \(MaxPool\): attribute 'foo' = 3 is not supported/));
  it('an operator from another domain', () => refuse((m) => { nodeOf(m, 'Relu').domain = 'com.microsoft'; }, /'\/1\/Relu' \(Relu\): operator domain 'com.microsoft' is not supported/));
  it("Pad in 'wrap' mode (opset 19; reflect and edge are mapped)", () => refuse((m) => {
    const r = nodeOf(m, 'Relu');
    const g = m.graph!;
    g.node.splice(g.node.indexOf(r) + 1, 0, node('Pad', [r.output[0]!, 'pads'], ['padded'], [attr('mode', 'wrap')], 'pad0'));
    for (const n of g.node.slice(g.node.indexOf(r) + 2)) n.input = n.input.map((i) => (i === r.output[0] ? 'padded' : i));
    g.initializer.push(intTensor('pads', [8], [0, 0, 1, 1, 0, 0, 1, 1]));
  }, /'pad0' \(Pad\): attribute 'mode' = 'wrap' is not supported \(constant, edge, reflect\)/));
});

describe.skipIf(!haveOnnxFixtures)('a truncated or corrupt ONNX file is E_MODEL_FORMAT', () => {
  const bytes = haveOnnxFixtures ? readFileSync(onnxModelFile(SEED)) : Buffer.alloc(0);
  for (const [what, b] of [
    ['cut in the middle of the weights', bytes.subarray(0, Math.floor(bytes.length * 0.6))],
    ['cut after 40 bytes', bytes.subarray(0, 40)],
    ['cut one byte short', bytes.subarray(0, bytes.length - 1)],
    ['a protobuf-looking header then noise', Buffer.concat([bytes.subarray(0, 2), Buffer.alloc(64, 0xff)])],
  ] as const) {
    it(what, async () => {
      const t = tempDir('onnx-trunc-');
      try {
        const f = path.join(t.dir, 'model.onnx');
        writeFileSync(f, b);
        await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/ONNX/) });
      } finally {
        t.cleanup();
      }
    });
  }
});

describe.skipIf(!haveOnnxFixtures)('--output-activation: the head a file that ends in logits leaves to the client', () => {
  it('recorded for an ONNX export that ends in logits; an unknown name, or one contradicting the file, is E_BAD_ARGUMENT', async () => {
    expect((await loadModel(onnxModelFile(SEED))).ir.outputActivation).toBe('linear');
    expect((await loadModel(onnxModelFile(SEED), { outputActivation: 'softmax' })).ir.outputActivation).toBe('softmax');
    await expect(loadModel(onnxModelFile(SEED), { outputActivation: 'tanh' })).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
    const m = fixture(SEED);
    const g = m.graph!;
    const last = g.node[g.node.length - 1]!;
    last.output = ['pre'];
    g.node.push(node('Softmax', ['pre'], [g.output[0]!.name!], [attr('axis', -1)]));
    const t = tempDir('onnx-softmax-');
    try {
      const f = path.join(t.dir, 'model.onnx');
      writeFileSync(f, encodeModel(m));
      expect((await loadModel(f)).ir.outputActivation).toBe('softmax');
      g.node[g.node.length - 1]!.op_type = 'LogSoftmax';
      writeFileSync(f, encodeModel(m));
      expect((await loadModel(f)).ir.outputActivation).toBe('softmax');
      await expect(loadModel(f, { outputActivation: 'sigmoid' })).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/already ends in softmax/) });
    } finally {
      t.cleanup();
    }
  });
});
