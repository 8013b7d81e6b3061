/**
 * The demo page never shows an earlier result next to a new X-ray: headless
 * Chromium (playwright-core, /usr/bin/chromium as in browser.e2e.test.ts)
 * picks one X-ray, then another while the parties are slow, then a file that
 * does not decode; at every stage the page goes through, the DOM is checked
 * (the result block is not rendered, the label and probabilities are empty)
 * and screenshots are taken. Also: nothing broken on first load, and a single
 * sigmoid output shows the label with the probability of that label.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../protocol/api-contract.js';
import { buildBrowserBundle } from '../build.js';
import { PrivateInferenceClient } from '../src/index.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';
import { XRAY_DIR, demoStaticFiles } from '../testing/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`demo page e2e skipped: ${CHROMIUM} is absent (run scripts/ensure-chromium.sh)`);

const NORMAL = join(XRAY_DIR, 'NORMAL/IM-0001-0001.jpeg');
const PNEUMONIA = join(XRAY_DIR, 'PNEUMONIA/person85_bacteria_422.jpeg');

interface Snapshot { stage: string; resultShown: boolean; previewShown: boolean; label: string; probs: number; json: string }

async function open(work: string, model: Partial<ModelInfo>): Promise<{ fake: FakeParties; context: BrowserContext; page: Page; errors: string[] }> {
  await buildBrowserBundle(join(work, 'sdk.js'));
  const fake: FakeParties = await startFakeParties({
    model,
    staticFiles: demoStaticFiles(work, () => ({ parties: fake.urls, token: fake.token, timeoutMs: 30_000 })),
  });
  const context = await chromium.launchPersistentContext(join(work, 'profile'), { executablePath: CHROMIUM, headless: true, args: ARGS });
  const page = context.pages()[0] ?? await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${fake.urls[0]}/`);
  await page.waitForSelector('#status[data-stage="ready"]', { timeout: 10_000 });
  // Record the DOM at every stage the status goes through (a MutationObserver sees each one, however short).
  await page.evaluate(() => {
    const w = window as unknown as { snaps: Snapshot[] };
    w.snaps = [];
    const shown = (id: string) => { const el = document.getElementById(id)!; return getComputedStyle(el).display !== 'none' && el.getClientRects().length > 0; };
    const snap = () => w.snaps.push({
      stage: document.getElementById('status')!.dataset.stage ?? '',
      resultShown: shown('result'), previewShown: shown('preview'),
      label: document.getElementById('label')!.textContent ?? '',
      probs: document.querySelectorAll('#probs tbody tr').length,
      json: document.getElementById('result-json')!.textContent ?? '',
    });
    new MutationObserver(snap).observe(document.getElementById('status')!, { attributes: true, childList: true, characterData: true, subtree: true });
  });
  return { fake, context, page, errors };
}

const snaps = (page: Page): Promise<Snapshot[]> => page.evaluate(() => (window as unknown as { snaps: Snapshot[] }).snaps.splice(0));
const settled = (page: Page) => page.waitForSelector('body[data-state="result"], body[data-state="error"]', { timeout: 30_000 });

describe.skipIf(!hasChromium)('demo page: only the current result is ever visible (Chromium)', () => {
  let work: string;
  let fake: FakeParties;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sdk-demo-clear-'));
    ({ fake, context, page, errors } = await open(work, { inputShape: [128, 128, 1] }));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await fake?.close();
    if (work) rmSync(join(work, 'profile'), { recursive: true, force: true });
  });

  const shot = async (name: string): Promise<void> => {
    const f = join(work, `${name}.png`);
    await page.screenshot({ path: f, fullPage: true });
    expect(statSync(f).size).toBeGreaterThan(1000);
  };

  it('first load: no result block, no broken image, no empty "Prediction:"', async () => {
    expect(await page.isVisible('#result')).toBe(false);
    expect(await page.isVisible('#preview')).toBe(false);
    expect(await page.isVisible('text=Prediction:')).toBe(false);
    await shot('1-first-load');
  });

  it('a new file hides and empties the previous result at once, in every stage until its own result; so does an error', async () => {
    await page.setInputFiles('#file', NORMAL);
    await settled(page);
    expect(await page.getAttribute('body', 'data-state')).toBe('result');
    const first = JSON.parse((await page.textContent('#result-json'))!) as { label: string; probability: number; sessionId: string };
    expect(await page.isVisible('#result')).toBe(true);
    expect(await page.isVisible('#preview')).toBe(true);
    await snaps(page);
    await shot('2-first-result');

    // The parties answer slowly now: the page spends a while in 'computing' with the new file.
    fake.behavior[0] = { outputDelayMs: 1500 };
    fake.behavior[1] = { outputDelayMs: 1500 };
    await page.setInputFiles('#file', PNEUMONIA);
    await page.waitForSelector('#status[data-stage="computing"]', { timeout: 10_000 });
    expect(await page.isVisible('#result')).toBe(false);
    expect(await page.textContent('#label')).toBe('');
    expect(await page.textContent('#result-json')).toBe('');
    await shot('3-second-file-computing');
    await settled(page);
    delete fake.behavior[0];
    delete fake.behavior[1];
    const during = await snaps(page);
    const before = during.filter((s) => s.stage !== 'done');
    expect(before.map((s) => s.stage)).toEqual(expect.arrayContaining(['encoding', 'uploading', 'computing']));
    for (const s of before) expect(s, `stage ${s.stage}`).toMatchObject({ resultShown: false, previewShown: false, label: '', probs: 0, json: '' });
    const second = JSON.parse((await page.textContent('#result-json'))!) as { sessionId: string };
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(during.at(-1)).toMatchObject({ stage: 'done', resultShown: true });
    await shot('4-second-result');

    // A file that does not decode: the error, and no result of the earlier X-ray.
    await page.setInputFiles('#file', { name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') });
    await settled(page);
    expect(await page.getAttribute('body', 'data-state')).toBe('error');
    for (const s of await snaps(page)) expect(s, `stage ${s.stage}`).toMatchObject({ resultShown: false, label: '', json: '' });
    expect(await page.isVisible('#result')).toBe(false);
    // In words for a clinician; the code only on the small technical line.
    expect(await page.textContent('#status')).toContain('could not be opened as an image');
    expect(await page.textContent('#error-detail')).toMatch(/E_DTYPE/);
    await shot('5-decode-error');
    expect(errors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('demo page: one sigmoid output shows the label and the probability of that label (Chromium)', () => {
  let work: string;
  let fake: FakeParties;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sdk-demo-sigmoid-'));
    ({ fake, context, page } = await open(work, { inputShape: [128, 128, 1], outputShape: [1], outputActivation: 'sigmoid', labels: ['NORMAL', 'PNEUMONIA'] }));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await fake?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('label, its own probability, and both classes in the table', async () => {
    await page.setInputFiles('#file', PNEUMONIA);
    await settled(page);
    const node = await new PrivateInferenceClient({ parties: fake.urls, token: fake.token }).predict(readFileSync(PNEUMONIA));
    const label = await page.textContent('#label');
    expect(label).toBe(node.label);
    const shown = Number(/\(([\d.]+) %\)/.exec((await page.textContent('#label-probability'))!)![1]);
    expect(shown).toBeGreaterThanOrEqual(50);
    expect(Math.abs(shown - node.probability * 100)).toBeLessThan(1);
    const rows = await page.$$eval('#probs tbody tr', (trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent]));
    expect(rows.map((r) => r[0])).toEqual(['NORMAL', 'PNEUMONIA']);
    const ofLabel = rows.find((r) => r[0] === label)!;
    expect(Math.abs(parseFloat(ofLabel[1]!) - shown)).toBeLessThan(0.01);
    await page.screenshot({ path: join(work, 'sigmoid.png'), fullPage: true });
  });
});
