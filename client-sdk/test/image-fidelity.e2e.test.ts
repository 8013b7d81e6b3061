/**
 * The browser SDK (dist bundle in Debian's Chromium, playwright-core) feeds a
 * model the pixels the Node SDK feeds it, where the browser's own image path
 * would not: a PNG whose fully transparent pixels carry colour (a canvas
 * premultiplies and zeroes it), a JPEG with an Exif orientation (createImageBitmap
 * 'from-image' turns it; a model recording 'stored' wants it as stored), and a
 * 16-bit PNG (refused without png16, reduced as recorded with it). Each case
 * first shows what the canvas path gives, then that the SDK's decodeImage +
 * preprocessImage equal Node's. Skipped when /usr/bin/chromium is absent.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withOrientation } from '../testing/exif-writer.js';
import type { InputPreprocessing } from '../../protocol/input-preprocessing.js';
import { buildBrowserBundle } from '../build.js';
import { decodeImageNode } from '../src/image/decode-node.js';
import { preprocessImage, specForInputShape } from '../src/image/preprocess.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';
import { demoStaticFiles } from '../testing/fixtures.js';
import { flatJpeg } from '../testing/jpeg-dc-writer.js';
import { writePng } from '../testing/png-writer.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`image fidelity e2e skipped: ${CHROMIUM} is absent (run scripts/ensure-chromium.sh)`);

const gray = (extra: Partial<InputPreprocessing> = {}): InputPreprocessing => ({ colorMode: 'grayscale', resize: 'bilinear', scaling: 'raw', channelOrder: 'rgb', ...extra });
const rgb = (extra: Partial<InputPreprocessing> = {}): InputPreprocessing => ({ ...gray(extra), colorMode: 'rgb' });

interface BrowserOut { width?: number; height?: number; orientation?: number; data?: number[]; x?: number[]; error?: { code: string; reason?: string } }

/** In the page: the SDK bundle's decodeImage, then preprocessImage for `shape` and `p` (x absent when p is null). */
function sdkInPage(page: Page, bytes: Uint8Array, shape: number[], p: InputPreprocessing | null): Promise<BrowserOut> {
  return page.evaluate(async ([b, s, pre]) => {
    const sdk = (globalThis as unknown as { fidelitySdk: typeof import('../src/browser.js') }).fidelitySdk;
    try {
      const img = await sdk.decodeImage(new Uint8Array(b));
      const x = pre ? Array.from(sdk.preprocessImage(img, sdk.specForInputShape(s, undefined, pre)) as Float32Array) : undefined;
      return { width: img.width, height: img.height, orientation: img.orientation, data: Array.from(img.data as Uint8Array), ...(x ? { x } : {}) };
    } catch (e) {
      const err = e as { code: string; reason?: string };
      return { error: { code: err.code, ...(err.reason ? { reason: err.reason } : {}) } };
    }
  }, [Array.from(bytes), shape, p] as const);
}

/** In the page: the browser's own path (createImageBitmap with `orientation`, canvas, getImageData), the SDK's before. */
function canvasInPage(page: Page, bytes: Uint8Array, orientation: 'from-image' | 'none'): Promise<{ width: number; height: number; data: number[] }> {
  return page.evaluate(async ([b, o]) => {
    const bitmap = await createImageBitmap(new Blob([new Uint8Array(b)]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: o });
    const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(bitmap, 0, 0);
    const { width, height } = bitmap;
    bitmap.close();
    return { width, height, data: Array.from(ctx.getImageData(0, 0, width, height).data) };
  }, [Array.from(bytes), orientation] as const);
}

async function nodeX(bytes: Uint8Array, shape: [number, number, 1 | 3], p: InputPreprocessing): Promise<number[]> {
  return Array.from(preprocessImage(await decodeImageNode(bytes), specForInputShape(shape, undefined, p)));
}

