/**
 * Config `security` at the party servers (docs/MALICIOUS.md): announced in
 * /v1/model and /readyz; a party configured 'malicious' refuses every
 * semi-honest session (it serves the malicious routes, malicious-serve.test.ts),
 * never a semi-honest run in its place; a model whose manifest requires malicious
 * security is refused at load by a semi-honest party. (The HELLO agreement:
 * link-hello.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { PartyId } from '../protocol/ring/types.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { checkModelSecurity, loadPartyModel, shareBundles } from './model-source.js';
import { createPartyServer, type PartyServer } from './server.js';
import { auth, partyTrio, testCerts, type PartyTrio } from './testing/trio.js';
import { registerSmoothActivation, unregisterSmoothActivation } from '../protocol/layers/activations.js';
import { sigmoidApprox } from '../protocol/primitives/sigmoid.js';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => { await Promise.all(opened.splice(0).map((m) => m.close())); });

/** A tiny model (Dense 4 -> 2). */
const tiny = (): ModelIR<FloatTensor> => ({
  formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd', outputActivation: 'softmax',
  nodes: [{ kind: 'dense', name: 'd', inputs: ['input'], units: 2, activation: 'linear', kernel: { shape: [4, 2], data: Float64Array.from([1, 0, 0, 1, 1, 0, 0, 1]) }, bias: { shape: [2], data: new Float64Array(2) } }],
});

