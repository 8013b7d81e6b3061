/**
 * `npm start`: a local three-party demo on loopback with mTLS between the
 * parties. Generates throwaway certificates, shares a demo pneumonia model
 * (the seed CNN with random weights, or `--bundle DIR` from model-import),
 * starts P0, P1, P2 as child processes and prints how to call them.
 *
 *   npm start [-- --bundle DIR] [-- --insecure-local] [-- --quiet]
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { seedCnn } from '../protocol/testing/seed-models.js';
import { DEMO_DIR } from './config.js';
import { launchLocal } from './launch.js';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const value = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const quiet = flag('--quiet');

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
function show(party: number, line: string): void {
  let text = line;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const { level, time: _t, pid: _p, hostname: _h, msg, party: _party, reqId: _r, ...rest } = o;
    if (quiet && typeof level === 'number' && level < 40) return;
    const kv = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
    text = `${LEVELS[level as number] ?? level} ${String(msg ?? '')} ${kv}`;
  } catch { /* not JSON: print as is */ }
  process.stdout.write(`[P${party}] ${text}\n`);
}

async function main(): Promise<void> {
  const bundle = value('--bundle');
  const insecure = flag('--insecure-local');
  process.stdout.write(`starting three parties (${insecure ? 'insecure loopback' : 'mTLS'}), model: ${bundle ? `bundle ${bundle}` : 'demo seed CNN (random weights, 150x125x1)'}...\n`);
  const l = await launchLocal({ ...(bundle ? { bundleDir: bundle } : { plain: seedCnn('maxpool2d', 1), fracBits: 13 }), insecureLocal: insecure, onLine: show, demoAssets: true });
  const clientFile = path.join(l.dir, 'client.json');
  writeFileSync(clientFile, JSON.stringify({ parties: l.urls, token: l.token, modelHash: l.modelHash, ca: l.certs?.ca.cert, clientCert: l.certs?.client }, null, 2), { mode: 0o600 });
  const demo = existsSync(DEMO_DIR) ? `${l.urls[0]}/  (client-sdk/demo)` : `(none: client-sdk/demo/ does not exist yet; P0 will serve it at ${l.urls[0]}/ when it does)`;
  process.stdout.write([
    '',
    'SecureNN private inference: three parties ready',
    `  P0 ${l.urls[0]}   P1 ${l.urls[1]}   P2 ${l.urls[2]}`,
    `  bearer token  ${l.token}`,
    `  model hash    ${l.modelHash}  (${l.modelKind})`,
    `  demo page     ${demo}`,
    `  client config ${clientFile}`,
    `  certificates  ${l.certs ? l.certs.dir : '(insecure-local: none)'}`,
    '',
    'Try:',
    `  curl ${l.urls[0]}/readyz`,
    `  curl -H 'Authorization: Bearer ${l.token}' ${l.urls[0]}/v1/model`,
    `  npx tsx parties/demo-client.ts ${clientFile}     # one private prediction on a random image`,
    `  curl ${l.urls[0]}/metrics`,
    '',
    'Ctrl-C stops the parties and removes the temporary files.',
    '',
  ].join('\n'));
  let stopping = false;
  const stop = () => { if (stopping) return; stopping = true; process.stdout.write('stopping...\n'); void l.stop().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (const [i, c] of l.children.entries()) c.on('exit', (code, sig) => { if (!stopping) { process.stdout.write(`P${i} exited (${code ?? sig}); stopping the others\n`); stop(); } });
}

main().catch((e: unknown) => {
  process.stderr.write(`start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
