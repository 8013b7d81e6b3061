/**
 * Differential probe of the ONNX importer against onnxruntime-web (an
 * independent ONNX runtime, used as an oracle only; it is NOT a dependency
 * of the repo: the probe skips when /tmp/ort is absent).
 *
 * Generates many small random ONNX graphs with the repo's writer
 * (model-import/testing/onnx.ts; generators in onnx-oracle-cases.ts), runs
 * each through onnxruntime and through loadOnnx + the plaintext IR forward
 * (referencePredict), and classifies it:
 *   a: imported and equal (|d| <= 1e-4 (1 + |ort|));
 *   b: refused with a coded MpcError (the message is recorded);
 *   c: imported and DIFFERENT (a defect), or an uncoded crash / E_INTERNAL;
 *   o: a difference where onnxruntime 1.20 departs from the ONNX spec (the case says how);
 *   x: onnxruntime rejected the graph (a generator slip, not counted).
 * A 4-D result is read through Flatten + identity Gemm (the runner returns
 * NHWC; the identity Gemm takes its rows in ONNX's CHW order).
 *
 * Every `secureEvery`-th equal case (a) also runs through the secure
 * protocol in process (bundles at f = 13, three parties in memory,
 * protocol/testing/run3.ts); its reconstructed logits must be within
 * 0.02 (1 + |v|) of the plaintext logits (fixed-point tolerance).
 *
 *   npx tsx bench/onnx-oracle.ts [cases per generator = 40] [seed = 1] [secureEvery = 10] [--verbose]
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MpcError } from '../protocol/errors.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import type { PartyId } from '../protocol/ring/types.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { loadBundle, writeBundles } from '../model-import/bundle.js';
import { tempDir } from '../model-import/testing/fixtures.js';
import { referenceLogits, referencePredict } from '../model-import/reference.js';
import { loadOnnx } from '../model-import/onnx/load.js';
import { attr, buildModel, floatTensor, nchwToHwc, node } from '../model-import/testing/onnx.js';
import { GENERATORS, R, type Case } from './onnx-oracle-cases.js';

const ORT = '/tmp/ort/node_modules/onnxruntime-web';

interface Ort {
  env: { wasm: { numThreads: number } };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
  InferenceSession: { create(b: Uint8Array, o?: Record<string, unknown>): Promise<{ run(f: Record<string, unknown>): Promise<Record<string, { dims: number[]; data: Float32Array }>> }> };
}

async function ortRun(ort: Ort, c: Case, x: Float32Array): Promise<{ dims: number[]; data: Float32Array }> {
  const bytes = buildModel({ dims: c.dims, nodes: c.nodes, initializers: c.inits, opset: c.opset, output: 'h' });
  // Graph optimisations off: onnxruntime 1.20's PadFusion folds a Pad into a following AveragePool with count_include_pad = 0,
  // which then divides by fewer cells (the Pad's zeros are values, not padding); the unoptimised kernels follow the spec.
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const r = await s.run({ x: new ort.Tensor('float32', x, [1, ...c.dims]) });
  return r.h!;
}

/** The same graph read through Flatten + identity Gemm (with a zero C: Gemm-9 needs it). */
function importAndRun(c: Case, x: Float32Array, outDims: number[]): Float32Array {
  const { ir, hwc } = importCase(c, x, outDims);
  return referencePredict(ir, hwc, 1);
}

function importCase(c: Case, x: Float32Array, outDims: number[]): { ir: ReturnType<typeof loadOnnx>['ir']; hwc: Float32Array } {
  const K = outDims.slice(1).reduce((a, b) => a * b, 1);
  const eye = new Float64Array(K * K);
  for (let i = 0; i < K; i++) eye[i * K + i] = 1;
  const tail = outDims.length === 2 && c.final
    ? []
    : [node('Flatten', ['h'], ['hf'], [attr('axis', 1)]), node('Gemm', ['hf', '_eye', '_zero'], ['y'], [attr('transB', 1)])];
  const bytes = buildModel({ dims: c.dims, nodes: [...c.nodes, ...tail], initializers: [...c.inits, floatTensor('_eye', [K, K], eye), floatTensor('_zero', [K], new Float64Array(K))], opset: c.opset, output: tail.length ? 'y' : 'h' });
  const { ir } = loadOnnx(bytes);
  return { ir, hwc: c.dims.length === 3 ? nchwToHwc(x, c.dims as [number, number, number]) : x };
}

