/**
 * The fused ReLU + MaxPool (maxpool.ts fuseRelu, the tournament's last level) keeps to maxComparisonsPerCall: the
 * fused last level compares 3 values per window (its 2 elements and their difference), so a 1x2 stride-2 pool
 * chunked at `limit` elements per call compared up to 1.5x the limit in one call before the fix. And a party whose
 * fuse setting differs from the others' fails the run with a coded error at every party, never a result (the parties
 * also agree PARTY_FUSE_RELU_MAXPOOL at the link HELLO, parties/link-hello.ts, so such a run should not start).
 */
import { describe, expect, it } from 'vitest';
import { getKernels } from '../kernels/index.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { reconstruct } from '../sharing/sharing.js';
import { makeContexts, run3, shareFor3 } from '../testing/run3.js';
import { randomU64s } from '../testing/values.js';
import { secureForward } from './runner.js';
import { shareModel } from './share-model.js';

const k = getKernels();

describe('fused ReLU + MaxPool: the comparison limit per call', () => {
  it('1x2 stride 2: every fused call compares at most maxComparisonsPerCall values; exact result', async () => {
    const model: ModelIR<FloatTensor> = {
      formatVersion: IR_FORMAT_VERSION, inputShape: [4, 4, 1], output: 'mp', outputActivation: 'linear',
      nodes: [
        { kind: 'activation', name: 'a', inputs: ['input'], activation: 'relu' },
        { kind: 'maxpool2d', name: 'mp', inputs: ['a'], poolSize: [1, 2], strides: [1, 2], padding: 'valid' },
      ],
    };
    const n = 16, limit = 16;
    const r0 = randomU64s(n);
    const x = BigUint64Array.from({ length: n }, (_, i) => BigInt.asUintN(64, BigInt.asIntN(30, r0[i]!)));
    const parts = shareModel(k, model, 13);
    const xs = shareFor3(x);
    const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, 4, 4, 1], data: xs[ctx.party] }, { fuseReluIntoMaxPool: true, maxComparisonsPerCall: limit }), { fracBits: 13, compareBits: 32 });
    const calls = r.transports[0].steps.get('ReLU+MaxPool')?.calls ?? 0;
    // 8 windows of 2: 24 compared values (16 elements, 8 differences), so at least 2 calls at 16 per call; with
    // floor(16 / 3) = 5 windows per call, 2 calls (15 and 9 values).
    expect(calls).toBeGreaterThanOrEqual(Math.ceil((8 * 3) / limit));
    expect(calls).toBe(2);
    const got = reconstruct(k, r.results[0].data, r.results[1].data);
    const want = BigUint64Array.from({ length: 8 }, (_, w) => {
      const a = BigInt.asIntN(64, x[2 * w]!), b = BigInt.asIntN(64, x[2 * w + 1]!);
      const m = a > b ? a : b;
      return BigInt.asUintN(64, m > 0n ? m : 0n);
    });
    expect(got).toEqual(want);
  });

  it('fuse setting at one party only: every party rejects with E_PROTOCOL_DESYNC (in-process transports), no result', async () => {
    const model: ModelIR<FloatTensor> = {
      formatVersion: IR_FORMAT_VERSION, inputShape: [5, 6, 2], output: 'mp', outputActivation: 'linear',
      nodes: [
        { kind: 'activation', name: 'a', inputs: ['input'], activation: 'relu' },
        { kind: 'maxpool2d', name: 'mp', inputs: ['a'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
      ],
    };
    const r0 = randomU64s(60);
    const x = BigUint64Array.from({ length: 60 }, (_, i) => BigInt.asUintN(64, BigInt.asIntN(30, r0[i]!)));
    const parts = shareModel(k, model, 13);
    const xs = shareFor3(x);
    for (const odd of [0, 1, 2]) {
      const { contexts, transports } = makeContexts({ fracBits: 13, compareBits: 32 });
      const res = await Promise.allSettled(contexts.map((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, 5, 6, 2], data: xs[ctx.party] }, { fuseReluIntoMaxPool: ctx.party === odd })
        .catch((e: unknown) => { for (const t of transports) t.close(e as Error); throw e; })));
      expect(res.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'result')), `fused at P${odd} only`).toEqual(['E_PROTOCOL_DESYNC', 'E_PROTOCOL_DESYNC', 'E_PROTOCOL_DESYNC']);
    }
  });
});
