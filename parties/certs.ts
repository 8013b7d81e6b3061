/**
 * Throwaway development certificates made with the `openssl` CLI: a CA, one
 * key pair per party (CN and SAN DNS = party-<id>, plus localhost and
 * 127.0.0.1 for the HTTPS API) and one for the client. For `npm start` and
 * tests only; a deployment brings its own PKI.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MpcError } from '../protocol/errors.js';
import { partyName } from './tls.js';

export interface KeyPair { cert: string; key: string }
export interface CertSet { dir: string; ca: KeyPair; parties: [KeyPair, KeyPair, KeyPair]; client: KeyPair }

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  } catch (e) {
    throw new MpcError('E_INTERNAL', `certs: openssl ${args[0]} failed (is the openssl CLI installed?)`, { cause: e });
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function createCa(dir: string, cn = 'securenn-dev-ca', file = 'ca'): KeyPair {
  const kp = { cert: path.join(dir, `${file}.crt`), key: path.join(dir, `${file}.key`) };
  openssl(['req', '-x509', ...EC, '-keyout', kp.key, '-out', kp.cert, '-days', '7', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  chmodSync(kp.key, 0o600);
  return kp;
}

/** A leaf certificate for `cn` signed by `ca`, usable as TLS server and client. */
export function issueCert(dir: string, ca: KeyPair, cn: string, opts: { file?: string; dns?: string[]; ips?: string[] } = {}): KeyPair {
  const file = opts.file ?? cn;
  const kp = { cert: path.join(dir, `${file}.crt`), key: path.join(dir, `${file}.key`) };
  const csr = path.join(dir, `${file}.csr`);
  const ext = path.join(dir, `${file}.ext`);
  const san = [...(opts.dns ?? [cn]).map((d) => `DNS:${d}`), ...(opts.ips ?? []).map((i) => `IP:${i}`)].join(',');
  writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${san}\n`);
  openssl(['req', ...EC, '-keyout', kp.key, '-out', csr, '-subj', `/CN=${cn}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', '7', '-extfile', ext, '-out', kp.cert], dir);
  chmodSync(kp.key, 0o600);
  return kp;
}

/** CA + P0, P1, P2 + client in a fresh temp dir (or `dir`). */
export function generateCerts(dir = mkdtempSync(path.join(tmpdir(), 'securenn-certs-')), create = false): CertSet {
  if (create) mkdirSync(dir, { recursive: true });
  const ca = createCa(dir);
  const parties = ([0, 1, 2] as const).map((p) => issueCert(dir, ca, partyName(p), { dns: [partyName(p), 'localhost'], ips: ['127.0.0.1'] })) as [KeyPair, KeyPair, KeyPair];
  const client = issueCert(dir, ca, 'client', { dns: ['client'] });
  return { dir, ca, parties, client };
}
