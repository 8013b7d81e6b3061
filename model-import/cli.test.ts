import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadBundle } from './bundle.js';
import { main, privacyFromFlags } from './cli.js';
import { fixtureModel, haveFixtures, tempDir, XRAY } from './testing/fixtures.js';
import { prgFromSeed, SequentialBuilder, writeModelFile } from './seed-models.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
afterEach(() => vi.restoreAllMocks());

function capture(): { out: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    chunks.push(String(s));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return { out: () => chunks.join('') };
}

describe('mpc-import CLI', () => {
  it.skipIf(!haveFixtures)('imports a pneumonia model and reports float vs fixed-point agreement on X-rays', async () => {
    const cap = capture();
    const out = path.join(tmp.dir, 'ravneet');
    const code = await main([fixtureModel('ravneet-pneumonia'), '--out', out, '--labels', 'NORMAL,PNEUMONIA', '--samples', path.join(XRAY, 'NORMAL', 'IM-0001-0001.jpeg'), path.join(XRAY, 'PNEUMONIA', 'person85_bacteria_422.jpeg'), '--no-progress']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const text = cap.out();
    expect(text).toMatch(/model: +pneumonia\.h5 \(keras-h5, Keras 2\.2\.4\)/);
    expect(text).toMatch(/decision agreement: 2\/2/);
    expect(text).toMatch(/IM-0001-0001\.jpeg +NORMAL/);
    const { manifest } = loadBundle(out, 0);
    expect(manifest.labels).toEqual(['NORMAL', 'PNEUMONIA']);
    expect(manifest.outputActivation).toBe('sigmoid');
  });

  it('generates a seed model and imports it (random samples), with an output privacy policy', async () => {
    const cap = capture();
    const out = path.join(tmp.dir, 'seed');
    const seedFile = path.join(tmp.dir, 'network-a.h5');
    expect(await main(['--seed-arch', 'mnist-a', '--seed', '4', '--seed-out', seedFile, '--out', out, '--no-labels', '--random', '2', '--frac-bits', '16', '--output-mode', 'label', '--dp', 'laplace:epsilon=1,sensitivity=160,clip=8'])).toBe(0);
    vi.restoreAllMocks();
    expect(existsSync(seedFile)).toBe(true);
    expect(cap.out()).toMatch(/f = 16 fractional bits/);
    expect(cap.out()).toMatch(/decision agreement: \d\/2/);
    expect(cap.out()).toMatch(/privacy: +label, DP laplace epsilon 1 per image, sensitivity 160, clip 8/);
    expect(loadBundle(out, 2).manifest.fracBits).toBe(16);
    expect(loadBundle(out, 2).manifest.truncation).toBeUndefined();
    expect(cap.out()).toMatch(/truncation: local; expected wrong elements per inference .*: \d\.\de[-+]\d+/);
    for (const p of [0, 1, 2] as const) expect(loadBundle(out, p).manifest.privacy).toEqual({ outputMode: 'label', dp: { mechanism: 'laplace', epsilon: 1, sensitivity: 160, clip: 8 } });
    // The old documented example: 10 logits clipped to [-8, 8] have L1 sensitivity 160, not 2. Refused, nothing written.
    const never = path.join(tmp.dir, 'seed-never');
    await expect(main(['--seed-arch', 'mnist-a', '--seed', '4', '--out', never, '--no-labels', '--random', '2', '--frac-bits', '16', '--output-mode', 'label', '--dp', 'laplace:epsilon=1,sensitivity=2,clip=8'])).rejects.toMatchObject({ code: 'E_DP_SENSITIVITY', message: expect.stringMatching(/sensitivity 2 is below 160/) });
    expect(existsSync(never)).toBe(false);
  });

  it('--truncation exact writes it into the manifests and the report counts only the divisions\' risk', async () => {
    const cap = capture();
    const out = path.join(tmp.dir, 'exact');
    expect(await main(['--seed-arch', 'mnist-a', '--seed', '4', '--out', out, '--no-labels', '--random', '1', '--truncation', 'exact'])).toBe(0);
    vi.restoreAllMocks();
    expect(cap.out()).toMatch(/exact truncation \(with P2\)/);
    expect(cap.out()).toMatch(/truncation: exact; .*\(divisions only; products are truncated exactly\)/);
    for (const p of [0, 1, 2] as const) expect(loadBundle(out, p).manifest.truncation).toBe('exact');
  });

  it('--replicated writes the malicious mode\'s replicated weight shares; --require-security malicious also the requirement; another value is refused', async () => {
    const out = path.join(tmp.dir, 'malicious');
    expect(await main(['--seed-arch', 'mnist-a', '--seed', '4', '--out', out, '--no-labels', '--random', '1', '--frac-bits', '13', '--require-security', 'malicious', '--no-progress'])).toBe(0);
    for (const p of [0, 1, 2] as const) {
      const m = loadBundle(out, p).manifest;
      expect(m.requires).toEqual({ security: 'malicious' });
      expect(m.replicated?.bytes).toBe(16 * m.params);
    }
    const rep = path.join(tmp.dir, 'replicated');
    expect(await main(['--seed-arch', 'mnist-a', '--seed', '4', '--out', rep, '--no-labels', '--random', '1', '--frac-bits', '13', '--replicated', '--no-progress'])).toBe(0);
    expect(loadBundle(rep, 1).manifest).toMatchObject({ replicated: { ring: 'Z_2^128' } });
    expect(loadBundle(rep, 1).manifest.requires).toBeUndefined();
    await expect(main(['--seed-arch', 'mnist-a', '--out', path.join(tmp.dir, 'never2'), '--no-labels', '--require-security', 'semi-honest'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('--require-security must be malicious') });
  });

  it('chooses the precision on the samples, prints what it tried and why, and writes the choice into the manifests; --random 0 says nothing was checked', async () => {
    const cap = capture();
    const out = path.join(tmp.dir, 'chosen');
    expect(await main(['--seed-arch', 'mnist-a', '--seed', '4', '--out', out, '--no-labels', '--random', '3', '--target-error', '1e-3'])).toBe(0);
    vi.restoreAllMocks();
    const text = cap.out();
    const m = /precision: +f = (\d+), (local|exact) truncation, (32|64)-bit comparison ring\n +why: the cheapest candidate that passes/.exec(text);
    expect(m).not.toBeNull();
    expect(text).toMatch(/tried \(3 samples, cheapest first/);
    expect(text).toMatch(/ +\d+ +(local|exact) +(32|64) .* chosen\n/);
    const manifest = loadBundle(out, 0).manifest;
    expect(manifest.fracBits).toBe(Number(m![1]));
    expect(manifest.truncation ?? 'local').toBe(m![2]);
    expect(manifest.compareBits).toBe(Number(m![3]));
    expect(text).toMatch(new RegExp(`Agreement: .*\\(f = ${m![1]},`));
    const cap2 = capture();
    expect(await main(['--seed-arch', 'mnist-a', '--seed', '4', '--out', path.join(tmp.dir, 'unchecked'), '--no-labels', '--random', '0', '--frac-bits', '14'])).toBe(0);
    vi.restoreAllMocks();
    expect(cap2.out()).toMatch(/precision: +f = 14, local truncation \(explicit; NOT checked: no samples/);
    expect(loadBundle(path.join(tmp.dir, 'unchecked'), 1).manifest.compareBits).toBeUndefined();
    await expect(main(['--seed-arch', 'mnist-a', '--out', path.join(tmp.dir, 'r'), '--force'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/--force keeps explicit settings/) });
    await expect(main(['--seed-arch', 'mnist-a', '--out', path.join(tmp.dir, 'r'), '--compare-bits', '16'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
    await expect(main(['--seed-arch', 'mnist-a', '--out', path.join(tmp.dir, 'r'), '--target-error', 'x'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
  });

  it('says which bound decided the comparison ring: the sound bound over --input-range, the samples only, or an UNSOUND explicit ring (report and manifest)', async () => {
    const run = async (dir: string, extra: string[]) => {
      const cap = capture();
      const out = path.join(tmp.dir, dir);
      expect(await main(['--seed-arch', 'mnist-a', '--seed', '4', '--out', out, '--no-labels', '--random', '2', '--frac-bits', '13', ...extra])).toBe(0);
      vi.restoreAllMocks();
      return { text: cap.out(), manifest: loadBundle(out, 0).manifest };
    };
    // Network A on [0, 1]: the sound bound fits the 32-bit ring.
    const fits = await run('sound32', ['--input-range', '0,1']);
    expect(fits.text).toMatch(/comparison ring decided by: the sound bound over the declared input range at f = 13: 'dense_\d+' .* on the 32-bit ring/);
    expect(fits.manifest).toMatchObject({ compareBits: 32, compareBound: 'sound', inputRange: [0, 1] });
    expect(fits.manifest.rangeWarning).toBeUndefined();
    // On [0, 1000] its second ReLU layer leaves the 32-bit ring: they run on the 64-bit one (IR compareBits), and the report says why.
    const wide = await run('sound64', ['--input-range', '0,1000']);
    expect(wide.text).toMatch(/32-bit comparison ring \(64-bit at 1 layer\)/);
    expect(wide.text).toMatch(/comparison ring decided by: the sound bound over the declared input range: the 32-bit ring holds it at f = 13 .* except at 1 layer \('dense_1'; .* which run on the 64-bit ring/);
    expect(wide.manifest).toMatchObject({ compareBits: 32, compareBound: 'sound' });
    expect(wide.manifest.nodes.map((n) => n.compareBits ?? 32)).toEqual([32, 64, 32]);
    // An explicit 32 there is kept, loudly, in the report and the manifests.
    const forced = await run('unsound', ['--input-range', '0,1000', '--compare-bits', '32']);
    expect(forced.text).toMatch(/WARNING: UNSOUND COMPARISON RING/);
    expect(forced.manifest).toMatchObject({ compareBits: 32, compareBound: 'unsound-override', rangeWarning: expect.stringMatching(/explicit --compare-bits 32 does NOT hold the sound bound/) });
    expect(forced.manifest.rangeWarning).toMatch(/layer 'dense(_\d+)?'/);
    expect(forced.manifest.rangeWarning).not.toMatch(/\d\.\d|e[+-]\d|\d{5}/); // no magnitudes (derived from the weights) in what the parties see
    // No declared range (not an image, no --input-range): the samples only, said as such.
    const blind = await run('samples', []);
    expect(blind.text).toMatch(/WARNING: the comparison ring rests on the samples only/);
    expect(blind.manifest).toMatchObject({ compareBound: 'samples-only', rangeWarning: expect.stringMatching(/no sound bound/) });
    // A bound no ring holds (on [0, 1e15] already at the first layer): chosen on the samples, marked samples-only naming
    // the layer, no layer moved to 64 bits; --require-sound-bound refuses it, naming the layer.
    const loose = await run('loose', ['--input-range', '0,1e15']);
    expect(loose.text).toMatch(/WARNING: the comparison ring rests on the samples only \(no ring holds the sound bound over the declared input range at layer 'dense(_\d+)?', IR node \d of 3: interval bound too loose at this depth\)/);
    expect(loose.manifest).toMatchObject({ compareBits: 32, compareBound: 'samples-only', rangeWarning: expect.stringMatching(/^32-bit comparison ring chosen on the samples only: no ring holds the sound bound .* at layer 'dense(_\d+)?'/) });
    expect(loose.manifest.rangeWarning).not.toMatch(/\d\.\d|e[+-]\d|\d{5}/);
    expect(loose.manifest.nodes.map((n) => n.compareBits ?? 32)).toEqual([32, 32, 32]);
    const strict = ['--seed-arch', 'mnist-a', '--seed', '4', '--no-labels', '--frac-bits', '13', '--input-range', '0,1e15', '--require-sound-bound'];
    await expect(main([...strict, '--out', path.join(tmp.dir, 'strict'), '--random', '2'])).rejects.toMatchObject({ code: 'E_PRECISION_RANGE', message: expect.stringMatching(/^layer 'dense(_\d+)?': .* by the sound bound over the declared input range; .*--require-sound-bound/) });
    await expect(main([...strict, '--out', path.join(tmp.dir, 'strict0'), '--random', '0'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/--require-sound-bound needs the precision chooser/) });
    await expect(main(['--seed-arch', 'mnist-a', '--out', path.join(tmp.dir, 'r'), '--no-labels', '--input-range', '1,0'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/--input-range must be LO,HI/) });
  });

  it('parses the privacy flags; refuses inconsistent ones with E_BAD_ARGUMENT', async () => {
    expect(privacyFromFlags({})).toBeUndefined();
    expect(privacyFromFlags({ outputMode: 'label+confidence', confidenceThresholds: '0.5, 2' })).toEqual({ outputMode: 'label+confidence', confidenceThresholds: [0.5, 2] });
    expect(privacyFromFlags({ outputMode: 'label', decisionThresholds: '0.5, 0.3' })).toEqual({ outputMode: 'label', decisionThresholds: [0.5, 0.3] });
    expect(privacyFromFlags({ decisionThresholds: '0.9' })).toEqual({ outputMode: 'logits', decisionThresholds: [0.9] });
    expect(privacyFromFlags({ dp: 'gaussian:epsilon=0.5,delta=1e-6,sensitivity=2,calibration=classic' })).toEqual({ outputMode: 'logits', dp: { mechanism: 'gaussian', epsilon: 0.5, delta: 1e-6, sensitivity: 2, calibration: 'classic' } });
    for (const f of [
      { outputMode: 'probabilities' }, { confidenceThresholds: '1,3' }, { outputMode: 'label+confidence', confidenceThresholds: '3,1' },
      { dp: 'laplace' }, { dp: 'uniform:epsilon=1,sensitivity=1' }, { dp: 'laplace:epsilon=1' }, { dp: 'laplace:epsilon=x,sensitivity=1' },
      { decisionThresholds: '0.5,1' }, { decisionThresholds: '0' }, { decisionThresholds: 'x' },
      { dp: 'laplace:epsilon=1,sensitivity=1,colour=red' }, { dp: 'gaussian:epsilon=0.5,sensitivity=1' }, { dp: 'laplace:epsilon=1,sensitivity=1,clip=-2' },
    ]) expect(() => privacyFromFlags(f)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    await expect(main(['x.h5', '--out', path.join(tmp.dir, 'r'), '--dp', 'laplace:epsilon=0,sensitivity=1'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
  });

  it('rejects bad arguments with E_BAD_ARGUMENT', async () => {
    await expect(main(['x.h5'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
    await expect(main(['--seed-arch', 'resnet', '--out', path.join(tmp.dir, 'r')])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
    await expect(main(['x.h5', '--out', path.join(tmp.dir, 'r'), '--input-shape', '3,a'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
    await expect(main(['x.h5', '--out', path.join(tmp.dir, 'r'), '--truncation', 'fast'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
  });

  it('a file that ends in logits over several values needs --output-activation (softmax or sigmoid would be a guess: a multi-label head shown as one class); one logit does not', async () => {
    const file = async (units: number) => {
      const f = path.join(tmp.dir, `logits${units}.keras`);
      await writeModelFile(new SequentialBuilder('logits', [6], prgFromSeed(3)).dense(4).dense(units, 'linear'), f);
      return f;
    };
    const three = await file(3), out = (d: string) => path.join(tmp.dir, d);
    await expect(main([three, '--out', out('l3'), '--no-labels', '--random', '0'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/ends in logits over 3 values.*--output-activation/) });
    expect(existsSync(out('l3'))).toBe(false);
    capture();
    expect(await main([three, '--out', out('l3s'), '--no-labels', '--random', '0', '--output-activation', 'sigmoid'])).toBe(0);
    expect(await main([await file(1), '--out', out('l1'), '--no-labels', '--random', '0'])).toBe(0);
    vi.restoreAllMocks();
    expect(loadBundle(out('l3s'), 0).manifest.outputActivation).toBe('sigmoid');
    expect(loadBundle(out('l1'), 0).manifest.outputActivation).toBe('linear');
  });

  it('a softmax over one value (Dense(1, softmax): constantly 1 in Keras) is refused with the sigmoid hint, not served as a binary classifier whose labels follow the logit (bench/e2e-oracle.ts seed 31 model 32)', async () => {
    const f = path.join(tmp.dir, 'softmax1.keras');
    await writeModelFile(new SequentialBuilder('softmax1', [6], prgFromSeed(4)).dense(4).dense(1, 'softmax'), f);
    const out = path.join(tmp.dir, 'sm1');
    await expect(main([f, '--out', out, '--labels', 'neg,pos', '--random', '0'])).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/softmax over 1 value.*always 1.*sigmoid/) });
    expect(existsSync(out)).toBe(false);
  });

  it('the package bin launcher runs the TypeScript CLI from a bundle it builds from the current sources at each start, and exits 2 on an MpcError', () => {
    const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'bin', 'mpc-import.mjs');
    const bundle = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'mpc-import.bundle.mjs');
    const t0 = Date.now();
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: mpc-import MODEL --out DIR/);
    // Rebuilt by this very run (scripts/build-import-cli.mjs; the file system's mtime may be a little coarser than Date.now()).
    expect(statSync(bundle).mtimeMs).toBeGreaterThanOrEqual(t0 - 1_000);
    expect(readFileSync(bundle, 'utf8')).toMatch(/^\/\/ Built by scripts\/build-import-cli\.mjs from model-import\/cli\.ts/);
    const bad = spawnSync(process.execPath, [bin, path.join(tmp.dir, 'missing.h5'), '--out', path.join(tmp.dir, 'never')], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/error E_MODEL_FORMAT/);
    expect(existsSync(path.join(tmp.dir, 'never'))).toBe(false);
  });

  it('MPC_IMPORT_RUNTIME=tsx runs the sources through tsx (the fallback without esbuild) with the same answer; another value is refused (exit 2)', () => {
    const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'bin', 'mpc-import.mjs');
    const viaBundle = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    const viaTsx = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', env: { ...process.env, MPC_IMPORT_RUNTIME: 'tsx' } });
    expect(viaTsx.status).toBe(0);
    expect(viaTsx.stdout).toMatch(/usage: mpc-import MODEL --out DIR/);
    expect(viaTsx.stdout).toBe(viaBundle.stdout);
    const bad = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', env: { ...process.env, MPC_IMPORT_RUNTIME: 'ts-node' } });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe("mpc-import: error E_BAD_ARGUMENT: MPC_IMPORT_RUNTIME must be 'bundle' or 'tsx', got 'ts-node'");
  });
});
