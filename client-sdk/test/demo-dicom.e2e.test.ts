/**
 * The demo page for a clinician, in real headless Chromium (playwright-core,
 * /usr/bin/chromium as the other browser tests): DICOM files by the picker and
 * by drop, the image shown windowed (compared with the Node decoder pixel by
 * pixel), the stages, the result as the model defines it (one label; 14
 * findings with their decisions; a segmentation mask over the image with an
 * opacity control), errors in words, and every byte the browser sends to the
 * parties captured and searched for the fixtures' PHI. Screenshots under
 * $TMPDIR/sdk-demo-dicom-*.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../protocol/api-contract.js';
import { buildBrowserBundle, DICOM_CODECS_WASM } from '../build.js';
import { PrivateInferenceClient, decodeDicom } from '../src/index.js';
import { captureParties } from '../testing/capture-proxy.js';
import { phiFound, phiStrings } from '../testing/phi.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';
import { DICOM_DIR, dicomExpected, demoStaticFiles } from '../testing/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`demo DICOM e2e skipped: ${CHROMIUM} is absent (run scripts/ensure-chromium.sh)`);

const dcm = (f: string): string => join(DICOM_DIR, f);
const CHEXNET_LABELS = ['Atelectasis', 'Cardiomegaly', 'Effusion', 'Infiltration', 'Mass', 'Nodule', 'Pneumonia', 'Pneumothorax',
  'Consolidation', 'Edema', 'Emphysema', 'Fibrosis', 'Pleural_Thickening', 'Hernia'];

interface Demo { fake: FakeParties; wire: Awaited<ReturnType<typeof captureParties>>; context: BrowserContext; page: Page; errors: string[]; requests: { url: string; body: Buffer | null }[] }

/** Fake parties behind capture proxies; P0 serves the page, the bundle, the codecs and a config.json naming the proxies. */
async function open(work: string, model: Partial<ModelInfo>): Promise<Demo> {
  await buildBrowserBundle(join(work, 'sdk.js'));
  let proxies: string[] = [];
  const fake: FakeParties = await startFakeParties({
    model,
    staticFiles: demoStaticFiles(work, () => ({ parties: proxies, token: fake.token, timeoutMs: 30_000 }), { 'dicom-codecs.wasm': { body: new Uint8Array(readFileSync(DICOM_CODECS_WASM)), type: 'application/wasm' } }),
  });
  const wire = await captureParties(fake.urls);
  proxies = wire.urls;
  const context = await chromium.launchPersistentContext(join(work, 'profile'), { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1100, height: 900 } });
  const page = context.pages()[0] ?? await context.newPage();
  const errors: string[] = [];
  const requests: Demo['requests'] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('request', (r) => requests.push({ url: r.url(), body: r.postDataBuffer() }));
  // The page is loaded from P0 itself; the API calls go through the proxies.
  await page.goto(`${fake.urls[0]}/`);
  await page.waitForSelector('#status[data-stage="ready"]', { timeout: 10_000 });
  return { fake, wire, context, page, errors, requests };
}

async function close(d: Demo | undefined, work: string): Promise<void> {
  await d?.context.close();
  await d?.wire.close();
  await d?.fake.close();
  rmSync(join(work, 'profile'), { recursive: true, force: true });
}

const settled = (page: Page) => page.waitForSelector('body[data-state="result"], body[data-state="error"]', { timeout: 30_000 });

async function shot(page: Page, work: string, name: string): Promise<string> {
  const f = join(work, `${name}.png`);
  await page.screenshot({ path: f, fullPage: true });
  expect(statSync(f).size).toBeGreaterThan(5000);
  console.log(`screenshot: ${f}`);
  return f;
}

