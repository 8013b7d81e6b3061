/**
 * Where a protocol round's time goes between one party's send and the
 * other's receive: ping-pong round trips of one message each way, over
 *   mesh   the party mesh as the parties use it (grpc-js bidi stream, mTLS,
 *          frame codec, reassembly, session routing, SessionTransport.recv);
 *   mesh-h2  the same mesh with config mesh.link 'h2' (parties/mesh-h2.ts):
 *          the frames on a raw node:http2 stream under the same mTLS;
 *   h2     node:http2 over mTLS, one bidi stream, length-prefixed frames
 *          (what the mesh would be without grpc-js);
 *   tls    node:tls socket, mTLS, length-prefixed frames, Nagle off;
 *   tcp    node:net socket, no TLS (the floor).
 * Same certificates (parties/certs.ts), same payload sizes. Two modes:
 *   one    both ends in this thread: a round trip is the CPU of both sides'
 *          send and receive paths plus the event-loop turns between them;
 *   two    the echo side in a worker thread (bench/round-trip-echo.ts: its
 *          own event loop, as a peer process has): adds the wake-ups of the
 *          other side, as in a deployment; also `mesh-lean`, the mesh with
 *          grpc-js's transparent-retry buffer and channelz counters off.
 *
 *   npx tsx bench/round-trip.ts [--n 2000] [--sizes 64,1024,16384] [--rounds 2] [--modes one,two]
 *     [--stacks mesh-h2,tcp] [--window BYTES (the mesh's flowControlWindow)]
 *
 * With a payload of 64 KiB or more it also prints the process's CPU (both ends) per round trip and the payload
 * bytes moved per ms of wall time (both directions).
 *
 * Stacks alternate within each round; medians and ratios to tcp are printed.
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import tls from 'node:tls';
import { median } from './report.js';
import { closeAll, meshTrio, testCerts } from '../parties/testing/trio.js';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { PeerMesh } from '../parties/mesh.js';
import { tlsFor } from '../parties/testing/trio.js';
import { frame, framed } from './round-trip-frames.js';
import type { MeshLinkKind } from '../parties/mesh-h2.js';

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1]! : d; };
const N = Number(opt('--n', '2000'));
const sizes = opt('--sizes', '64,1024,16384').split(',').map(Number);
const rounds = Number(opt('--rounds', '2'));
const modes = opt('--modes', 'one,two').split(',') as ('one' | 'two')[];
const only = argv.includes('--stacks') ? new Set(opt('--stacks', '').split(',')) : null;
const windowBytes = argv.includes('--window') ? Number(opt('--window', '0')) : undefined;
const meshExtra = windowBytes ? { flowControlWindow: windowBytes } : {};
const pick = <T>(r: Record<string, T>): [string, T][] => Object.entries(r).filter(([k]) => !only || only.has(k));

type Pinger = { rt(payload: Uint8Array): Promise<void>; close(): Promise<void> };

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

async function mesh(link: MeshLinkKind = 'grpc'): Promise<Pinger> {
  const ms = await meshTrio({ tls: true, extra: { link, ...meshExtra } });
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

const STACKS: Record<string, () => Promise<Pinger>> = { mesh: () => mesh(), 'mesh-h2': () => mesh('h2'), h2, tls: tlsSocket, tcp };

/** The echo side of `stack` in a worker thread; resolves its port and a way to stop it. */
async function echoWorker(stack: string, grpcOptions?: Record<string, number>, link?: MeshLinkKind): Promise<{ port: number; stop: () => Promise<void> }> {
  // The worker registers tsx's loader itself, then loads the TypeScript echo side.
  const code = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./round-trip-echo.ts', import.meta.url).href)}); })`;
  const w = new Worker(code, { eval: true, workerData: { stack, certs: testCerts(), ...meshExtra, ...(grpcOptions ? { grpcOptions } : {}), ...(link ? { link } : {}) } });
  const [{ port }] = (await once(w, 'message')) as [{ port: number }];
  return { port, stop: async () => { await w.terminate(); } };
}

/** The client side over a byte stream to the echo worker. */
function streamPinger(a: NodeJS.WritableStream & NodeJS.ReadableStream, close: () => Promise<void>): Pinger {
  let waiter: (() => void) | null = null;
  a.on('data', framed(() => { const w = waiter; waiter = null; w?.(); }));
  return { rt: (p) => new Promise<void>((resolve) => { waiter = resolve; a.write(frame(p)); }), close };
}

/** The mesh with grpc-js options that skip per-message bookkeeping: no transparent-retry buffer, no channelz counters. */
const LEAN = { 'grpc.enable_retries': 0, 'grpc.enable_channelz': 0 };

