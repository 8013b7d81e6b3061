/**
 * View simulation for the malicious mode, in the style of
 * protocol/privacy/view.test.ts: what each party receives during an input,
 * a product, a masked opening and the MAC check must not depend on the
 * secret inputs. We run the protocol many times on two very different pairs
 * of inputs and compare, per party and per message, the distribution of the
 * received bytes (top two bits of every 8-byte lane), and of the received
 * vector plus the party's own two shares of x (which would expose a direct
 * opening of x). A loose statistical check, not a proof: the proof is the
 * simulators of Araki et al. (resharing with a zero sharing gives fresh
 * shares) and of SPDZ_2k (opened values are masked; sigma is a sharing of 0).
 * A deliberately leaky variant shows the check has power.
 *
 * This also bounds what a cheater learns before an abort: every message it
 * gets up to the abort is one of these, so its view is that of an honest run.
 */
import { describe, expect, it } from 'vitest';
import type { PartyId } from '../ring/types.js';
import { goodnessOfFitZ, twoSampleChiSquareZ } from '../privacy/stats.js';
import { runMal3, values } from '../testing/cheat.js';
import { add128, alloc128, fromBytes128, liftSigned } from './ring128.js';
import type { MShare } from './rep.js';
import type { MalSession } from './session.js';
import { mulM } from './product.js';
import { openLow } from './open.js';
import { inputM } from './input.js';
import { macCheck } from './mac-check.js';
import { setupEpoch } from './epoch.js';
import { shareModelReplicated } from './weights.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';

const RUNS = 150;
const big = (v: bigint) => BigInt.asUintN(64, v);
const INPUT_A = { x: BigUint64Array.from([0n, 0n, 0n, 0n]), y: BigUint64Array.from([0n, 1n, 0n, 1n]) };
const INPUT_B = { x: BigUint64Array.from([1n << 62n, big(-1n), big(-(1n << 62n)), 1n << 40n]), y: BigUint64Array.from([big(-(1n << 61n)), 1n << 62n, 7n, big(-3n)]) };

type Stats = Map<string, number[]>;
function hist(s: Stats, key: string, payload: Uint8Array): void {
  let h = s.get(key);
  if (!h) s.set(key, (h = new Array<number>(payload.length / 2).fill(0)));
  for (let e = 0; e < payload.length / 8; e++) h[4 * e + (payload[8 * e + 7]! >> 6)]!++;
}

/**
 * x input by P0, y by P1, their product z, a masked opening (openLow) of
 * z · 0 (a product whose value is 0 for both inputs, so that the opening's
 * messages are in the view without the output differing), the MAC check.
 */
async function protocol(s: MalSession, input: typeof INPUT_A, leaky: boolean): Promise<MShare> {
  const x = await inputM(s, 0, s.party === 0 ? liftSigned(input.x) : null, 4);
  if (leaky && s.party === 1) s.send(2, 'leak', new Uint8Array(x.x.a.buffer.slice(0)));
  if (leaky && s.party === 2) await s.recv(1, 'leak', 64);
  const y = await inputM(s, 1, s.party === 1 ? liftSigned(input.y) : null, 4);
  const z = await mulM(s, x, y);
  const zero: MShare = { n: 4, x: { a: alloc128(4), b: alloc128(4) }, m: { a: alloc128(4), b: alloc128(4) } };
  expect(Array.from(await openLow(s, await mulM(s, z, zero)))).toEqual([0n, 0n, 0n, 0n]);
  await macCheck(s);
  return x;
}

async function collect(input: typeof INPUT_A, leaky: boolean): Promise<{ stats: Stats; shape: string[] }> {
  const stats: Stats = new Map();
  let shape: string[] | null = null;
  for (let run = 0; run < RUNS; run++) {
    const r = await runMal3((s) => protocol(s, input, leaky));
    const xs = values(r);
    const received = ([0, 1, 2] as PartyId[]).map((p) => r.transports.flatMap((t) => t.sent.filter((m) => m.to === p).map((m) => ({ ...m, from: t.party }))));
    const sh = received.flatMap((msgs, p) => msgs.map((m) => `P${p}<P${m.from} ${m.tag.replace(/#\d+/, '')} ${m.payload.length}`));
    if (shape === null) shape = sh;
    expect(sh).toEqual(shape);
    received.forEach((msgs, p) => msgs.forEach((m, i) => {
      const key = `P${p}#${i}<P${m.from} ${m.tag}`;
      hist(stats, key, m.payload);
      if (m.payload.length === 64 && p !== 0) { // P0 owns x: received + own shares may be x there (the mask r it must learn)
        const sum = add128(add128(fromBytes128(m.payload), xs[p]!.x.a, alloc128(4)), xs[p]!.x.b, alloc128(4));
        hist(stats, `${key} +own`, new Uint8Array(sum.buffer));
      }
    }));
  }
  return { stats, shape: shape! };
}

