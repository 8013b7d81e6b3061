/**
 * The zoo architectures securely through three real party processes (mTLS
 * on 127.0.0.1), as test/e2e-models.test.ts does for the twelve older
 * fixtures (../shared/fixtures/zoo, Keras 3.15.1), each imported with
 * mpc-import's command line and queried with the Node SDK on golden X-ray
 * inputs (raw 0..255: the models rescale):
 * - MobileNetV3-Small (hard_silu, hard_sigmoid gates, squeeze-excite
 *   Multiply) at f = 13, its two X-rays in one batch;
 * - DenseNet-121 with the CheXNet head (Concatenate; 14 sigmoid outputs) at
 *   f = 15, exact truncation, the first X-ray (batch 1: ~16 s of protocol);
 * - EfficientNet-B0 (Normalization, swish and squeeze-excite sigmoid gates
 *   inside the network, the secure piecewise approximations) at f = 16,
 *   exact truncation, the first X-ray (~26 s of protocol).
 * The settings are those model-import/zoo.test.ts's in-process runs take
 * from the precision chooser. Probabilities within 1e-3 of the plaintext
 * reference and of Keras, the same argmax (softmax heads) or the same
 * per-label decisions at 0.5 (DenseNet's sigmoid head); the party logs hold
 * none of the run's values. (The U-Net's mask goes through three processes
 * in test/e2e-label-modes.test.ts.)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../model-import/load.js';
import { referencePredict } from '../model-import/reference.js';
import { readF32 } from '../model-import/testing/fixtures.js';
import { describeFindings } from './testing/log-scan.js';
import { capturingFetch, CUT_WARMUP, expectWarmupCut, importWithCli, logTail, sdkClient, seconds, secretsFor, startParties } from './testing/e2e.js';

const ZOO = path.resolve(__dirname, '..', '..', 'shared', 'fixtures', 'zoo');
/** cutWarmup: the launch's warm-up budget is 1 s instead of TEST_WARMUP's 3 s (test/README.md): one run of the model takes far longer (~14 s, ~26 s), so its first warm-up run is cut with either budget. */
interface ZooCase { model: string; bits: number; flags: string[]; images: number; head: 'softmax' | 'sigmoid'; cutWarmup?: boolean }
const CASES: ZooCase[] = [
  { model: 'mobilenetv3small', bits: 13, flags: ['--frac-bits', '13'], images: 2, head: 'softmax' },
  { model: 'densenet121-chexnet', bits: 15, flags: ['--frac-bits', '15', '--truncation', 'exact', '--compare-bits', '32'], images: 1, head: 'sigmoid', cutWarmup: true },
  { model: 'efficientnetb0', bits: 16, flags: ['--frac-bits', '16', '--truncation', 'exact', '--compare-bits', '32'], images: 1, head: 'softmax', cutWarmup: true },
];
const have = CASES.every((c) => existsSync(path.join(ZOO, c.model, 'model.keras')));
if (!have) console.warn('e2e-zoo skipped: ../shared/fixtures/zoo is absent');

describe.skipIf(!have)('zoo models through three party processes (mTLS) vs plaintext and Keras', () => {
  it.each(CASES)('$model ($bits bits), $images X-ray(s): max |probability error| < 1e-3, the same decisions', async ({ model: MODEL, bits, flags, images, head, cutWarmup }) => {
    const file = path.join(ZOO, MODEL, 'model.keras');
    const golden = JSON.parse(readFileSync(path.join(ZOO, MODEL, 'golden.json'), 'utf8')) as { inputs: string[]; outputs: number[][] };
    // mpc-import runs in its own process while this one loads the model and computes the plaintext reference.
    const importing = importWithCli(file, ['--no-labels', ...flags]);
    importing.catch(() => undefined); // a failure is thrown where it is awaited, not reported as unhandled meanwhile
    let parties: Awaited<ReturnType<typeof startParties>> | undefined;
    try {
      const { ir } = await loadModel(file);
      const xs = golden.inputs.slice(0, images).map((f) => readF32(path.join(ZOO, MODEL, f)));
      const n = ir.inputShape.reduce((a, b) => a * b, 1);
      const all = new Float32Array(n * xs.length);
      xs.forEach((x, i) => { expect(x.length).toBe(n); all.set(x, i * n); });
      const ref = referencePredict(ir, all, xs.length);
      const imported = await importing;
      parties = await startParties(imported.bundleDir, cutWarmup ? { warmup: CUT_WARMUP } : {});
      if (cutWarmup) await expectWarmupCut(parties);
      const cf = capturingFetch(parties.urls);
      const client = sdkClient(parties, { fetch: cf.fetch, expectedModelHash: imported.manifest.modelHash });
      const t0 = performance.now();
      let r;
      try {
        r = await client.predict({ data: all, shape: [xs.length, ...ir.inputShape] }, { batch: true });
      } catch (e) {
        throw new Error(`prediction failed: ${String(e)}\n${logTail(parties.logs)}`);
      }
      const ms = performance.now() - t0;
      const prob = r.probabilities.flat();
      let dp = 0, dk = 0;
      prob.forEach((p, i) => { dp = Math.max(dp, Math.abs(p - ref[i]!)); dk = Math.max(dk, Math.abs(p - golden.outputs.slice(0, images).flat()[i]!)); });
      console.log(`[e2e-zoo] ${MODEL} f=${bits} batch ${xs.length}: predict ${seconds(ms)}, max |dp| vs plaintext ${dp.toExponential(3)}, vs Keras ${dk.toExponential(3)}`);
      const lines = parties.logs.map((l) => `P${l.party} ${l.line}`);
      const secrets = secretsFor({ ir, imported, inputs: xs, outputs: [prob, r.logits.flat(), Array.from(ref)], capture: cf.capture, token: parties.token });
      const findings = secrets.scan(lines);
      expect(findings, describeFindings(findings, lines)).toEqual([]);
      expect(prob).toHaveLength(ref.length);
      expect(dp).toBeLessThan(1e-3);
      expect(dk).toBeLessThan(1e-3);
      const k = ref.length / xs.length;
      for (let b = 0; b < xs.length; b++) {
        const row = prob.slice(k * b, k * (b + 1)), want = Array.from(ref.subarray(k * b, k * (b + 1)));
        if (head === 'sigmoid') expect(row.map((p) => p >= 0.5)).toEqual(want.map((p) => p >= 0.5));
        else expect(row.indexOf(Math.max(...row))).toBe(want.indexOf(Math.max(...want)));
      }
    } finally {
      await parties?.stop();
      await importing.then((i) => i.cleanup(), () => undefined);
    }
  }, 600_000);
});
