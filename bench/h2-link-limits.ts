/**
 * Two limits of node:http2 that bound the h2 data link (parties/mesh-h2.ts), shown directly:
 *
 *   frames  the receiver's DATA chunk sizes for 1 MiB written on one stream, with SETTINGS_MAX_FRAME_SIZE
 *           16 KiB and 2^24-1 on both ends: Node's session sends DATA frames of at most 16 KiB either way
 *           (it sets no nghttp2 data-length callback), so the setting changes nothing for the link.
 *   stall   two parties of a mesh (link h2, mTLS) sending each other 64 MiB at once with a given flow-control
 *           window; every 2 s it prints each sender's session state (remote window left, data received and
 *           not yet acknowledged), and at the end whether both messages arrived within --secs. With the
 *           window above what the two ends' kernel socket buffers hold, both sessions sit in a socket write
 *           that cannot complete (Node's HTTP/2 session does not read its socket while a write of it is in
 *           progress), with the bytes sent and never acknowledged = window - remote window left.
 *
 *   npx tsx bench/h2-link-limits.ts frames
 *   npx tsx bench/h2-link-limits.ts stall [--window 16777216] [--secs 10]
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { closeAll, meshTrio } from '../parties/testing/trio.js';

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1]! : d; };

async function frames(): Promise<void> {
  for (const maxFrameSize of [16384, 16777215]) {
    const settings = { maxFrameSize, initialWindowSize: 16 << 20 };
    const server = http2.createServer({ settings });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const sp = once(server, 'stream');
    const s = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { settings });
    const a = s.request({ ':method': 'POST' }, { endStream: false });
    const [b] = (await sp) as [http2.ServerHttp2Stream];
    const sizes: number[] = [];
    const want = 1 << 20;
    let got = 0;
    const done = new Promise<void>((r) => b.on('data', (c: Buffer) => { sizes.push(c.length); got += c.length; if (got >= want) r(); }));
    a.write(Buffer.alloc(want));
    await done;
    console.log(`maxFrameSize ${maxFrameSize}: 1 MiB arrived in ${sizes.length} chunks, largest ${Math.max(...sizes)} B`);
    a.close(); s.close(); server.close();
  }
}

async function stall(): Promise<void> {
  const window = Number(opt('--window', String(16 << 20))), secs = Number(opt('--secs', '10'));
  const ms = await meshTrio({ extra: { link: 'h2', flowControlWindow: window } });
  const size = 64 << 20;
  const [t1, t2] = [ms[1].openSession('bulk'), ms[2].openSession('bulk')];
  t1.send(2, 'bulk', randomBytes(size));
  t2.send(1, 'bulk', randomBytes(size));
  const state = (i: 1 | 2, j: 1 | 2): string => {
    // Test-only look inside: the pair's FramedStream (mesh-links.ts Link.data) and its HTTP/2 session.
    const st = (ms[i] as unknown as { links: ({ data?: { stream: http2.Http2Stream } } | undefined)[] }).links[j]?.data?.stream.session?.state;
    return st ? `P${i}->P${j}: remote window left ${st.remoteWindowSize}, received not yet acknowledged ${st.effectiveRecvDataLength}` : `P${i}->P${j}: no link`;
  };
  const iv = setInterval(() => console.log(`${state(1, 2)}; ${state(2, 1)}`), 2000);
  const t0 = Date.now();
  const ok = await Promise.race([Promise.all([t2.recv(1, 'bulk'), t1.recv(2, 'bulk')]).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), secs * 1000))]);
  clearInterval(iv);
  console.log(`window ${window}: ${ok ? `both 64 MiB arrived in ${Date.now() - t0} ms` : `stalled: not arrived after ${secs} s`}`);
  await closeAll(ms);
}

if (argv[0] === 'frames') await frames(); else await stall();
process.exit(0);
