/**
 * Certificates reloaded on file change, without a restart: a TlsReloader
 * polls a key pair and its CA bundle (Kubernetes replaces a mounted Secret's
 * files by swapping a symlink, which file watchers miss; polling a few small
 * files every few seconds sees every kind of replacement). New files are
 * checked before use: every certificate parses and the key belongs to the
 * leaf certificate. A half-written rotation (the certificate replaced, the key
 * not yet) is refused and the old material kept, then taken once the files agree.
 *
 * The mesh (mesh.ts `updateTls`) and the HTTPS API (`setSecureContext`) use
 * new material for every TLS handshake after the reload; links and
 * connections already open keep theirs. `certs()` feeds the expiry metric.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MpcError } from '../protocol/errors.js';
import { errFields, silentLogger, type Logger } from './log.js';
import { readCaFiles } from './tls.js';

export interface TlsFiles { cert: string; key: string; ca?: string | string[] }
export interface TlsMaterial { cert: Buffer; key: Buffer; ca?: Buffer }

/** One certificate of the material: the leaf (`identity`) or one of the CA bundle (`ca`). */
export interface CertInfo { role: 'identity' | 'ca'; subject: string; notAfterMs: number; fingerprint256: string }

export type ReloadResult = 'unchanged' | 'reloaded' | 'invalid';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function pemCerts(pem: Buffer, what: string): X509Certificate[] {
  const blocks = pem.toString('utf8').match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new MpcError('E_BAD_ARGUMENT', `tls: ${what} holds no PEM certificate`, { step: 'tls.reload' });
  try { return blocks.map((b) => new X509Certificate(b)); } catch (e) { throw new MpcError('E_BAD_ARGUMENT', `tls: ${what} holds a certificate that does not parse`, { step: 'tls.reload', cause: e }); }
}

/** The certificates of `m`, after checking that they parse and that the key is the leaf's (names no key material). */
export function inspectMaterial(m: TlsMaterial, name: string): CertInfo[] {
  const [leaf] = pemCerts(m.cert, `the ${name} certificate file`);
  let key;
  try { key = createPrivateKey(m.key); } catch (e) { throw new MpcError('E_BAD_ARGUMENT', `tls: the ${name} key file does not hold a private key`, { step: 'tls.reload', cause: e }); }
  if (!leaf!.checkPrivateKey(key)) throw new MpcError('E_BAD_ARGUMENT', `tls: the ${name} key does not belong to its certificate (${leaf!.subject.replace(/\n/g, ', ')}); a rotation half done?`, { step: 'tls.reload' });
  const info = (c: X509Certificate, role: CertInfo['role']): CertInfo => ({ role, subject: c.subject.replace(/\n/g, ', '), notAfterMs: Date.parse(c.validTo), fingerprint256: c.fingerprint256 });
  return [info(leaf!, 'identity'), ...(m.ca ? pemCerts(m.ca, `the ${name} CA file`).map((c) => info(c, 'ca')) : [])];
}

export function readMaterial(files: TlsFiles): TlsMaterial {
  return { cert: readFileSync(files.cert), key: readFileSync(files.key), ...(files.ca ? { ca: readCaFiles(files.ca) } : {}) };
}

const same = (a: TlsMaterial, b: TlsMaterial): boolean => a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca === undefined) === (b.ca === undefined) && (!a.ca || a.ca.equals(b.ca!));

export interface ReloaderOptions {
  /** What the material is for, in logs and metrics: 'mesh' (party links) or 'http' (client API). */
  name: string;
  files: TlsFiles;
  /** The material in use now (read at start). */
  initial: TlsMaterial;
  /** Take new material; may throw (then the old one stays in use). */
  apply: (m: TlsMaterial) => void;
  /** Poll period in ms (0: no polling; `check()` by hand). */
  intervalMs: number;
  logger?: Logger;
  /** Called after each check that found new files: ok or failed. */
  onResult?: (result: 'ok' | 'failed') => void;
}

export class TlsReloader {
  private current: TlsMaterial;
  private info: CertInfo[];
  /** The last files seen (valid or not): a refused state is logged once, not at every poll. */
  private seen: TlsMaterial;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly o: ReloaderOptions) {
    this.current = o.initial;
    this.seen = o.initial;
    this.info = inspectMaterial(o.initial, o.name);
    this.log = (o.logger ?? silentLogger).child({ component: 'tls-reload', tls: o.name });
  }

  start(): void {
    if (this.o.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void { clearInterval(this.timer); this.timer = undefined; }

  get name(): string { return this.o.name; }

  /** The certificates in use (leaf first, then the CA bundle's). */
  certs(): CertInfo[] { return this.info; }

  /** Read the files; take them if they changed and are valid. */
  check(): ReloadResult {
    let m: TlsMaterial;
    try { m = readMaterial(this.o.files); } catch (e) {
      // Mid-swap a file may be missing for a moment: try again at the next poll.
      this.log.debug(errFields(e), 'tls files not readable; keeping the material in use');
      return 'unchanged';
    }
    if (same(m, this.seen)) return 'unchanged';
    this.seen = m;
    if (same(m, this.current)) return 'unchanged';
    try {
      const info = inspectMaterial(m, this.o.name);
      this.o.apply(m);
      this.current = m;
      this.info = info;
      this.log.info({ subject: info[0]!.subject, notAfter: new Date(info[0]!.notAfterMs).toISOString(), fingerprint256: info[0]!.fingerprint256, caCerts: info.length - 1 }, 'tls material reloaded');
      this.o.onResult?.('ok');
      return 'reloaded';
    } catch (e) {
      this.log.warn({ ...errFields(e) }, 'new tls files refused; keeping the material in use');
      this.o.onResult?.('failed');
      return 'invalid';
    }
  }
}
