import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_BUNDLE, buildBrowserBundle } from '../build.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';

type BundleModule = typeof import('../src/browser.js');

describe('browser bundle (npm run build:sdk -> client-sdk/dist/browser.js)', () => {
  let inputs: string[];
  let code: string;
  let fake: FakeParties;
  beforeAll(async () => {
    const meta = await buildBrowserBundle(BROWSER_BUNDLE);
    inputs = Object.keys(meta.inputs);
    code = readFileSync(BROWSER_BUNDLE, 'utf8');
    fake = await startFakeParties();
  });
  afterAll(async () => { await fake.close(); });

  it('contains no node: imports, no require and no import of an unbundled package', () => {
    // dcmjs-codecs reads its WebAssembly with eval("require('fs')") only when it runs under Node
    // (process.versions.node); a browser fetches ./dicom-codecs.wasm instead. Those two are the only ones.
    const guarded = [`eval("require('fs')")`, `eval("require('path')")`];
    for (const g of guarded) expect(code.split(g).length - 1).toBe(1);
    const js = guarded.reduce((c, g) => c.replace(g, 'NODE_ONLY'), code);
    expect(js).not.toMatch(/\bfrom\s*["']node:/);
    expect(js).not.toMatch(/\bimport\s*\(\s*["']node:/);
    expect(js).not.toMatch(/\bimport\s*["'][^"'.]/);
    // (import/export statements only: dcmjs has a method keyed "from")
    expect(js).not.toMatch(/^\s*(?:import|export)\b[^\n;]*\bfrom\s*["'][^"'.]/m);
    expect(js).not.toMatch(/\brequire\s*\(/);
    expect(js).not.toContain('node:crypto');
  });

  it('has the DICOM decoder with one dcmjs', () => {
    expect(inputs.some((p) => p.endsWith('image/dicom.ts'))).toBe(true);
    expect(inputs.filter((p) => /node_modules\/dcmjs\/build\//.test(p))).toHaveLength(1);
  });

  it('leaves the Node decoders and node:crypto out; the sharing is protocol/sharing on Web Crypto', () => {
    expect(inputs.some((p) => p.includes('jpeg-js') || p.includes('pngjs') || p.includes('decode-node'))).toBe(false);
    expect(inputs.some((p) => p.endsWith('protocol/sharing/sharing.ts'))).toBe(true);
    expect(code).not.toMatch(/node:crypto|["']crypto["']/);
    expect(inputs.some((p) => p.endsWith('decode-browser.ts'))).toBe(true);
  });

  it('is an ES module whose client predicts a tensor (run here in Node, which has fetch and Web Crypto)', async () => {
    const sdk = (await import(pathToFileURL(BROWSER_BUNDLE).href)) as BundleModule;
    const client = new sdk.PrivateInferenceClient({ parties: fake.urls, token: fake.token });
    const r = await client.predict({ data: new Float32Array(64 * 64).fill(0.5), shape: [64, 64, 1] });
    expect(r.probabilities).toHaveLength(2);
    await expect(client.predict({ data: new Float32Array(3), shape: [64, 64, 1] })).rejects.toMatchObject({ code: 'E_SHAPE', name: 'InputError' });
    // The party URL checks run in the bundle too: plain http only to loopback (the demo's http://127.0.0.1 URLs, above),
    // or with allowInsecureHttp; three different servers.
    const mesh = ['http://p0.mesh', 'http://p1.mesh', 'http://p2.mesh'];
    expect(() => new sdk.PrivateInferenceClient({ parties: mesh, token: fake.token })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('plain http://') }));
    expect(() => new sdk.PrivateInferenceClient({ parties: mesh, token: fake.token, allowInsecureHttp: true })).not.toThrow();
    expect(() => new sdk.PrivateInferenceClient({ parties: [fake.urls[0]!, fake.urls[1]!, `${fake.urls[0]!}/`], token: fake.token })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('same URL') }));
  });
});