describe('config security at the party servers', () => {
  it("three parties configured 'malicious': /v1/model and /readyz announce it; sessions are refused with E_SECURITY_MODE and none is created", async () => {
    const t: PartyTrio = await partyTrio({ plain: tiny(), fracBits: 13, security: 'malicious' });
    opened.push(t);
    for (const s of t.servers) {
      expect((await s.app.inject({ method: 'GET', url: '/v1/model', headers: auth })).json()).toMatchObject({ security: 'malicious' });
      expect((await s.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ security: 'malicious', modelLoaded: true });
    }
    const sessionId = randomUUID();
    for (const s of t.servers) {
      const r = await s.app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId, batch: 1, modelHash: t.modelHash } });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ code: 'E_SECURITY_MODE', message: expect.stringContaining("configured with security 'malicious': it runs sessions only through the malicious routes") });
      expect((await s.app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}`, headers: auth })).statusCode).toBe(404);
    }
    // Create-with-input (a pinned client) is refused the same way; the share is not stored.
    const put = await t.servers[0].app.inject({ method: 'PUT', url: `/v1/sessions/${sessionId}/input`, headers: { ...auth, 'content-type': 'application/octet-stream', 'x-session-create': JSON.stringify({ sessionId, batch: 1, modelHash: t.modelHash }) }, payload: Buffer.alloc(32) });
    expect(put.json()).toMatchObject({ code: 'E_SECURITY_MODE' });
    expect((await t.servers[0].app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}`, headers: auth })).statusCode).toBe(404);
  });

  it("a party configured 'malicious' refuses at load a model with a layer the malicious runner cannot run yet, naming it", async () => {
    const model = tiny();
    model.nodes.push({ kind: 'activation', name: 'sig', inputs: ['d'], activation: 'sigmoid' });
    model.output = 'sig';
    const certs = testCerts();
    const dep: DeploymentConfig = {
      tokens: ['security-mode-token-0123456789'], logLevel: 'silent', security: 'malicious',
      parties: ([0, 1, 2] as PartyId[]).map((p) => ({
        http: { host: '127.0.0.1', port: 0 }, ...(p < 2 ? { grpc: { host: '127.0.0.1', port: 0 } } : {}),
        tls: { ca: certs.ca.cert, cert: certs.parties[p].cert, key: certs.parties[p].key }, model: { devFile: 'unused' },
      })) as DeploymentConfig['parties'],
    };
    // The malicious runner has the built-in piecewise sigmoid; a stand-in registered for the service is another function, which it refuses.
    registerSmoothActivation({ ...sigmoidApprox, secure: (ctx, v, f, label) => sigmoidApprox.secure(ctx, v, f, label) });
    try {
      const srv = createPartyServer(resolveConfig(dep, 1, process.cwd()), { model: { kind: 'memory', bundle: shareBundles(model, 13)[1] }, logger: false });
      opened.push(srv);
      expect(await srv.start()).toEqual({ grpcPort: null });
      expect(srv.party.modelError).toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringContaining("layer 'sig' (activation): the 'sigmoid' activation without its built-in piecewise cubic (another approximation is registered) is not yet in malicious mode") });
    } finally {
      unregisterSmoothActivation('sigmoid');
    }
  });

  it("semi-honest parties (the default) announce 'semi-honest'", async () => {
    const t = await partyTrio({ plain: tiny(), fracBits: 13 });
    opened.push(t);
    for (const s of t.servers) expect((await s.app.inject({ method: 'GET', url: '/v1/model', headers: auth })).json()).toMatchObject({ security: 'semi-honest' });
  });

  it("a manifest that requires security 'malicious': a semi-honest party refuses the model at load (E_SECURITY_MODE) and does not serve; a malicious one loads it", async () => {
    const bundles = shareBundles(tiny(), 13);
    bundles.forEach((b) => { b.manifest.requires = { security: 'malicious' }; });
    const m = await loadPartyModel({ kind: 'memory', bundle: bundles[0] }, 0);
    expect(m.info.requires).toEqual({ security: 'malicious' });
    expect(() => checkModelSecurity(m, 'semi-honest', 0)).toThrow(expect.objectContaining({ code: 'E_SECURITY_MODE', message: expect.stringContaining("requires security 'malicious'; this party is configured with security 'semi-honest'") }));
    expect(() => checkModelSecurity(m, 'malicious', 0)).not.toThrow();
    // A manifest with another requirement is a format error.
    const odd = shareBundles(tiny(), 13)[0];
    (odd.manifest as { requires?: unknown }).requires = { security: 'paranoid' };
    await expect(loadPartyModel({ kind: 'memory', bundle: odd }, 0)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
    // The party server: no mesh, /v1/model says why.
    const certs = testCerts();
    const dep: DeploymentConfig = {
      tokens: ['security-mode-token-0123456789'], logLevel: 'silent',
      parties: ([0, 1, 2] as PartyId[]).map((p) => ({
        http: { host: '127.0.0.1', port: 0 }, ...(p < 2 ? { grpc: { host: '127.0.0.1', port: 0 } } : {}),
        tls: { ca: certs.ca.cert, cert: certs.parties[p].cert, key: certs.parties[p].key }, model: { devFile: 'unused' },
      })) as DeploymentConfig['parties'],
    };
    const srv: PartyServer = createPartyServer(resolveConfig(dep, 0, process.cwd()), { model: { kind: 'memory', bundle: bundles[0] }, logger: false });
    opened.push(srv);
    expect(await srv.start()).toEqual({ grpcPort: null });
    expect(srv.party.modelError?.code).toBe('E_SECURITY_MODE');
    const info = await srv.app.inject({ method: 'GET', url: '/v1/model', headers: { authorization: 'Bearer security-mode-token-0123456789' } });
    expect(info.statusCode).toBe(503);
    expect(info.json()).toMatchObject({ message: expect.stringContaining('E_SECURITY_MODE') });
  });

  it("config: security defaults to 'semi-honest'; another value is refused", () => {
    const dep: DeploymentConfig = { tokens: ['security-mode-token-0123456789'], insecureLocal: true, parties: ([0, 1, 2] as PartyId[]).map(() => ({ http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } })) as DeploymentConfig['parties'] };
    expect(resolveConfig(dep, 0, process.cwd()).security).toBe('semi-honest');
    expect(resolveConfig({ ...dep, security: 'malicious' }, 0, process.cwd()).security).toBe('malicious');
    expect(() => resolveConfig({ ...dep, security: 'byzantine' as 'malicious' }, 0, process.cwd())).toThrow(/config: security must be equal to one of the allowed values/);
    expect(() => resolveConfig({ ...dep, security: 1 as unknown as 'malicious' }, 0, process.cwd())).toThrow(/config: security must be equal to one of the allowed values/);
  });
});
