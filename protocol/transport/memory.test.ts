import { describe, expect, it } from 'vitest';
import { memoryTransports } from './memory.js';

describe('in-memory transport', () => {
  it('counts bytes and messages and takes rounds as the longest chain of dependent messages', async () => {
    const [t0, t1, t2] = memoryTransports();
    // Round 1: P0 and P1 exchange in parallel.
    t0.send(1, 'a', new Uint8Array(8));
    t1.send(0, 'a', new Uint8Array(8));
    await t0.recv(1, 'a');
    await t1.recv(0, 'a');
    expect([t0.counters.depth, t1.counters.depth]).toEqual([1, 1]);
    // Round 2: P1 -> P2 depends on round 1.
    t1.send(2, 'b', new Uint8Array(3));
    await t2.recv(1, 'b');
    expect(t2.counters.depth).toBe(2);
    expect(t0.counters.bytesSent + t1.counters.bytesSent).toBe(19);
    expect(t1.counters.messagesSent).toBe(2);
  });
  it('fails with E_PROTOCOL_DESYNC when the tag is not the expected one', async () => {
    const [t0, t1] = memoryTransports();
    t0.send(1, 'x', new Uint8Array(1));
    await expect(t1.recv(0, 'y')).rejects.toMatchObject({ code: 'E_PROTOCOL_DESYNC' });
  });
  it('wakes a waiting receiver with E_PEER_UNAVAILABLE when closed', async () => {
    const [, t1] = memoryTransports();
    const p = t1.recv(0, 'x');
    t1.close();
    await expect(p).rejects.toMatchObject({ code: 'E_PEER_UNAVAILABLE' });
  });
  it('copies payloads so the sender may reuse its buffer', async () => {
    const [t0, t1] = memoryTransports();
    const buf = new Uint8Array([1, 2, 3]);
    t0.send(1, 'x', buf);
    buf[0] = 9;
    expect(Array.from(await t1.recv(0, 'x'))).toEqual([1, 2, 3]);
  });
  it('refuses sending to itself', () => {
    const [t0] = memoryTransports();
    expect(() => t0.send(0, 'x', new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });
});