/** Drop a file on the drop zone as a user's drag and drop does (a DataTransfer with the File). */
async function dropFile(page: Page, path: string): Promise<void> {
  const b64 = readFileSync(path).toString('base64');
  const dt = await page.evaluateHandle(({ b64, name }) => {
    const bin = atob(b64);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    const t = new DataTransfer();
    t.items.add(new File([u8], name, { type: 'application/dicom' }));
    return t;
  }, { b64, name: basename(path) });
  await page.dispatchEvent('#drop', 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
}

/** The displayed image's pixels against decodeDicom in Node, at a grid of points. */
async function expectWindowed(page: Page, file: string): Promise<void> {
  const node = await decodeDicom(new Uint8Array(readFileSync(file)));
  const shown = await page.evaluate(() => {
    const c = document.getElementById('image') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const pts: number[] = [];
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      const px = Math.floor(((x + 0.5) * c.width) / 16), py = Math.floor(((y + 0.5) * c.height) / 16);
      pts.push(d[4 * (py * c.width + px)]!);
    }
    return { w: c.width, h: c.height, pts };
  });
  expect([shown.w, shown.h]).toEqual([node.width, node.height]);
  let i = 0;
  for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
    const px = Math.floor(((x + 0.5) * node.width) / 16), py = Math.floor(((y + 0.5) * node.height) / 16);
    expect(Math.abs(shown.pts[i++]! - node.data[(py * node.width + px) * node.channels]!)).toBeLessThanOrEqual(1);
  }
}