describe.skipIf(!hasChromium)('image fidelity in Chromium: the browser SDK gives the Node SDK\'s pixels (skipped without /usr/bin/chromium)', () => {
  let work: string;
  let fake: FakeParties;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sdk-fidelity-'));
    await buildBrowserBundle(join(work, 'sdk.js'));
    fake = await startFakeParties({ staticFiles: demoStaticFiles(work, () => ({ parties: fake.urls, token: fake.token })) });
    context = await chromium.launchPersistentContext(join(work, 'profile'), { executablePath: CHROMIUM, headless: true, args: ARGS });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${fake.urls[0]}/`);
    // The bundle as a page loads it (a module script); a dynamic import inside evaluate would be rewritten by vitest.
    await page.addScriptTag({ type: 'module', content: "import * as sdk from '/sdk.js'; globalThis.fidelitySdk = sdk;" });
    await page.waitForFunction(() => 'fidelitySdk' in globalThis);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await fake?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a PNG whose transparent pixels carry colour: the canvas zeroes it, the SDK keeps it as Node and Pillow do', async () => {
    const png = new pngjs.PNG({ width: 4, height: 1 });
    png.data.set([200, 100, 50, 0, 10, 20, 30, 0, 90, 180, 250, 128, 1, 2, 3, 255]);
    const bytes = new Uint8Array(pngjs.PNG.sync.write(png));
    const canvas = await canvasInPage(page, bytes, 'none');
    expect(canvas.data.slice(0, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]); // the mismatch the SDK no longer has
    for (const [shape, p] of [[[1, 4, 1], gray()], [[1, 4, 3], rgb()]] as const) {
      const b = await sdkInPage(page, bytes, [...shape], p);
      expect(b.data).toEqual(Array.from(png.data));
      expect(b.x).toEqual(await nodeX(bytes, [...shape], p));
    }
  });

  it("a JPEG with Exif orientation 6: 'stored' gives the stored pixels, 'exif' (and an old bundle's absent field) the upright ones, as in Node", async () => {
    const w = 16, h = 8, rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.fill(i % w < w / 2 ? 255 : 0, 4 * i, 4 * i + 3), rgba[4 * i + 3] = 255;
    const plain = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 95).data);
    const bytes = withOrientation(plain, 6);
    const turned = await canvasInPage(page, bytes, 'from-image');
    expect([turned.width, turned.height]).toEqual([h, w]); // the browser's default: what the SDK fed every model before
    const b = await sdkInPage(page, bytes, [8, 8, 1], gray({ orientation: 'stored' }));
    expect([b.width, b.height, b.orientation]).toEqual([w, h, 6]);
    for (const p of [gray({ orientation: 'stored' }), gray({ orientation: 'exif' }), gray()]) {
      const x = (await sdkInPage(page, bytes, [8, 8, 1], p)).x!;
      const n = await nodeX(bytes, [8, 8, 1], p);
      // Chromium's JPEG decoder (libjpeg-turbo) and Node's: one grey level at most while Node used jpeg-js's IDCT
      // (now libjpeg's islow, src/image/jpeg-idct.ts; the bound kept).
      expect(Math.max(...x.map((v, i) => Math.abs(v - n[i]!)))).toBeLessThanOrEqual(1);
    }
    const stored = (await sdkInPage(page, bytes, [8, 8, 1], gray({ orientation: 'stored' }))).x!;
    const upright = (await sdkInPage(page, bytes, [8, 8, 1], gray())).x!;
    expect(stored[8 * 7]).toBeGreaterThan(200); // bottom-left: white as stored (left half white)
    expect(upright[8 * 7]).toBeLessThan(50); // upright: the bottom half is the stored right half, black
    for (let o = 1; o <= 8; o++) {
      for (const p of [gray({ orientation: 'stored' }), gray()]) {
        const tagged = withOrientation(plain, o);
        const x = (await sdkInPage(page, tagged, [4, 4, 1], p)).x!;
        const n = await nodeX(tagged, [4, 4, 1], p);
        expect(Math.max(...x.map((v, i) => Math.abs(v - n[i]!))), `orientation ${o} ${p.orientation ?? 'absent'}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it("the demo page shows a tagged JPEG as the model was given it and says so (turned for a model without the field, as stored for 'stored')", async () => {
    const w = 16, h = 8, rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.fill(i % w < w / 2 ? 255 : 0, 4 * i, 4 * i + 3), rgba[4 * i + 3] = 255;
    const file = join(work, 'tagged.jpg');
    writeFileSync(file, withOrientation(new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 95).data), 6));
    const shown = async (): Promise<{ size: number[]; info: string; sent: number[] }> => {
      await page.setInputFiles('#file', []);
      await page.setInputFiles('#file', file);
      await page.waitForSelector('body[data-state="result"], body[data-state="error"]', { timeout: 30_000 });
      expect(await page.getAttribute('body', 'data-state'), `${await page.textContent('#status')} ${pageErrors.join('; ')}`).toBe('result');
      const size = await page.evaluate(() => { const c = document.getElementById('image') as HTMLCanvasElement; return [c.width, c.height]; });
      const session = (JSON.parse((await page.textContent('#result-json'))!) as { sessionId: string }).sessionId;
      return { size, info: (await page.textContent('#image-info'))!, sent: Array.from(fake.inputs.get(session)!) };
    };
    const before = await shown();
    expect(before.size).toEqual([h, w]);
    expect(before.info).toMatch(/Exif orientation tag \(6\) was applied \(turned upright\); the model does not record/);
    fake.model.preprocessing = gray({ orientation: 'stored', scaling: 'unit' });
    const stored = await shown();
    expect(stored.size).toEqual([w, h]);
    expect(stored.info).toMatch(/analysed \(and is shown\) as stored, not turned/);
    const node = await nodeX(withOrientation(new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 95).data), 6), [64, 64, 1], gray({ orientation: 'stored', scaling: 'unit' }));
    expect(Math.max(...stored.sent.map((v, i) => Math.abs(v - node[i]!)))).toBeLessThanOrEqual(1 / 255 + 2 ** -12);
    delete fake.model.preprocessing;
  }, 60_000);

  it('a 16-bit PNG: refused without png16 (E_IMAGE_PREPROCESSING), reduced as recorded with it, as in Node', async () => {
    const bytes = writePng({ width: 6, height: 1, colorType: 0, depth: 16, samples: [0, 255, 256, 1000, 40000, 65535] });
    expect((await sdkInPage(page, bytes, [1, 6, 1], gray())).error).toEqual({ code: 'E_IMAGE_PREPROCESSING', reason: 'PNG_16BIT' });
    for (const png16 of ['pillow', 'high-byte'] as const) {
      expect((await sdkInPage(page, bytes, [1, 6, 1], gray({ png16 }))).x).toEqual(await nodeX(bytes, [1, 6, 1], gray({ png16 })));
    }
    expect((await sdkInPage(page, bytes, [1, 6, 1], gray({ png16: 'pillow' }))).x).toEqual([0, 255, 255, 255, 255, 255]);
    expect(pageErrors).toEqual([]);
  });

  it('a 4:2:0 and a 4:2:2 colour JPEG: Chromium (libjpeg-turbo) and Node (jpeg-decoder.ts + jpeg-upsample.ts) give the same RGB', async () => {
    // Flat 8x8 blocks (testing/jpeg-dc-writer.ts): the IDCT is exact in both, so only chroma upsampling and YCbCr -> RGB
    // can differ; jpeg-js alone replicated the chroma (B 14 where libjpeg gives 51 at the first Cb edge).
    for (const [h, v, height] of [[2, 2, 16], [2, 1, 8]] as const) {
      const nb = 6 * (height / 8);
      const bytes = flatJpeg({ width: 48, height, h, v, blocks: [Array.from({ length: nb }, (_, i) => 100 + 8 * i), [64, 192, 128], [200, 128, 30]] });
      const b = await sdkInPage(page, bytes, [height, 48, 3], rgb());
      const n = await decodeImageNode(bytes);
      expect([b.width, b.height]).toEqual([48, height]);
      expect(b.x, `${h}x${v}`).toEqual(await nodeX(bytes, [height, 48, 3], rgb()));
      expect(Array.from(n.data).slice(15 * 3, 15 * 3 + 3)).not.toEqual(Array.from(n.data).slice(14 * 3, 14 * 3 + 3)); // blended at the edge
    }
  });

  it('JPEG layouts: 4:4:0, 4:1:1, Adobe- and RGB-marked files give Node\'s RGB in Chromium; CMYK, which Node refuses (JPEG_LAYOUT), Chromium decodes as Pillow does', async () => {
    const Y = Array.from({ length: 12 }, (_, i) => 100 + 8 * i);
    const accepted: [string, Uint8Array][] = [
      ['4:4:0', flatJpeg({ width: 48, height: 16, h: 1, v: 2, blocks: [Y, [64, 192, 128, 90, 30, 220], [200, 128, 30, 60, 250, 128]] })],
      ['4:1:1', flatJpeg({ width: 64, height: 8, h: 4, v: 1, blocks: [Y.slice(0, 8), [64, 192], [200, 30]] })],
      ['4:2:0 adobe1', flatJpeg({ width: 48, height: 16, h: 2, v: 2, blocks: [Y, [64, 192, 128], [200, 128, 30]], adobe: 1 })],
      ['rgb ids', flatJpeg({ width: 16, height: 8, h: 1, v: 1, blocks: [[10, 250], [200, 20], [90, 160]], ids: [82, 71, 66] })],
    ];
    for (const [name, bytes] of accepted) {
      const shape: [number, number, 3] = [(await decodeImageNode(bytes)).height, (await decodeImageNode(bytes)).width, 3];
      expect((await sdkInPage(page, bytes, shape, rgb())).x, name).toEqual(await nodeX(bytes, shape, rgb()));
    }
    // Stored (Adobe, inverted) CMYK 200, 100, 50 with K 255 and K 128: Pillow 9.4's cmyk2rgb gives (200, 100, 50) and
    // (100, 50, 25) (nk - MULDIV255(255 - c, nk), nk = stored K)
    const cmyk = flatJpeg({ width: 16, height: 8, h: 1, v: 1, blocks: [[200, 200], [100, 100], [50, 50], [255, 128]], adobe: 0 });
    await expect(decodeImageNode(cmyk)).rejects.toMatchObject({ code: 'E_IMAGE_PREPROCESSING', reason: 'JPEG_LAYOUT' });
    const b = await sdkInPage(page, cmyk, [8, 16, 3], rgb());
    expect(b.error).toBeUndefined();
    const at = (x: number): number[] => b.data!.slice(x * 4, x * 4 + 3);
    expect(at(0)).toEqual([200, 100, 50]);
    at(8).forEach((v, k) => expect(Math.abs(v - [100, 50, 25][k]!)).toBeLessThanOrEqual(1));
    expect(pageErrors).toEqual([]);
  });
});