function compare(a: Stats, b: Stats): { z: number; key: string } {
  let worst = { z: -Infinity, key: '' };
  for (const [key, h] of a) {
    const z = twoSampleChiSquareZ(h, b.get(key)!);
    if (z > worst.z) worst = { z, key };
  }
  return worst;
}

describe('malicious mode: no single party\'s view depends on the secret inputs (input, product, masked opening, MAC check)', () => {
  it('P0, P1 and P2 receive the same messages with indistinguishable, uniform-looking contents on very different inputs', async () => {
    const A = await collect(INPUT_A, false), B = await collect(INPUT_B, false);
    expect(B.shape).toEqual(A.shape);
    for (const kind of ['input', 'macOf', 'openTo', 'mul', 'open', 'check']) expect(A.shape.some((m) => m.includes(`mal:${kind}`)), kind).toBe(true);
    const worst = compare(A.stats, B.stats);
    expect(worst.z, worst.key).toBeLessThan(5);
    // Every received message looks uniform (shares are masked by zero sharings or by rho, hashes and coins are random).
    for (const [key, h] of A.stats) {
      if (key.includes('+own')) continue;
      expect(goodnessOfFitZ(h, new Array<number>(h.length).fill(1 / h.length)), key).toBeLessThan(5);
    }
  }, 60_000);

  it('the same check detects a leaky variant in which P1 sends its share x_1 to P2', async () => {
    const A = await collect(INPUT_A, true), B = await collect(INPUT_B, true);
    const worst = compare(A.stats, B.stats);
    expect(worst.key).toMatch(/leak \+own/);
    expect(worst.z).toBeGreaterThan(20);
  }, 60_000);
});

/** A Dense 4 -> 2 model with the given weights (8 kernel values, 2 biases). */
const denseModel = (k: number[], b: number[]): ModelIR<FloatTensor> => ({
  formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd', outputActivation: 'linear',
  nodes: [{ kind: 'dense', name: 'd', inputs: ['input'], units: 2, activation: 'linear', kernel: { shape: [4, 2], data: Float64Array.from(k) }, bias: { shape: [2], data: Float64Array.from(b) } }],
} as ModelIR<FloatTensor>);

describe('malicious mode: the epoch set-up (weights\' copy check and MACs, MAC check) shows no party the weights', () => {
  it('the messages of setupEpoch have the same shape and indistinguishable, uniform-looking contents for zero and for large weights', async () => {
    const models = [denseModel(new Array(8).fill(0), [0, 0]), denseModel([1000, -1000, 3.5, -7.25, 1e5, -1e5, 0.001, 42], [-500, 250])];
    const runOnce = async (m: ModelIR<FloatTensor>): Promise<{ stats: Stats; shape: string[] }> => {
      const stats: Stats = new Map();
      let shape: string[] | null = null;
      for (let run = 0; run < RUNS; run++) {
        const parts = shareModelReplicated(m, 13);
        const r = await runMal3((s) => setupEpoch(s, parts[s.party]));
        values(r);
        const received = ([0, 1, 2] as PartyId[]).map((p) => r.transports.flatMap((t) => t.sent.filter((x) => x.to === p).map((x) => ({ ...x, from: t.party }))));
        const sh = received.flatMap((msgs, p) => msgs.map((x) => `P${p}<P${x.from} ${x.tag.replace(/#\d+/, '')} ${x.payload.length}`));
        if (shape === null) shape = sh;
        expect(sh).toEqual(shape);
        received.forEach((msgs, p) => msgs.forEach((x, i) => hist(stats, `P${p}#${i}<P${x.from} ${x.tag}`, x.payload)));
      }
      return { stats, shape: shape! };
    };
    const A = await runOnce(models[0]!), B = await runOnce(models[1]!);
    expect(B.shape).toEqual(A.shape);
    for (const kind of ['weights', 'macOf', 'check']) expect(A.shape.some((m) => m.includes(`mal:${kind}`)), kind).toBe(true);
    const worst = compare(A.stats, B.stats);
    expect(worst.z, worst.key).toBeLessThan(5);
    for (const [key, h] of A.stats) expect(goodnessOfFitZ(h, new Array<number>(h.length).fill(1 / h.length)), key).toBeLessThan(5);
  }, 60_000);
});
