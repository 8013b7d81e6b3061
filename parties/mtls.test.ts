import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PartyId } from '../protocol/ring/types.js';
import { createCa, issueCert } from './certs.js';
import { PeerMesh } from './mesh.js';
import type { MeshLinkKind } from './mesh-h2.js';
import { testCerts, tlsFor } from './testing/trio.js';
import { silentLogger, type Logger } from './log.js';
import { readTls, type MeshTls } from './tls.js';

const opened: PeerMesh[] = [];
afterEach(async () => { await Promise.all(opened.splice(0).map((m) => m.close())); });

/** P0 listens with tls0, P1 dials it with tls1; resolves whether P0 and P1 saw the link come up within `ms`. */
async function tryLink(tls0: MeshTls, tls1: MeshTls, ms = 3_000, tweak1?: (m1: PeerMesh) => void, link: MeshLinkKind = 'grpc'): Promise<{ up0: boolean; up1: boolean; refusals: string[] }> {
  const refusals: string[] = [];
  const logger = (who: string): Logger => {
    const push = (o: object, msg?: string) => { refusals.push(`${who}: ${msg ?? ''} ${JSON.stringify(o)}`); };
    const l: Logger = { ...silentLogger, warn: push, error: push, child: () => l };
    return l;
  };
  const m0 = new PeerMesh({ party: 0, tls: tls0, link, listen: { host: '127.0.0.1', port: 0 }, logger: logger('P0') });
  const m1 = new PeerMesh({ party: 1, tls: tls1, link, reconnectMs: { min: 50, max: 200 }, logger: logger('P1') });
  opened.push(m0, m1);
  tweak1?.(m1);
  const { port } = await m0.start();
  await m1.start();
  m1.setDialAddress(0, `127.0.0.1:${port}`);
  const deadline = Date.now() + ms;
  // Until linked, or refused, bounded in time.
  while (Date.now() < deadline && !(m0.isUp(1) && m1.isUp(0)) && refusals.length === 0) await new Promise((r) => setTimeout(r, 25));
  if (refusals.length > 0) await new Promise((r) => setTimeout(r, 300));
  return { up0: m0.isUp(1), up1: m1.isUp(0), refusals };
}

describe.each(['grpc', 'h2'] as const)('mTLS between parties (link %s)', (link) => {
  const tl = (tls0: MeshTls, tls1: MeshTls, ms?: number, tweak1?: (m1: PeerMesh) => void) => tryLink(tls0, tls1, ms, tweak1, link);

  it('links two parties that present their own CA-signed certificates', async () => {
    expect(await tl(tlsFor(0), tlsFor(1))).toMatchObject({ up0: true, up1: true, refusals: [] });
  });

  it('P0 refuses a dialer whose certificate is signed by the CA but names the client, not party-1', async () => {
    const c = testCerts();
    const wrong = readTls({ ca: c.ca.cert, cert: c.client.cert, key: c.client.key });
    const r = await tl(tlsFor(0), wrong);
    expect(r).toMatchObject({ up0: false, up1: false });
    expect(r.refusals.some((m) => m.startsWith('P0: refused a link') && m.includes('E_PERMISSION'))).toBe(true);
  });

  it('P0 refuses a dialer that presents party-2\'s certificate but says it is P1', async () => {
    const r = await tl(tlsFor(0), { ...tlsFor(2) });
    expect(r).toMatchObject({ up0: false, up1: false });
    expect(r.refusals.some((m) => m.startsWith('P0: link set-up refused'))).toBe(true);
  });

  it('P0 refuses a dialer that speaks no link version it speaks (its HELLO says version 1): E_LINK_VERSION naming both', async () => {
    const r = await tl(tlsFor(0), tlsFor(1), 3_000, (m1) => {
      // The dialer's private writeMessage, rewritten to announce the old link version in its HELLO.
      type Writer = { writeMessage(link: unknown, m: { kind: string; payload: Uint8Array }): void };
      const w = m1 as unknown as Writer, orig = w.writeMessage.bind(m1);
      w.writeMessage = (link, m) => orig(link, m.kind === 'HELLO' ? { ...m, payload: Buffer.from(JSON.stringify({ party: 1, version: 1 })) } : m);
    });
    expect(r).toMatchObject({ up0: false, up1: false });
    expect(r.refusals.some((m) => m.startsWith('P0: link to P1 refused: link version: P0 speaks 3..4, P1 speaks 1') && m.includes('E_LINK_VERSION'))).toBe(true);
  });

  it('refuses a certificate named party-1 from another CA (handshake fails)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'securenn-rogue-'));
    const rogueCa = createCa(dir, 'rogue-ca');
    const rogue = issueCert(dir, rogueCa, 'party-1', { dns: ['party-1'] });
    const tls1 = readTls({ ca: testCerts().ca.cert, cert: rogue.cert, key: rogue.key });
    const r = await tl(tlsFor(0), tls1);
    expect(r).toMatchObject({ up0: false, up1: false });
    expect(r.refusals.some((m) => m.startsWith('P1: cannot link to peer'))).toBe(true);
  });

  it('P1 refuses a server that presents another party\'s certificate in place of P0', async () => {
    const r = await tl({ ...tlsFor(2) }, tlsFor(1));
    expect(r).toMatchObject({ up0: false, up1: false });
    expect(r.refusals.some((m) => m.startsWith('P1: cannot link to peer'))).toBe(true);
  });

  it('honours a pinned fingerprint: a valid party-1 certificate with another fingerprint is refused', async () => {
    const c = testCerts();
    const other = issueCert(c.dir, c.ca, 'party-1', { file: 'party-1-other', dns: ['party-1'] });
    const pinned: MeshTls = { ...tlsFor(0), pins: { 1: '00'.repeat(32) as string } as Partial<Record<PartyId, string>> };
    const r = await tl(pinned, readTls({ ca: c.ca.cert, cert: other.cert, key: other.key }));
    expect(r).toMatchObject({ up0: false, up1: false });
    expect(r.refusals.some((m) => m.startsWith('P0: refused a link'))).toBe(true);
  });
});
