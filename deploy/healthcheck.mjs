#!/usr/bin/env node
/**
 * Container healthcheck (Dockerfile HEALTHCHECK, compose healthcheck):
 *
 *   node deploy/healthcheck.mjs [healthz|readyz]      (default healthz)
 *
 * Asks this party's own HTTP API on loopback for /healthz (process alive,
 * event loop answering) or /readyz (model loaded, both peers linked, start-up warm-up ended).
 * The port and TLS settings come from the same place the party reads them:
 * PARTY_CONFIG + PARTY_ID (or --config/--party), PARTY_HTTP_PORT. Plain
 * JavaScript, no tsx and no project import, so it starts in ~50 ms.
 * Exit 0 when the endpoint answers 200, 1 otherwise (with one line on stderr).
 *
 * Over HTTPS it does not check the server name or chain (it talks to itself on
 * 127.0.0.1); when the API requires client certificates it presents the
 * party's own certificate, which the deployment CA signed for client auth.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

const args = process.argv.slice(2);
const flag = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const what = args.find((a) => a === 'healthz' || a === 'readyz') ?? 'healthz';
const fail = (msg) => { process.stderr.write(`healthcheck: ${msg}\n`); process.exit(1); };

const configFile = flag('--config') ?? process.env.PARTY_CONFIG;
const partyId = flag('--party') ?? process.env.PARTY_ID;
if (!configFile || !['0', '1', '2'].includes(partyId ?? '')) fail('PARTY_CONFIG and PARTY_ID (0, 1 or 2) must be set');
let dep;
try { dep = JSON.parse(readFileSync(configFile, 'utf8')); } catch { fail(`cannot read ${configFile}`); }
const self = dep?.parties?.[Number(partyId)];
if (!self?.http) fail(`parties[${partyId}].http missing in ${configFile}`);
const base = path.dirname(path.resolve(configFile));
const abs = (p) => path.resolve(base, p);
const port = Number(process.env.PARTY_HTTP_PORT ?? self.http.port);
const tls = self.http.tls;

const opts = { host: '127.0.0.1', port, path: `/${what}`, method: 'GET', timeout: 2_500 };
let mod = http;
if (tls) {
  mod = https;
  Object.assign(opts, { rejectUnauthorized: false, servername: undefined });
  if (tls.requireClientCert) {
    const own = self.tls ?? tls;
    try { Object.assign(opts, { cert: readFileSync(abs(own.cert)), key: readFileSync(abs(own.key)) }); } catch { fail('cannot read the party certificate for client auth'); }
  }
}
const req = mod.request(opts, (res) => {
  res.resume();
  if (res.statusCode === 200) process.exit(0);
  fail(`/${what} answered ${res.statusCode}`);
});
req.on('timeout', () => { req.destroy(); fail(`/${what} did not answer in 2.5 s`); });
req.on('error', (e) => fail(`/${what}: ${e.code ?? e.message}`));
req.end();
