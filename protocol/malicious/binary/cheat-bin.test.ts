/**
 * The cheating-party harness (protocol/testing/cheat.ts, the loop of
 * cheat-loop.ts) over the binary domain: one party in turn alters each of
 * its messages (offset, bit flip, replay, another session's message) in a
 * run of triples made ahead, a ReLU through the binary domain (split A2B,
 * carry tree, daBit B2A, product), the MAC check (which verifies the ANDs
 * first) and the opened output; every honest party ends with E_INTEGRITY and
 * no output, and the next honest run succeeds. The one exception is the MAC
 * check's last message, the confirm (mac-check.ts): the party it reaches
 * aborts, the other may output the right value. Kept small: 3 elements,
 * ell = 5 (a tree level above the generate layer).
 */
import { describe, expect, it } from 'vitest';
import { everyAlteration } from '../../testing/cheat-loop.js';
import { liftSigned } from '../ring128.js';
import { inputM } from '../input.js';
import { openLow } from '../open.js';
import { macCheck } from '../mac-check.js';
import type { MalSession } from '../session.js';
import { andWordsB, msbBinM, reluBinM } from './compare-bin.js';
import { stockTriplesB } from './verify.js';
import { maxPoolBinM } from './maxpool-bin.js';

const XS = [-9n, 0n, 13n], ELL = 5;

async function reluRun(s: MalSession): Promise<bigint[]> {
  await stockTriplesB(s, andWordsB(XS.length, ELL));
  const x = await inputM(s, 2, s.party === 2 ? liftSigned(BigUint64Array.from(XS.map((v) => BigInt.asUintN(64, v)))) : null, XS.length);
  const y = await reluBinM(s, x, ELL);
  await macCheck(s);
  const out = Array.from(await openLow(s, y)).map((v) => BigInt.asIntN(64, v));
  await macCheck(s);
  return out;
}

async function msbInlineRun(s: MalSession): Promise<bigint[]> {
  const x = await inputM(s, 0, s.party === 0 ? liftSigned(BigUint64Array.from(XS.map((v) => BigInt.asUintN(64, v)))) : null, XS.length);
  const m = await msbBinM(s, x, 6); // daBits inline, triples made inside the MAC check
  await macCheck(s);
  const out = Array.from(await openLow(s, m));
  await macCheck(s);
  return out;
}

const IMG = [-5n, 7n, 3n, -2n, 0n, 6n, 6n, -7n];
async function maxPoolRun(s: MalSession): Promise<bigint[]> {
  const x = await inputM(s, 1, s.party === 1 ? liftSigned(BigUint64Array.from(IMG.map((v) => BigInt.asUintN(64, v)))) : null, IMG.length);
  const y = await maxPoolBinM(s, x, { h: 2, w: 2, c: 2 }, { kh: 2, kw: 2, sh: 2, sw: 2 }, 6);
  await macCheck(s);
  const out = Array.from(await openLow(s, y)).map((v) => BigInt.asIntN(64, v));
  await macCheck(s);
  return out;
}

const SEP = [-5n, 3n, 3n, -2n, 0n, 6n];
/** The separable 2x2 stride-1 'valid' MaxPool (maxpool.ts separableM): 3x2x1, level 1 on the three row pairs, level 2 on rows 0-1 and 1-2. */
async function separableRun(s: MalSession): Promise<bigint[]> {
  const x = await inputM(s, 0, s.party === 0 ? liftSigned(BigUint64Array.from(SEP.map((v) => BigInt.asUintN(64, v)))) : null, SEP.length);
  const y = await maxPoolBinM(s, x, { h: 3, w: 2, c: 1 }, { kh: 2, kw: 2, sh: 1, sw: 1 }, 6);
  await macCheck(s);
  const out = Array.from(await openLow(s, y)).map((v) => BigInt.asIntN(64, v));
  await macCheck(s);
  return out;
}

describe('cheating-party harness on the binary domain: one altered message makes every honest party abort', () => {
  it('triples made ahead, reluBinM (ell = 5), MAC check, opened output: every message of every party, each alteration', async () => {
    const { cases, confirmCases } = await everyAlteration(reluRun, (v) => expect(v).toEqual(XS.map((x) => (x < 0n ? 0n : x))), 20);
    expect(cases).toBeGreaterThan(300);
    expect(confirmCases).toBeGreaterThan(0);
  }, 600_000);

  it('msbBinM (ell = 6) with its daBits and triples made at the check: every message of every party, one alteration each (rotating)', async () => {
    const { cases } = await everyAlteration(msbInlineRun, (v) => expect(v).toEqual(XS.map((x) => (x < 0n ? 1n : 0n))), 20, { rotate: true });
    expect(cases).toBeGreaterThan(60);
  }, 600_000);

  it('maxPoolBinM (2x2x2, window 2x2, ell = 6: two levels, daBits and triples inside the layer): every message of every party, one alteration each (rotating)', async () => {
    const { cases } = await everyAlteration(maxPoolRun, (v) => expect(v).toEqual([6n, 7n]), 20, { rotate: true });
    expect(cases).toBeGreaterThan(80);
  }, 600_000);

  it('maxPoolBinM separable (3x2x1, window 2x2 stride 1 valid, ell = 6, a tie: level 1 on row pairs, level 2 on adjacent rows): every message of every party, one alteration each (rotating)', async () => {
    const { cases } = await everyAlteration(separableRun, (v) => expect(v).toEqual([3n, 6n]), 20, { rotate: true });
    expect(cases).toBeGreaterThan(80);
  }, 600_000);
});
