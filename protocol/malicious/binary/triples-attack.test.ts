/**
 * Consistent attacks on the triple generation (triples.ts) that only one of its checks can catch: a cheater that
 * adds the same error to what it sends and to its own copy (its z_i of the resharing, through its zero share),
 * so that every copy check of the openings passes. Each test names the check it guards; each fails when that check
 * is removed (the review of s41-bin: removing the cut's AND test or the permutation left the other 50 tests green).
 */
import { describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { runMal3, values } from '../../testing/cheat.js';
import { outcomeCode } from '../../testing/cheat-loop.js';
import type { PartyId } from '../../ring/types.js';
import { macCheck } from '../mac-check.js';
import { lanesOf, reconstructB, shareB } from './bshare.js';
import { andB } from './and.js';
import { openB } from './open.js';
import { makeTriplesB, tripleParams } from './triples.js';
import { stockTriplesB } from './verify.js';

/**
 * The cheater's hook on the zero sharing of the resharing's local step (bshare.ts zeroShareB, which and.ts and the
 * triples' step 1 call): a change of its alpha_i is a change of z_i before it is sent and kept (copies consistent).
 */
let hook: ((party: PartyId, z: Uint32Array) => void) | null = null;
vi.mock('./bshare.js', async (orig) => {
  const m = await orig<typeof import('./bshare.js')>();
  return { ...m, zeroShareB: (ctx: Parameters<typeof m.zeroShareB>[0], lanes: number) => { const z = m.zeroShareB(ctx, lanes); hook?.(ctx.party, z); return z; } };
});

const honestOf = (c: PartyId): PartyId[] => ([0, 1, 2] as PartyId[]).filter((p) => p !== c);

describe('triples.ts against consistent additive attacks on the triples (one check each)', () => {
  it('the cut: an error in bit 0 of EVERY triple word passes every bucket (all errors equal) and is caught only by the opened words', async () => {
    const words = 40, { N, B, C } = tripleParams(words), M = N * B + C;
    for (const cheater of [0, 1, 2] as PartyId[]) {
      hook = (party, z) => { if (party === cheater && z.length === 2 * M) for (let w = 0; w < M; w++) z[2 * w]! ^= 1; };
      try {
        const r = await runMal3((s) => makeTriplesB(s, words));
        for (const p of honestOf(cheater)) {
          expect(outcomeCode(r.outcomes[p]), `P${cheater} cheats: P${p}`).toBe('E_INTEGRITY');
          const o = r.outcomes[p];
          expect(o.status === 'rejected' ? String((o.reason as Error).message) : '').toMatch(/cut-and-choose/);
        }
      } finally { hook = null; }
    }
  });

  it('the permutation: an error in the B words that would be bucket 0 without the permutation (pi[C..C+B)) is caught', async () => {
    const words = 40, { N, B, C } = tripleParams(words), M = N * B + C;
    for (const cheater of [0, 1, 2] as PartyId[]) {
      hook = (party, z) => { if (party === cheater && z.length === 2 * M) for (let w = C; w < C + B; w++) z[2 * w]! ^= 1; };
      try {
        const r = await runMal3((s) => makeTriplesB(s, words));
        // Passes only if the permutation kept these B words together in one bucket, out of the cut: < 2^-40.
        for (const p of honestOf(cheater)) expect(outcomeCode(r.outcomes[p]), `P${cheater} cheats: P${p}`).toBe('E_INTEGRITY');
      } finally { hook = null; }
    }
  });

  it('the control: without a cheater the same runs give triples with c = a AND b', async () => {
    const r = await runMal3((s) => makeTriplesB(s, 40));
    const t = values(r);
    const a = reconstructB([t[0].a, t[1].a, t[2].a]), b = reconstructB([t[0].b, t[1].b, t[2].b]), c = reconstructB([t[0].c, t[1].c, t[2].c]);
    expect(Array.from(c)).toEqual(Array.from(a.map((w, i) => w & b[i]!)));
  });

  it('a stocked triple is used once: two verifications of the same AND inputs open different rho / sigma (a reused triple would open equal ones, and their XOR would be x XOR x\')', async () => {
    const n = 64, L = lanesOf(n);
    const X = shareB(new Uint32Array(randomBytes(4 * L).buffer), n, 1), Y = shareB(new Uint32Array(randomBytes(4 * L).buffer), n, 1);
    const r = await runMal3(async (s) => {
      await stockTriplesB(s, 8); // 32 words: both verifications below take theirs from it
      await andB(s, X[s.party], Y[s.party]);
      await macCheck(s);
      await andB(s, X[s.party], Y[s.party]);
      await macCheck(s);
    });
    values(r);
    for (const t of r.transports) {
      // The stock's own opening (cut and sacrifice), then one checked opening of rho, sigma per verification.
      const rho = t.sent.filter((m) => /openB.*:v$/.test(m.tag)).map((m) => Buffer.from(m.payload).toString('hex')).slice(1);
      expect(rho.length, 'one checked opening per verification').toBe(2);
      expect(rho[0]).not.toBe(rho[1]);
    }
  });
});

describe('verify.ts against a consistent additive attack on an AND (z_i changed before it is sent and kept)', () => {
  const n = 100, L = lanesOf(n);
  const xv = new Uint32Array(randomBytes(4 * L).buffer), yv = new Uint32Array(randomBytes(4 * L).buffer);
  const X = shareB(xv, n, 1), Y = shareB(yv, n, 1);
  const want = Array.from(xv.map((w, i) => w & yv[i]!));
  // Only the circuit's AND (n bits: L lanes) is changed, not the triples' (64 M bits).
  const cheat = (cheater: PartyId) => (party: PartyId, z: Uint32Array) => { if (party === cheater && z.length === L) z[1]! ^= 0x10; };

  for (const mode of ['inline', 'stocked'] as const) {
    it(`every copy check passes (the honest parties open a wrong AND without the verification); the verification with ${mode} triples catches it`, async () => {
      for (const cheater of [0, 1, 2] as PartyId[]) {
        for (const check of [false, true]) {
          hook = cheat(cheater);
          try {
            const r = await runMal3(async (s) => {
              if (mode === 'stocked') await stockTriplesB(s, 1);
              const z = await andB(s, X[s.party], Y[s.party]);
              if (check) await macCheck(s);
              return openB(s, z);
            });
            for (const p of honestOf(cheater)) {
              const o = r.outcomes[p];
              if (check) expect(outcomeCode(o), `P${cheater} cheats, ${mode}: P${p}`).toBe('E_INTEGRITY');
              else {
                expect(o.status, `P${cheater} cheats, no check: P${p} opens`).toBe('fulfilled');
                if (o.status === 'fulfilled') expect(Array.from(o.value)).not.toEqual(want);
              }
            }
          } finally { hook = null; }
        }
      }
    });
  }
});