async function meshTwo(grpcOptions?: Record<string, number>, link: MeshLinkKind = 'grpc'): Promise<Pinger> {
  const e = await echoWorker('mesh', grpcOptions, link);
  const m = new PeerMesh({ party: 1, tls: tlsFor(1), link, ...meshExtra, dial: { 0: `127.0.0.1:${e.port}` }, ...(grpcOptions ? { grpcOptions } : {}) });
  await m.start();
  while (!m.isUp(0)) await new Promise((r) => setTimeout(r, 10));
  const v = m.openSession('rt');
  return { rt: async (p) => { v.send(0, 'ping', p); await v.recv(0, 'pong'); }, close: async () => { await m.close(); await e.stop(); } };
}

const TWO: Record<string, () => Promise<Pinger>> = {
  mesh: () => meshTwo(),
  'mesh-lean': () => meshTwo(LEAN),
  'mesh-h2': () => meshTwo(undefined, 'h2'),
  async h2() {
    const e = await echoWorker('h2'), k = certs();
    const session = http2.connect(`https://127.0.0.1:${e.port}`, { ca: k.ca, ...k.c, servername: 'party-0', settings: { initialWindowSize: 256 * 1024 } });
    const a = session.request({ ':method': 'POST', ':path': '/link' }, { endStream: false });
    return streamPinger(a, async () => { a.close(); session.close(); await e.stop(); });
  },
  async tls() {
    const e = await echoWorker('tls'), k = certs();
    const a = tls.connect({ port: e.port, host: '127.0.0.1', ca: k.ca, ...k.c, servername: 'party-0' });
    a.setNoDelay(true);
    await once(a, 'secureConnect');
    return streamPinger(a, async () => { a.destroy(); await e.stop(); });
  },
  async tcp() {
    const e = await echoWorker('tcp');
    const a = net.connect({ port: e.port, host: '127.0.0.1', noDelay: true });
    await once(a, 'connect');
    return streamPinger(a, async () => { a.destroy(); await e.stop(); });
  },
};

/** CPU µs of the process (both ends) per round trip, per measurement, by result key. */
const cpuPerRt: Record<string, number[]> = {};

async function measure(make: () => Promise<Pinger>, size: number, key: string): Promise<number> {
  const p = await make();
  const payload = new Uint8Array(size).fill(7);
  for (let i = 0; i < Math.min(500, N); i++) await p.rt(payload);
  const ms: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) { const t = performance.now(); await p.rt(payload); ms.push(performance.now() - t); }
  const c = process.cpuUsage(c0);
  (cpuPerRt[key] ??= []).push((c.user + c.system) / N);
  await p.close();
  return median(ms) * 1000;
}

const results: Record<string, number[]> = {};
console.log(`round trips: ${cpus().length} x ${cpus()[0]?.model}, 1-minute load ${loadavg()[0]!.toFixed(1)}, ${N} timed after 500 warm-up, ${rounds} rounds, stacks alternating`);
for (let r = 0; r < rounds; r++) {
  for (const mode of modes) {
    for (const size of sizes) {
      for (const [name, make] of pick(mode === 'one' ? STACKS : TWO)) (results[`${mode} ${name} ${size}`] ??= []).push(await measure(make, size, `${mode} ${name} ${size}`));
    }
  }
}
console.log('| threads | stack | payload | median round trip (µs), per round | vs tcp |');
console.log('|---|---|---|---|---|');
for (const mode of modes) {
  for (const size of sizes) {
    const tcpR = results[`${mode} tcp ${size}`];
    for (const [name] of pick(mode === 'one' ? STACKS : TWO)) {
      const v = results[`${mode} ${name} ${size}`]!;
      console.log(`| ${mode} | ${name} | ${size} B | ${v.map((x) => x.toFixed(0)).join(' / ')} | ${tcpR ? `${(median(v) / median(tcpR)).toFixed(1)}x` : '-'} |`);
    }
  }
}
if (sizes.some((x) => x >= 65536)) {
  console.log('| threads | stack | payload | process CPU per round trip (µs), per round | payload bytes per ms (both ways, median round trip) |');
  console.log('|---|---|---|---|---|');
  for (const [k, c] of Object.entries(cpuPerRt)) {
    const [mode, name, size] = k.split(' ');
    if (Number(size) < 65536) continue;
    console.log(`| ${mode} | ${name} | ${size} B | ${c.map((x) => x.toFixed(0)).join(' / ')} | ${(2 * Number(size) / (median(results[k]!) / 1000)).toFixed(0)} |`);
  }
}
console.log(`1-minute load at the end: ${loadavg()[0]!.toFixed(1)}`);
process.exit(0);
