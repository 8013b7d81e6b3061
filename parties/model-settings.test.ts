/**
 * A bundle whose import found it needs the 64-bit comparison ring (manifest
 * compareBits 64, model-import/precision.ts) on a party configured with the
 * default 32: the party refuses it at load (E_MODEL_SETTINGS), does not start
 * its mesh and answers not ready, instead of running comparisons that would
 * silently overflow. The same bundle on a 64-bit party loads.
 */
import { describe, expect, it } from 'vitest';
import { networkA } from '../protocol/seed-models.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { shareBundles } from './model-source.js';
import { createPartyServer } from './server.js';
import { TEST_TOKEN } from './testing/trio.js';

const deployment = (compareBits?: 32 | 64): DeploymentConfig => ({
  tokens: [TEST_TOKEN], insecureLocal: true, ...(compareBits ? { compareBits } : {}),
  parties: [
    { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
    { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
    { http: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
  ],
});

describe('a bundle that needs a wider comparison ring than the party compares in', () => {
  const bundle = shareBundles(networkA(), 16)[0];
  const wide = { ...bundle, manifest: { ...bundle.manifest, compareBits: 64 as const } };

  it('is refused at load by a 32-bit party (E_MODEL_SETTINGS naming both widths): no mesh, /readyz 503', async () => {
    const srv = createPartyServer(resolveConfig(deployment(), 0, process.cwd()), { model: { kind: 'memory', bundle: wide }, logger: false });
    try {
      expect(await srv.start()).toEqual({ grpcPort: null });
      expect(srv.party.modelError).toMatchObject({ code: 'E_MODEL_SETTINGS', party: 0, message: expect.stringMatching(/needs a 64-bit comparison ring .*configured with compareBits 32/) });
      const r = await srv.app.inject({ method: 'GET', url: '/readyz' });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ ready: false, modelLoaded: false });
    } finally {
      await srv.close();
    }
  });

  it('loads on a party configured with compareBits 64', async () => {
    const srv = createPartyServer(resolveConfig(deployment(64), 0, process.cwd()), { model: { kind: 'memory', bundle: wide }, logger: false });
    try {
      const { grpcPort } = await srv.start();
      expect(grpcPort).toBeGreaterThan(0);
      expect(srv.party.modelError).toBeNull();
    } finally {
      await srv.close();
    }
  });
});

describe('a bundle whose comparison ring the import could not show sound (manifest compareBound)', () => {
  const bundle = shareBundles(networkA(), 16)[0];
  const load = async (extra: Record<string, unknown>): Promise<string[]> => {
    const lines: string[] = [];
    const b = { ...bundle, manifest: { ...bundle.manifest, compareBits: 32 as const, ...extra } };
    const srv = createPartyServer(resolveConfig(deployment(), 0, process.cwd()), { model: { kind: 'memory', bundle: b }, logger: { level: 'warn', stream: { write: (s: string) => { lines.push(s); } } } });
    try {
      expect((await srv.start()).grpcPort).toBeGreaterThan(0);
    } finally {
      await srv.close();
    }
    return lines;
  };

  it('an unsound explicit ring is logged loudly at load (warn, with the import\'s text), a sound one is not', async () => {
    const unsound = await load({ compareBound: 'unsound-override', rangeWarning: "explicit --compare-bits 32 does NOT hold the sound bound ... 'dense_1'" });
    const warn = unsound.map((l) => JSON.parse(l) as { level: number; msg: string; compareBound?: string }).find((l) => /UNSOUND COMPARISON RING/.test(l.msg));
    expect(warn).toMatchObject({ level: 40, compareBound: 'unsound-override', msg: expect.stringContaining("'dense_1'") });
    const samplesOnly = await load({ compareBound: 'samples-only', rangeWarning: 'the samples only' });
    expect(samplesOnly.some((l) => /comparison ring not shown sound/.test(l))).toBe(true);
    expect((await load({ compareBound: 'sound' })).some((l) => /comparison ring/i.test(l))).toBe(false);
  });
});
