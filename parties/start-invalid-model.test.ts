/**
 * A model whose shapes do not fit (the seed CNN on a 16x12 input: its third pooling window, 2x2, meets a 2x1 map)
 * must fail a throwaway deployment with the model's own error, at once (s42 probe, item 5: a malicious trio on
 * seedCnn('maxpool2d', 1, [16, 12, 1]) "never connected"). A party process already exits on it (main.ts: "cannot
 * serve without a model", status 1); the in-process trio waited 10 s for links that a party without a model never
 * opens and said E_PEER_UNAVAILABLE "peers not connected", and launchLocal dropped the importer's error and fell back
 * to dev files, which a malicious party refuses anyway (no replicated weight shares).
 */
import { describe, expect, it } from 'vitest';
import { seedCnn } from '../protocol/seed-models.js';
import { launchLocal } from './launch.js';
import { partyTrio } from './testing/trio.js';

describe('a throwaway deployment of a model whose shapes do not fit', () => {
  const plain = seedCnn('maxpool2d', 1, [16, 12, 1]);

  it("in-process trio (malicious and semi-honest): rejects with the party's model error (E_SHAPE naming the layer), not a link time-out", async () => {
    for (const security of ['malicious', 'semi-honest'] as const) {
      const t0 = Date.now();
      const err = await partyTrio({ plain, fracBits: 13, security, tls: true }).then(() => null, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_SHAPE', message: expect.stringContaining("layer 'maxpool2d_3' (maxpool2d): window 2x2 does not fit the 2x1 input") });
      expect(Date.now() - t0).toBeLessThan(8_000);
    }
  }, 60_000);

  it("launchLocal with security 'malicious': the importer's error (E_MODEL_FORMAT naming the layer), before any party starts", async () => {
    const lines: string[] = [];
    const err = await launchLocal({ plain, fracBits: 13, security: 'malicious', readyTimeoutMs: 30_000, onLine: (p, l) => lines.push(`P${p} ${l}`) }).then(async (l) => { await l.stop(); return null; }, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringContaining("layer 'maxpool2d_3'") });
    expect(lines).toEqual([]);
  }, 60_000);
});
