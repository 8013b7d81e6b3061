/**
 * Typos are errors, not silently ignored settings: `npm start` and the party
 * program parse their arguments strictly (node:util parseArgs), the
 * deployment config is checked against a JSON schema that refuses unknown
 * keys by name, and the demo client takes one explicit client.json path.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkDeploymentSchema } from './config-schema.js';
import { loadConfig, parseArgs, resolveConfig, type DeploymentConfig } from './config.js';
import { cudaStatus } from '../runtime/cuda-addon.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = (file: string, args: string[], timeout = 60_000) => spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, file), ...args], { cwd: ROOT, encoding: 'utf8', timeout });
const tmp = mkdtempSync(path.join(tmpdir(), 'securenn-strict-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const dep = (): DeploymentConfig => ({
  tokens: ['a-long-enough-token-1'],
  insecureLocal: true,
  parties: [
    { http: { host: '127.0.0.1', port: 8000 }, grpc: { host: '127.0.0.1', port: 9000 }, model: { bundleDir: 'bundle' } },
    { http: { host: '127.0.0.1', port: 8001 }, grpc: { host: '127.0.0.1', port: 9001 }, model: { bundleDir: 'bundle' } },
    { http: { host: '127.0.0.1', port: 8002 }, model: { bundleDir: 'bundle' } },
  ],
});

describe('deployment config: JSON schema (ajv), unknown keys refused by name', () => {
  it('refuses unknown keys at any depth, naming the key and where it is', () => {
    const cases: [(d: Record<string, unknown>) => void, RegExp][] = [
      [(d) => { d.bundel = 'x'; }, /unknown key 'bundel' at the top level/],
      [(d) => { d.batch = { maxBtach: 4 }; }, /unknown key 'maxBtach' in batch/],
      [(d) => { (d.parties as Record<string, unknown>[])[1]!.model = { bundel: 'bundle' }; }, /unknown key 'bundel' in parties\[1\]\.model/],
      [(d) => { (d.parties as Record<string, Record<string, unknown>>[])[2]!.http!.prot = 1; }, /unknown key 'prot' in parties\[2\]\.http/],
      [(d) => { d.privacy = { budget: { epsilon: 1, delta: 0, eps: 2 } }; }, /unknown key 'eps' in privacy\.budget/],
    ];
    for (const [edit, msg] of cases) {
      const d = dep() as unknown as Record<string, unknown>;
      edit(d);
      expect(() => resolveConfig(d as unknown as DeploymentConfig, 0, '/x')).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(msg) }));
    }
    expect(() => resolveConfig({ ...dep(), logLevel: 3 } as unknown as DeploymentConfig, 0, '/x')).toThrow(/logLevel must be string/);
    expect(resolveConfig(dep(), 0, '/x').party).toBe(0);
  });

  it('a config file with a typo is refused by loadConfig, naming the file and the key', () => {
    const file = path.join(tmp, 'deploy.json');
    writeFileSync(file, JSON.stringify({ ...dep(), sessions: { defaultDeadlineMs: 1000, retentionMS: 5 } }));
    expect(() => loadConfig(['--party', '0', '--config', file], {})).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: "config: deploy.json: unknown key 'retentionMS' in sessions" }));
  });

  it('the shipped deployment configs (compose, Kubernetes) pass the schema', () => {
    checkDeploymentSchema(JSON.parse(readFileSync(path.join(ROOT, 'deploy', 'compose', 'deploy.json'), 'utf8')));
    const k8s = parseYaml(readFileSync(path.join(ROOT, 'deploy', 'k8s', 'config.yaml'), 'utf8')) as { data: { 'deploy.json': string } };
    checkDeploymentSchema(JSON.parse(k8s.data['deploy.json']));
  });
});

describe('strict command lines', () => {
  it('parties/main.ts arguments: node:util parseArgs strict', () => {
    expect(parseArgs(['--party=2', '--config', 'd.json'])).toEqual({ party: '2', config: 'd.json', insecureLocal: false });
    expect(() => parseArgs(['--party', '1', '--confg', 'd.json'])).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/unknown argument '--confg'/) }));
    expect(() => parseArgs(['--party', '1', 'd.json'])).toThrow(/unknown argument 'd.json'/);
    expect(() => parseArgs(['--insecure-local=yes'])).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    const r = tsx('parties/main.ts', ['--party', '1', '--config', '/nonexistent.json', '--insecure-locl']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown argument '--insecure-locl'/);
  });

  it('npm start -- --bundel DIR (or --warmup-runs two) stops with exit 2 before starting anything (--bundel used to serve the random demo model)', () => {
    const r = tsx('parties/start.ts', ['--bundel', path.join(tmp, 'bundle')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^start: error E_BAD_ARGUMENT: unknown argument '--bundel'/m);
    expect(r.stdout).not.toMatch(/starting three parties/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const runs = tsx('parties/start.ts', ['--warmup-runs', 'two']);
    expect(runs.status).toBe(2);
    expect(runs.stderr).toMatch(/^start: error E_BAD_ARGUMENT: --warmup-runs must be a whole number of runs \(0 turns the warm-up off\), got 'two'/m);
    expect(runs.stdout).not.toMatch(/starting three parties/);
  });

  it('npm start -- --gpu on a machine without a usable CUDA device stops with exit 2 and says why, before starting anything', (t) => {
    if (cudaStatus().device) t.skip(); // with a device it would start the parties on it
    const r = tsx('parties/start.ts', ['--gpu']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^start: error E_NATIVE: --gpu: the parties cannot run on a GPU here: (CUDA addon not built|no CUDA device)/m);
    expect(r.stdout).not.toMatch(/starting three parties/);
  });

  it('the demo client takes exactly one explicit client.json: several paths (a glob) or a pattern are refused', () => {
    const a = path.join(tmp, 'a.json'), b = path.join(tmp, 'b.json');
    for (const f of [a, b]) writeFileSync(f, JSON.stringify({ parties: ['http://127.0.0.1:9', 'http://127.0.0.2:9', 'http://127.0.0.3:9'], token: 't', modelHash: '0'.repeat(64) }));
    const two = tsx('parties/demo-client.ts', [a, b]);
    expect(two.status).toBe(2);
    expect(two.stderr).toMatch(/expected exactly one client\.json path, got 2 \(a shell glob matched several deployments/);
    const pattern = tsx('parties/demo-client.ts', [path.join(tmp, 'securenn-local-*', 'client.json')]);
    expect(pattern.status).toBe(2);
    expect(pattern.stderr).toMatch(/is a pattern, not a path/);
    const dead = tsx('parties/demo-client.ts', [a]);
    expect(dead.status).toBe(2);
    expect(dead.stderr).toMatch(/error E_PEER_UNAVAILABLE: .*is the deployment of .*a\.json still running/);
  });
});

describe('npm start writes its client.json where it says; the demo client uses that file and refuses another deployment\'s', () => {
  it('two deployments cannot be confused', async () => {
    const clientJson = path.join(tmp, 'mine', 'client.json');
    mkdirSync(path.dirname(clientJson));
    // Two warm-up runs (--warmup-runs): the default (1000 runs or 15 s on the demo CNN) warms V8 for speed this test does not measure.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'parties/start.ts'), '--insecure-local', '--quiet', '--client-json', clientJson, '--warmup-runs', '2'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const t0 = Date.now();
      while (!/client config /.test(out) && Date.now() - t0 < 120_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
      expect(out).toContain(`client config ${clientJson}`);
      const cfg = JSON.parse(readFileSync(clientJson, 'utf8')) as { parties: string[]; modelHash: string };
      expect(cfg.parties).toHaveLength(3);
      expect(out).toContain(`npx tsx parties/demo-client.ts ${clientJson}`);
      // A second start with the same --client-json must not take the file over; it stops before starting any party.
      const again = tsx('parties/start.ts', ['--insecure-local', '--quiet', '--client-json', clientJson], 120_000);
      expect(again.status).toBe(2);
      expect(again.stderr).toMatch(/E_CONFLICT: cannot write the client config/);
      expect(again.stdout).not.toMatch(/starting three parties/);
      expect(JSON.parse(readFileSync(clientJson, 'utf8'))).toEqual(cfg);

      const ok = tsx('parties/demo-client.ts', [clientJson]);
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      expect(ok.stdout).toMatch(/prediction: (NORMAL|PNEUMONIA) \(\d+\.\d\d %\)/);
      // The same URLs with another model's hash: another deployment's file, refused before any share is sent.
      const other = path.join(tmp, 'other.json');
      writeFileSync(other, JSON.stringify({ ...cfg, modelHash: 'f'.repeat(64) }));
      const no = tsx('parties/demo-client.ts', [other]);
      expect(no.status).toBe(2);
      expect(no.stderr).toMatch(/E_MODEL_MISMATCH: P0 at .* serves model .*: this file belongs to another deployment/);
    } finally {
      child.kill('SIGINT');
      await exited;
    }
    // Stopped: its client.json is gone, so nothing can pick up a dead deployment.
    expect(existsSync(clientJson)).toBe(false);
  }, 300_000);
});
