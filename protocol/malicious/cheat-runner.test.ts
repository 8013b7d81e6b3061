/**
 * The cheating-party harness (protocol/testing/cheat.ts) on a whole
 * malicious-mode inference: weights checked and MACed at set-up (weights.ts),
 * the client's masked input and checked output (client-io.ts, with the
 * client's side from the SDK), a Dense layer with truncation and ReLU and a
 * second Dense (runner.ts). Every message of every party is altered in turn
 * (the alteration rotating over offset, bit flip, replay, other session, to
 * keep the run within seconds); every honest party must end with
 * E_INTEGRITY and send the client nothing, and the next honest run must
 * give the right output. Two exceptions: the MAC check's last message, the
 * confirm (mac-check.ts): the bystander may finish, with the right output,
 * but the client then lacks the aborting party's shares and shows nothing;
 * and an honest party that is waiting for the client's d when the other one
 * aborts before sending the client its mask: the client then sends no d, so
 * that party ends without output by the client's silence (here the test
 * client's E_DEADLINE; in a deployment its session deadline), not by a check
 * of its own. At least one honest party always ends with E_INTEGRITY.
 * Run with the arithmetic comparisons, the binary ones, and the binary ones
 * with every mask, daBit and triple from a pool entry made by an offline
 * batch at the start of the same session (its messages altered too).
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { isMpcError, MpcError } from '../errors.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../ir.js';
import { plainForward } from '../reference/forward.js';
import type { PartyId } from '../ring/types.js';
import { runMal3, TAMPERS, type MalRun, type Sent } from '../testing/cheat.js';
import { inputFromClient, inputMask, outputToClient } from './client-io.js';
import { malForward } from './runner.js';
import { offlineBatch } from './mask-pool.js';
import { MaskRecorder, type MaskRequest } from './mask-source.js';
import type { MalComparisons } from './primitives.js';
import type { MalSession } from './session.js';
import { prepareWeights, shareModelReplicated } from './weights.js';
import { maskedInput, reconstructOutput } from '../../client-sdk/src/malicious-io.js';

const F = 13;
const model: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [2], output: 'd2', outputActivation: 'linear',
  nodes: [
    { kind: 'dense', name: 'd1', inputs: ['input'], units: 2, activation: 'relu', kernel: { shape: [2, 2], data: Float64Array.from([0.5, -1, 0.25, 0.75]) }, bias: { shape: [2], data: Float64Array.from([0.125, 0]) } },
    { kind: 'dense', name: 'd2', inputs: ['d1'], units: 1, activation: 'linear', kernel: { shape: [2, 1], data: Float64Array.from([1.5, -0.5]) } },
  ],
};
const X = Float64Array.from([0.75, -0.5]);
const WANT = plainForward(model, X, 1).data[0]!;
const parts = shareModelReplicated(model, F);

type Three = [Uint8Array, Uint8Array, Uint8Array];
/**
 * The client's channel: one message from each party. A party that stops
 * before sending its message fails it with the client's own error (the
 * client sends nothing then; without this the others would wait for d
 * forever), distinct from E_INTEGRITY so that the harness still requires
 * every honest party to reach E_INTEGRITY through its own checks.
 */
function gather(): { put(p: PartyId, m: Uint8Array): void; fail(e: unknown): void; all: Promise<Three> } {
  const got: Uint8Array[] = [];
  let done!: (v: Three) => void, failed!: (e: unknown) => void;
  const all = new Promise<Three>((r, j) => { done = r; failed = j; });
  all.catch(() => undefined);
  return { put: (p, m) => { got[p] = m; if ([0, 1, 2].every((i) => got[i])) done(got as Three); }, fail: (e) => failed(e), all };
}

/** One inference; the client's result (or its refusal) comes back beside the parties' outcomes. */
/** `pool`: the masks from an entry of `pool.plan` made in the same session first (an offline batch), or recorded by `pool.recorders`. */
async function inference(plan?: Parameters<typeof runMal3>[1], comparisons: MalComparisons = 'arithmetic', pool?: { plan?: readonly MaskRequest[]; recorders?: MaskRecorder[] }): Promise<{ run: MalRun<number>; client: Promise<number> }> {
  const masks = gather(), outs = gather();
  const d = masks.all.then((m) => maskedInput(encode(X, F), m));
  d.catch(() => undefined);
  const client = outs.all.then((m) => decode(reconstructOutput(m, 1), F)[0]!);
  client.catch(() => undefined);
  const run = await runMal3(async (s: MalSession) => {
    try {
      if (pool?.plan) s.masks = (await offlineBatch(s, pool.plan, 1, 'c'))[0];
      else if (pool?.recorders) s.masks = pool.recorders[s.party];
      const w = await prepareWeights(s, parts[s.party]);
      const { r, forClient } = await inputMask(s, 2);
      masks.put(s.party, forClient);
      const x = await inputFromClient(s, r, await d);
      const y = await malForward(s, w, { shape: [1, 2], data: x }, { comparisons });
      outs.put(s.party, await outputToClient(s, y.data));
      return 1;
    } catch (e) {
      const gaveUp = new MpcError('E_DEADLINE', 'test client: a party stopped, nothing more is sent');
      masks.fail(gaveUp);
      outs.fail(gaveUp);
      throw e;
    }
  }, { ...plan, watchdogMs: 10_000 });
  return { run, client };
}

