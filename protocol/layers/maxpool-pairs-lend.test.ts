/**
 * A 2x2 stride-1 MaxPool runs as two passes over adjacent pairs (runner.ts adjacentPairs), whose operand arrays are
 * lent buffers (ring/scratch.ts borrowU64) handed back once maxOfPairs is done with them. Three runs at once in one
 * process (their messages coalesced into one tick, so their continuations interleave and share the lend pool):
 * each equals the plaintext max of its own input exactly (MaxPool is a comparison and a select, no truncation), and
 * every lent buffer has come back afterwards. A pair handed back while a run still read it would be overwritten by
 * another run's borrow and give a wrong maximum here.
 */
import { describe, expect, it } from 'vitest';
import { dealSeeds } from '../correlated/prg.js';
import { createContext } from '../context.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { getKernels } from '../kernels/index.js';
import { lendStats } from '../ring/scratch.js';
import type { PartyId } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { shareFor3 } from '../testing/run3.js';
import { randomU64s } from '../testing/values.js';
import { Coalescer, memoryTransports } from '../transport/memory.js';
import { secureForward } from './runner.js';
import { shareModel } from './share-model.js';

const k = getKernels();
const [N, H, W, C] = [2, 9, 7, 3];
const model: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [H, W, C], output: 'mp', outputActivation: 'linear',
  nodes: [{ kind: 'maxpool2d', name: 'mp', inputs: ['input'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' }],
};

/** Plaintext 2x2 stride-1 max over signed ring values (NHWC). */
function plainMax(x: BigUint64Array): BigUint64Array {
  const out = new BigUint64Array(N * (H - 1) * (W - 1) * C);
  const at = (b: number, i: number, j: number, c: number) => BigInt.asIntN(64, x[((b * H + i) * W + j) * C + c]!);
  let o = 0;
  for (let b = 0; b < N; b++) for (let i = 0; i < H - 1; i++) for (let j = 0; j < W - 1; j++) for (let c = 0; c < C; c++) {
    const m = [at(b, i, j, c), at(b, i, j + 1, c), at(b, i + 1, j, c), at(b, i + 1, j + 1, c)].reduce((p, q) => (q > p ? q : p));
    out[o++] = BigInt.asUintN(64, m);
  }
  return out;
}

describe('MaxPool pair passes on lent buffers', () => {
  it('three runs at once, messages coalesced: each equals the plaintext max of its own input; every lent buffer comes back', async () => {
    const parts = shareModel(k, model, 13);
    const coalescer = new Coalescer();
    const before = lendStats().outstanding;
    // Values within the 32-bit comparison ring (|v| < 2^30), many ties between neighbours.
    const xs = [0, 1, 2].map((r) => BigUint64Array.from(randomU64s(N * H * W * C), (v, i) => BigInt.asUintN(64, BigInt.asIntN(31, r === 2 && i % 3 === 0 ? 5n : v))));
    const got = await Promise.all(xs.map(async (x) => {
      const ts = memoryTransports({ coalescer }), seeds = dealSeeds(), as = shareFor3(x);
      const res = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => secureForward(createContext(p, ts[p], seeds[p], { fracBits: 13, compareBits: 32 }), parts[p], { shape: [N, H, W, C], data: as[p] })));
      return reconstruct(k, res[0].data, res[1].data);
    }));
    xs.forEach((x, i) => expect(got[i], `run ${i}`).toEqual(plainMax(x)));
    expect(lendStats().outstanding).toBe(before);
  });
});