const tmp = tempDir('onnx-oracle-');
let runs = 0;

/** The secure run of an imported case (three parties in process, f = 13) against its plaintext logits: the worst |d| / (1 + |v|). */
async function secureDiff(c: Case, x: Float32Array, outDims: number[], tag: string): Promise<number> {
  const { ir, hwc } = importCase(c, x, outDims);
  const out = path.join(tmp.dir, `${tag}-${runs++}`);
  writeBundles({ ir, sourceHash: tag }, out, { fracBits: 13 });
  const models = ([0, 1, 2] as PartyId[]).map((p) => loadBundle(out, p).model);
  const xs = shareFor3(encode(hwc, 13));
  const r = await run3((ctx) => secureForward(ctx, models[ctx.party]!, { shape: [1, ...ir.inputShape], data: xs[ctx.party]! }), { fracBits: 13 });
  const secure = decode(reconstruct(getKernels(), r.results[0].data, r.results[1].data), 13);
  const plain = referenceLogits(ir, hwc, 1);
  let worst = 0;
  for (let i = 0; i < plain.length; i++) worst = Math.max(worst, Math.abs(secure[i]! - plain[i]!) / (1 + Math.abs(plain[i]!)));
  return worst;
}

export type Verdict = { cls: 'a' | 'b' | 'c' | 'o' | 'x'; op: string; desc: string; msg?: string };

export async function probe(ort: Ort, c: Case, seed: number, secure = false): Promise<Verdict & { secure?: number }> {
  const r = new R(seed ^ 0x5eed);
  const n = c.dims.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, () => r.f(-2, 2));
  let want: { dims: number[]; data: Float32Array };
  try { want = await ortRun(ort, c, x); } catch (e) { return { cls: 'x', op: c.op, desc: c.desc, msg: String((e as Error).message).slice(0, 200) }; }
  // Squeeze without axes drops ONNX's batch of 1 as well; the importer keeps the (dynamic) batch: read it back as [1, ...].
  const outDims = want.dims.length === 1 ? [1, ...want.dims] : want.dims;
  const v = await compare(c, x, want, outDims);
  if (v.cls === 'a' && secure) {
    try { return { ...v, secure: await secureDiff(c, x, outDims, String(seed)) }; } catch (e) { return { ...v, secure: NaN, msg: `secure run failed: ${e instanceof MpcError ? e.code + ': ' : ''}${(e as Error).message}` }; }
  }
  return v.cls === 'c' && c.ortOffSpec ? { ...v, cls: 'o', msg: `${c.ortOffSpec}: ${v.msg}` } : v;
}

async function compare(c: Case, x: Float32Array, want: { dims: number[]; data: Float32Array }, outDims: number[]): Promise<Verdict> {
  let got: Float32Array;
  try { got = importAndRun(c, x, outDims); } catch (e) {
    // A refusal by the appended Flatten / Gemm means the importer's output shape differs from onnxruntime's.
    if (e instanceof MpcError && /'(y|hf)' \((Gemm|Flatten)\)/.test(e.message)) return { cls: 'c', op: c.op, desc: c.desc, msg: `shape differs from ort's [${want.dims}]: ${e.message}` };
    if (e instanceof MpcError && e.code !== 'E_INTERNAL') return { cls: 'b', op: c.op, desc: c.desc, msg: `${e.code}: ${e.message}` };
    return { cls: 'c', op: c.op, desc: c.desc, msg: `crash: ${e instanceof MpcError ? e.code + ': ' : ''}${(e as Error).message}` };
  }
  const w = c.final === 'logsoftmax' ? want.data.map(Math.exp) : want.data;
  if (got.length !== w.length) return { cls: 'c', op: c.op, desc: c.desc, msg: `length ${got.length} vs ort's ${w.length} (dims [${want.dims}])` };
  let worst = 0, at = 0;
  for (let i = 0; i < w.length; i++) { const d = Math.abs(got[i]! - w[i]!) / (1 + Math.abs(w[i]!)); if (d > worst) { worst = d; at = i; } }
  if (worst > 1e-4) return { cls: 'c', op: c.op, desc: c.desc, msg: `max rel diff ${worst.toExponential(2)} at ${at} (got ${got[at]}, ort ${w[at]}; dims [${want.dims}])` };
  return { cls: 'a', op: c.op, desc: c.desc };
}

