/**
 * A bundle whose import found it needs the 64-bit comparison ring (manifest
 * compareBits 64, model-import/precision.ts) on a party configured with the
 * default 32: the party refuses it at load (E_MODEL_SETTINGS), does not start
 * its mesh and answers not ready, instead of running comparisons that would
 * silently overflow. The same bundle on a 64-bit party loads.
 */
import { describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA } from '../protocol/seed-models.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { loadPartyModel, shareBundles } from './model-source.js';
import { createPartyServer } from './server.js';
import { finishSession, partyTrio, startSession, TEST_OPERATOR_TOKEN, TEST_TOKEN } from './testing/trio.js';

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

  it('announces compareBound in the model info (GET /v1/model, session responses), an ensemble its weakest teacher\'s; an unknown value is refused at load', async () => {
    const withBound = (compareBound?: string) => ({ ...bundle, manifest: { ...bundle.manifest, ...(compareBound ? { compareBound: compareBound as 'sound' } : {}) } }); // 'maybe' too: what a bad manifest holds
    const info = async (...bounds: (string | undefined)[]) => (await loadPartyModel(bounds.length === 1
      ? { kind: 'memory', bundle: withBound(bounds[0]) }
      : { kind: 'ensemble', teachers: bounds.map((b) => ({ kind: 'memory' as const, bundle: withBound(b) })) }, 0)).info;
    expect((await info('samples-only')).compareBound).toBe('samples-only');
    expect((await info('sound')).compareBound).toBe('sound');
    expect(await info(undefined)).not.toHaveProperty('compareBound');
    expect((await info('sound', 'samples-only')).compareBound).toBe('samples-only');
    expect((await info('samples-only', 'unsound-override', 'sound')).compareBound).toBe('unsound-override');
    expect((await info('sound', 'sound')).compareBound).toBe('sound');
    expect(await info('sound', undefined)).not.toHaveProperty('compareBound');
    await expect(info('maybe')).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/compareBound is not one of sound, samples-only, unsound-override/) });
  });
});

describe('a layer marked for the 64-bit ring (IR compareBits, model-import/static-bounds.ts) on 32-bit parties', () => {
  // Pre-activations ~1.6e5 at f = 16 are ~1e10 ring units: beyond the 32-bit ring, inside the 64-bit one.
  // Exact truncation, as mpc-import would choose here: 'big''s products are ~2^49 ring units before truncation, where
  // local truncation fails with probability ~x/2^64 per unit (2.4e-4 per run, one unit's ReLU then 0 and a logit
  // off by exactly h/1024 = 127.8: seen once in a full suite, 2026-12-08), which is not what this test is about.
  const K = Float64Array.from({ length: 16 * 8 }, (_, i) => 8000 + 37 * (i % 11));
  const H = Float64Array.from({ length: 8 * 2 }, (_, i) => (i % 2 ? 1 : -1) / 1024);
  const model = (mark: boolean): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape: [16], output: 'head', outputActivation: 'softmax', nodes: [
    { kind: 'dense', name: 'big', inputs: ['input'], units: 8, activation: 'relu', kernel: { shape: [16, 8], data: K }, ...(mark ? { compareBits: 64 as const } : {}) },
    { kind: 'dense', name: 'head', inputs: ['big'], units: 2, activation: 'linear', kernel: { shape: [8, 2], data: H } },
  ] });
  const x = new Float64Array(16).fill(1);

  for (const mark of [true, false]) {
    it(mark ? 'marked: every run (live, then from the offline phase\'s bundles) gives the plaintext answer' : 'unmarked: the 32-bit run is silently wrong (what the mark prevents)', async () => {
      const t = await partyTrio({ plain: model(mark), fracBits: 16, truncation: 'exact' });
      try {
        const want = plainForward(model(false), x, 1).data;
        let fromBundle = 0;
        for (let rep = 0; rep < (mark ? 4 : 1); rep++) {
          const id = await startSession(t, x, 1, 16);
          const o = await finishSession(t, id, 16);
          expect(o.ok).toBe(true);
          const err = Math.max(...Array.from(o.logits!, (v, i) => Math.abs(v - want[i]!)));
          if (mark) expect(err).toBeLessThan(0.01); else expect(err).toBeGreaterThan(1);
          const rec = (await t.servers[0].app.inject({ method: 'GET', url: `/v1/sessions/${id}/run`, headers: { authorization: `Bearer ${TEST_OPERATOR_TOKEN}` } })).json() as { run: { preprocessed?: boolean } };
          if (rec.run.preprocessed) fromBundle++;
          await new Promise((r) => setTimeout(r, 300)); // idle: P2 deals the next run's bundle
        }
        if (mark) expect(fromBundle).toBeGreaterThan(0);
      } finally {
        await t.close();
      }
    }, 60_000);
  }
});
