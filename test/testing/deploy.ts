/**
 * Helpers for the deployment tests (not a test file): run deploy/certs.sh,
 * write share bundles, render the compose config for loopback, parse the
 * Dockerfile, spawn party processes with the image's start command.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { writeBundles } from '../../model-import/bundle.js';
import { plainModelHash } from '../../parties/model-source.js';
import type { DeploymentConfig } from '../../parties/config.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY = path.join(ROOT, 'deploy');

/** Run deploy/certs.sh with args; throws with its stderr on failure. */
export function certsSh(args: string[], env: NodeJS.ProcessEnv = {}): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('bash', [path.join(DEPLOY, 'certs.sh'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

export function certsAll(dir: string, extra: string[] = []): void {
  const r = certsSh(['all', dir, ...extra]);
  if (r.status !== 0) throw new Error(`certs.sh all failed: ${r.stderr}`);
}

/** model-import bundles of `plain` in `dir` (party0/, party1/, party2/); returns the model hash. */
export function makeBundles(plain: ModelIR<FloatTensor>, dir: string, fracBits: number): string {
  const hash = plainModelHash(plain);
  writeBundles({ ir: plain, sourceHash: hash, sourceFile: 'test-model', format: 'ir' }, dir, { fracBits });
  return hash;
}

export { freePorts } from '../../parties/launch.js';

/**
 * deploy/compose/deploy.json rendered for this machine: the container paths
 * (/run/secrets/X, /bundle) point into `certDir` and `bundleDir/party<N>`, the
 * listen hosts become 127.0.0.1 and the ports free ones (each container sees
 * /bundle as its own party's directory, as the compose file mounts it).
 */
export function renderComposeConfig(certDir: string, bundleDir: string, http: number[], grpc: number[], data: number[]): DeploymentConfig {
  const c = JSON.parse(readFileSync(path.join(DEPLOY, 'compose', 'deploy.json'), 'utf8')) as DeploymentConfig;
  {
    const fix = (p: string): string => (p.startsWith('/run/secrets/') ? path.join(certDir, p.slice('/run/secrets/'.length)) : p);
    c.parties.forEach((e, p) => {
      e.http.host = '127.0.0.1';
      e.http.port = http[p]!;
      if (e.http.tls) e.http.tls = { ...e.http.tls, cert: fix(e.http.tls.cert), key: fix(e.http.tls.key) };
      if (e.grpc) e.grpc = { host: '127.0.0.1', port: grpc[p]!, dataPort: data[p]!, address: `127.0.0.1:${grpc[p]}` };
      // The metrics listener of each container: a port the OS chooses, on loopback.
      if (e.metrics) e.metrics = { host: '127.0.0.1', port: 0 };
      if (e.tls) e.tls = { ...e.tls, ca: typeof e.tls.ca === 'string' ? fix(e.tls.ca) : e.tls.ca.map(fix), cert: fix(e.tls.cert), key: fix(e.tls.key) };
      if ('bundleDir' in e.model && e.model.bundleDir === '/bundle') e.model = { bundleDir: path.join(bundleDir, `party${p}`) };
    });
    // The accountant's volume (/var/lib/securenn in the containers) becomes a folder beside the bundles.
    const acc = c.privacy?.accountantFile;
    if (acc?.startsWith('/var/lib/securenn/')) c.privacy = { ...c.privacy, accountantFile: path.join(bundleDir, 'state', acc.slice('/var/lib/securenn/'.length)) };
    // So does the journal of used session ids.
    const ids = c.sessions?.idJournal;
    if (c.sessions && ids?.startsWith('/var/lib/securenn/')) c.sessions = { ...c.sessions, idJournal: path.join(bundleDir, 'state', ids.slice('/var/lib/securenn/'.length)) };
  }
  return c;
}

export interface DockerfileInfo {
  stages: { name?: string; from: string; lines: { instr: string; args: string }[] }[];
  /** ENTRYPOINT + CMD of the final stage, exec form. */
  command: string[];
  healthcheck: string[];
  user: string | undefined;
  /** Source paths of the COPY instructions of the build stages (not --from). */
  copies: string[];
}

const execForm = (s: string): string[] => {
  const a = JSON.parse(s) as unknown;
  if (!Array.isArray(a) || a.some((x) => typeof x !== 'string')) throw new Error(`not an exec-form array: ${s}`);
  return a as string[];
};

export function parseDockerfile(file = path.join(DEPLOY, 'Dockerfile')): DockerfileInfo {
  const text = readFileSync(file, 'utf8').replace(/\\\n/g, ' ');
  const stages: DockerfileInfo['stages'] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot parse '${line}'`);
    const [, instr, args] = m as unknown as [string, string, string];
    if (instr === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: f![1]!, ...(f![2] ? { name: f![2] } : {}), lines: [] });
    } else if (stages.length > 0) stages.at(-1)!.lines.push({ instr, args });
  }
  const last = stages.at(-1)!;
  const get = (instr: string) => last.lines.filter((l) => l.instr === instr).at(-1)?.args;
  const entry = get('ENTRYPOINT');
  const cmd = get('CMD');
  const hc = get('HEALTHCHECK');
  const hcCmd = hc ? /CMD\s+(\[.*\])\s*$/.exec(hc)?.[1] : undefined;
  const copies: string[] = [];
  for (const s of stages.slice(0, -1)) {
    for (const l of s.lines) {
      if (l.instr !== 'COPY' || /--from=/.test(l.args)) continue;
      const parts = l.args.split(/\s+/).filter((x) => !x.startsWith('--'));
      copies.push(...parts.slice(0, -1));
    }
  }
  return {
    stages,
    command: [...(entry ? execForm(entry) : []), ...(cmd ? execForm(cmd) : [])],
    healthcheck: hcCmd ? execForm(hcCmd) : [],
    user: get('USER'),
    copies,
  };
}

/** A child process with its output lines collected. */
export interface Proc { child: ChildProcess; lines: string[]; exited: Promise<number | null> }

export function spawnProc(cmd: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Proc {
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  const on = (d: Buffer) => {
    buf += d.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); }
  };
  child.stdout!.on('data', on);
  child.stderr!.on('data', on);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { if (buf) lines.push(buf); resolve(code); }));
  return { child, lines, exited };
}

export async function stopProc(p: Proc, ms = 5_000): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.child.exitCode;
  const t = setTimeout(() => p.child.kill('SIGKILL'), ms);
  p.child.kill('SIGTERM');
  const code = await p.exited;
  clearTimeout(t);
  return code;
}

/** Poll `check` until true or `ms` elapsed. */
export async function until(check: () => Promise<boolean> | boolean, ms: number, stepMs = 100): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function writeJson(file: string, v: unknown): void {
  writeFileSync(file, JSON.stringify(v, null, 2), { mode: 0o600 });
}
