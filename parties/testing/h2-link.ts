/**
 * Test helpers (not a test file) for the h2 data link (mesh-h2.ts,
 * mesh-data-links.ts): a P0/P1 pair of meshes, a log recorder, and a raw
 * HTTP/2 client that speaks the data link's framing with any certificate,
 * HELLO and token.
 */
import * as http2 from 'node:http2';
import type { WireFrame } from '../chunking.js';
import { decodeHello, encodeHello, type Hello } from '../link-hello.js';
import { silentLogger, type Logger } from '../log.js';
import { DATA_PATH, FramedStream, type MeshLinkKind } from '../mesh-h2.js';
import { PeerMesh, type MeshOptions } from '../mesh.js';
import type { MeshTls } from '../tls.js';
import { tlsFor } from './trio.js';

export const until = async (f: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (f()) return true; await new Promise((r) => setTimeout(r, 20)); }
  return f();
};

/** A logger that keeps warnings and errors as `<who> <level> <message> <fields>` lines. */
export function recorder(who: string, lines: string[]): Logger {
  const l: Logger = { ...silentLogger, error: (o, m) => { lines.push(`${who} error ${m ?? ''} ${JSON.stringify(o)}`); }, warn: (o, m) => { lines.push(`${who} warn ${m ?? ''} ${JSON.stringify(o)}`); }, child: () => l };
  return l;
}

/** P0 listens, P1 dials; each with its own link kind; `extra` for both (e.g. dataSetupMs). `opened` collects them for closing. */
export async function pair(opened: PeerMesh[], link0: MeshLinkKind, link1: MeshLinkKind, extra: Partial<MeshOptions> = {}): Promise<{ m0: PeerMesh; m1: PeerMesh; lines: string[] }> {
  const lines: string[] = [];
  const m0 = new PeerMesh({ party: 0, tls: tlsFor(0), link: link0, listen: { host: '127.0.0.1', port: 0 }, logger: recorder('P0', lines), ...extra });
  const m1 = new PeerMesh({ party: 1, tls: tlsFor(1), link: link1, reconnectMs: { min: 30, max: 100 }, logger: recorder('P1', lines), ...extra });
  opened.push(m0, m1);
  const { port } = await m0.start();
  await m1.start();
  m1.setDialAddress(0, `127.0.0.1:${port}`);
  return { m0, m1, lines };
}

/** A HELLO frame as a data link carries it. */
export const helloFrame = (party: 0 | 1 | 2, token?: string): WireFrame => ({
  kind: 'HELLO', session: '', tag: 'hello', depth: 0, chunk: 0, chunks: 1, total_bytes: 0,
  payload: encodeHello(party, { min: 3, max: 4 }, { meshLink: 'h2' }, token ? { token } : undefined),
});

export interface Probe {
  /** The HTTP status of the answer (0: none). */
  status(): number;
  /** Frames the server sent. */
  frames: WireFrame[];
  /** The server's HELLO, once it answered one. */
  hello(): Hello | null;
  /** Resolves when the stream or its connection ended, with what ended it ('tls' when no answer came). */
  ended: Promise<string>;
  write(f: WireFrame): void;
  raw(b: Buffer): void;
  close(): void;
}

/** A raw data link client to `port` with `tls` (no check of the server's name: the probe plays a peer). */
export function probe(port: number, tls: MeshTls): Probe {
  let status = 0;
  const frames: WireFrame[] = [];
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: tls.ca, cert: tls.cert, key: tls.key, checkServerIdentity: () => undefined });
  const s = session.request({ ':method': 'POST', ':path': DATA_PATH }, { endStream: false });
  let end!: (why: string) => void;
  const ended = new Promise<string>((resolve) => { end = (why) => { resolve(why); session.destroy(); }; });
  session.on('error', () => end(status ? `status ${status}` : 'tls'));
  s.on('response', (h) => { status = Number(h[':status']); });
  s.on('error', () => end(status ? `status ${status}` : 'tls'));
  const fs = new FramedStream(s, 1 << 20, (f) => frames.push(f), () => end(status ? `status ${status}` : 'tls'));
  return {
    status: () => status,
    frames,
    hello: () => { const f = frames.find((x) => x.kind === 'HELLO'); return f ? decodeHello(f.payload) : null; },
    ended,
    write: (f) => fs.write(f),
    raw: (b) => { s.write(b); },
    close: () => end('closed by the probe'),
  };
}

/** The private parts of a mesh the tests reach into. */
export interface MeshInternals {
  links: ({ dataSession?: http2.ClientHttp2Session; data?: FramedStream; dataToken?: string } | undefined)[];
  dataLinks: { refused: number; start(...a: unknown[]): void } | null;
  pending: Map<string, unknown>;
}
export const internals = (m: PeerMesh): MeshInternals => m as unknown as MeshInternals;
