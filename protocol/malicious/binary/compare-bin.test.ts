import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runMal3, values, type MalRun } from '../../testing/cheat.js';
import { liftSigned } from '../ring128.js';
import { type MalSession } from '../session.js';
import { inputM } from '../input.js';
import { mulM, randomMacced } from '../product.js';
import { openLow } from '../open.js';
import { macCheck, macCheckCost } from '../mac-check.js';
import { andWordsB, daBitsCostB, daBitsM, dreluBinM, msbBinM, msbBinOnlineCostB, reluBinM, reluBinOnlineCostB } from './compare-bin.js';
import { msbBitsCostB } from './a2b.js';
import { stockTriplesB, verifyCostB, verifyInlineCostB } from './verify.js';
import { tripleCostB, tripleParams } from './triples.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Random signed values with |x| < 2^(ell-1), and the edges 0, 1, -1, +-(2^(ell-1) - 1), -2^(ell-1). */
function inputs(ell: number, n: number): bigint[] {
  const max = (1n << BigInt(ell - 1)) - 1n;
  const rnd = Array.from({ length: n }, () => {
    const v = BigInt('0x' + randomBytes(8).toString('hex')) & max;
    return randomBytes(1)[0]! & 1 ? -v : v;
  });
  return [0n, 1n, -1n, max, -max, -max - 1n, 2n, -2n, ...rnd];
}

const secret = (s: MalSession, xs: bigint[]) => inputM(s, 1, s.party === 1 ? liftSigned(BigUint64Array.from(xs.map(u64))) : null, xs.length);
const stepBytes = (r: MalRun<unknown>, label: string): number => r.transports.reduce((a, t) => a + (t.steps.get(label)?.bytesSent ?? 0), 0);
const stepRounds = (r: MalRun<unknown>, label: string): number => Math.max(...r.transports.map((t) => t.steps.get(label)?.rounds ?? 0));

