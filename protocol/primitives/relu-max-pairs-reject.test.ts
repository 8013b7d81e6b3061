/**
 * relu-max-pairs.ts opens two values at once on the narrow ring (the elements' c in full, the differences' mod 2^32)
 * and awaits them one after the other. If the first fails (the other data party's message of the wrong size: a
 * desync or a cheating party) and the run is then closed, the second's rejection must not be unhandled: in a party
 * process that ends the process and every session in it. The step fails with its coded error, nothing unhandled.
 */
import { describe, expect, it } from 'vitest';
import { MpcError } from '../errors.js';
import { makeContexts, shareFor3 } from '../testing/run3.js';
import { reluMaxOfPairs } from './relu-max-pairs.js';

describe('relu-max-pairs: an opening failing while the other is pending', () => {
  for (const party of [0, 1] as const) {
    it(`P${party}: the first opening fails, then the run closes: the coded error, no unhandled rejection`, async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown): void => { unhandled.push(e); };
      process.on('unhandledRejection', onUnhandled);
      try {
        const { contexts, transports } = makeContexts({ compareBits: 32 });
        if (party === 1) (transports[1] as { flush?: () => Promise<void> }).flush = () => new Promise<void>((r) => setTimeout(r, 50));
        const e = BigUint64Array.from({ length: 16 }, (_, i) => BigInt(i) * 12345n);
        const iX = Uint32Array.from({ length: 12 }, (_, i) => i), iY = iX.map((v) => v + 4);
        const run = reluMaxOfPairs(contexts[party], shareFor3(e)[party], iX, iY, 'x');
        // The other data party answers c with 3 bytes; then the run is closed (a deadline, a peer lost).
        transports[1 - party]!.send(party, 'x:c', new Uint8Array(3));
        const err = await run.then(() => null, (x: unknown) => x);
        transports[party]!.close(new MpcError('E_DEADLINE', 'run closed'));
        await new Promise((r) => setTimeout(r, 100));
        expect(err).toBeInstanceOf(MpcError);
        expect((err as MpcError).code).toBe('E_SHAPE');
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });
  }
});
