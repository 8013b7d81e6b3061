/**
 * The label-only output mode of a segmentation model through three real
 * party processes (mTLS on 127.0.0.1): the U-Net of ../shared/fixtures/zoo
 * (128x128x1 in, a 128x128x1 sigmoid mask out), imported with mpc-import's
 * command line at f = 16 and queried with the Node SDK on its two golden
 * X-ray inputs, first in 'logits' mode, then with privacy { outputMode:
 * 'label' }: the parties threshold every pixel inside the protocol
 * (protocol/privacy/decisions.ts) and the SDK gets a Uint8Array mask.
 *
 * Agreement rule with the plaintext reference (model-import's referenceLogits:
 * the imported model's forward pass in float on the same inputs), threshold
 * 0.5, i.e. logit >= 0:
 * at least 99.9% of the pixels agree, and every pixel that disagrees has a
 * plaintext logit within the fixed-point error of the threshold,
 * |z_plain| <= e + 2^-f, where e is the largest |z_secure - z_plain| of the
 * logits-mode run (measured here on the same inputs) and 2^-f covers
 * logit(0.5) = 0 on the lattice (exact here). The party logs hold none of
 * the run's values.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../model-import/load.js';
import { referenceLogits } from '../model-import/reference.js';
import { readF32 } from '../model-import/testing/fixtures.js';
import { describeFindings } from './testing/log-scan.js';
import { capturingFetch, importWithCli, logTail, sdkClient, seconds, secretsFor, startParties } from './testing/e2e.js';

const ZOO = path.resolve(__dirname, '..', '..', 'shared', 'fixtures', 'zoo');
const MODEL = 'unet-128';
const F = 16;
const have = existsSync(path.join(ZOO, MODEL, 'model.keras'));
if (!have) console.warn('e2e-label-modes skipped: ../shared/fixtures/zoo is absent');

describe.skipIf(!have)('label-only mask through three party processes (mTLS) vs the plaintext threshold', () => {
  it(`${MODEL} (f = ${F}), batch of two X-rays: Uint8Array masks [128, 128, 1], >= 99.9% of pixels as the plaintext, the rest within the fixed-point error`, async () => {
    const file = path.join(ZOO, MODEL, 'model.keras');
    const golden = JSON.parse(readFileSync(path.join(ZOO, MODEL, 'golden.json'), 'utf8')) as { inputs: string[] };
    // mpc-import runs in its own process while this one loads the model and computes the plaintext reference.
    const importing = importWithCli(file, ['--no-labels', '--frac-bits', String(F)]);
    importing.catch(() => undefined); // a failure is thrown where it is awaited, not reported as unhandled meanwhile
    let parties: Awaited<ReturnType<typeof startParties>> | undefined;
    try {
      const { ir } = await loadModel(file);
      const xs = golden.inputs.map((f) => readF32(path.join(ZOO, MODEL, f)));
      const n = ir.inputShape.reduce((a, b) => a * b, 1);
      const all = new Float32Array(n * xs.length);
      xs.forEach((x, i) => { expect(x.length).toBe(n); all.set(x, i * n); });
      const z = referenceLogits(ir, all, xs.length);
      const imported = await importing;
      parties = await startParties(imported.bundleDir);
      const cf = capturingFetch(parties.urls);
      const client = sdkClient(parties, { fetch: cf.fetch, expectedModelHash: imported.manifest.modelHash });
      const input = { data: all, shape: [xs.length, ...ir.inputShape] };
      let logits, labels;
      const t0 = performance.now();
      try {
        logits = await client.predict(input, { batch: true });
        labels = await client.predict(input, { batch: true, privacy: { outputMode: 'label' } });
      } catch (e) {
        throw new Error(`prediction failed: ${String(e)}\n${logTail(parties.logs)}`);
      }
      const ms = performance.now() - t0;
      const flat = logits.logits.flat();
      let e = 0;
      flat.forEach((v, i) => { e = Math.max(e, Math.abs(v - z[i]!)); });
      expect(labels.kind).toBe('mask');
      expect(labels).not.toHaveProperty('probabilities');
      expect(labels.mask).toHaveLength(xs.length);
      let same = 0, near = 0;
      labels.mask!.forEach((m, b) => {
        expect(m.shape).toEqual([128, 128, 1]);
        expect(m.mask).toBeInstanceOf(Uint8Array);
        m.mask.forEach((bit, i) => {
          const zp = z[b * m.mask.length + i]!;
          if ((bit === 1) === (zp >= 0)) same++;
          else { near++; expect(Math.abs(zp), `image ${b} pixel ${i}`).toBeLessThanOrEqual(e + 2 ** -F); }
        });
      });
      const total = xs.length * 128 * 128;
      console.log(`[e2e-label-modes] ${MODEL} f=${F} batch ${xs.length}: logits + label predictions ${seconds(ms)}, logit error ${e.toExponential(2)}, ${same}/${total} pixels as the plaintext threshold (${near} within the error)`);
      expect(same / total).toBeGreaterThanOrEqual(0.999);
      for (const m of labels.mask!) { expect(m.positiveFraction).toBeGreaterThan(0); expect(m.positiveFraction).toBeLessThan(1); }
      const lines = parties.logs.map((l) => `P${l.party} ${l.line}`);
      const secrets = secretsFor({ ir, imported, inputs: xs, outputs: [flat, logits.probabilities.flat()], capture: cf.capture, token: parties.token });
      const findings = secrets.scan(lines);
      expect(findings, describeFindings(findings, lines)).toEqual([]);
    } finally {
      await parties?.stop();
      await importing.then((i) => i.cleanup(), () => undefined);
    }
  }, 600_000);
});