describe('msbBinM / dreluBinM / reluBinM (binary domain: split A2B, carry tree, daBit B2A) against a plaintext reference', () => {
  for (const ell of [2, 3, 4, 5, 6, 7, 8, 9, 32, 64]) {
    it(`ell = ${ell}: ${ell <= 9 ? 'every input in [-2^(ell-1), 2^(ell-1))' : 'random and edge inputs'}, opened after the MAC check (which verifies the ANDs)`, async () => {
      const half = 1 << (ell - 1);
      const xs = ell <= 9 ? Array.from({ length: 2 * half }, (_, i) => BigInt(i - half)) : inputs(ell, 150);
      const r = await runMal3(async (s) => {
        const x = await secret(s, xs);
        const [m, d, y] = [await msbBinM(s, x, ell), await dreluBinM(s, x, ell), await reluBinM(s, x, ell)];
        await macCheck(s);
        const out = [await openLow(s, m), await openLow(s, d), await openLow(s, y)].map((v) => Array.from(v));
        await macCheck(s);
        return out;
      });
      for (const [msb, drelu, relu] of values(r)) {
        expect(msb).toEqual(xs.map((x) => (x < 0n ? 1n : 0n)));
        expect(drelu).toEqual(xs.map((x) => (x < 0n ? 0n : 1n)));
        expect(relu.map(s64)).toEqual(xs.map((x) => (x < 0n ? 0n : x)));
      }
    }, 60_000);
  }

  it('only the low ell bits count: an input whose 128-bit value has bits above 64 (a product) gets the sign of its low bits', async () => {
    const ys = [(1n << 40n) + 3n, -((1n << 40n) + 1n)], zs = [1n << 40n, 1n << 40n];
    const r = await runMal3(async (s) => {
      const x = await mulM(s, await secret(s, ys), await secret(s, zs));
      const m = await msbBinM(s, x, 64), y = await reluBinM(s, x, 48);
      await macCheck(s);
      const out = [await openLow(s, m), await openLow(s, y)].map((v) => Array.from(v));
      await macCheck(s);
      return out;
    });
    for (const [msb, relu] of values(r)) {
      expect(msb).toEqual([0n, 1n]);
      expect(relu.map(s64)).toEqual([BigInt.asIntN(48, 3n << 40n), 0n]);
    }
  });

  it('declared costs match the counters: daBits offline, the online part, the verification with stocked and with inline triples', async () => {
    for (const [n, ell] of [[1, 32], [100, 32], [130, 9], [64, 2], [70, 3]] as const) {
      const words = andWordsB(n, ell);
      const r = await runMal3(async (s) => {
        const x = await randomMacced(s, n); // symmetric (no input round): every party's step starts at the same depth
        const d = await daBitsM(s, n);
        await stockTriplesB(s, words);
        await reluBinM(s, x, ell, d);
        await macCheck(s);
        await reluBinM(s, x, ell); // daBits inline, triples made at the check
        await macCheck(s);
      });
      values(r);
      const label = `n = ${n}, ell = ${ell}`;
      expect(stepBytes(r, 'mal.bin.dabits'), label).toBe(2 * daBitsCostB(n).bytes);
      expect(stepRounds(r, 'mal.bin.dabits'), label).toBe(2 * daBitsCostB(n).rounds);
      expect({ rounds: stepRounds(r, 'mal.bin.triples'), bytes: stepBytes(r, 'mal.bin.triples') }, label).toEqual(tripleCostB(words));
      // The two ReLUs: the first online only, the second with its daBits.
      expect(stepBytes(r, 'mal.bin.relu'), label).toBe(2 * reluBinOnlineCostB(n, ell).bytes + daBitsCostB(n).bytes);
      expect(stepRounds(r, 'mal.bin.relu'), label).toBe(2 * reluBinOnlineCostB(n, ell).rounds + daBitsCostB(n).rounds);
      expect(stepBytes(r, 'mal.bin.and'), label).toBe(0); // the comparison's ANDs run inside its own step
      // The checks: stocked triples, then what is left of the stock (padded to MIN_TRIPLE_WORDS) or inline.
      const second = tripleParams(words).N >= 2 * words ? verifyCostB(words) : verifyInlineCostB(words);
      expect(stepBytes(r, 'mal.macCheck'), label).toBe(2 * macCheckCost().bytes + verifyCostB(words).bytes + second.bytes);
      expect(stepRounds(r, 'mal.macCheck'), label).toBe(2 * macCheckCost().rounds + verifyCostB(words).rounds + second.rounds);
    }
  }, 60_000);

  it('online rounds and bytes of one comparison match msbBinOnlineCostB (after a random MACed input and the daBits)', async () => {
    for (const ell of [2, 3, 8, 32, 64]) {
      const n = 77;
      const r = await runMal3(async (s) => {
        const x = await randomMacced(s, n);
        const d = await daBitsM(s, n);
        await msbBinM(s, x, ell, d);
      });
      values(r);
      expect({ rounds: stepRounds(r, 'mal.bin.compare'), bytes: stepBytes(r, 'mal.bin.compare') }, `ell = ${ell}`).toEqual(msbBinOnlineCostB(n, ell));
    }
    // ell = 32: 2 + ceil(log2 30) = 7 rounds of ANDs, then the opening of e.
    expect(msbBinOnlineCostB(128, 32).rounds).toBe(8);
    expect(msbBitsCostB(1, 2)).toEqual({ rounds: 1, bytes: 24 });
  }, 60_000);

  it('refuses daBits of another length (E_SHAPE at every party) and ell outside 2..64 (E_BAD_ARGUMENT)', async () => {
    const r = await runMal3(async (s) => msbBinM(s, await secret(s, [1n, 2n]), 8, await daBitsM(s, 3)));
    expect(r.outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code: string }).code : 'output'))).toEqual(['E_SHAPE', 'E_SHAPE', 'E_SHAPE']);
    const q = await runMal3(async (s) => msbBinM(s, await secret(s, [1n]), 65));
    expect(q.outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code: string }).code : 'output'))).toEqual(['E_BAD_ARGUMENT', 'E_BAD_ARGUMENT', 'E_BAD_ARGUMENT']);
  });
});

