import { describe, expect, it } from 'vitest';
import { encode } from '../fixed-point/fixed-point.js';
import { isMpcError } from '../errors.js';
import { networkA } from '../seed-models.js';
import type { PartyId } from '../ring/types.js';
import { runMal3, values } from '../testing/cheat.js';
import { liftSigned, toBigints } from './ring128.js';
import { reconstructRep } from './rep.js';
import { openLow } from './open.js';
import { macCheck, macCheckCost } from './mac-check.js';
import { openLowCost } from './open.js';
import { setupCost } from './session.js';
import { checkWeightCopies, prepareWeights, prepareWeightsCost, shareModelReplicated, weightCheckCost, type RepTensor } from './weights.js';
import type { DenseNode, ModelIR } from '../ir.js';

const F = 13;
const small = (): ModelIR => {
  const m = networkA(7);
  // One dense layer, a few weights with edge values (0, -1, +-max encodable).
  const d = m.nodes[0] as DenseNode<{ shape: number[]; data: Float64Array }>;
  const kernel = { shape: [3, 2], data: Float64Array.from([0, -1, 2 ** 39, -(2 ** 39), 0.5, -0.125]) };
  return { ...m, inputShape: [3], nodes: [{ ...d, kernel, bias: { shape: [2], data: Float64Array.from([1, -2]) } }], output: d.name };
};

describe('malicious-mode weights (weights.ts): replicated shares, copy check at load, MACs at set-up', () => {
  it('the three parts reconstruct to the lifted fixed-point weights; the two copies of each share agree', () => {
    const m = small();
    const parts = shareModelReplicated(m, F);
    const node = (p: number) => parts[p]!.nodes[0] as DenseNode<RepTensor>;
    const k = reconstructRep([node(0).kernel.data, node(1).kernel.data, node(2).kernel.data]);
    expect(toBigints(k)).toEqual(toBigints(liftSigned(encode((m.nodes[0] as DenseNode<{ shape: number[]; data: Float64Array }>).kernel.data, F))));
    expect(node(0).kernel.shape).toEqual([3, 2]);
  });

  it('prepareWeights: MACed weights that open (after the MAC check) to the weights; cost matches the counters', async () => {
    const m = small();
    const parts = shareModelReplicated(m, F);
    const r = await runMal3(async (s) => {
      const w = await prepareWeights(s, parts[s.party]);
      const nd = w.nodes[0] as DenseNode<{ shape: number[]; data: Parameters<typeof openLow>[1] }>;
      const k = await openLow(s, nd.kernel.data);
      const b = await openLow(s, nd.bias!.data);
      await macCheck(s);
      return [Array.from(k), Array.from(b)];
    });
    const want = [Array.from(encode([0, -1, 2 ** 39, -(2 ** 39), 0.5, -0.125], F)), Array.from(encode([1, -2], F))];
    for (const v of values(r)) expect(v).toEqual(want);
    expect(r.bytes).toBe(setupCost().bytes + prepareWeightsCost(8).bytes + openLowCost(6).bytes + openLowCost(2).bytes + macCheckCost().bytes);
    const steps = r.transports.reduce((t, tr) => t + (tr.steps.get('mal.weights')?.bytesSent ?? 0), 0);
    expect(steps).toBe(prepareWeightsCost(8).bytes);
    expect(prepareWeightsCost(8).rounds).toBe(1);
    expect(weightCheckCost()).toEqual({ rounds: 1, bytes: 96 });
  });

  it('a holder with another copy of a share (an altered or foreign bundle): E_INTEGRITY at load, every party aborts', async () => {
    for (const holder of [0, 1, 2] as PartyId[]) {
      for (const which of ['a', 'b'] as const) {
        const parts = shareModelReplicated(small(), F);
        const nd = parts[holder]!.nodes[0] as DenseNode<RepTensor>;
        nd.kernel.data[which][0]! ^= 1;
        const r = await runMal3(async (s) => { await checkWeightCopies(s, parts[s.party]); await prepareWeights(s, parts[s.party]); return 'loaded'; });
        const codes = r.outcomes.map((o) => (o.status === 'fulfilled' ? o.value : isMpcError(o.reason) ? o.reason.code : 'other'));
        expect(codes).toEqual(['E_INTEGRITY', 'E_INTEGRITY', 'E_INTEGRITY']);
      }
    }
  });
});