describe.skipIf(!hasChromium)('demo page, multi-label model (14 findings), DICOM in (Chromium)', () => {
  let work: string;
  let d: Demo;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sdk-demo-dicom-'));
    d = await open(work, { inputShape: [64, 64, 1], outputShape: [14], outputActivation: 'sigmoid', labels: CHEXNET_LABELS });
  }, 60_000);
  afterAll(async () => { await close(d, work); });

  it('states that patient data stays on the device', async () => {
    const text = (await d.page.textContent('#privacy'))!;
    expect(await d.page.isVisible('#privacy')).toBe(true);
    expect(text).toContain('Patient data stays on this device');
    expect(text).toMatch(/never sent/);
    await shot(d.page, work, '1-ready');
  });

  it('a 12-bit MONOCHROME1 file by the picker: windowed image, stages, the 14 findings sorted with their decisions', async () => {
    const file = dcm('xray-mono1-12bit.dcm');
    await d.page.evaluate(() => {
      const w = window as unknown as { stages: string[] };
      w.stages = [];
      const status = document.getElementById('status')!;
      // Each record's old value: stages set within one task are all seen.
      new MutationObserver((records) => { for (const r of records) w.stages.push(r.oldValue ?? ''); w.stages.push(status.dataset.stage ?? ''); })
        .observe(status, { attributes: true, attributeOldValue: true, attributeFilter: ['data-stage'] });
    });
    await d.page.setInputFiles('#file', file);
    await settled(d.page);
    expect(await d.page.getAttribute('body', 'data-state'), `${await d.page.textContent('#status')} ${d.errors.join('; ')}`).toBe('result');
    const stages = await d.page.evaluate(() => [...new Set((window as unknown as { stages: string[] }).stages)].filter((s) => s !== 'ready'));
    expect(stages).toEqual(['reading', 'encoding', 'uploading', 'computing', 'reconstructing', 'done']);
    await expectWindowed(d.page, file);
    expect(await d.page.textContent('#image-info')).toMatch(/^xray-mono1-12bit\.dcm: DICOM, 1488 × 1136, MONOCHROME1 \(inverted for display\), window centre 2048, width 4096/);
    const rows = await d.page.$$eval('#findings tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent ?? '')));
    expect(rows).toHaveLength(14);
    const node = await new PrivateInferenceClient({ parties: d.fake.urls, token: d.fake.token }).predict(readFileSync(file));
    expect(node.kind).toBe('multi-label');
    expect(rows.map((r) => r[0])).toEqual(node.findings!.map((f) => f.label));
    rows.forEach((r, i) => {
      const p = parseFloat(r[1]!);
      expect(Math.abs(p - node.findings![i]!.probability * 100)).toBeLessThan(0.5);
      expect(r[2]).toBe(p >= 50 ? 'positive' : 'negative');
      if (i > 0) expect(parseFloat(rows[i - 1]![1]!)).toBeGreaterThanOrEqual(p);
    });
    expect(await d.page.isVisible('#probs')).toBe(false);
    expect(await d.page.isVisible('#overlay')).toBe(false);
    await shot(d.page, work, '2-findings-mono1-12bit');
  });

  it('a JPEG-compressed file by drag and drop: the codecs load in the browser, same prediction as the Node SDK', async () => {
    const file = dcm('xray-jpeg-baseline.dcm');
    await dropFile(d.page, file);
    await settled(d.page);
    expect(await d.page.getAttribute('body', 'data-state'), `${await d.page.textContent('#status')} ${d.errors.join('; ')}`).toBe('result');
    expect(d.requests.some((r) => r.url.endsWith('/dicom-codecs.wasm'))).toBe(true);
    // The page names the dropped file, and the picker no longer shows the earlier one.
    expect(await d.page.textContent('#image-info')).toMatch(/^xray-jpeg-baseline\.dcm: DICOM, 2297 × 2032, MONOCHROME2/);
    expect(await d.page.$eval('#file', (el) => (el as HTMLInputElement).files?.length ?? 0)).toBe(0);
    await expectWindowed(d.page, file);
    const json = JSON.parse((await d.page.textContent('#result-json'))!) as { findings: { label: string; probability: number }[]; sessionId: string };
    const node = await new PrivateInferenceClient({ parties: d.fake.urls, token: d.fake.token }).predict(readFileSync(file));
    // Both decode the same JPEG bitstream (libjpeg-turbo in dcmjs-codecs' wasm in both): the same input.
    const a = d.fake.inputs.get(json.sessionId)!, b = d.fake.inputs.get(node.sessionId)!;
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
    expect(max).toBeLessThanOrEqual(2 ** -12);
    expect(json.findings.map((f) => f.label)).toEqual(node.findings!.map((f) => f.label));
    await shot(d.page, work, '3-findings-jpeg-baseline-dropped');
  });

  it('explains unusable files in words a clinician understands, with the code only as a technical detail', async () => {
    const cases: [string, RegExp, string][] = [
      ['rtplan.dcm', /contains no image/, 'DICOM_NO_PIXEL_DATA'],
      ['MR_truncated.dcm', /incomplete/, 'DICOM_TRUNCATED'],
    ];
    for (const [f, words, reason] of cases) {
      await d.page.setInputFiles('#file', dcm(f));
      await settled(d.page);
      expect(await d.page.getAttribute('body', 'data-state')).toBe('error');
      const status = (await d.page.textContent('#status'))!;
      expect(status).toMatch(words);
      expect(status).not.toMatch(/E_[A-Z]|DICOM_/);
      expect(await d.page.textContent('#error-detail')).toContain(reason);
      expect(await d.page.isVisible('#result')).toBe(false);
      await shot(d.page, work, `4-error-${f.replace('.dcm', '')}`);
    }
  });

  it('no byte the browser sent to a party carries a header field of any fixture', async () => {
    const phi = phiStrings(Object.keys(dicomExpected()).map(dcm));
    expect(phi).toEqual(expect.arrayContaining(['DOE^JANE^Q', 'PHI-4711-SECRET']));
    const sent = d.wire.sent();
    expect(sent.length).toBeGreaterThan(2 * 64 * 64 * 8); // two predictions' shares went through the capture
    expect(phiFound(sent, phi)).toEqual([]);
    // And what Chromium reports it sent, to any host (page, bundle, codecs, API): no PHI in any URL or body.
    const all = Buffer.concat(d.requests.flatMap((r) => [Buffer.from(r.url), r.body ?? Buffer.alloc(0)]));
    expect(phiFound(all, phi)).toEqual([]);
    // Chromium spoke only to P0 (the page) and the three parties (through the capture).
    const hosts = new Set(d.requests.map((r) => new URL(r.url).origin));
    for (const h of hosts) expect([d.fake.urls[0], ...d.wire.urls]).toContain(h);
    for (const u of d.wire.urls) expect(hosts.has(u)).toBe(true);
    expect(d.errors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('demo page, segmentation model: the mask over the image with an opacity control (Chromium)', () => {
  let work: string;
  let d: Demo;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sdk-demo-dicom-mask-'));
    d = await open(work, { inputShape: [32, 32, 1], outputShape: [32, 32, 1], outputActivation: 'sigmoid', labels: undefined });
  }, 60_000);
  afterAll(async () => { await close(d, work); });

  it('draws the thresholded mask of the parties\' output on the windowed image; the slider sets its opacity', async () => {
    const file = dcm('xray-mono2-8bit.dcm');
    await d.page.setInputFiles('#file', file);
    await settled(d.page);
    expect(await d.page.getAttribute('body', 'data-state'), `${await d.page.textContent('#status')} ${d.errors.join('; ')}`).toBe('result');
    await expectWindowed(d.page, file);
    expect(await d.page.isVisible('#overlay')).toBe(true);
    expect(await d.page.isVisible('#mask-opacity')).toBe(true);
    const overlay = await d.page.evaluate(() => {
      const c = document.getElementById('overlay') as HTMLCanvasElement;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const on: number[] = [];
      for (let i = 0; i < c.width * c.height; i++) if (px[4 * i + 3]! > 0) on.push(i);
      const r = c.getBoundingClientRect(), img = document.getElementById('image')!.getBoundingClientRect();
      return { w: c.width, h: c.height, on, opacity: getComputedStyle(c).opacity, box: [r.width, r.height], imgBox: [img.width, img.height] };
    });
    expect([overlay.w, overlay.h]).toEqual([32, 32]);
    expect(overlay.box).toEqual(overlay.imgBox); // stretched over the whole image, as the model's resize squeezed it
    const node = await new PrivateInferenceClient({ parties: d.fake.urls, token: d.fake.token }).predict(readFileSync(file));
    const want = [...node.mask!.classes].flatMap((c, i) => (c ? [i] : []));
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(32 * 32);
    // Chromium and jpeg-js decode the source pixels of this file identically (it is uncompressed): the same mask.
    expect(overlay.on).toEqual(want);
    expect(overlay.opacity).toBe('0.5');
    await shot(d.page, work, '5-mask-50');
    for (const v of [85, 0]) {
      await d.page.$eval('#mask-opacity', (el, value) => { (el as HTMLInputElement).value = String(value); el.dispatchEvent(new Event('input')); }, v);
      expect(await d.page.$eval('#overlay', (el) => getComputedStyle(el).opacity)).toBe(String(v / 100));
      expect(await d.page.textContent('#mask-opacity-value')).toBe(`${v} %`);
      await shot(d.page, work, `6-mask-${v}`);
    }
    expect(await d.page.textContent('#label-probability')).toContain(`${((want.length / 1024) * 100).toFixed(1)} %`);
    expect(d.errors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('demo page, single-label model, DICOM in (Chromium)', () => {
  let work: string;
  let d: Demo;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sdk-demo-dicom-class-'));
    d = await open(work, { inputShape: [128, 128, 1] });
  }, 60_000);
  afterAll(async () => { await close(d, work); });

  it('shows the label with its probability, as the Node SDK computes it for the same file', async () => {
    const file = dcm('xray-mono2-8bit.dcm');
    await d.page.setInputFiles('#file', file);
    await settled(d.page);
    expect(await d.page.getAttribute('body', 'data-state'), `${await d.page.textContent('#status')} ${d.errors.join('; ')}`).toBe('result');
    const node = await new PrivateInferenceClient({ parties: d.fake.urls, token: d.fake.token }).predict(readFileSync(file));
    expect(await d.page.textContent('#label')).toBe(String(node.label));
    const shown = Number(/\(([\d.]+) %\)/.exec((await d.page.textContent('#label-probability'))!)![1]);
    expect(Math.abs(shown - node.probability * 100)).toBeLessThan(0.01);
    expect(await d.page.isVisible('#findings')).toBe(false);
    expect(await d.page.isVisible('#overlay')).toBe(false);
    await shot(d.page, work, '7-single-label');
    expect(d.errors).toEqual([]);
  });
});
