/**
 * MSG_TRACE (benchmarks, bench/msg-trace.ts): a session's view appends one line per message event when it closes,
 * with tags and sizes only, never a payload's bytes.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FrameSink } from './session-transport.js';

const sink: FrameSink = { sendMessage: () => {}, release: () => {} };
afterEach(() => { delete process.env.MSG_TRACE; vi.resetModules(); });

describe('SessionTransport MSG_TRACE', () => {
  it('writes send, arrival, wait and got lines with tag and size at close, and no payload bytes', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'msgtrace-')), 't.txt');
    process.env.MSG_TRACE = file;
    vi.resetModules();
    const { SessionTransport } = await import('./session-transport.js');
    const t = new SessionTransport(1, 'sess-1', sink);
    t.send(2, 'x.pc:d', new Uint8Array(48).fill(0xab));
    const got = t.recv(0, 'x:c');
    t.deliver(0, 'DATA', { tag: 'x:c', depth: 0, payload: new Uint8Array(16).fill(0xcd) });
    expect((await got).byteLength).toBe(16);
    expect(existsSync(file)).toBe(false); // written when the session closes
    t.close();
    const raw = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' '));
    // Six fields each: the wall-clock time, then party, session, event, tag, bytes (nothing else: no payload).
    for (const l of raw) { expect(l).toHaveLength(6); expect(Number.isFinite(Number(l[0]))).toBe(true); }
    expect(raw.map((l) => l.slice(1))).toEqual([
      ['P1', 'sess-1', 'send>2', 'x.pc:d', '48'],
      ['P1', 'sess-1', 'wait<0', 'x:c', '0'],
      ['P1', 'sess-1', 'arr<0', 'x:c', '16'],
      ['P1', 'sess-1', 'got<0', 'x:c', '16'],
    ]);
  });

});
