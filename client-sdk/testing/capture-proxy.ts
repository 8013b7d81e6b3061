/**
 * A TCP relay in front of a server that keeps every byte a client sends
 * through it (request lines, headers, bodies), for tests that check what the
 * SDK puts on the wire. Plain HTTP only (the fake parties), so the bytes are
 * the SDK's own, not TLS records.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface CaptureProxy {
  url: string;
  /** Everything clients sent so far, concatenated. */
  sent(): Buffer;
  close(): Promise<void>;
}

export async function startCaptureProxy(target: string): Promise<CaptureProxy> {
  const t = new URL(target);
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: t.hostname, port: Number(t.port) });
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => { chunks.push(Buffer.from(d)); upstream.write(d); });
    upstream.on('data', (d: Buffer) => client.write(d));
    const end = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: () => Buffer.concat(chunks),
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** Proxies for the three parties: [P0, P1, P2] URLs that record what the client sends. */
export async function captureParties(urls: readonly string[]): Promise<{ urls: [string, string, string]; sent(): Buffer; close(): Promise<void> }> {
  const ps = await Promise.all(urls.map(startCaptureProxy));
  return {
    urls: ps.map((p) => p.url) as [string, string, string],
    sent: () => Buffer.concat(ps.map((p) => p.sent())),
    close: async () => { await Promise.all(ps.map((p) => p.close())); },
  };
}
