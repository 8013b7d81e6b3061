import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runMal3, values } from '../testing/cheat.js';
import { isMpcError } from '../errors.js';
import { fromBigints, liftSigned, type Vec128 } from './ring128.js';
import { setupCost, type MalSession } from './session.js';
import { inputM, publicM } from './input.js';
import { mulM } from './product.js';
import { openLow } from './open.js';
import { macCheck } from './mac-check.js';
import { compareMaskCostM, compareMaskM, dreluCostM, dreluM, msbCostM, msbM, msbOnlineCostM, reluCostM, reluM, reluOnlineCostM, sliceMask } from './compare.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Random signed values with |x| < 2^(ell-1), and the edges 0, 1, -1, +-(2^(ell-1) - 1), -2^(ell-1) + 1, small ones. */
function inputs(ell: number, n: number): bigint[] {
  const max = (1n << BigInt(ell - 1)) - 1n;
  const rnd = Array.from({ length: n }, () => {
    const v = BigInt('0x' + randomBytes(8).toString('hex')) & max;
    return randomBytes(1)[0]! & 1 ? -v : v;
  });
  return [0n, 1n, -1n, max, -max, 2n, -2n, max - 1n, -(max - 1n), ...rnd];
}

const secret = (s: MalSession, xs: bigint[]): Promise<ReturnType<typeof publicM>> =>
  inputM(s, 1, s.party === 1 ? liftSigned(BigUint64Array.from(xs.map(u64))) : null, xs.length);

