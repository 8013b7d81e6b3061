import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';
import { loadConfig, parseArgs, resolveConfig, type DeploymentConfig } from './config.js';

const dep = (over: Partial<DeploymentConfig> = {}): DeploymentConfig => ({
  tokens: ['a-long-enough-token-1'],
  parties: [
    { http: { host: '127.0.0.1', port: 8000 }, grpc: { host: '127.0.0.1', port: 9000 }, tls: { ca: 'ca.crt', cert: 'p0.crt', key: 'p0.key' }, model: { bundleDir: 'bundle' } },
    { http: { host: '127.0.0.1', port: 8001 }, grpc: { host: '10.0.0.2', port: 9001, address: 'p1.internal:9001' }, tls: { ca: 'ca.crt', cert: 'p1.crt', key: 'p1.key' }, model: { bundleDir: 'bundle' } },
    { http: { host: '127.0.0.1', port: 8002 }, tls: { ca: 'ca.crt', cert: 'p2.crt', key: 'p2.key' }, model: { devFile: 'p2.model' } },
  ],
  ...over,
});

describe('party configuration', () => {
  it('resolves one party: dial addresses of the lower ids, absolute paths, defaults', () => {
    const c = resolveConfig(dep(), 2, '/etc/securenn');
    expect(c.dial).toEqual({ 0: '127.0.0.1:9000', 1: 'p1.internal:9001' });
    expect(c.self.tls).toMatchObject({ ca: '/etc/securenn/ca.crt', key: '/etc/securenn/p2.key' });
    expect(c.self.model).toEqual({ devFile: '/etc/securenn/p2.model' });
    expect(c.batch).toEqual({ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2, planAheadMs: 50, balance: false });
    expect(resolveConfig(dep(), 0, '/x').dial).toEqual({});
  });

  it('requires mTLS material unless --insecure-local, which allows loopback addresses only', () => {
    const noTls = dep();
    noTls.parties = noTls.parties.map(({ tls: _t, ...rest }) => rest) as DeploymentConfig['parties'];
    expect(() => resolveConfig(noTls, 0, '/x')).toThrow(/mTLS/);
    expect(resolveConfig({ ...noTls, insecureLocal: true }, 0, '/x').insecureLocal).toBe(true);
    // P2 dials P1 at p1.internal: not loopback.
    expect(() => resolveConfig({ ...noTls, insecureLocal: true }, 2, '/x')).toThrow(/loopback/);
  });

  it('client credentials: shared tokens only on loopback; per-party clients by SHA-256; PARTY_TOKENS is the party\'s own', () => {
    const open = dep();
    open.parties = open.parties.map((e) => ({ ...e, http: { ...e.http, host: '0.0.0.0' } })) as DeploymentConfig['parties'];
    expect(() => resolveConfig(open, 1, '/x')).toThrow(/loopback development only/);
    // The same file with this party's own credentials instead.
    const sha = 'ab'.repeat(32);
    const own = { ...open, tokens: [] as string[] };
    own.parties[1] = { ...own.parties[1], clients: [{ id: 'clinic-a', tokenSha256: sha }] };
    expect(resolveConfig(own, 1, '/x').self.clients).toEqual([{ id: 'clinic-a', tokenSha256: sha }]);
    expect(() => resolveConfig(own, 0, '/x')).toThrow(/no client credentials/);
    expect(resolveConfig(open, 1, '/x', { tokens: ['from-party-tokens-env-01'] }).tokens).toEqual(['from-party-tokens-env-01']);
    // Operator tokens in the shared file: loopback only too; PARTY_OPERATOR_TOKENS is the party's own.
    expect(() => resolveConfig({ ...own, operatorTokens: ['shared-operator-token-01'] }, 1, '/x')).toThrow(/operatorTokens/);
    expect(resolveConfig({ ...own, operatorTokens: ['shared-operator-token-01'] }, 1, '/x', { operatorTokens: ['own-operator-token-0001'] }).operatorTokens).toEqual(['own-operator-token-0001']);
    const badClient = (clients: unknown) => { const d = { ...own }; d.parties = [...own.parties] as DeploymentConfig['parties']; d.parties[1] = { ...d.parties[1], clients: clients as [] }; return () => resolveConfig(d, 1, '/x'); };
    expect(badClient([{ id: 'a', tokenSha256: 'short' }])).toThrow(/tokenSha256/);
    expect(badClient([{ id: 'a b', tokenSha256: sha }])).toThrow(/clients must list/);
    expect(badClient([{ id: 'a', tokenSha256: sha }, { id: 'b', tokenSha256: sha }])).toThrow(/once/);
  });

  it('sessions: per-client quota within the global cap, the id journal path per party; http timeouts', () => {
    const c = resolveConfig(dep({ sessions: { defaultDeadlineMs: 1000, maxDeadlineMs: 2000, maxSessions: 10, maxPerClient: 3, retentionMs: 1000, idJournal: 'state/ids-p{party}.log' } }), 2, '/etc/securenn');
    expect(c.sessions).toMatchObject({ maxPerClient: 3, idJournal: '/etc/securenn/state/ids-p2.log' });
    expect(c.http).toEqual({ requestMs: 30_000, keepAliveMs: 72_000 });
    expect(() => resolveConfig(dep({ sessions: { defaultDeadlineMs: 1000, maxDeadlineMs: 2000, maxSessions: 10, maxPerClient: 11, retentionMs: 1000 } }), 0, '/x')).toThrow(/maxPerClient/);
    expect(() => resolveConfig(dep({ http: { requestMs: 10 } }), 0, '/x')).toThrow(/http.requestMs/);
  });

  it('requires client tokens and sane limits', () => {
    expect(() => resolveConfig(dep({ tokens: [] }), 0, '/x')).toThrow(/tokens/);
    expect(() => resolveConfig(dep({ tokens: ['short'] }), 0, '/x')).toThrow(/tokens/);
    expect(() => resolveConfig(dep({ batch: { windowMs: 5, maxBatch: 0, maxConcurrentRuns: 1 } }), 0, '/x')).toThrow(/maxBatch/);
    // A partial batch takes the other defaults; planAheadMs 0 turns planning ahead off, a negative one is refused.
    expect(resolveConfig(dep({ batch: { planAheadMs: 0 } }), 0, '/x').batch).toEqual({ windowMs: 5, maxBatch: 8, maxConcurrentRuns: 2, planAheadMs: 0, balance: false });
    expect(resolveConfig(dep({ batch: { balance: true } }), 0, '/x').batch.balance).toBe(true);
    expect(() => resolveConfig(dep({ batch: { balance: 'yes' as unknown as boolean } }), 0, '/x')).toThrow(/balance/);
    expect(() => resolveConfig(dep({ batch: { planAheadMs: -1 } }), 0, '/x')).toThrow(/planAheadMs/);
  });

  it('comparison and offline-phase settings: defaults, partial overrides, and clear errors for bad values', () => {
    const c = resolveConfig(dep(), 1, '/x');
    expect({ compareBits: c.compareBits, compareRadix: c.compareRadix }).toEqual({ compareBits: 32, compareRadix: 4 });
    expect(c.preprocess).toEqual({ enabled: true, maxBytes: 256 * 2 ** 20, timeoutMs: 30_000 });
    const off = { enabled: false } as DeploymentConfig['preprocess'];
    expect(resolveConfig(dep({ preprocess: off }), 1, '/x').preprocess).toEqual({ enabled: false, maxBytes: 256 * 2 ** 20, timeoutMs: 30_000 });
    const bad = (o: Partial<DeploymentConfig>) => () => resolveConfig(dep(o), 0, '/x');
    expect(bad({ compareRadix: 3 as 4 })).toThrow(/compareRadix must be 2 or 4/);
    expect(bad({ preprocess: { enabled: 'yes' } as unknown as DeploymentConfig['preprocess'] })).toThrow(/preprocess.enabled/);
    expect(bad({ preprocess: { maxBytes: -1 } as DeploymentConfig['preprocess'] })).toThrow(/preprocess.maxBytes/);
    expect(bad({ preprocess: { timeoutMs: 0 } as DeploymentConfig['preprocess'] })).toThrow(/preprocess.timeoutMs/);
    let err: unknown;
    try { bad({ compareRadix: 3 as 4 })(); } catch (e) { err = e; }
    expect(err).toMatchObject({ code: 'E_BAD_ARGUMENT' });
  });

  it('mesh link: h2 by default, grpc by name; the data port from grpc.dataPort (default grpc port + 1); bad values refused by name', () => {
    expect(resolveConfig(dep(), 1, '/x').mesh).toEqual({ link: 'h2' });
    expect(resolveConfig(dep({ mesh: { link: 'grpc' } }), 0, '/x').mesh).toEqual({ link: 'grpc' });
    const h2 = resolveConfig(dep({ mesh: { link: 'h2' } }), 0, '/x');
    expect(h2.mesh).toEqual({ link: 'h2' });
    const withPort = dep({ mesh: { link: 'h2' } });
    withPort.parties[0].grpc!.dataPort = 9100;
    expect(resolveConfig(withPort, 0, '/x').self.grpc).toEqual({ host: '127.0.0.1', port: 9000, dataPort: 9100 });
    const bad = (o: Partial<DeploymentConfig>) => () => resolveConfig(dep(o), 0, '/x');
    expect(bad({ mesh: { link: 'tcp' as 'h2' } })).toThrow(/mesh.link must be 'grpc' or 'h2'/);
    expect(bad({ mesh: { lnik: 'h2' } as unknown as DeploymentConfig['mesh'] })).toThrow(/unknown key 'lnik' in mesh/);
    const clash = dep();
    clash.parties[0].grpc!.dataPort = 9000;
    expect(() => resolveConfig(clash, 0, '/x')).toThrow(/parties\[0\]\.grpc\.dataPort must differ from grpc\.port/);
    const range = dep();
    range.parties[0].grpc!.dataPort = 70_000;
    expect(() => resolveConfig(range, 0, '/x')).toThrow(/parties\[0\]\.grpc\.dataPort/);
    // gRPC on the last port: its default data port would not exist; named, or on link grpc, it is fine.
    const top = dep();
    top.parties[1].grpc!.port = 65535;
    expect(() => resolveConfig(top, 1, '/x')).toThrow(/parties\[1\]\.grpc\.port is 65535: .*set parties\[1\]\.grpc\.dataPort/);
    expect(resolveConfig({ ...top, mesh: { link: 'grpc' } }, 1, '/x').mesh.link).toBe('grpc');
    top.parties[1].grpc!.dataPort = 65534;
    expect(resolveConfig(top, 1, '/x').self.grpc).toMatchObject({ port: 65535, dataPort: 65534 });
  });

  it('warm-up: default on, partial overrides, unknown keys and bad values refused by name', () => {
    expect(resolveConfig(dep(), 2, '/x').warmup).toEqual({ runs: 1000, maxMs: 15_000, batches: [1], clientRuns: 300 });
    expect(resolveConfig(dep({ warmup: { runs: 0 } }), 2, '/x').warmup).toEqual({ runs: 0, maxMs: 15_000, batches: [1], clientRuns: 300 });
    expect(resolveConfig(dep({ warmup: { maxMs: 5_000, batches: [1, 8] } }), 0, '/x').warmup).toEqual({ runs: 1000, maxMs: 5_000, batches: [1, 8], clientRuns: 300 });
    expect(resolveConfig(dep({ warmup: { clientRuns: 0 } }), 0, '/x').warmup).toEqual({ runs: 1000, maxMs: 15_000, batches: [1], clientRuns: 0 });
    const bad = (o: Partial<DeploymentConfig>) => () => resolveConfig(dep(o), 0, '/x');
    expect(bad({ warmup: { rnus: 5 } as unknown as DeploymentConfig['warmup'] })).toThrow(/unknown key 'rnus' in warmup/);
    expect(bad({ warmup: { runs: -1 } })).toThrow(/warmup.runs/);
    expect(bad({ warmup: { maxMs: 0 } })).toThrow(/warmup.maxMs/);
    expect(bad({ warmup: { batches: [] } })).toThrow(/warmup.batches/);
    expect(bad({ warmup: { batches: [0] } })).toThrow(/warmup.batches/);
    expect(bad({ warmup: { clientRuns: -1 } })).toThrow(/warmup.clientRuns/);
    expect(bad({ warmup: { clientRuns: 1.5 } })).toThrow(/warmup.clientRuns/);
  });

  it('malicious mode (epochs, mask pool, comparisons): defaults, partial overrides, unknown keys and bad values refused by name', () => {
    expect(resolveConfig(dep(), 2, '/x').malicious).toEqual({ epochSessions: 1000, poolInferences: 2, poolMaxBytes: 256 * 2 ** 20, comparisons: 'arithmetic', clientWaitMs: 30_000 });
    expect(resolveConfig(dep({ security: 'malicious', malicious: { poolInferences: 0 } }), 1, '/x').malicious).toEqual({ epochSessions: 1000, poolInferences: 0, poolMaxBytes: 256 * 2 ** 20, comparisons: 'arithmetic', clientWaitMs: 30_000 });
    expect(resolveConfig(dep({ security: 'malicious', malicious: { clientWaitMs: 5_000 } }), 1, '/x').malicious.clientWaitMs).toBe(5_000);
    expect(resolveConfig(dep({ security: 'malicious', malicious: { comparisons: 'binary' } }), 1, '/x').malicious.comparisons).toBe('binary');
    const bad = (o: Partial<DeploymentConfig>) => () => resolveConfig(dep({ security: 'malicious', ...o }), 0, '/x');
    expect(bad({ malicious: { poolSize: 3 } as unknown as DeploymentConfig['malicious'] })).toThrow(/unknown key 'poolSize' in malicious/);
    expect(bad({ malicious: { epochSessions: 0 } })).toThrow(/malicious.epochSessions/);
    expect(bad({ malicious: { poolInferences: -1 } })).toThrow(/malicious.poolInferences/);
    expect(bad({ malicious: { poolMaxBytes: 1.5 } })).toThrow(/poolMaxBytes/);
    expect(bad({ malicious: { clientWaitMs: 99 } })).toThrow(/malicious.clientWaitMs must be an integer in 100..3600000/);
    expect(bad({ malicious: { clientWaitMs: 1.5 } })).toThrow(/malicious.clientWaitMs/);
    expect(bad({ malicious: { comparisons: 'boolean' as 'binary' } })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: "config: malicious.comparisons must be 'arithmetic' or 'binary'" }));
    expect(bad({ malicious: { comparisons: 1 as unknown as 'binary' } })).toThrow(/malicious\/comparisons|malicious.comparisons/);
  });

  it("settings the configured security mode never applies are refused at start, naming them: a malicious setting with security 'semi-honest' (or absent), rangeSentinel 'on' with 'malicious'", () => {
    const at = (o: Partial<DeploymentConfig>) => () => resolveConfig(dep(o), 1, '/x');
    // The operator means the malicious mode (binary comparisons) but forgot security: it would run semi-honest, silently.
    expect(at({ malicious: { comparisons: 'binary' } })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: "config: malicious.comparisons is set, but security is 'semi-honest': the malicious settings apply only with security 'malicious' (set it, or remove them)" }));
    expect(at({ security: 'semi-honest', malicious: { comparisons: 'arithmetic' } })).toThrow(/malicious.comparisons is set, but security is 'semi-honest'/);
    expect(at({ malicious: { poolInferences: 0 } })).toThrow(/malicious.poolInferences is set, but security is 'semi-honest'/);
    expect(() => resolveConfig(dep(), 1, '/x', { malicious: { epochSessions: 5 } as never })).toThrow(/malicious.epochSessions is set/);
    // An empty block says nothing: accepted, as no block.
    expect(resolveConfig(dep({ malicious: {} }), 1, '/x').security).toBe('semi-honest');
    // The malicious mode runs no range sentinel: 'on' (every model) would be silently off.
    expect(at({ security: 'malicious', rangeSentinel: 'on' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining("rangeSentinel 'on' with security 'malicious'") }));
    for (const r of ['auto', 'off'] as const) expect(resolveConfig(dep({ security: 'malicious', rangeSentinel: r }), 1, '/x').rangeSentinel).toBe(r);
    expect(resolveConfig(dep({ rangeSentinel: 'on' }), 1, '/x').rangeSentinel).toBe('on');
  });

  it('privacy accountant: one state file per party ({party}), relative to the config, default budget; opened at start only when configured', () => {
    const d = resolveConfig(dep(), 1, '/etc/securenn').privacySettings;
    expect(d).toEqual({ accountantFile: '/etc/securenn/data/privacy-accountant-p1.json', budget: { epsilon: 10, delta: 1e-5 }, eager: false });
    const c = resolveConfig(dep({ privacy: { accountantFile: '/var/lib/securenn/acct-{party}.json', budget: { epsilon: 4, delta: 0 }, enforce: 'basic' } }), 2, '/etc/securenn').privacySettings;
    expect(c).toEqual({ accountantFile: '/var/lib/securenn/acct-2.json', budget: { epsilon: 4, delta: 0 }, enforce: 'basic', eager: true });
    expect(() => resolveConfig(dep({ privacy: { budget: { epsilon: -1, delta: 0 } } }), 0, '/x')).toThrow(/privacy.budget/);
    expect(() => resolveConfig(dep({ privacy: { budget: { epsilon: 1, delta: 1 } } }), 0, '/x')).toThrow(/privacy.budget/);
    expect(() => resolveConfig(dep({ privacy: { enforce: 'worst' as never } }), 0, '/x')).toThrow(/privacy.enforce/);
  });

  it('parses --party, --config, --insecure-local; refuses unknown arguments and a missing party id', () => {
    expect(parseArgs(['--party', '1', '--config=x.json', '--insecure-local'])).toEqual({ party: '1', config: 'x.json', insecureLocal: true });
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown argument/);
    expect(() => loadConfig([], {})).toThrow(/party id/);
    expect(() => loadConfig(['--party', '0'], {})).toThrow(/config file/);
  });
});

