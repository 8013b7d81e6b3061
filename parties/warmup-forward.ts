/**
 * The start-up warm-up's dummy-data run at one party (warmup.ts): one
 * forward pass on the model's shapes (and the model's default output policy,
 * if not plain logits), P0's dummy input, and the shape key of the client run
 * it stands for.
 */
import { randomBytes } from 'node:crypto';
import { createContext } from '../protocol/context.js';
import type { DealScript } from '../protocol/correlated/dealer.js';
import type { PartySeeds } from '../protocol/correlated/prg.js';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { secureForward } from '../protocol/layers/runner.js';
import { fuseOptions } from './fuse-knob.js';
import { privateOutput } from '../protocol/privacy/index.js';
import type { AShare } from '../protocol/ring/types.js';
import { kernelsFor } from '../runtime/kernels.js';
import { resolveModelPolicy } from './model-policy.js';
import type { PartyCore } from './party-core.js';
import { shapeKey } from './preprocessing.js';
import { isPlainLogits, policyKey } from './privacy.js';
import { runSentinel } from './range-sentinel.js';
import type { SessionTransport } from './session-transport.js';
import type { PlanMasks } from './weight-masks.js';

/** The shape key (preprocessing.ts) of a client run of one session of `batch` images with the model's default policy. */
export function shapeOf(c: PartyCore, batch: number, masks: PlanMasks): string {
  const m = c.model!;
  return shapeKey(m.info.modelHash, c.opts.compareBits ?? 32, c.opts.compareRadix ?? 4, masks, [{ batch, policy: policyKey(resolveModelPolicy(m, undefined)) }], m.info.rangeSentinel === true);
}

/** One warm-up forward pass (and the model's default output policy, if not plain logits) at this party. */
export async function forward(c: PartyCore, view: SessionTransport, runId: string, batch: number, masks: PlanMasks | null, seeds: PartySeeds | (() => Promise<PartySeeds>), dealScript?: DealScript, inputs?: Map<number, BigUint64Array>): Promise<void> {
  const model = c.model!;
  const weightMasks = c.weightMasks.session(runId, masks, model.info.modelHash);
  const ctx = createContext(c.party, view, typeof seeds === 'function' ? await seeds() : seeds, {
    fracBits: model.info.fracBits, truncation: model.truncation, compareBits: c.opts.compareBits ?? 32, compareRadix: c.opts.compareRadix ?? 4,
    kernels: kernelsFor(c.opts.kernels), ...(weightMasks ? { weightMasks } : {}), ...(dealScript ? { dealScript } : {}),
  });
  const input = c.party === 0 ? dummyInput(c, inputs ?? new Map(), batch) : new BigUint64Array(batch * model.inputSize);
  const nets = model.teachers ?? [model.model];
  // As a client run does (run-executor.ts): its dealt jobs prepare the bundles of client runs of this shape.
  const sentinel = runSentinel(ctx, model.info.rangeSentinel === true);
  let out;
  for (const [t, net] of nets.entries()) out = await secureForward(sentinel.ctx, net, { shape: [batch, ...model.info.inputShape], data: input as AShare }, { weightKeyPrefix: model.teachers ? `t${t}/` : '', ...fuseOptions() });
  c.weightMasks.built(masks);
  const policy = resolveModelPolicy(model, undefined);
  if (!model.teachers && !isPlainLogits(policy)) await privateOutput(sentinel.ctx, { shape: [batch, model.outputSize], data: out!.data }, policy);
  await sentinel.finish();
}

/** P0's dummy input share of `batch` images: the fixed-point encoding of uniform [0, 1) values from node:crypto (cached per batch size in `inputs`). */
export function dummyInput(c: PartyCore, inputs: Map<number, BigUint64Array>, batch: number): BigUint64Array {
  let x = inputs.get(batch);
  if (!x) {
    const n = batch * c.model!.inputSize;
    const r = new Uint32Array(randomBytes(4 * n).buffer, 0, n);
    const u = new Float64Array(n);
    for (let i = 0; i < n; i++) u[i] = r[i]! / 2 ** 32;
    inputs.set(batch, (x = encode(u, c.model!.info.fracBits)));
  }
  return x;
}
