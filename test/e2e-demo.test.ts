/**
 * The demo web page against the real parties. Three party processes
 * started like `npm start -- --bundle DIR` (parties/launch.ts with demoAssets:
 * P0 serves client-sdk/demo/ plus the browser bundle /sdk.js and /config.json,
 * mTLS between the parties) serving vishal-pneumonia imported with
 * model-import's command line. Headless Debian Chromium driven by
 * playwright-core (fresh profile) opens P0's page, picks a real X-ray with
 * setInputFiles and waits for the prediction; its label must equal the Node
 * SDK's label for the same file against the same parties. A screenshot of
 * each result is saved under a temp dir (path printed).
 * Skipped, with the reason printed, when /usr/bin/chromium is absent.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, preprocessImage, specForInputShape } from '../client-sdk/src/index.js';
import { loadModel } from '../model-import/load.js';
import { describeFindings } from './testing/log-scan.js';
import {
  capturingFetch, haveFixtures, importWithCli, KERAS, LABELS, logTail, sdkClient, seconds, secretsFor, startParties, XRAY,
  type Imported, type Parties,
} from './testing/e2e.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
const MODEL = path.join(KERAS, 'vishal-pneumonia', 'pneumonia.h5');

if (!hasChromium) console.warn(`e2e-demo skipped: ${CHROMIUM} is absent (scripts/ensure-chromium.sh installs it)`);
else if (!haveFixtures) console.warn('e2e-demo skipped: ../shared/fixtures (keras/ and xray/) is absent');

interface PageResult { label: string | number; probabilities: number[]; logits: number[]; sessionId: string }

describe.skipIf(!hasChromium || !haveFixtures)('demo page (P0, npm start style) in headless Chromium against the real parties', () => {
  let imported: Imported;
  let parties: Parties;
  let work: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  let cf: ReturnType<typeof capturingFetch>;
  const files: string[] = [];
  const outputs: number[][] = [];

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'e2e-demo-'));
    imported = await importWithCli(MODEL, ['--labels', LABELS.join(',')]);
    parties = await startParties(imported.bundleDir, { demoAssets: true });
    cf = capturingFetch(parties.urls);
    context = await chromium.launchPersistentContext(path.join(work, 'profile'), { executablePath: CHROMIUM, headless: true, args: ARGS });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    const res = await page.goto(`${parties.urls[0]}/`);
    expect(res?.status()).toBe(200);
    await page.waitForSelector('#status[data-stage="ready"]', { timeout: 30_000 });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await parties?.stop();
    imported?.cleanup();
    if (work) rmSync(path.join(work, 'profile'), { recursive: true, force: true });
  });

  it('P0 serves the page, the browser bundle and a config naming the three parties', async () => {
    const cfg = await (await fetch(`${parties.urls[0]}/config.json`)).json() as { parties: string[]; token: string };
    expect(cfg.parties).toEqual(parties.urls);
    const sdk = await fetch(`${parties.urls[0]}/sdk.js`);
    expect(sdk.status).toBe(200);
    expect(await sdk.text()).toContain('PrivateInferenceClient');
  });

  it.each([
    ['NORMAL', path.join(XRAY, 'NORMAL', 'IM-0001-0001.jpeg')],
    ['PNEUMONIA', path.join(XRAY, 'PNEUMONIA', 'person85_bacteria_422.jpeg')],
  ])('a %s X-ray picked in the page gets the Node SDK label', async (_folder, file) => {
    const t0 = performance.now();
    await page.setInputFiles('#file', file);
    await page.waitForSelector('body[data-state="result"], body[data-state="error"]', { timeout: 300_000 });
    const pageMs = performance.now() - t0;
    const state = await page.getAttribute('body', 'data-state');
    expect(state, `page error: ${await page.textContent('#status')} ${pageErrors.join('; ')}\n${logTail(parties.logs)}`).toBe('result');
    const fromPage = JSON.parse((await page.textContent('#result-json'))!) as PageResult;

    const node = await sdkClient(parties, { fetch: cf.fetch }).predict(readFileSync(file));
    files.push(file);
    outputs.push(fromPage.logits, fromPage.probabilities, node.logits, node.probabilities);
    expect(fromPage.label).toBe(node.label);
    expect(await page.textContent('#label')).toBe(String(node.label));
    // Chromium's JPEG decoder and Node's differed by a grey level while Node used jpeg-js's IDCT (now libjpeg's, as
    // Chromium's libjpeg-turbo); the secure computation adds a few ulps. The bound is kept.
    fromPage.probabilities.forEach((p, i) => expect(Math.abs(p - node.probabilities[i]!)).toBeLessThan(0.02));

    const shot = path.join(work, `demo-${path.basename(file, '.jpeg')}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(1000);
    console.log(`[e2e-demo] screenshot: ${shot}\n  page: ${fromPage.label} p=${fromPage.probabilities.map((p) => p.toFixed(4)).join('/')} in ${seconds(pageMs)}; node SDK: ${node.label} p=${node.probabilities.map((p) => p.toFixed(4)).join('/')}`);
    expect(pageErrors).toEqual([]);
  }, 600_000);

  it('the party logs of these sessions hold no input, weight or output value and no token', async () => {
    expect(files.length, 'the page tests must run first').toBe(2);
    const { ir } = await loadModel(MODEL);
    const inputs = await Promise.all(files.map(async (f) => preprocessImage(await decodeImage(readFileSync(f)), specForInputShape(ir.inputShape))));
    const secrets = secretsFor({ ir, imported, inputs, outputs, capture: cf.capture, token: parties.token });
    const lines = parties.logs.map((l) => `P${l.party} ${l.line}`);
    expect(lines.filter((l) => l.includes('"msg":"run done"')).length).toBeGreaterThanOrEqual(3 * 4);
    const findings = secrets.scan(lines);
    expect(findings, describeFindings(findings, lines)).toEqual([]);
  });
});
