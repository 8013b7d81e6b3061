import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import type { PartyId } from '../protocol/ring/types.js';
import { networkA, seedCnn } from '../protocol/seed-models.js';
import { checkModelSettings, loadPartyModel, modelImport, plainModelHash, shareBundles, writeDevModelFiles } from './model-source.js';
import { outputShapeOf } from './shapes.js';

describe('model source adapter', () => {
  it('infers output shapes from the layer geometry (seed CNN: 2 logits; Network A: 10)', () => {
    expect(outputShapeOf(seedCnn())).toEqual([2]);
    expect(outputShapeOf(networkA())).toEqual([10]);
  });

  it('loads in-memory share models and dev files; a dev file of another party is refused', async () => {
    const plain = networkA();
    const bundles = shareBundles(plain, 16);
    const mem = await loadPartyModel({ kind: 'memory', bundle: bundles[1] }, 1);
    expect(mem.info).toEqual({ modelHash: plainModelHash(plain), importId: bundles[1].manifest.importId, inputShape: [784], outputShape: [10], fracBits: 16, outputActivation: 'softmax' });
    // One call shares one importId; another call's shares of the same model another one.
    expect(bundles.map((b) => b.manifest.importId)).toEqual(new Array(3).fill(bundles[0].manifest.importId));
    expect(shareBundles(plain, 16)[1].manifest.importId).not.toBe(bundles[1].manifest.importId);
    expect(mem.inputSize).toBe(784);
    const files = writeDevModelFiles(mkdtempSync(path.join(tmpdir(), 'securenn-dev-')), bundles);
    const p2 = await loadPartyModel({ kind: 'dev-file', path: files[2]! }, 2);
    expect(p2.info.modelHash).toBe(mem.info.modelHash);
    await expect(loadPartyModel({ kind: 'dev-file', path: files[0]! }, 1)).rejects.toMatchObject({ code: 'E_BUNDLE_INTEGRITY' });
  });

  it('a bundle whose softmax runs over one value (1 whatever the input; mpc-import refuses it since, older bundles did not) is refused at load (E_MODEL_FORMAT)', async () => {
    const one = (activation: 'softmax' | 'sigmoid'): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd', outputActivation: activation, nodes: [
      { kind: 'dense', name: 'd', inputs: ['input'], units: 1, activation: 'linear', kernel: { shape: [4, 1], data: Float64Array.from([0.5, -0.25, 0.125, 1]) } },
    ] });
    await expect(loadPartyModel({ kind: 'memory', bundle: shareBundles(one('softmax'), 16)[0] }, 0)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/softmax over 1 value/) });
    const ok = await loadPartyModel({ kind: 'memory', bundle: shareBundles(one('sigmoid'), 16)[0] }, 0);
    expect(ok.info.outputShape).toEqual([1]);
  });

  it('an ensemble announces an importId derived from its teachers\' (another share of one teacher gives another)', async () => {
    const a = shareBundles(networkA(), 16), b = shareBundles(networkA(), 16), c = shareBundles(networkA(), 16);
    const at = (p: PartyId, second: typeof b) => loadPartyModel({ kind: 'ensemble', teachers: [{ kind: 'memory', bundle: a[p] }, { kind: 'memory', bundle: second[p] }] }, p);
    const [e0, e1, x1] = await Promise.all([at(0, b), at(1, b), at(1, c)]);
    expect(e0.info.importId).toMatch(/^[0-9a-f]{32}$/);
    expect(e1.info.importId).toBe(e0.info.importId);
    expect(x1.info.modelHash).toBe(e1.info.modelHash);
    expect(x1.info.importId).not.toBe(e1.info.importId);
  });

  it('multi-label models: the manifest\'s decision thresholds are announced per label; an ensemble of multi-label teachers is refused (E_MODEL_FORMAT)', async () => {
    const multi = { ...networkA(), outputActivation: 'sigmoid' as const };
    const m = await loadPartyModel({ kind: 'memory', bundle: shareBundles(multi, 16, undefined, { outputMode: 'logits', decisionThresholds: [0.3] })[0] }, 0);
    expect(m.info.decisionThresholds).toEqual(new Array(10).fill(0.3));
    expect(m.info.privacy).toBeUndefined();
    await expect(loadPartyModel({ kind: 'memory', bundle: shareBundles(multi, 16, undefined, { outputMode: 'logits', decisionThresholds: [0.3, 0.4] })[0] }, 0)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
    const teacher = { kind: 'memory' as const, bundle: shareBundles(multi, 16)[0] };
    await expect(loadPartyModel({ kind: 'ensemble', teachers: [teacher, teacher] }, 0)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/multi-label output; PATE counts one class vote/) });
  });

  it('a bundle whose import needed the 64-bit comparison ring (manifest compareBits 64) is refused by a 32-bit party at load (E_MODEL_SETTINGS), served by a 64-bit one', async (ctx) => {
    const mi = await modelImport();
    if (!mi?.writeBundles) { ctx.skip(); return; }
    const plain = networkA();
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'securenn-bundle-')), 'out');
    mi.writeBundles({ ir: plain, sourceHash: plainModelHash(plain), sourceFile: 'networkA', format: 'ir' }, dir, { fracBits: 16, compareBits: 64 });
    for (const p of [0, 1, 2] as PartyId[]) {
      const m = await loadPartyModel({ kind: 'bundle', dir }, p);
      expect(m.compareBits).toBe(64);
      expect(() => checkModelSettings(m, 32, p)).toThrow(expect.objectContaining({ code: 'E_MODEL_SETTINGS', party: p, message: expect.stringMatching(/needs a 64-bit comparison ring .* configured with compareBits 32/) }));
      expect(() => checkModelSettings(m, 64, p)).not.toThrow();
    }
    // Bundles that say 32, or nothing (older imports), load anywhere.
    expect(() => checkModelSettings({ compareBits: 32 }, 32, 0)).not.toThrow();
    expect(() => checkModelSettings({}, 32, 0)).not.toThrow();
    // A malformed value is a format error.
    const mp = path.join(dir, 'party1', 'manifest.json');
    writeFileSync(mp, JSON.stringify({ ...JSON.parse(readFileSync(mp, 'utf8')), compareBits: 48 }));
    await expect(loadPartyModel({ kind: 'bundle', dir }, 1)).rejects.toMatchObject({ code: 'E_BUNDLE_INTEGRITY' });
  });

  it('loads model-import share bundles (with their privacy policy) through loadBundle when model-import is present', async (ctx) => {
    const mi = await modelImport();
    if (!mi?.writeBundles) { ctx.skip(); return; }
    const plain = networkA();
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'securenn-bundle-')), 'out');
    const privacy = { outputMode: 'label' as const, dp: { mechanism: 'laplace' as const, epsilon: 1, sensitivity: 160, clip: 8 } };
    mi.writeBundles({ ir: plain, sourceHash: plainModelHash(plain), sourceFile: 'networkA', format: 'ir' }, dir, { fracBits: 16, privacy });
    const infos = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => loadPartyModel({ kind: 'bundle', dir }, p)));
    for (const m of infos) {
      expect(m.info).toMatchObject({ modelHash: plainModelHash(plain), inputShape: [784], outputShape: [10], fracBits: 16 });
      // The manifest's privacy policy reaches the party, and its summary the clients.
      expect(m.policy).toEqual(privacy);
      expect(m.info.privacy).toEqual({ outputMode: 'label', dp: { mechanism: 'laplace', epsilon: 1, delta: 0, sensitivity: 160, sampler: 'discrete-exact', clip: 8 } });
    }
    await expect(loadPartyModel({ kind: 'bundle', dir: path.join(dir, 'party0') }, 1)).rejects.toMatchObject({ code: 'E_BUNDLE_INTEGRITY' });
    // The three announce the import their shares come from (the SDK refuses parties that differ); a second import
    // of the same file has the same modelHash and another importId.
    const importId = (JSON.parse(readFileSync(path.join(dir, 'party0', 'manifest.json'), 'utf8')) as { importId: string }).importId;
    expect(infos.map((m) => m.info.importId)).toEqual([importId, importId, importId]);
    const again = path.join(mkdtempSync(path.join(tmpdir(), 'securenn-bundle-')), 'out');
    mi.writeBundles({ ir: plain, sourceHash: plainModelHash(plain), sourceFile: 'networkA', format: 'ir' }, again, { fracBits: 16, privacy });
    const other = await loadPartyModel({ kind: 'bundle', dir: again }, 1);
    expect(other.info.modelHash).toBe(infos[1]!.info.modelHash);
    expect(other.info.importId).toMatch(/^[0-9a-f]{32}$/);
    expect(other.info.importId).not.toBe(importId);
    // A manifest (written by an older importer) whose sensitivity is below what its clip implies for the 10 outputs
    // (L1 2 * 8 * 10 = 160): the party refuses to serve it rather than claim an epsilon it does not give.
    const mp = path.join(dir, 'party1', 'manifest.json');
    writeFileSync(mp, JSON.stringify({ ...(JSON.parse(readFileSync(mp, 'utf8')) as object), privacy: { ...privacy, dp: { ...privacy.dp, sensitivity: 2 } } }));
    await expect(loadPartyModel({ kind: 'bundle', dir }, 1)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', cause: expect.objectContaining({ code: 'E_DP_SENSITIVITY', message: expect.stringMatching(/sensitivity 2 is below 160/) }) });
  });
});
