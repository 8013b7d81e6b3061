import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { KERAS_MODES, pixelsToInput } from '../protocol/input-preprocessing.js';
import type { AgreementReport } from './agreement.js';
import { loadBundle } from './bundle.js';
import { main } from './cli.js';
import { loadModel } from './load.js';
import { applyPreprocessingFlags } from './preprocessing.js';
import { fixtureModel, haveFixtures, tempDir, XRAY } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
afterEach(() => vi.restoreAllMocks());

function quiet(): { out: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { chunks.push(String(s)); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return { out: () => chunks.join('') };
}

// The settings the precision chooser picks for nakul-pneumonia256 on X-rays (model-import/README.md), given
// explicitly: this test is about preprocessing, and the chooser's search (precision.test.ts) would triple its time.
// The 64-bit ring: the sound bound over raw pixels 0..255 does not fit the 32-bit one (static-bounds.ts), and an
// explicit 32 would print the UNSOUND warning.
const PRECISION = ['--frac-bits', '14', '--truncation', 'exact', '--compare-bits', '64'];
// Two NORMAL and two PNEUMONIA X-rays that nakul-pneumonia256 gets right on raw pixels (model-import/README.md's report).
const FOUR = [
  ...['IM-0001-0001.jpeg', 'NORMAL2-IM-0098-0001.jpeg'].map((f) => path.join(XRAY, 'NORMAL', f)),
  ...['person85_bacteria_422.jpeg', 'person10_virus_35.jpeg'].map((f) => path.join(XRAY, 'PNEUMONIA', f)),
];

describe('image preprocessing recorded by mpc-import', () => {
  it('pixelsToInput: channel order, scaling, then per-channel mean/std', () => {
    const px = [10, 20, 30, 255, 0, 127.5];
    expect(Array.from(pixelsToInput(px, { colorMode: 'rgb', resize: 'bilinear', scaling: 'symmetric', channelOrder: 'rgb' }))).toEqual(px.map((v) => Math.fround(v / 127.5 - 1)));
    const caffe = pixelsToInput(px, { colorMode: 'rgb', resize: 'bilinear', ...structuredClone(KERAS_MODES.caffe) } as never);
    expect(caffe[0]).toBeCloseTo(30 - 103.939, 4); // B first
    expect(caffe[2]).toBeCloseTo(10 - 123.68, 4);
    const torch = pixelsToInput(px, { colorMode: 'rgb', resize: 'bilinear', ...structuredClone(KERAS_MODES.torch) } as never);
    expect(torch[3]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(pixelsToInput([51], { colorMode: 'grayscale', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' }, 1)[0]).toBe(51);
  });

  it('--preprocessing flags: modes, keys, and coded refusals', () => {
    const base = { colorMode: 'rgb', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' } as const;
    expect(applyPreprocessingFlags(base, ['caffe'], [8, 8, 3])).toEqual({ ...base, scaling: 'raw', channelOrder: 'bgr', mean: [103.939, 116.779, 123.68] });
    expect(applyPreprocessingFlags(base, ['unit', 'mean=0.5,0.5,0.5', 'std=0.25,0.25,0.25'], [8, 8, 3])).toEqual({ ...base, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    for (const bad of [['mean=1,2'], ['std=0,1,1'], ['order=bgr'], ['scaling=half'], ['colour=rgb'], ['imagenet'], ['resize=lanczos']]) {
      expect(() => applyPreprocessingFlags({ ...base, colorMode: 'grayscale' }, bad, bad[0] === 'order=bgr' ? [8, 8, 1] : [8, 8, 1])).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    }
  });

  it.skipIf(!haveFixtures)('infers it: the model\'s own Rescaling (nakul: raw), MobileNetV2 layer names (aryan: x/127.5 - 1), else x/255 marked assumed', async () => {
    const nakul = await loadModel(fixtureModel('nakul-pneumonia256'));
    expect(nakul.preprocessing).toMatchObject({ preprocessing: { colorMode: 'rgb', scaling: 'raw', channelOrder: 'rgb' }, assumed: false });
    const aryan = await loadModel(fixtureModel('aryan-pneumonia'));
    expect(aryan.preprocessing).toMatchObject({ preprocessing: { colorMode: 'rgb', scaling: 'symmetric' }, assumed: false });
    expect(aryan.preprocessing!.source).toMatch(/MobileNetV2/);
    const vishal = await loadModel(fixtureModel('vishal-pneumonia'));
    expect(vishal.preprocessing).toMatchObject({ preprocessing: { colorMode: 'grayscale', scaling: 'unit' }, assumed: true });
  });

  it.skipIf(!haveFixtures)('nakul-pneumonia256: the manifests record raw pixels, the report\'s X-rays use them (NORMAL2-IM-0098 NORMAL at -0.600 / -2.736), and x/255 is reported as no better than chance', async () => {
    const out = path.join(tmp.dir, 'nakul');
    const json = path.join(tmp.dir, 'nakul.json');
    let cap = quiet();
    expect(await main([fixtureModel('nakul-pneumonia256'), '--out', out, '--samples', ...FOUR, '--report-json', json, '--no-progress', ...PRECISION])).toBe(0);
    vi.restoreAllMocks();
    let text = cap.out();
    expect(text).toMatch(/labels: NORMAL, PNEUMONIA \(from the --samples folder names\)/);
    expect(text).toMatch(/preprocessing: RGB, bilinear resize, x \(0\.\.255\) +\(the model's own Rescaling layer/);
    for (const p of [0, 1, 2] as const) expect(loadBundle(out, p).manifest.preprocessing).toEqual({ colorMode: 'rgb', resize: 'bilinear', scaling: 'raw', channelOrder: 'rgb', orientation: 'stored' });
    const rep = JSON.parse(readFileSync(json, 'utf8')) as AgreementReport;
    const row = rep.rows.find((r) => r.name === 'NORMAL2-IM-0098-0001.jpeg')!;
    expect(row.floatLogits[0]).toBeCloseTo(-0.6, 2);
    expect(row.floatLogits[1]).toBeCloseTo(-2.736, 2);
    expect(rep.folders).toMatchObject({ total: 4, floatCorrect: 4, chance: 2, noBetterThanChance: false });
    expect(text).not.toMatch(/WARNING/);

    // The old behaviour, asked for explicitly: x/255 into a model that divides by 255 itself.
    cap = quiet();
    expect(await main([fixtureModel('nakul-pneumonia256'), '--out', path.join(tmp.dir, 'nakul-unit'), '--samples', ...FOUR, '--preprocessing', 'unit', '--report-json', json, '--no-progress', ...PRECISION])).toBe(0);
    vi.restoreAllMocks();
    text = cap.out();
    const bad = JSON.parse(readFileSync(json, 'utf8')) as AgreementReport;
    expect(bad.rows.every((r) => r.floatClass === 1)).toBe(true);
    expect(bad.folders).toMatchObject({ total: 4, floatCorrect: 2, noBetterThanChance: true });
    expect(text).toMatch(/WARNING: on the labelled sample folders the decisions are no better than chance/);
    expect(text).toMatch(/preprocessing: RGB, bilinear resize, x\/255 +\(--preprocessing unit; the file said: RGB, bilinear resize, x \(0\.\.255\)/);
  }, 240_000);

  it.skipIf(!haveFixtures)('loadBundle refuses a manifest whose preprocessing is malformed (E_BUNDLE_INTEGRITY)', async () => {
    const out = path.join(tmp.dir, 'ravneet');
    quiet();
    expect(await main([fixtureModel('ravneet-pneumonia'), '--out', out, '--labels', 'NORMAL,PNEUMONIA', '--random', '0', '--preprocessing', 'symmetric'])).toBe(0);
    vi.restoreAllMocks();
    expect(loadBundle(out, 1).manifest.preprocessing).toEqual({ colorMode: 'rgb', resize: 'bilinear', scaling: 'symmetric', channelOrder: 'rgb', orientation: 'stored' });
    const mf = path.join(out, 'party1', 'manifest.json');
    const m = JSON.parse(readFileSync(mf, 'utf8')) as Record<string, unknown>;
    writeFileSync(mf, JSON.stringify({ ...m, preprocessing: { colorMode: 'grayscale', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' } }));
    expect(() => loadBundle(out, 1)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY' }));
  });
});

describe('mpc-import arguments and labels', () => {
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'bin', 'mpc-import.mjs');

  it('an unknown flag is a short coded error without a stack (exit 2)', () => {
    const r = spawnSync(process.execPath, [bin, 'model.h5', '--out', path.join(tmp.dir, 'never'), '--bundel', 'x'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("mpc-import: error E_BAD_ARGUMENT: unknown option '--bundel' (mpc-import --help lists the options)");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.skipIf(!haveFixtures)('label count must equal the output count (two for one sigmoid output); without --labels and without matching folders it refuses unless --no-labels', async () => {
    quiet();
    const m = fixtureModel('vishal-pneumonia'); // one sigmoid output
    await expect(main([m, '--out', path.join(tmp.dir, 'l1'), '--labels', 'A,B,C', '--random', '0'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/3 labels for a model with 1 output/) });
    await expect(main([m, '--out', path.join(tmp.dir, 'l2'), '--labels', 'PNEUMONIA', '--random', '0'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
    await expect(main([m, '--out', path.join(tmp.dir, 'l3'), '--random', '0'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/labels are required/) });
    await expect(main([m, '--out', path.join(tmp.dir, 'l4'), '--samples', path.join(XRAY, 'NORMAL', 'IM-0001-0001.jpeg')])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/folders \(NORMAL\) are 1/) });
    expect(await main([m, '--out', path.join(tmp.dir, 'l5'), '--labels', 'NORMAL,PNEUMONIA', '--random', '0'])).toBe(0);
    expect(loadBundle(path.join(tmp.dir, 'l5'), 0).manifest.labels).toEqual(['NORMAL', 'PNEUMONIA']);
    expect(await main([m, '--out', path.join(tmp.dir, 'l6'), '--no-labels', '--random', '0'])).toBe(0);
    expect(loadBundle(path.join(tmp.dir, 'l6'), 0).manifest.labels).toBeUndefined();
    vi.restoreAllMocks();
  });
});
