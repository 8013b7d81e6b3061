/**
 * The party process's fault policy (process-fault.ts) in process, with a stand-in process emitter, target and exit:
 * one coded line without the error's message, the target faulted before it closes, exit 70 after the close or after
 * the grace period when the close hangs, a second fault changing nothing; the test-only switch refused outside tests.
 * The same policy in a real party process: test/e2e-process-fault.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MpcError } from '../protocol/errors.js';
import { networkA } from '../protocol/seed-models.js';
import { auth, partyTrio } from './testing/trio.js';
import { FAULT_ENV, FAULT_EXIT_STATUS, installFaultPolicy, testFaultSwitch } from './process-fault.js';
import type { Logger } from './log.js';

function harness(close: () => Promise<void>) {
  const events: string[] = [];
  const lines: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const log: Logger = {
    debug: () => {}, info: () => {}, warn: () => {},
    error: (obj, msg) => { lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }); events.push('log'); },
    child: () => log,
  };
  const proc = new EventEmitter();
  const exits: number[] = [];
  let faultedWith: MpcError | undefined;
  const policy = installFaultPolicy({ party: 1, log, fault: (e) => { faultedWith = e; events.push('fault'); }, close: async () => { events.push('close'); await close(); } }, { proc, exit: (c) => { exits.push(c); events.push('exit'); }, graceMs: 200 });
  return { events, lines, proc, exits, policy, faulted: () => faultedWith };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('process fault policy', () => {
  it('an unhandled rejection: one coded line without the message, sessions failed, closed, exit 70', async () => {
    const h = harness(async () => {});
    expect(h.policy.faulted).toBe(false);
    h.proc.emit('unhandledRejection', new TypeError('secret 0x1234abcd value'), Promise.resolve());
    // main.ts's SIGTERM / SIGINT handler reads this and leaves the exit (70) to the policy.
    expect(h.policy.faulted).toBe(true);
    await tick(20);
    expect(h.events).toEqual(['log', 'fault', 'close', 'exit']);
    expect(h.exits).toEqual([FAULT_EXIT_STATUS]);
    expect(h.lines).toHaveLength(1);
    expect(h.lines[0]!.obj).toEqual({ code: 'E_PROCESS_FAULT', event: 'unhandledRejection', party: 1, errorClass: 'TypeError' });
    expect(JSON.stringify(h.lines[0])).not.toContain('0x1234abcd');
    expect(h.faulted()?.code).toBe('E_PROCESS_FAULT');
    h.policy.uninstall();
    expect(h.proc.listenerCount('unhandledRejection') + h.proc.listenerCount('uncaughtException')).toBe(0);
  });

  it('an uncaught coded exception logs its code and message; a hanging close still exits after the grace period; a second fault does not exit twice', async () => {
    const h = harness(() => new Promise(() => {}));
    h.proc.emit('uncaughtException', new MpcError('E_PROTOCOL_DESYNC', 'expected tag a:b, got a:c'));
    h.proc.emit('unhandledRejection', 'a string reason', Promise.resolve());
    await tick(50);
    expect(h.exits).toEqual([]);
    await tick(300);
    expect(h.exits).toEqual([FAULT_EXIT_STATUS]);
    expect(h.lines.map((l) => l.obj)).toEqual([
      { code: 'E_PROCESS_FAULT', event: 'uncaughtException', party: 1, errorClass: 'MpcError', errorCode: 'E_PROTOCOL_DESYNC', err: 'expected tag a:b, got a:c' },
      { code: 'E_PROCESS_FAULT', event: 'unhandledRejection', party: 1, errorClass: 'string', alreadyExiting: true },
    ]);
    expect(h.events.filter((e) => e === 'fault' || e === 'close')).toEqual(['fault', 'close']);
    h.policy.uninstall();
  });

  it('a failing logger (a closed stdout) or an odd error value: the handler does not throw, sessions still failed, closed, exit 70', async () => {
    const events: string[] = [];
    const exits: number[] = [];
    const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => { events.push('log'); throw new Error('write EPIPE'); }, child: () => log };
    const proc = new EventEmitter();
    const policy = installFaultPolicy({ party: 2, log, fault: () => { events.push('fault'); }, close: async () => { events.push('close'); } }, { proc, exit: (c) => { exits.push(c); events.push('exit'); }, graceMs: 200 });
    // An error value whose class cannot be read (a revoked proxy throws on every access).
    const odd = Proxy.revocable({}, {});
    odd.revoke();
    expect(() => proc.emit('uncaughtException', odd.proxy)).not.toThrow();
    expect(() => proc.emit('unhandledRejection', new TypeError('again'), Promise.resolve())).not.toThrow();
    await tick(20);
    expect(exits).toEqual([FAULT_EXIT_STATUS]);
    expect(events.filter((e) => e !== 'log')).toEqual(['fault', 'close', 'exit']);
    policy.uninstall();
  });

  it('the test-only switch: off by default, refused outside NODE_ENV=test, strict syntax', () => {
    expect(testFaultSwitch(0, {})).toBeNull();
    expect(testFaultSwitch(0, { [FAULT_ENV]: 'rejection@input', NODE_ENV: 'test' })).toBe('rejection');
    expect(testFaultSwitch(0, { [FAULT_ENV]: 'exception@input', NODE_ENV: 'test' })).toBe('exception');
    expect(() => testFaultSwitch(0, { [FAULT_ENV]: 'rejection@input', NODE_ENV: 'production' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => testFaultSwitch(0, { [FAULT_ENV]: 'crash', NODE_ENV: 'test' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });

  it('Party.fault: /readyz 503 E_PROCESS_FAULT, the session in flight failed with it, a new session refused (E_NOT_READY)', async () => {
    const t = await partyTrio({ plain: networkA(), fracBits: 16 });
    try {
      const sessionId = randomUUID();
      for (const s of t.servers) expect((await s.app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId, modelHash: t.modelHash } })).statusCode).toBe(201);
      const p1 = t.servers[1];
      expect((await p1.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      p1.party.fault(new MpcError('E_PROCESS_FAULT', 'P1 met an internal fault (unhandledRejection) and is restarting; retry', { party: 1 }));
      const rz = await p1.app.inject({ method: 'GET', url: '/readyz' });
      expect(rz.statusCode).toBe(503);
      expect(JSON.parse(rz.body)).toMatchObject({ ready: false, fault: 'E_PROCESS_FAULT', code: 'E_PROCESS_FAULT' });
      const st = JSON.parse((await p1.app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}`, headers: auth })).body) as { state: string; error?: { code: string } };
      expect(st).toMatchObject({ state: 'failed', error: { code: 'E_PROCESS_FAULT' } });
      const again = await p1.app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId: randomUUID(), modelHash: t.modelHash } });
      expect(again.statusCode).toBe(503);
      expect(JSON.parse(again.body)).toMatchObject({ code: 'E_NOT_READY' });
      // The other parties are unaffected by P1's flag (they learn of it when its links drop).
      expect((await t.servers[0].app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally { await t.close(); }
  });
});
