/**
 * End to end with real X-rays. A real pneumonia model
 * (vishal-pneumonia, 128x128x1, Keras 2.5.0 .h5) imported with model-import's
 * command line at the default 13 fractional bits; three real party processes
 * (parties/launch.ts) on 127.0.0.1 with mTLS between them; the Node client SDK
 * over HTTP.
 *
 *  1. All 38 X-rays of ../shared/fixtures/xray (NORMAL/, PNEUMONIA/) give the
 *     label of the plaintext reference (model-import's referencePredict, float32)
 *     on the very input the SDK shared: the input shares captured on the wire
 *     must add up to the fixed-point encoding of that input. Five concurrent
 *     predict calls of up to 8 images each (client-side batches), which P0
 *     batches into protocol runs of up to 8 images.
 *  2. The stdout/stderr lines of the three parties (log level trace) contain
 *     no input, weight or output value nor any share of one (test/testing/log-scan.ts),
 *     and the scanner does find values planted into real log lines.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, preprocessImage, specForInputShape, type BatchPrediction } from '../client-sdk/src/index.js';
import { loadModel, type LoadedModel } from '../model-import/load.js';
import { argmaxRows } from '../model-import/output.js';
import { referenceLogits, applyOutputActivation } from '../model-import/reference.js';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { describeFindings, type SecretIndex } from './testing/log-scan.js';
import {
  addShares, allXrays, capturingFetch, haveFixtures, importWithCli, KERAS, LABELS, logTail, sdkClient, seconds, secretsFor, startParties,
  type Capture, type Imported, type Parties,
} from './testing/e2e.js';

const MODEL = path.join(KERAS, 'vishal-pneumonia', 'pneumonia.h5');
const CLIENT_BATCH = 8;

if (!haveFixtures) console.warn('e2e-xrays skipped: ../shared/fixtures (keras/ and xray/) is absent');

describe.skipIf(!haveFixtures)('38 real X-rays through three party processes (mTLS) and the Node SDK', () => {
  let imported: Imported;
  let loaded: LoadedModel;
  let parties: Parties;
  const files = haveFixtures ? allXrays() : [];
  let capture: Capture;
  const inputs: Float32Array[] = [];
  const outputs: number[][] = [];

  beforeAll(async () => {
    // mpc-import runs in its own process while this one loads the model.
    const importing = importWithCli(MODEL, ['--labels', LABELS.join(',')]);
    importing.catch(() => undefined); // a failure is thrown where it is awaited, not reported as unhandled meanwhile
    try {
      loaded = await loadModel(MODEL, { labels: LABELS });
    } finally {
      imported = await importing;
    }
    parties = await startParties(imported.bundleDir);
    console.log(`[e2e-xrays] imported in ${seconds(imported.ms)} (f = ${imported.manifest.fracBits}); parties up at ${parties.urls.join(' ')}`);
  }, 180_000);

  afterAll(async () => {
    await parties?.stop();
    imported?.cleanup();
  });

  it('every X-ray gets the plaintext reference label (batched, timed)', async () => {
    expect(files).toHaveLength(38);
    expect(imported.manifest.modelHash).toBe(loaded.sourceHash);
    const cf = capturingFetch(parties.urls);
    capture = cf.capture;
    const client = sdkClient(parties, { fetch: cf.fetch, expectedModelHash: imported.manifest.modelHash });
    const bytes = files.map((f) => readFileSync(f));

    const groups: number[][] = [];
    for (let i = 0; i < files.length; i += CLIENT_BATCH) groups.push(files.slice(i, i + CLIENT_BATCH).map((_, j) => i + j));
    const t0 = performance.now();
    let results: BatchPrediction[];
    try {
      results = await Promise.all(groups.map((g) => client.predict(g.map((i) => bytes[i]!), { batch: true })));
    } catch (e) {
      throw new Error(`prediction failed: ${String(e)}\n${logTail(parties.logs)}`);
    }
    const ms = performance.now() - t0;

    // The plaintext reference on the SDK's own preprocessing (same decoder, resize and scale).
    const f = imported.manifest.fracBits;
    const shape = loaded.ir.inputShape;
    const n = shape.reduce((a, b) => a * b, 1);
    for (const b of bytes) inputs.push(preprocessImage(await decodeImage(b), specForInputShape(shape)));
    const all = new Float32Array(n * files.length);
    inputs.forEach((x, i) => all.set(x, i * n));
    const refLogits = referenceLogits(loaded.ir, all, files.length);
    const refProb = applyOutputActivation(refLogits, files.length, loaded.ir.outputActivation);
    const refIndex = argmaxRows(refLogits, files.length);

    const rows: string[] = [];
    let maxLogitErr = 0;
    let minMargin = Infinity;
    let agree = 0;
    groups.forEach((g, k) => {
      const r = results[k]!;
      // What went over the wire is exactly the encoding of these inputs.
      const [x0, x1] = capture.inputs.get(r.sessionId) ?? [];
      expect(x0 && x1, `input shares of session ${r.sessionId} were not captured`).toBeTruthy();
      const x = addShares(x0!, x1!);
      const want = encode(Float64Array.from(g.flatMap((i) => Array.from(inputs[i]!))), f);
      expect(x.length).toBe(want.length);
      expect(x.every((v, j) => v === want[j]), `reconstructed input of session ${r.sessionId} differs from encode(SDK preprocessing)`).toBe(true);
      g.forEach((i, j) => {
        const logit = r.logits[j]![0]!;
        const ref = refLogits[i]!;
        maxLogitErr = Math.max(maxLogitErr, Math.abs(logit - ref));
        minMargin = Math.min(minMargin, Math.abs(ref));
        const refLabel = LABELS[refIndex[i]!]!;
        if (r.label[j] === refLabel) agree += 1;
        outputs.push([...r.logits[j]!, ...r.probabilities[j]!, ref, refProb[i]!]);
        rows.push(`${path.basename(files[i]!).padEnd(30)} ${path.basename(path.dirname(files[i]!)).padEnd(10)} secure ${logit.toFixed(4).padStart(8)} ${String(r.label[j]).padEnd(10)} reference ${ref.toFixed(4).padStart(8)} ${refLabel}`);
      });
    });
    console.log(`[e2e-xrays] ${files.length} X-rays in ${seconds(ms)} (${(ms / files.length / 1000).toFixed(2)} s per image; ${groups.length} concurrent predict calls of <= ${CLIENT_BATCH} images, mTLS, 3 processes)\n` +
      `${rows.join('\n')}\nlabels agree ${agree}/${files.length}; max |secure - reference| logit ${maxLogitErr.toFixed(4)}; smallest reference |logit| ${minMargin.toFixed(4)}`);
    results.forEach((r, k) => groups[k]!.forEach((i, j) => {
      expect(r.label[j], `${path.basename(files[i]!)}: secure ${r.logits[j]} vs reference ${refLogits[i]}`).toBe(LABELS[refIndex[i]!]);
    }));
    expect(agree).toBe(38);
    // Sanity on the size of the fixed-point error at f = 13 (model-import README: up to ~0.08 on these X-rays).
    expect(maxLogitErr).toBeLessThan(0.25);
  }, 900_000);

  describe('party logs', () => {
    let secrets: SecretIndex;
    let lines: string[];

    beforeAll(() => {
      if (!capture || outputs.length === 0) throw new Error('the X-ray test must run first (it produces the values and logs scanned here)');
      lines = parties.logs.map((l) => `P${l.party} ${l.line}`);
      secrets = secretsFor({ ir: loaded.ir, imported, inputs, outputs, capture, token: parties.token });
    });

    it('hold no input, weight or output value nor a share of one (P0, P1, P2 stdout/stderr at log level trace)', () => {
      // The capture is real: all three parties logged the runs.
      for (const p of [0, 1, 2]) {
        expect(parties.logs.some((l) => l.party === p && l.line.includes('"msg":"run done"')), `no 'run done' line from P${p}`).toBe(true);
      }
      expect(parties.logs.filter((l) => l.line.includes('input share received'))).toHaveLength(2 * 5);
      const findings = secrets.scan(lines);
      console.log(`[e2e-xrays] scanned ${lines.length} log lines (${Buffer.byteLength(lines.join('\n'))} bytes) against ${secrets.u64Count} 64-bit secrets, ${loaded.ir.nodes.length} layers of weights, ${inputs.length} inputs, ${outputs.length} outputs: ${findings.length} findings`);
      expect(findings, describeFindings(findings, lines)).toEqual([]);
    });

    it('negative control: the scanner finds values planted into a real log line', () => {
      const base = parties.logs.find((l) => l.line.includes('"msg":"run done"'))!.line;
      expect(secrets.scan([base])).toEqual([]);
      const plant = (field: string, value: unknown) => base.replace(/^\{/, `{"${field}":${JSON.stringify(value)},`);
      const [x0] = capture.inputs.values().next().value as [Uint8Array, Uint8Array];
      const share = new BigUint64Array(x0.buffer.slice(x0.byteOffset, x0.byteOffset + 64));
      const conv = loaded.ir.nodes.find((n) => n.kind === 'conv2d');
      const weight = conv && 'kernel' in conv ? conv.kernel.data[17]! : NaN;
      const pixel = inputs[3]!.find((v) => v > 0.2 && v < 0.8)!;
      const [logit, prob] = outputs[5]!;
      const planted: [string, string, RegExp][] = [
        ['input share, decimal', plant('v', share[1]!.toString()), /input share/],
        ['input share, signed decimal', base.replace('"msg":"run done"', `"msg":"run done x=${BigInt.asIntN(64, share[2]!)}"`), /input share/],
        ['input share, hex', plant('v', share[3]!.toString(16).padStart(16, '0')), /input share/],
        ['input share, 0x hex', plant('v', `0x${share[4]!.toString(16)}`), /input share/],
        ['input share, little-endian hex bytes', plant('v', Buffer.from(x0.buffer, x0.byteOffset + 40, 8).toString('hex')), /input share/],
        ['weight, full precision', plant('w', weight), /weight/],
        ['weight, 7 digits in text', base.replace('"msg":"run done"', `"msg":"run done w=${weight.toPrecision(7)}"`), /weight/],
        ['pixel value', plant('px', pixel), /input value/],
        ['pixel value, float64 of k/255', plant('px', Math.round(pixel * 255) / 255), /input value/],
        ['logit, 4 decimals', plant('logit', logit!.toFixed(4)), /output value/],
        ['probability, full', plant('p', prob), /output value/],
        ['shares as base64', plant('b64', Buffer.from(x0.buffer, x0.byteOffset + 64, 480).toString('base64')), /base64/],
        ['shares as one hex string', plant('hex', Buffer.from(x0.buffer, x0.byteOffset + 64, 32).toString('hex')), /input share/],
        ['a tensor as an array', plant('t', [0.5, 0.25, 1, 2, 3, 4, 5, 6]), /array of 8/],
        ['a typed array', base.replace(/^\{/, `{"t":${JSON.stringify(Float32Array.of(0.5, 0.25, 1))},`), /typed array/],
        ['a Buffer', plant('b', Buffer.from([1, 2, 3])), /Buffer/],
        ['a long run of digits', plant('n', '1234567890123456'), /15\+ digits/],
        ['the bearer token', plant('auth', `Bearer ${parties.token}`), /bearer token/],
      ];
      for (const [what, line, expectWhat] of planted) {
        const found = secrets.scan([line]);
        expect(found.map((f) => f.what).join('; '), `planted ${what} not found in ${line.slice(0, 200)}`).toMatch(expectWhat);
      }
    });
  });
});