describe('msbM / dreluM / reluM (edaBit-style masked MSB with BitLT) against a plaintext reference', () => {
  // ell = 2 to 9: every top block of the radix-4 layout (2, 3, 4 bits; [3, 2] for ell = 5, 9) and every input in range.
  for (const ell of [32, 64, 8, 2, 3, 4, 5, 6, 7, 9]) {
    it(`ell = ${ell}: ${ell <= 9 ? 'every input with |x| < 2^(ell-1)' : 'random and edge inputs'}, the three outputs opened after the MAC check`, async () => {
      const half = 1 << (ell - 1);
      const xs = ell <= 9 ? Array.from({ length: 2 * half - 1 }, (_, i) => BigInt(i - half + 1)) : inputs(ell, 12);
      const r = await runMal3(async (s) => {
        const x = await secret(s, xs);
        const [m, d, y] = [await msbM(s, x, ell), await dreluM(s, x, ell), await reluM(s, x, ell)];
        const out = [await openLow(s, m), await openLow(s, d), await openLow(s, y)].map((v) => Array.from(v));
        await macCheck(s);
        return out;
      });
      for (const [msb, drelu, relu] of values(r)) {
        expect(msb).toEqual(xs.map((x) => (x < 0n ? 1n : 0n)));
        expect(drelu).toEqual(xs.map((x) => (x < 0n ? 0n : 1n)));
        expect(relu.map(s64)).toEqual(xs.map((x) => (x < 0n ? 0n : x)));
      }
    });
  }

  it('only the low bits count: an input whose 128-bit value has bits above 64 (a product) gets the sign of its low 64 bits', async () => {
    // y z = 2^80 + 3 2^40 - ... : low 64 bits 3 2^40 (positive) and -(2^40) (negative), bits above 64 set by the product.
    const ys = [(1n << 40n) + 3n, -((1n << 40n) + 1n)], zs = [1n << 40n, 1n << 40n];
    const r = await runMal3(async (s) => {
      const x = await mulM(s, await secret(s, ys), await secret(s, zs));
      const out = [await openLow(s, await msbM(s, x, 64)), await openLow(s, await reluM(s, x, 48))].map((v) => Array.from(v));
      await macCheck(s);
      return out;
    });
    for (const [msb, relu] of values(r)) {
      expect(msb).toEqual([0n, 1n]);
      expect(relu).toEqual([u64(3n << 40n), 0n]);
    }
  });

  it('declared costs match the transport counters (each primitive alone, inputs public)', async () => {
    for (const [n, ell] of [[1, 2], [2, 5], [3, 8], [2, 9], [2, 32], [2, 64]] as const) {
      const xs = fromBigints(inputs(ell, n).slice(-n).map((v) => BigInt.asUintN(128, v)));
      for (const [op, cost] of [[msbM, msbCostM], [dreluM, dreluCostM], [reluM, reluCostM]] as const) {
        const r = await runMal3(async (s) => op(s, publicM(s, xs as Vec128), ell));
        values(r);
        expect({ rounds: r.rounds - setupCost().rounds, bytes: r.bytes - setupCost().bytes }, `${op.name} n = ${n} ell = ${ell}`).toEqual(cost(n, ell));
      }
    }
  });

  it('masks made ahead (compareMaskM, sliced): the same outputs, the online cost only; a used or mismatched mask is refused', async () => {
    const xs = inputs(16, 3), n = xs.length;
    const r = await runMal3(async (s) => {
      const x = await secret(s, xs);
      const c0 = s.ctx.transport.counters.bytesSent;
      const mask = await compareMaskM(s, 2 * n, 16);
      const c1 = s.ctx.transport.counters.bytesSent;
      const m = await msbM(s, x, 16, sliceMask(mask, 0, n));
      const c2 = s.ctx.transport.counters.bytesSent;
      const y = await reluM(s, x, 16, sliceMask(mask, n, 2 * n));
      const out = [await openLow(s, m), await openLow(s, y)].map((v) => Array.from(v));
      await macCheck(s);
      return { out, maskBytes: c1 - c0, msbBytes: c2 - c1 };
    });
    const v = values(r);
    const sum = (k: 'maskBytes' | 'msbBytes') => v.reduce((t, p) => t + p[k], 0);
    expect(sum('maskBytes')).toBe(compareMaskCostM(2 * n, 16).bytes);
    expect(sum('msbBytes')).toBe(msbOnlineCostM(n, 16).bytes);
    for (const { out: [msb, relu] } of v) {
      expect(msb).toEqual(xs.map((x) => (x < 0n ? 1n : 0n)));
      expect(relu!.map(s64)).toEqual(xs.map((x) => (x < 0n ? 0n : x)));
    }
    expect(reluCostM(n, 16)).toEqual({ rounds: compareMaskCostM(n, 16).rounds + reluOnlineCostM(n, 16).rounds, bytes: compareMaskCostM(n, 16).bytes + reluOnlineCostM(n, 16).bytes });
    // Reuse, a wrong width, a mask without the payload's rho (made for MSB): E_BAD_ARGUMENT at every party, before the opening.
    for (const misuse of ['reuse', 'width', 'payloads'] as const) {
      const bad = await runMal3(async (s) => {
        const x = publicM(s, fromBigints([1n, 2n]));
        const mask = await compareMaskM(s, 2, 16, misuse === 'payloads' ? 0 : 1);
        if (misuse === 'reuse') await msbM(s, x, 16, mask);
        if (misuse === 'payloads') return reluM(s, x, 16, mask);
        return msbM(s, x, misuse === 'reuse' ? 16 : 32, mask);
      });
      for (const o of bad.outcomes) expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code, misuse).toBe('E_BAD_ARGUMENT');
    }
  });

  it('a comparison width outside [2, 64] is E_BAD_ARGUMENT at every party before any message; the session then refuses', async () => {
    for (const ell of [1, 65, 2.5]) {
      const r = await runMal3(async (s) => {
        try {
          return await reluM(s, publicM(s, fromBigints([1n])), ell);
        } finally {
          await expect(macCheck(s)).rejects.toMatchObject({ code: 'E_INTEGRITY' });
        }
      });
      for (const o of r.outcomes) expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code, `ell = ${ell}`).toBe('E_BAD_ARGUMENT');
      expect(r.bytes - setupCost().bytes).toBe(6); // only the abort notices (1 byte to each peer)
    }
  });
});
