/**
 * A zoo architecture securely through three real party processes (mTLS on
 * 127.0.0.1), as test/e2e-models.test.ts does for the twelve older
 * fixtures: MobileNetV3-Small (../shared/fixtures/zoo, Keras 3.15.1; hard_silu,
 * hard_sigmoid gates, squeeze-excite Multiply; no smooth activation inside
 * the network) imported with mpc-import's command line at f = 13 and queried
 * with the Node SDK on its two golden X-ray inputs (raw 0..255: the model
 * rescales). Probabilities within 1e-3 of the plaintext reference and of
 * Keras, same argmax; the party logs hold none of the run's values.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../model-import/load.js';
import { referencePredict } from '../model-import/reference.js';
import { readF32 } from '../model-import/testing/fixtures.js';
import { describeFindings } from './testing/log-scan.js';
import { capturingFetch, importWithCli, logTail, sdkClient, seconds, secretsFor, startParties } from './testing/e2e.js';

const ZOO = path.resolve(__dirname, '..', '..', 'shared', 'fixtures', 'zoo');
const MODEL = 'mobilenetv3small';
const have = existsSync(path.join(ZOO, MODEL, 'model.keras'));
if (!have) console.warn('e2e-zoo skipped: ../shared/fixtures/zoo is absent');

describe.skipIf(!have)('a zoo model through three party processes (mTLS) vs plaintext and Keras', () => {
  it(`${MODEL} (13 bits), batch of two X-rays: max |probability error| < 1e-3, same argmax`, async () => {
    const file = path.join(ZOO, MODEL, 'model.keras');
    const golden = JSON.parse(readFileSync(path.join(ZOO, MODEL, 'golden.json'), 'utf8')) as { inputs: string[]; outputs: number[][] };
    const imported = await importWithCli(file, ['--no-labels', '--frac-bits', '13']);
    let parties: Awaited<ReturnType<typeof startParties>> | undefined;
    try {
      const { ir } = await loadModel(file);
      const xs = golden.inputs.map((f) => readF32(path.join(ZOO, MODEL, f)));
      const n = ir.inputShape.reduce((a, b) => a * b, 1);
      const all = new Float32Array(n * xs.length);
      xs.forEach((x, i) => { expect(x.length).toBe(n); all.set(x, i * n); });
      const ref = referencePredict(ir, all, xs.length);
      parties = await startParties(imported.bundleDir);
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
      prob.forEach((p, i) => { dp = Math.max(dp, Math.abs(p - ref[i]!)); dk = Math.max(dk, Math.abs(p - golden.outputs.flat()[i]!)); });
      console.log(`[e2e-zoo] ${MODEL} f=13 batch ${xs.length}: predict ${seconds(ms)}, max |dp| vs plaintext ${dp.toExponential(3)}, vs Keras ${dk.toExponential(3)}`);
      const lines = parties.logs.map((l) => `P${l.party} ${l.line}`);
      const secrets = secretsFor({ ir, imported, inputs: xs, outputs: [prob, r.logits.flat(), Array.from(ref)], capture: cf.capture, token: parties.token });
      const findings = secrets.scan(lines);
      expect(findings, describeFindings(findings, lines)).toEqual([]);
      expect(prob).toHaveLength(ref.length);
      expect(dp).toBeLessThan(1e-3);
      expect(dk).toBeLessThan(1e-3);
      for (let b = 0; b < xs.length; b++) {
        const row = prob.slice(2 * b, 2 * b + 2), want = Array.from(ref.subarray(2 * b, 2 * b + 2));
        expect(row.indexOf(Math.max(...row))).toBe(want.indexOf(Math.max(...want)));
      }
    } finally {
      await parties?.stop();
      imported.cleanup();
    }
  }, 300_000);
});
