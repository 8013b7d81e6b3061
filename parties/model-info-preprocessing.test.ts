import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PartyId } from '../protocol/ring/types.js';
import { seedCnn } from '../protocol/seed-models.js';
import { loadPartyModel, modelImport, plainModelHash, shareBundles } from './model-source.js';

describe('the model info the parties announce (GET /v1/model, session responses) carries the recorded preprocessing', () => {
  const prep = { colorMode: 'grayscale', resize: 'bilinear', scaling: 'symmetric', channelOrder: 'rgb' } as const;

  it('from a model-import bundle manifest, at all three parties', async (ctx) => {
    const mi = await modelImport();
    if (!mi?.writeBundles) { ctx.skip(); return; }
    const plain = seedCnn('maxpool2d', 1);
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'securenn-prep-')), 'out');
    (mi.writeBundles as (...a: unknown[]) => unknown)({ ir: plain, sourceHash: plainModelHash(plain), sourceFile: 'seed', format: 'ir' }, dir, { fracBits: 13, preprocessing: prep });
    for (const p of [0, 1, 2] as PartyId[]) expect((await loadPartyModel({ kind: 'bundle', dir }, p)).info.preprocessing).toEqual(prep);
  });

  it('from in-memory bundles; absent when none is recorded', async () => {
    const plain = seedCnn('maxpool2d', 1);
    expect((await loadPartyModel({ kind: 'memory', bundle: shareBundles(plain, 13, undefined, undefined, prep)[0] }, 0)).info.preprocessing).toEqual(prep);
    expect((await loadPartyModel({ kind: 'memory', bundle: shareBundles(plain, 13)[0] }, 0)).info.preprocessing).toBeUndefined();
  });
});