async function main(): Promise<void> {
  if (!existsSync(ORT)) { console.log(`onnx-oracle: skipped (${ORT} is absent; install onnxruntime-web there to run the probe)`); return; }
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const verbose = process.argv.includes('--verbose');
  const per = Number(args[0] ?? 40), seed0 = Number(args[1] ?? 1), secureEvery = Number(args[2] ?? 10);
  const secureRuns: { op: string; desc: string; d: number; msg?: string }[] = [];
  let equal = 0;
  const ort = createRequire(import.meta.url)(ORT) as Ort;
  ort.env.wasm.numThreads = 1;
  const counts = new Map<string, Record<string, number>>();
  const defects: Verdict[] = [], refusals = new Map<string, Verdict>();
  for (const [gi, gen] of GENERATORS.entries()) {
    for (let i = 0; i < per; i++) {
      const seed = seed0 * 1_000_003 + gi * 10_007 + i;
      const c = gen(new R(seed));
      const v = await probe(ort, c, seed, secureEvery > 0 && (equal % secureEvery === secureEvery - 1));
      if (v.cls === 'a') equal++;
      if (v.secure !== undefined) secureRuns.push({ op: c.op, desc: `${c.desc} [gen ${gi} seed ${seed}]`, d: v.secure, ...(v.msg ? { msg: v.msg } : {}) });
      const k = counts.get(c.op) ?? { a: 0, b: 0, c: 0, o: 0, x: 0 };
      k[v.cls]!++;
      counts.set(c.op, k);
      if (v.cls === 'c') defects.push({ ...v, desc: `${v.desc} [gen ${gi} seed ${seed}]` });
      if (v.cls === 'b') { const key = `${c.op}: ${v.msg!.replace(/node #\d+ '[^']*'/, 'node').replace(/\d+(\.\d+)?/g, 'N')}`; if (!refusals.has(key)) refusals.set(key, v); }
      if (verbose && v.cls !== 'a') console.log(v.cls, c.op, c.desc, v.msg ?? '');
    }
  }
  console.log('\nop                     a(equal) b(refused) c(DIFFERENT) o(ort off-spec) x(ort rejects)');
  for (const [op, k] of [...counts].sort()) console.log(`${op.padEnd(22)} ${String(k.a).padStart(8)} ${String(k.b).padStart(10)} ${String(k.c).padStart(12)} ${String(k.o).padStart(15)} ${String(k.x).padStart(14)}`);
  const tot = (key: string) => [...counts.values()].reduce((s, k) => s + k[key]!, 0);
  console.log(`${'total'.padEnd(22)} ${String(tot('a')).padStart(8)} ${String(tot('b')).padStart(10)} ${String(tot('c')).padStart(12)} ${String(tot('o')).padStart(15)} ${String(tot('x')).padStart(14)}`);
  console.log(`\n${defects.length} defect(s):`);
  for (const d of defects) console.log(`  c ${d.op}: ${d.desc}\n      ${d.msg}`);
  const badSecure = secureRuns.filter((q) => !(q.d <= 0.02));
  console.log(`\nsecure runs (f = 13, in process): ${secureRuns.length}, worst |secure - plain| / (1 + |plain|) = ${Math.max(...secureRuns.map((q) => q.d)).toExponential(2)}; over 0.02: ${badSecure.length}`);
  for (const q of badSecure) console.log(`  secure ${q.op}: ${q.desc}: ${q.d} ${q.msg ?? ''}`);
  console.log(`\n${refusals.size} distinct refusal(s) (one example each):`);
  for (const [, v] of refusals) console.log(`  b ${v.op}: ${v.desc}\n      ${v.msg}`);
}

if (process.argv[1]?.endsWith('onnx-oracle.ts')) {
  try { await main(); } finally { tmp.cleanup(); }
}
