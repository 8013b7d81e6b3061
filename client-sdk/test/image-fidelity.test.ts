/**
 * predict() through the fake parties: what P0 and P1 receive follows the
 * model's recorded orientation and png16, a 16-bit PNG is refused before any
 * share is sent when the model records no png16, and parties that announce
 * different orientations are refused (the preprocessing is part of what the
 * three must agree on).
 */
import jpeg from 'jpeg-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { InputPreprocessing, ModelInfo } from '../../protocol/api-contract.js';
import { PrivateInferenceClient } from '../src/index.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';
import { flatJpeg } from '../testing/jpeg-dc-writer.js';
import { writePng } from '../testing/png-writer.js';

let fake: FakeParties | undefined;
afterEach(async () => { await fake?.close(); fake = undefined; });

const gray = (extra: Partial<InputPreprocessing> = {}): InputPreprocessing => ({ colorMode: 'grayscale', resize: 'bilinear', scaling: 'raw', channelOrder: 'rgb', ...extra });

/** What P0 and P1 together received for `bytes` on a model [8, 8, 1] (fixed point at f = 13, integers here: exact). */
async function sentFor(bytes: Uint8Array, model: Partial<ModelInfo>): Promise<number[]> {
  fake = await startFakeParties({ model: { inputShape: [8, 8, 1], ...model } });
  const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
  const r = await c.predict(bytes);
  const sent = Array.from(fake.inputs.get(r.sessionId)!);
  await fake.close();
  fake = undefined;
  return sent;
}

/** Insert an Exif APP1 segment with orientation `o` right after SOI. */
function withOrientation(jpg: Uint8Array, o: number): Uint8Array {
  const tiff = [0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, o, 0, 0, 0, 0, 0, 0, 0];
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const seg = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
  return Uint8Array.from([...jpg.subarray(0, 2), ...seg, ...jpg.subarray(2)]);
}

describe('predict() gives the parties the image the training pipeline saw', () => {
  // 16 x 8, left half white: as stored the model's left column is white; turned by orientation 6 only its top half.
  const w = 16, h = 8, rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.fill(i % w < w / 2 ? 255 : 0, 4 * i, 4 * i + 3), rgba[4 * i + 3] = 255;
  const plain = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 95).data);
  const tagged = withOrientation(plain, 6);

  it("orientation 'stored': the tagged JPEG is sent as the untagged one; 'exif' and a model without the field: turned", async () => {
    const untagged = await sentFor(plain, { preprocessing: gray({ orientation: 'stored' }) });
    expect(await sentFor(tagged, { preprocessing: gray({ orientation: 'stored' }) })).toEqual(untagged);
    const turned = await sentFor(tagged, { preprocessing: gray({ orientation: 'exif' }) });
    expect(turned).not.toEqual(untagged);
    expect(await sentFor(tagged, { preprocessing: gray() })).toEqual(turned);
    expect(untagged[8 * 7]).toBeGreaterThan(200); // bottom-left pixel: white as stored
    expect(turned[8 * 7]).toBeLessThan(50); // black upright
  });

  it('the result says when an image carried an orientation tag and whether the model got it turned (never for a file without one)', async () => {
    fake = await startFakeParties({ model: { inputShape: [8, 8, 1] } });
    const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
    expect((await c.predict(tagged)).imageOrientation).toEqual({ tag: 6, applied: true, recorded: false }); // an old bundle: turned, unknown whether trained so
    expect((await c.predict(plain)).imageOrientation).toBeUndefined();
    fake.model.preprocessing = gray({ orientation: 'stored', scaling: 'unit' });
    expect((await c.predict(tagged)).imageOrientation).toEqual({ tag: 6, applied: false, recorded: true });
    const b = await c.predict([plain, tagged], { batch: true });
    expect(b.imageOrientation).toEqual([null, { tag: 6, applied: false, recorded: true }]);
    const l = await c.predict(tagged, { privacy: { outputMode: 'label' } });
    expect(l.imageOrientation).toEqual({ tag: 6, applied: false, recorded: true });
  });

  it('a 16-bit PNG: E_IMAGE_PREPROCESSING and no share sent without png16; the recorded reduction with it', async () => {
    const png = writePng({ width: 8, height: 8, colorType: 0, depth: 16, samples: Array.from({ length: 64 }, (_, i) => i * 1000) });
    fake = await startFakeParties({ model: { inputShape: [8, 8, 1], preprocessing: gray() } });
    const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
    await expect(c.predict(png)).rejects.toMatchObject({ name: 'InputError', code: 'E_IMAGE_PREPROCESSING', reason: 'PNG_16BIT' });
    expect(fake.inputs.size).toBe(0);
    await fake.close();
    fake = undefined;
    expect(await sentFor(png, { preprocessing: gray({ png16: 'high-byte' }) })).toEqual(Array.from({ length: 64 }, (_, i) => (i * 1000) >> 8));
    expect(await sentFor(png, { preprocessing: gray({ png16: 'pillow' }) })).toEqual(Array.from({ length: 64 }, (_, i) => Math.min(i * 1000, 255)));
  });

  it('a CMYK JPEG (a layout Node cannot decode as Pillow does): E_IMAGE_PREPROCESSING, JPEG_LAYOUT, and no share sent', async () => {
    const cmyk = flatJpeg({ width: 8, height: 8, h: 1, v: 1, blocks: [[200], [100], [50], [255]], adobe: 0 });
    fake = await startFakeParties({ model: { inputShape: [8, 8, 3], preprocessing: { ...gray(), colorMode: 'rgb' } } });
    const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
    await expect(c.predict(cmyk)).rejects.toMatchObject({ name: 'InputError', code: 'E_IMAGE_PREPROCESSING', reason: 'JPEG_LAYOUT', message: expect.stringContaining('4 components (CMYK)') });
    expect(fake.inputs.size).toBe(0);
  });

  it('parties announcing different orientations: ModelMismatchError, nothing sent', async () => {
    fake = await startFakeParties({ model: { inputShape: [8, 8, 1], preprocessing: gray({ orientation: 'stored' }) }, behavior: { 1: { info: { preprocessing: gray({ orientation: 'exif' }) } } } });
    const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
    const e = await c.predict(tagged).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'ModelMismatchError', code: 'E_MODEL_MISMATCH' });
    expect((e as Error).message).toMatch(/preprocessing/);
    expect(fake.inputs.size).toBe(0);
  });
});
