/**
 * mTLS between parties: every party holds a certificate whose CN (and SAN DNS
 * name, if any) is its party name `party-<id>`. A party accepts a peer only if
 * the peer's certificate chains to a CA of its trust bundle AND names exactly
 * the party it is supposed to be. The dialer checks the server's name in
 * checkServerIdentity; the server checks the client's in the stream handler.
 *
 * One organisation per party (deploy/README.md, "One party per organisation"):
 * each has its own CA, the trust bundle holds the three, and two pins keep one
 * organisation's CA from minting another's party:
 *  - peerCas: party p's certificate must be issued by p's organisation's CA;
 *  - spkiPins: SHA-256 of the peer's public key (SubjectPublicKeyInfo, base64,
 *    as `certs.sh spki` prints); a list, so the next key can be pinned before
 *    the rotation; it survives a re-issue with the same key.
 * `pins` (certificate fingerprints) stay for single-CA deployments.
 */
import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';

export const partyName = (p: PartyId): string => `party-${p}`;

export interface MeshTls {
  /** PEM of the CA that signs the party certificates. */
  ca: Buffer;
  /** This party's certificate chain and key (PEM). */
  cert: Buffer;
  key: Buffer;
  /** Expected name of each party (default party-<id>). */
  names?: Partial<Record<PartyId, string>>;
  /** Optional SHA-256 fingerprints (hex, colons optional) each peer's certificate must have. */
  pins?: Partial<Record<PartyId, string>>;
  /** SHA-256 of each peer's SubjectPublicKeyInfo (base64); the peer's key must be one of its list. */
  spkiPins?: Partial<Record<PartyId, string[]>>;
  /** Each peer's organisation CA (PEM): the peer's certificate must be issued by it. */
  peerCas?: Partial<Record<PartyId, Buffer>>;
}

export interface TlsPaths { ca: string | string[]; cert: string; key: string; pins?: Partial<Record<PartyId, string>>; spkiPins?: Partial<Record<PartyId, string[]>>; peerCas?: Partial<Record<PartyId, string>> }

export function readTls(p: TlsPaths): MeshTls {
  try {
    return {
      ca: readCaFiles(p.ca), cert: readFileSync(p.cert), key: readFileSync(p.key),
      ...(p.pins ? { pins: p.pins } : {}), ...(p.spkiPins ? { spkiPins: p.spkiPins } : {}),
      ...(p.peerCas ? { peerCas: Object.fromEntries(Object.entries(p.peerCas).map(([k, f]) => [k, readFileSync(f!)])) } : {}),
    };
  } catch (e) {
    throw new MpcError('E_BAD_ARGUMENT', 'tls: cannot read the CA, certificate, key or peer CA file', { cause: e });
  }
}

/** A CA file, or several concatenated into one trust bundle (own CA + the peers' organisation CAs). */
export function readCaFiles(ca: string | string[]): Buffer {
  if (typeof ca === 'string') return readFileSync(ca);
  return Buffer.concat(ca.map((f) => { const b = readFileSync(f); return b.length && b[b.length - 1] !== 0x0a ? Buffer.concat([b, Buffer.from('\n')]) : b; }));
}

