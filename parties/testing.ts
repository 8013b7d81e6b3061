/**
 * Test helpers (not a test file): three connected meshes on loopback with
 * OS-chosen ports, mTLS from throwaway certificates by default.
 */
import type { PartyId } from '../protocol/ring/types.js';
import { generateCerts, type CertSet } from './certs.js';
import { PeerMesh, type MeshOptions } from './mesh.js';
import { readTls, type MeshTls } from './tls.js';

let shared: CertSet | null = null;
/** One certificate set per test process. */
export function testCerts(): CertSet {
  return (shared ??= generateCerts());
}

export function tlsFor(p: PartyId, certs: CertSet = testCerts()): MeshTls {
  return readTls({ ca: certs.ca.cert, cert: certs.parties[p].cert, key: certs.parties[p].key });
}

export type Trio = [PeerMesh, PeerMesh, PeerMesh];

export async function meshTrio(opts: { tls?: boolean; extra?: Partial<MeshOptions> } = {}): Promise<Trio> {
  const useTls = opts.tls ?? true;
  const mk = (p: PartyId) => new PeerMesh({ party: p, tls: useTls ? tlsFor(p) : null, ...(p < 2 ? { listen: { host: '127.0.0.1', port: 0 } } : {}), reconnectMs: { min: 20, max: 200 }, ...opts.extra });
  const ms = [mk(0), mk(1), mk(2)] as Trio;
  const [{ port: p0 }, { port: p1 }] = await Promise.all([ms[0].start(), ms[1].start()]);
  await ms[2].start();
  ms[1].setDialAddress(0, `127.0.0.1:${p0}`);
  ms[2].setDialAddress(0, `127.0.0.1:${p0}`);
  ms[2].setDialAddress(1, `127.0.0.1:${p1}`);
  await Promise.all(ms.map((m) => m.waitAllUp(10_000)));
  return ms;
}

export async function closeAll(ms: readonly { close(): Promise<void> }[]): Promise<void> {
  await Promise.all(ms.map((m) => m.close()));
}