const code = (o: PromiseSettledResult<unknown>): string => (o.status === 'fulfilled' ? 'output' : isMpcError(o.reason) ? o.reason.code : String(o.reason));
const close = (v: number): boolean => Math.abs(v - WANT) <= 3 / 2 ** F;

/** The harness's loop over every message of every party (see the header), for the runner's comparisons. */
async function everyMessage(comparisons: MalComparisons, pooled = false): Promise<void> {
  let pool: { plan: readonly MaskRequest[] } | undefined;
  if (pooled) {
    const recorders = [new MaskRecorder(), new MaskRecorder(), new MaskRecorder()];
    expect(close(await (await inference(undefined, comparisons, { recorders })).client)).toBe(true);
    pool = { plan: recorders[0]!.plan };
    expect(pool.plan.map((r) => r.kind)).toContain('bin.triples');
  }
  const honest = await inference(undefined, comparisons, pool);
  expect(close(await honest.client)).toBe(true);
  const other = await inference(undefined, comparisons, pool);
  let cases = 0, confirms = 0, waitedForClient = 0, binaryCases = 0, zeroCases = 0;
  for (const cheater of [0, 1, 2] as PartyId[]) {
    const sent: readonly Sent[] = honest.run.transports[cheater].sent;
    expect(sent.length).toBeGreaterThan(10);
    for (let index = 0; index < sent.length; index++) {
      const tamper = TAMPERS[(index + cheater) % TAMPERS.length]!;
      const { run, client } = await inference({ plan: { cheater, index, tamper, otherSession: other.run.transports[cheater].sent } }, comparisons, pool);
      const alt = run.transports[cheater].altered;
      if (!alt) continue;
      cases++;
      if (/(andB|triplesB|openB|zeroB)#/.test(alt.tag)) binaryCases++;
      if (/:zeroB$/.test(alt.tag)) zeroCases++;
      const label = `${comparisons}: P${cheater} ${tamper} message ${index} '${alt.tag}' to P${alt.to}`;
      const honestParties = ([0, 1, 2] as PartyId[]).filter((p) => p !== cheater);
      if (alt.tag.endsWith(':confirm')) {
        confirms++;
        expect(code(run.outcomes[alt.to]), label).toBe('E_INTEGRITY');
      } else {
        const codes = honestParties.map((p) => code(run.outcomes[p]));
        expect(codes.every((c) => c === 'E_INTEGRITY' || c === 'E_DEADLINE'), `${label}: ${codes.join(', ')}`).toBe(true);
        expect(codes, label).toContain('E_INTEGRITY');
        waitedForClient += codes.filter((c) => c === 'E_DEADLINE').length;
      }
      // The client never shows a result: an honest party that aborted sent it no output.
      await expect(client, label).rejects.toBeDefined();
      const next = await inference(undefined, comparisons, pool);
      expect(close(await next.client), `${label}: next run`).toBe(true);
    }
  }
  expect(cases).toBeGreaterThan(30);
  expect(confirms).toBeGreaterThan(0);
  // Only alterations before the client's d can leave a party waiting for it.
  expect(waitedForClient).toBeLessThan(cases / 4);
  // The binary run's messages were altered too (ANDs, triples, openings, zero checks); the arithmetic run has none.
  if (comparisons === 'binary') expect(binaryCases).toBeGreaterThan(20);
  else expect(binaryCases).toBe(0);
  // With a pool entry, the verification's zero-check hashes (in the MAC check's sigma round) were altered too.
  if (pooled) expect(zeroCases).toBeGreaterThan(0);
}

describe('cheating-party harness on a whole malicious inference (weights, client input, Dense + truncation + ReLU, Dense, client output)', () => {
  it('every message of every party altered in turn: honest parties end with E_INTEGRITY, the client shows nothing; the next honest run is right', () => everyMessage('arithmetic'), 300_000);

  it("the same with comparisons: 'binary' (the ReLU through protocol/malicious/binary/: ANDs, daBits, triples, their verification)", () => everyMessage('binary'), 300_000);

  it("the same with comparisons: 'binary' and the masks, daBits and triples from a pool entry made in the session's offline batch first (the batch's messages, e with rho and sigma, the zero-check hashes in the MAC check)", () => everyMessage('binary', true), 300_000);
});
