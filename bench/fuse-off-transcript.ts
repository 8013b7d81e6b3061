/**
 * The unfused path's transcript (bench, review of s42-cnn): every party's sends in order (to, tag, bytes), hashed,
 * plus rounds, bytes and the per-step counters, for the seed CNN and for ReLU+MaxPool models with tournament pools,
 * 'same' padding and small maxComparisonsPerCall. Run it in two checkouts and diff the output:
 *   npx tsx bench/fuse-off-transcript.ts off   (sets fuseReluIntoMaxPool: false; without 'off' the option is unset)
 * In a checkout before the option existed, both print the default path.
 */
import { createHash } from 'node:crypto';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { MemoryTransport } from '../protocol/transport/memory.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';

const log: string[] = [];
const P = MemoryTransport.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const m of ['send', 'sendWithRelease']) {
  const orig = P[m]!;
  P[m] = function (this: MemoryTransport, to: unknown, tag: unknown, payload: unknown, ...rest: unknown[]) {
    log.push(`${this.party}>${to} ${tag} ${(payload as Uint8Array).byteLength}`);
    return orig.call(this, to, tag, payload, ...rest);
  };
}
const k = getKernels();
for (const [pool, cmp, bits, batch, shape] of [['maxpool2d', 'direct', 32, 1, [150, 125, 1]], ['maxpool2d', 'direct', 32, 2, [96, 96, 1]], ['maxpool2d', 'direct', 64, 1, [96, 96, 1]], ['maxpool2d', 'securenn', 64, 1, [96, 96, 1]]] as const) {
  log.length = 0;
  const model = seedCnn(pool, 7, shape as unknown as [number, number, number]);
  const x = uniform(seededPrg(9), batch * shape[0] * shape[1], 1).map((v) => (v + 1) / 2);
  const parts = shareModel(k, model, 13);
  const xs = shareFor3(encode(x, 13));
  const opts = process.argv[2] === 'off' ? { fuseReluIntoMaxPool: false } : {};
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [batch, ...shape], data: xs[ctx.party] }, opts as never), { fracBits: 13, compareBits: bits, comparison: cmp });
  // Per party, the ordered list of sends (the in-process interleaving between parties may vary: sort by party, keep order).
  const per = [0, 1, 2].map((p) => log.filter((l) => l.startsWith(`${p}>`)).join('\n'));
  const steps = r.transports.map((t) => JSON.stringify([...t.steps.entries()].sort()));
  console.log(pool, cmp, bits, batch, shape.join('x'), 'rounds', r.rounds, 'bytes', r.bytes, 'msgs', log.length,
    'transcript', createHash('sha256').update(per.join('\n#\n')).digest('hex').slice(0, 16),
    'steps', createHash('sha256').update(steps.join('|')).digest('hex').slice(0, 16));
}
for (const [pool, strides, padding, limit] of [[[2, 2], [2, 2], 'same', 0], [[3, 3], [2, 2], 'same', 0], [[1, 2], [1, 2], 'valid', 40], [[3, 3], [1, 1], 'valid', 50]] as const) {
  log.length = 0;
  const model: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [7, 9, 2], output: 'mp', outputActivation: 'linear',
    nodes: [{ kind: 'activation', name: 'a', inputs: ['input'], activation: 'relu' }, { kind: 'maxpool2d', name: 'mp', inputs: ['a'], poolSize: [...pool], strides: [...strides], padding }] };
  const x = uniform(seededPrg(5), 2 * 7 * 9 * 2, 1);
  const parts = shareModel(k, model, 13);
  const xs = shareFor3(encode(x, 13));
  const opts = { ...(process.argv[2] === 'off' ? { fuseReluIntoMaxPool: false } : {}), ...(limit ? { maxComparisonsPerCall: limit } : {}) };
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [2, 7, 9, 2], data: xs[ctx.party] }, opts as never), { fracBits: 13, compareBits: 32, comparison: 'direct' });
  const per = [0, 1, 2].map((p) => log.filter((l) => l.startsWith(`${p}>`)).join('\n'));
  console.log(pool.join('x'), strides.join('x'), padding, 'limit', limit, 'rounds', r.rounds, 'bytes', r.bytes, 'msgs', log.length, 'transcript', createHash('sha256').update(per.join('\n#\n')).digest('hex').slice(0, 16));
}
