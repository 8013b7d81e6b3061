/**
 * relu-direct.ts at P1 starts opening c, then waits for its c_1 to be on the wire (Transport.flush 'drained') before
 * it awaits the opening. If the opening fails during that wait (P0's message of the wrong size or tag: a desync or a
 * cheating P0), its rejection had no handler yet: an unhandled rejection, which in a party process (Node's default
 * --unhandled-rejections=throw, no handler installed) ends the process and every session in it. The step must
 * fail with its coded error and leave nothing unhandled.
 */
import { describe, expect, it } from 'vitest';
import { makeContexts, shareFor3 } from '../testing/run3.js';
import { MpcError } from '../errors.js';
import { dreluDirect, reluDirect } from './relu-direct.js';

describe('relu-direct at P1: the opening failing while P1 waits for its flush', () => {
  for (const [name, fn, opts] of [
    ['DReLU, 64-bit ring', dreluDirect, {}],
    ['ReLU, 32-bit ring', reluDirect, { compareBits: 32 as const }],
    ['DReLU, 32-bit ring (low 32 bits opened)', dreluDirect, { compareBits: 32 as const }],
  ] as const) {
    it(`${name}: rejects with the coded error, no unhandled rejection`, async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown): void => { unhandled.push(e); };
      process.on('unhandledRejection', onUnhandled);
      try {
        const { contexts, transports } = makeContexts(opts);
        // P1's flush: a drain that takes a while (a slow peer's window updates), as the party mesh's can.
        let flushes = 0;
        (transports[1] as { flush?: () => Promise<void> }).flush = () => { flushes++; return new Promise<void>((r) => setTimeout(r, 50)); };
        const x = BigUint64Array.from({ length: 64 }, (_, i) => BigInt(i) * 12345n);
        const run = fn(contexts[1], shareFor3(x)[1], 'x');
        // P0 (broken or cheating) answers c with 3 bytes: P1's opening rejects while its flush is pending.
        transports[0].send(1, 'x:c', new Uint8Array(3));
        const err = await run.then(() => null, (e: unknown) => e);
        await new Promise((r) => setTimeout(r, 100));
        expect(flushes).toBe(1);
        expect(err).toBeInstanceOf(MpcError);
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });
  }
});
