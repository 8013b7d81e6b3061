/**
 * Where a protocol round's time goes between one party's send and the
 * other's receive: ping-pong round trips of one message each way, over
 *   mesh   the party mesh as the parties use it (grpc-js bidi stream, mTLS,
 *          frame codec, reassembly, session routing, SessionTransport.recv);
 *   h2     node:http2 over mTLS, one bidi stream, length-prefixed frames
 *          (what the mesh would be without grpc-js);
 *   tls    node:tls socket, mTLS, length-prefixed frames, Nagle off;
 *   tcp    node:net socket, no TLS (the floor).
 * Same certificates (parties/certs.ts), same payload sizes. Both ends run
 * in this one process and thread, so a round trip here is the CPU of both
 * sides' send and receive paths plus the event-loop turns between them, not
 * the cross-process wake-ups of a real deployment (those add to every stack
 * alike).
 *
 *   npx tsx bench/round-trip.ts [--n 2000] [--sizes 64,1024,16384] [--rounds 2]
 *
 * Stacks alternate within each round; medians and ratios to tcp are printed.
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import tls from 'node:tls';
import { median } from './report.js';
import { closeAll, meshTrio, testCerts } from '../parties/testing.js';
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1]! : d; };
const N = Number(opt('--n', '2000'));
const sizes = opt('--sizes', '64,1024,16384').split(',').map(Number);
const rounds = Number(opt('--rounds', '2'));

type Pinger = { rt(payload: Uint8Array): Promise<void>; close(): Promise<void> };

/** Length-prefixed frames on a byte stream: resolve each whole frame to the waiting reader. */
function framed(onFrame: (f: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0);
      if (buf.length < 4 + n) break;
      onFrame(buf.subarray(4, 4 + n));
      buf = buf.subarray(4 + n);
    }
  };
}
const frame = (p: Uint8Array): Buffer => { const b = Buffer.allocUnsafe(4 + p.byteLength); b.writeUInt32BE(p.byteLength, 0); b.set(p, 4); return b; };

/** A ping-pong over two duplex byte streams a (client side) and b (server side): b echoes each frame. */
function pingPong(a: NodeJS.WritableStream & NodeJS.ReadableStream, b: NodeJS.WritableStream & NodeJS.ReadableStream, close: () => Promise<void>): Pinger {
  let waiter: (() => void) | null = null;
  b.on('data', framed((f) => b.write(frame(f))));
  a.on('data', framed(() => { const w = waiter; waiter = null; w?.(); }));
  return { rt: (p) => new Promise<void>((resolve) => { waiter = resolve; a.write(frame(p)); }), close };
}

async function tcp(): Promise<Pinger> {
  const server = net.createServer({ noDelay: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const a = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', noDelay: true });
  const [b] = (await accepted) as [net.Socket];
  return pingPong(a, b, async () => { a.destroy(); b.destroy(); server.close(); });
}

function certs(): { ca: Buffer; s: { cert: Buffer; key: Buffer }; c: { cert: Buffer; key: Buffer } } {
  const c = testCerts();
  const r = (f: string) => readFileSync(f);
  return { ca: r(c.ca.cert), s: { cert: r(c.parties[0].cert), key: r(c.parties[0].key) }, c: { cert: r(c.parties[1].cert), key: r(c.parties[1].key) } };
}

async function tlsSocket(): Promise<Pinger> {
  const k = certs();
  const server = tls.createServer({ ca: k.ca, ...k.s, requestCert: true, rejectUnauthorized: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'secureConnection');
  const a = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', ca: k.ca, ...k.c, servername: 'party-0' });
  a.setNoDelay(true);
  await once(a, 'secureConnect');
  const [b] = (await accepted) as [tls.TLSSocket];
  b.setNoDelay(true);
  return pingPong(a, b, async () => { a.destroy(); b.destroy(); server.close(); });
}

async function h2(): Promise<Pinger> {
  const k = certs();
  const server = http2.createSecureServer({ ca: k.ca, ...k.s, requestCert: true, rejectUnauthorized: true, settings: { initialWindowSize: 256 * 1024 } });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const streamP = once(server, 'stream');
  const session = http2.connect(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { ca: k.ca, ...k.c, servername: 'party-0', settings: { initialWindowSize: 256 * 1024 } });
  const a = session.request({ ':method': 'POST', ':path': '/link' }, { endStream: false });
  const [b] = (await streamP) as [http2.ServerHttp2Stream];
  b.respond({ ':status': 200 });
  return pingPong(a, b, async () => { a.close(); session.close(); server.close(); });
}

async function mesh(): Promise<Pinger> {
  const ms = await meshTrio({ tls: true });
  let i = 0;
  return {
    async rt(p) {
      const id = `rt${i++}`;
      // One session per 1000 round trips would be closer to a run; one per round trip keeps each message's route the same.
      const [v0, v1] = [ms[0].openSession(id), ms[1].openSession(id)];
      v0.send(1, 'ping', p);
      v1.send(0, 'pong', await v1.recv(0, 'ping'));
      await v0.recv(1, 'pong');
      v0.close(); v1.close();
    },
    close: () => closeAll(ms),
  };
}

const STACKS: Record<string, () => Promise<Pinger>> = { mesh, h2, tls: tlsSocket, tcp };

async function measure(make: () => Promise<Pinger>, size: number): Promise<number> {
  const p = await make();
  const payload = new Uint8Array(size).fill(7);
  for (let i = 0; i < Math.min(500, N); i++) await p.rt(payload);
  const ms: number[] = [];
  for (let i = 0; i < N; i++) { const t = performance.now(); await p.rt(payload); ms.push(performance.now() - t); }
  await p.close();
  return median(ms) * 1000;
}

const results: Record<string, number[]> = {};
console.log(`round trips, one process: ${cpus().length} x ${cpus()[0]?.model}, 1-minute load ${loadavg()[0]!.toFixed(1)}, ${N} timed after 500 warm-up, ${rounds} rounds alternating`);
for (let r = 0; r < rounds; r++) {
  for (const size of sizes) {
    for (const [name, make] of Object.entries(STACKS)) {
      const us = await measure(make, size);
      (results[`${name} ${size}`] ??= []).push(us);
    }
  }
}
console.log('| stack | payload | median round trip (µs), per round | vs tcp |');
console.log('|---|---|---|---|');
for (const size of sizes) {
  const base = median(results[`tcp ${size}`]!);
  for (const name of Object.keys(STACKS)) {
    const v = results[`${name} ${size}`]!;
    console.log(`| ${name} | ${size} B | ${v.map((x) => x.toFixed(0)).join(' / ')} | ${(median(v) / base).toFixed(1)}x |`);
  }
}
console.log(`1-minute load at the end: ${loadavg()[0]!.toFixed(1)}`);
process.exit(0);
