/**
 * A Rescaling with scale 1 (what the ONNX Clip / Pad-constant mappings and Keras constant adds emit) is the public
 * offset alone: the runner adds it at P0 and runs no division by 1 (which drew n P0-P1 PRG words, exact but counted
 * |x| / 2^64 of truncation risk per element in the fixed-point simulation). Checked here: no P0-P1 (or any pair) PRG
 * word drawn, no byte, no round, under local and exact truncation, and the result equal to the plaintext reference
 * on edge inputs (0, +-1 ulp, negatives, the ring's largest magnitudes); the simulation (ir-kit/forward.ts) counts no
 * risk for it. A scale-1/2 Rescaling on the same input draws words and counts risk (the checks can fail).
 */
import { describe, expect, it } from 'vitest';
import type { PartyContext, TruncationMode } from '../context.js';
import { decode } from '../fixed-point/fixed-point.js';
import { fixedArith, type FixedRisk } from '../ir-kit/arith.js';
import { forwardIR } from '../ir-kit/forward.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { getKernels } from '../kernels/index.js';
import { plainForward } from '../reference/forward.js';
import type { AShare } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { secureForward } from './runner.js';
import { shareModel } from './share-model.js';

const k = getKernels();
const F = 13;
const TOP = 2n ** 63n;

const rescaling = (scale: number, offset: number, n: number): ModelIR<FloatTensor> => ({
  formatVersion: IR_FORMAT_VERSION, inputShape: [n], output: 'rs', outputActivation: 'linear',
  nodes: [{ kind: 'rescaling', name: 'rs', inputs: ['input'], scale, offset }],
});

/** Signed ring inputs: 0, +-1 ulp, -3.5, +-2^62 and the largest magnitudes whose sum with the offset c stays in the ring. */
const edgeInputs = (c: bigint): bigint[] => [0n, 1n, -1n, -28672n, 2n ** 62n, -(2n ** 62n), TOP - 1n - (c > 0n ? c : 0n), -TOP - (c < 0n ? c : 0n)];

/** The context with its pairPrg calls recorded (Object.create: everything else, withCompareBits' copies too, inherits). */
function spied(ctx: PartyContext, calls: number[]): PartyContext {
  return Object.create(ctx, { pairPrg: { value: (p: 0 | 1 | 2) => { calls.push(p); return ctx.pairPrg(p); } } }) as PartyContext;
}

async function runRescaling(scale: number, offset: number, xs: bigint[], truncation: TruncationMode, sharing: 'random' | '(x, 0)') {
  const m = rescaling(scale, offset, xs.length);
  const parts = shareModel(k, m, F);
  const x = BigUint64Array.from(xs, (v) => BigInt.asUintN(64, v)) as AShare;
  const sh = sharing === 'random' ? shareFor3(x) : [x, new BigUint64Array(x.length) as AShare, new BigUint64Array(x.length) as AShare];
  const calls: number[][] = [[], [], []];
  const r = await run3((ctx) => secureForward(spied(ctx, calls[ctx.party]!), parts[ctx.party], { shape: [1, xs.length], data: sh[ctx.party]! }), { fracBits: F, truncation });
  return { out: reconstruct(k, r.results[0].data, r.results[1].data), calls, bytes: r.bytes, rounds: r.rounds };
}

describe('Rescaling with scale 1: the offset alone', () => {
  describe.each(['local', 'exact'] as TruncationMode[])('truncation %s', (truncation) => {
    it.each([0, -0.25, 1.5, -7])('offset %d: no PRG word, no byte, no round; x + round(offset 2^f) exactly on edge inputs', async (offset) => {
      const c = BigInt(Math.round(offset * 2 ** F));
      const xs = edgeInputs(c);
      for (const sharing of ['random', '(x, 0)'] as const) {
        const r = await runRescaling(1, offset, xs, truncation, sharing);
        expect(r.calls, sharing).toEqual([[], [], []]);
        expect(r.bytes).toBe(0);
        expect(r.rounds).toBe(0);
        expect(Array.from(r.out, (w) => BigInt.asIntN(64, w)), sharing).toEqual(xs.map((v) => v + c));
        // The plaintext reference (float64) on the inputs it holds exactly (|x| <= 2^62 ring units).
        const small = xs.slice(0, 6), got = decode(r.out.subarray(0, 6), F);
        const want = plainForward(rescaling(1, offset, 6), Float64Array.from(small, (v) => Number(v) / 2 ** F), 1).data;
        expect(Array.from(got)).toEqual(Array.from(want));
      }
    });
  });

  it('a scale-1/2 Rescaling on the same inputs draws P0-P1 words (local division), so the check above can fail', async () => {
    const r = await runRescaling(0.5, 0, [0n, -28672n, 2n ** 40n], 'local', 'random');
    expect(r.calls[0]).toEqual([1]);
    expect(r.calls[1]).toEqual([0]);
    expect(Array.from(r.out, (w) => BigInt.asIntN(64, w))).toEqual([0n, -14336n, 2n ** 39n]);
  });

  it('the fixed-point simulation counts no truncation risk for scale 1 and gives the runner\'s values', () => {
    const x = Float64Array.from([0, -0.5, 3.25, -1000, 2 ** 30]);
    const risk: FixedRisk = { products: 0, divisions: 0 };
    const y = forwardIR(rescaling(1, -0.25, x.length), x, 1, fixedArith({ fracBits: F, risk })).data;
    expect(risk).toEqual({ products: 0, divisions: 0 });
    expect(Array.from(y)).toEqual(Array.from(x, (v) => v * 2 ** F - 2048));
    forwardIR(rescaling(0.5, -0.25, x.length), x, 1, fixedArith({ fracBits: F, risk }));
    expect(risk.divisions).toBeGreaterThan(0);
  });
});
