/**
 * A whole malicious inference as a client sees it, for tests: an epoch (pair seeds, MAC key, the weights' MACs) for
 * the three parties, then one session per call: the input mask, the client's masked input d, the forward pass, and
 * the output sharings for the client; each party's session can take its masks from a MaskSource (a recorder, a pool
 * entry). Shared by protocol/malicious/epoch.test.ts and the binary pool tests (binary/pool-bin, pool-inline-trunc).
 */
import { randomBytes } from 'node:crypto';
import { maskedInput } from '../../client-sdk/src/malicious-io.js';
import { dealSeeds, type PartySeeds } from '../correlated/prg.js';
import { encode } from '../fixed-point/fixed-point.js';
import type { ModelIR } from '../ir.js';
import { inputFromClient, inputMask, outputToClient } from '../malicious/client-io.js';
import { deriveSeeds, setupEpoch } from '../malicious/epoch.js';
import type { MaskSource } from '../malicious/mask-source.js';
import type { Rep } from '../malicious/rep.js';
import { malForward, type MalForwardOptions } from '../malicious/runner.js';
import { createMalSession, type MalSession } from '../malicious/session.js';
import type { MTensor } from '../malicious/tensor.js';
import type { shareModelReplicated } from '../malicious/weights.js';
import type { PartyId } from '../ring/types.js';
import { runMal3, values, type CheatPlan, type MalRun } from './cheat.js';

export interface MalEpoch { pair: PartySeeds['pair']; alpha: Rep; weights: ModelIR<MTensor> }

/** A fresh epoch's set-up at the three parties for the model's replicated shares, with the run's counters. */
export function malEpochRun(parts: ReturnType<typeof shareModelReplicated>): Promise<MalRun<MalEpoch>> {
  const dealt = dealSeeds();
  return runMal3(async (s) => ({ pair: dealt[s.party].pair, alpha: s.alpha, weights: await setupEpoch(s, parts[s.party]) }),
    { seeds: (p) => deriveSeeds(dealt[p].pair, 'epoch', randomBytes(16)) });
}

/** A fresh epoch at the three parties (malEpochRun's values). */
export async function newMalEpoch(parts: ReturnType<typeof shareModelReplicated>): Promise<[MalEpoch, MalEpoch, MalEpoch]> {
  return values(await malEpochRun(parts));
}

export interface ClientRun {
  x: Float64Array; f: number; inputShape: number[]; opts: MalForwardOptions; label: string;
  source?: (p: PartyId) => MaskSource | undefined; plan?: CheatPlan;
  /** Called at each party after its output sharing is made (e.g. to read the session's state). */
  after?: (s: MalSession) => void;
}

/** One session: input mask, d from the client, malForward, the output sharings (the result's values, per party). */
export async function clientInference(eps: [MalEpoch, MalEpoch, MalEpoch], o: ClientRun): Promise<MalRun<Uint8Array>> {
  let masksFor!: (m: Uint8Array[]) => void;
  const masks: Uint8Array[] = [];
  const d = new Promise<Uint8Array>((res) => { masksFor = (m) => res(maskedInput(encode(o.x, o.f), m as [Uint8Array, Uint8Array, Uint8Array])); });
  return runMal3(async (s) => {
    const { r: rm, forClient } = await inputMask(s, o.x.length);
    masks[s.party] = forClient;
    if ([0, 1, 2].every((i) => masks[i])) masksFor(masks);
    const x = await inputFromClient(s, rm, await d);
    const y = await malForward(s, eps[s.party].weights, { shape: o.inputShape, data: x }, o.opts);
    const out = await outputToClient(s, y.data);
    o.after?.(s);
    return out;
  }, {
    ...(o.plan ? { plan: o.plan } : {}),
    seeds: (p) => deriveSeeds(eps[p].pair, o.label, randomBytes(16)),
    create: (ctx) => createMalSession(ctx, { alpha: eps[ctx.party].alpha, masks: o.source?.(ctx.party) }),
  });
}
