/**
 * The echo side of bench/round-trip.ts --threads, in a worker thread (its own
 * event loop, as a peer process has): answers each message of one stack with
 * the same bytes, and posts its port to the main thread.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';
import type { CertSet } from '../parties/certs.js';
import { PeerMesh } from '../parties/mesh.js';
import { tlsFor } from '../parties/testing/trio.js';
import { frame, framed } from './round-trip-frames.js';

const { stack, certs, grpcOptions, link, flowControlWindow } = workerData as { stack: 'mesh' | 'h2' | 'tls' | 'tcp'; certs: CertSet; grpcOptions?: Record<string, number>; link?: 'grpc' | 'h2'; flowControlWindow?: number };
const r = (f: string) => readFileSync(f);
const key = { ca: r(certs.ca.cert), cert: r(certs.parties[0].cert), key: r(certs.parties[0].key) };
const echo = (s: NodeJS.ReadableStream & NodeJS.WritableStream) => s.on('data', framed((f) => s.write(frame(f))));

let port: number;
if (stack === 'mesh') {
  const m = new PeerMesh({ party: 0, tls: tlsFor(0, certs), link: link ?? 'grpc', ...(flowControlWindow ? { flowControlWindow } : {}), listen: { host: '127.0.0.1', port: 0 }, ...(grpcOptions ? { grpcOptions } : {}) });
  port = (await m.start()).port!;
  const v = m.openSession('rt');
  void (async () => { for (;;) v.send(1, 'pong', await v.recv(1, 'ping')); })().catch(() => {});
} else {
  const server = stack === 'tcp' ? net.createServer({ noDelay: true }, echo)
    : stack === 'tls' ? tls.createServer({ ...key, requestCert: true, rejectUnauthorized: true }, (s) => { s.setNoDelay(true); echo(s); })
      : http2.createSecureServer({ ...key, requestCert: true, rejectUnauthorized: true, settings: { initialWindowSize: 256 * 1024 } }).on('stream', (s) => { s.respond({ ':status': 200 }); echo(s); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
}
parentPort!.postMessage({ port });