describe('batcher', () => {
  it('waits the window, then groups up to max images in arrival order; flushes at once when full', async () => {
    const runs: string[][] = [];
    const b = new Batcher<{ id: string; batch: number }>({ windowMs: 30, maxBatch: 4, maxConcurrentRuns: 2 }, async (items) => { runs.push(items.map((i) => i.id)); });
    b.add({ id: 'a', batch: 1 });
    b.add({ id: 'b', batch: 2 });
    expect(runs).toEqual([]);
    b.add({ id: 'c', batch: 2 }); // 5 images queued >= 4: flush now
    expect(runs).toEqual([['a', 'b']]);
    await new Promise((r) => setTimeout(r, 60));
    expect(runs).toEqual([['a', 'b'], ['c']]);
    b.add({ id: 'd', batch: 1 });
    b.remove('d');
    await new Promise((r) => setTimeout(r, 60));
    expect(runs).toHaveLength(2);
  });

  it('keeps at most maxConcurrentRuns in flight; the rest run when one finishes', async () => {
    const release: (() => void)[] = [];
    const started: string[] = [];
    const b = new Batcher<{ id: string; batch: number }>({ windowMs: 0, maxBatch: 1, maxConcurrentRuns: 1 }, (items) => { started.push(items[0]!.id); return new Promise<void>((r) => release.push(r)); });
    b.add({ id: 'a', batch: 1 });
    b.add({ id: 'b', batch: 1 });
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['a']);
    release.shift()!();
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['a', 'b']);
    release.shift()!();
  });
});
