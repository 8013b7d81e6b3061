/**
 * The checks of bench/e2e-oracle.ts --inputs can fail (e2e-oracle-inputs.ts): pixelDiff's verdicts and bound,
 * inputCheck on hand-made files against hand-made expectations (equal, off by more than the bound, a coded SDK
 * refusal), and inputPlan's import flags. No Python here: the independent pipelines run in the probe only.
 */
import { describe, expect, it } from 'vitest';
import { writePng } from '../client-sdk/testing/png-writer.js';
import type { BundleManifest } from '../model-import/bundle.js';
import { Prg } from '../protocol/correlated/prg.js';
import { inputCheck, inputPlan, jpegBound, pixelDiff, type MadeInput } from './e2e-oracle-inputs.js';

const prep = (extra: Record<string, unknown> = {}) => ({ colorMode: 'grayscale', resize: 'nearest', scaling: 'unit', channelOrder: 'rgb', orientation: 'stored', ...extra });
const man = (p: Record<string, unknown>, shape = [2, 3, 1]): BundleManifest => ({ inputShape: shape, preprocessing: p }) as unknown as BundleManifest;
const px = Uint8Array.from([0, 10, 20, 200, 254, 255]);
const made = (bytes: Uint8Array, expect: ArrayLike<number>, kind: MadeInput['kind'] = 'resize'): MadeInput => ({ kind, file: 'x', bytes, expect: Float32Array.from(expect), desc: 'test' });

describe('e2e-oracle --inputs checks', () => {
  it('pixelDiff: equal within 1e-3, within the bound, DIFFERENT beyond it, on a NaN and on a length mismatch', () => {
    expect(pixelDiff([1, 2, 3], [1, 2, 3.0005]).verdict).toBe('equal');
    expect(pixelDiff([1, 2, 3], [1, 2, 4]).verdict).toBe('within');
    expect(pixelDiff([1, 2, 3], [1, 2, 5])).toMatchObject({ verdict: 'DIFFERENT', d: 2, where: 'at 2: SDK 3, independent 5' });
    expect(pixelDiff([1, 2, 3], [1, 2, 5], 3).verdict).toBe('within');
    expect(pixelDiff([1, Number.NaN, 3], [1, 2, 3]).verdict).toBe('DIFFERENT');
    expect(pixelDiff([1, 2], [1, 2, 3]).verdict).toBe('DIFFERENT');
  });
  it('jpegBound: 3 for a colour JPEG (the decoders\' documented gap), 1 for a grey one, a PNG and every other kind', () => {
    expect(jpegBound({ kind: 'exif', desc: 'jpeg exif 6' }, 3)).toBe(3);
    expect(jpegBound({ kind: 'exif', desc: 'png exif 6' }, 3)).toBe(1);
    expect(jpegBound({ kind: 'exif', desc: 'jpeg exif 6' }, 1)).toBe(1);
    expect(jpegBound({ kind: 'png16', desc: '' }, 3)).toBe(1);
    expect(jpegBound({ kind: 'dicom', desc: '' }, 3)).toBe(1);
  });
  it('inputCheck: the SDK pixels of a PNG against the expectation; the model input scaled as recorded (unit: x/255)', async () => {
    const png = writePng({ width: 3, height: 2, colorType: 0, depth: 8, samples: px });
    const ok = await inputCheck(made(png, px), man(prep()));
    expect(ok.verdict).toBe('equal');
    expect(Array.from(ok.indep)).toEqual(Array.from(px, (v) => Math.fround(v / 255)));
    expect(Array.from(ok.sdk!)).toEqual(Array.from(ok.indep));
    const off = Array.from(px);
    off[4] = 252;
    expect(await inputCheck(made(png, off), man(prep()))).toMatchObject({ verdict: 'DIFFERENT', d: 2 });
    // The same difference on a colour JPEG's input is within its bound (3).
    const rgb = writePng({ width: 3, height: 2, colorType: 2, depth: 8, samples: Uint8Array.from({ length: 18 }, (_, i) => px[Math.floor(i / 3)]!) });
    const offRgb = Array.from({ length: 18 }, (_, i) => (i === 12 ? 252 : px[Math.floor(i / 3)]!));
    expect((await inputCheck({ ...made(rgb, offRgb, 'exif'), desc: 'jpeg' }, man(prep({ colorMode: 'rgb' }), [2, 3, 3]))).verdict).toBe('within');
    expect((await inputCheck(made(rgb, offRgb, 'resize'), man(prep({ colorMode: 'rgb' }), [2, 3, 3]))).verdict).toBe('DIFFERENT');
  });
  it('inputCheck: a 16-bit PNG for a model without png16 is a coded refusal (E_IMAGE_PREPROCESSING/PNG_16BIT); with png16 it is compared', async () => {
    const samples = Array.from({ length: 6 }, (_, i) => i * 256 + 7);
    const png16 = writePng({ width: 3, height: 2, colorType: 0, depth: 16, samples });
    expect(await inputCheck(made(png16, new Array(6).fill(0)), man(prep()))).toMatchObject({ verdict: 'refused', refused: 'E_IMAGE_PREPROCESSING/PNG_16BIT' });
    expect((await inputCheck(made(png16, [0, 1, 2, 3, 4, 5]), man(prep({ png16: 'high-byte' })))).verdict).toBe('equal');
    expect((await inputCheck(made(png16, [0, 1, 2, 3, 4, 5]), man(prep({ png16: 'pillow' })))).verdict).toBe('DIFFERENT');
  });
  it('inputPlan: the import flags name the drawn resize, and png16 / orientation only when those inputs are asked for', () => {
    const a = inputPlan(new Prg(new Uint8Array(16).fill(3)), ['png16', 'exif', 'dicom']);
    expect(a.flags.filter((f) => f !== '--preprocessing').map((f) => f.split('=')[0])).toEqual(['resize', 'png16', 'orientation']);
    expect(a.flags.filter((f) => f === '--preprocessing')).toHaveLength(3);
    expect(a.kinds).toEqual(['png16', 'exif', 'dicom']);
    const b = inputPlan(new Prg(new Uint8Array(16).fill(3)), ['dicom']);
    expect(b.flags).toEqual(['--preprocessing', a.flags[1]!]);
    expect(b.seed).toBe(a.seed);
  });
});