/** The SPKI pin of a certificate: base64 SHA-256 of its DER SubjectPublicKeyInfo (`certs.sh spki`). */
export function spkiPin(cert: X509Certificate): string {
  return createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

/** Whether `raw` (DER) is issued and signed by the CA certificate `caPem` (or by one of its bundle). */
function issuedBy(raw: Buffer, caPem: Buffer): boolean {
  const leaf = new X509Certificate(raw);
  const cas = (caPem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
  return cas.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
}

export const expectedName = (tls: MeshTls, p: PartyId): string => tls.names?.[p] ?? partyName(p);

const normFp = (s: string): string => s.replace(/:/g, '').toLowerCase();

function dnsNames(cert: PeerCertificate): string[] {
  const san = cert.subjectaltname ?? '';
  return san.split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
}

/** null if `cert` is the expected certificate of party `p`, else an E_PERMISSION error (naming no secret). */
export function checkPeerCert(tls: MeshTls, p: PartyId, cert: PeerCertificate | undefined): MpcError | null {
  const want = expectedName(tls, p);
  if (!cert || !cert.subject) return new MpcError('E_PERMISSION', `mtls: P${p} presented no certificate`, { party: p });
  const cn = Array.isArray(cert.subject.CN) ? cert.subject.CN.join(',') : cert.subject.CN;
  if (cn !== want) return new MpcError('E_PERMISSION', `mtls: expected certificate CN '${want}' for P${p}, got '${cn ?? ''}'`, { party: p });
  const dns = dnsNames(cert);
  const others = ([0, 1, 2] as PartyId[]).filter((q) => q !== p).map((q) => expectedName(tls, q));
  if (dns.length > 0 && (!dns.includes(want) || dns.some((d) => others.includes(d)))) {
    return new MpcError('E_PERMISSION', `mtls: certificate of P${p} must name '${want}' and no other party in its SAN`, { party: p });
  }
  const pin = tls.pins?.[p];
  if (pin && normFp(cert.fingerprint256 ?? '') !== normFp(pin)) return new MpcError('E_PERMISSION', `mtls: certificate of P${p} does not match its pinned fingerprint`, { party: p });
  const spki = tls.spkiPins?.[p];
  const peerCa = tls.peerCas?.[p];
  if (spki || peerCa) {
    if (!cert.raw) return new MpcError('E_PERMISSION', `mtls: P${p}'s certificate is not available to check its pins`, { party: p });
    if (spki && !spki.includes(spkiPin(new X509Certificate(cert.raw)))) return new MpcError('E_PERMISSION', `mtls: the key of P${p}'s certificate is not one of its SPKI pins`, { party: p });
    if (peerCa && !issuedBy(cert.raw, peerCa)) return new MpcError('E_PERMISSION', `mtls: P${p}'s certificate is not issued by P${p}'s organisation CA (tls.peerCas)`, { party: p });
  }
  return null;
}

/** Which party a client certificate names (server side), or null. */
export function identifyPeer(tls: MeshTls, cert: PeerCertificate | undefined, candidates: PartyId[]): PartyId | null {
  for (const p of candidates) if (checkPeerCert(tls, p, cert) === null) return p;
  return null;
}

/**
 * The mesh server's TLS material as a grpc-js certificate provider, so that
 * new material (tls-reload.ts) reaches the listening server without a
 * restart: grpc-js sets the new secure context on its HTTP/2 server, used by
 * every TLS handshake after it. Updates are delivered asynchronously, as
 * grpc-js's own FileWatcherCertificateProvider does (the server registers its
 * listener after creating the HTTP/2 server, and reads the first material from it).
 */
export class TlsProvider implements grpc.experimental.CertificateProvider {
  private readonly caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private readonly idListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  constructor(private tls: MeshTls) {}
  update(tls: MeshTls): void {
    this.tls = tls;
    for (const l of this.caListeners) this.sendCa(l);
    for (const l of this.idListeners) this.sendId(l);
  }
  private sendCa(l: grpc.experimental.CaCertificateUpdateListener): void { const ca = this.tls.ca; setImmediate(() => { if (this.caListeners.has(l)) l({ caCertificate: ca }); }); }
  private sendId(l: grpc.experimental.IdentityCertificateUpdateListener): void { const { cert, key } = this.tls; setImmediate(() => { if (this.idListeners.has(l)) l({ certificate: cert, privateKey: key }); }); }
  addCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void { this.caListeners.add(l); this.sendCa(l); }
  removeCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void { this.caListeners.delete(l); }
  addIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void { this.idListeners.add(l); this.sendId(l); }
  removeIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void { this.idListeners.delete(l); }
}

/** Server credentials that follow `provider`; client certificates required (the TLS handshake fails without a CA-signed one). */
export function serverCredentialsFrom(provider: TlsProvider): grpc.ServerCredentials {
  // One provider serves both the CA and the identity (grpc-js names its two arguments in an order its constructor swaps).
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, true);
}

export function serverCredentials(tls: MeshTls | null): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  // checkClientCertificate = true: the TLS handshake fails for a client without a CA-signed certificate.
  return grpc.ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

export function channelCredentials(tls: MeshTls | null, peer: PartyId): { creds: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  if (!tls) return { creds: grpc.credentials.createInsecure(), options: {} };
  const name = expectedName(tls, peer);
  const creds = grpc.credentials.createSsl(tls.ca, tls.key, tls.cert, {
    checkServerIdentity: (_host, cert) => checkPeerCert(tls, peer, cert) ?? undefined,
  });
  return { creds, options: { 'grpc.ssl_target_name_override': name, 'grpc.default_authority': name } };
}

/** True for 127.0.0.0/8, ::1 and 'localhost' (what --insecure-local allows): the rule the SDK applies too. */
export { isLoopbackHost } from '../protocol/loopback.js';

/** Host part of "host:port" / "[v6]:port". */
export function hostOf(address: string): string {
  const m = /^\[([^\]]+)\]:\d+$/.exec(address) ?? /^([^:]+):\d+$/.exec(address);
  return m ? m[1]! : address;
}
