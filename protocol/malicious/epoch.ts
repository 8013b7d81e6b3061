/**
 * An epoch of the malicious mode: the long-lived set-up the three parties
 * make once per model load and reuse across client sessions (SPDZ_2k,
 * Cramer, Damgård, Escudero, Scholl, Xing, CRYPTO 2018, §3: the MAC key is
 * never opened, only sigma = mu - alpha y, a sharing of 0 in an honest run,
 * so one key serves any number of passing checks; replicated as in Dalskov,
 * Escudero, Keller, PoPETs 2020).
 *
 *  1. Epoch pair seeds: fresh, one per pair of parties (the caller's
 *     exchange; parties/malicious-desk.ts sends P0 -> P1, P1 -> P2,
 *     P2 -> P0), so no party holds the third pair's.
 *  2. Set-up session (`setupEpoch`), on seeds derived from the epoch's with
 *     the label 'epoch' (`deriveSeeds`): the MAC key alpha (session.ts, from
 *     the pair PRGs), the weights' copy check and their MACs under alpha
 *     (weights.ts prepareWeights), and one batched MAC check (mac-check.ts)
 *     that verifies the weights' MACs before any session uses them.
 *  3. Each later session (client run or offline batch, mask-pool.ts) runs
 *     on seeds derived from the epoch's with its own label (the session id
 *     and a counter the three parties agree on: domain separation, so no two
 *     sessions share a PRG stream), with the epoch's alpha and weight MACs,
 *     and runs its own MAC check before any output, as before.
 *
 * Rotation: after ANY failed check (E_INTEGRITY) the epoch is discarded
 * and a new one (new seeds, new alpha, new weight MACs, an empty pool) is set
 * up before the next session. A failed check has opened a nonzero sigma =
 * sum chi_j (m_j - alpha y_j), i.e. the error e_m - alpha e_y the cheater
 * introduced, combined with coefficients it learns; sigma is a linear
 * function of alpha with the cheater's known errors, so it reveals
 * information on alpha mod 2^s (e.g. e_m - alpha e_y = sigma with e_y odd
 * gives alpha outright). Reusing that key would let the cheater forge MACs
 * in the next session. A passing check reveals sigma = 0, nothing new. The
 * caller also rotates after a configured number of sessions (the
 * `malicious.epochSessions` config key), bounding what one key protects.
 *
 * Cost: set-up epochSetupCost(weights) = setupCost + prepareWeightsCost +
 * macCheckCost (6 rounds, 48 bytes per weight element + 1,200); each session in the
 * epoch then costs setupCost (its coin commitments) instead of
 * setupCost + prepareWeightsCost.
 */
import { createHash } from 'node:crypto';
import type { PartySeeds } from '../correlated/prg.js';
import type { ModelIR } from '../ir.js';
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { macCheck, macCheckCost } from './mac-check.js';
import { setupCost, type MalSession } from './session.js';
import type { MTensor } from './tensor.js';
import { prepareWeights, prepareWeightsCost, type RepTensor } from './weights.js';

/** The declared cost of setupEpoch on a fresh session (its set-up included), for n weight elements. */
export const epochSetupCost = (weightElements: number): Cost => addCost(setupCost(), prepareWeightsCost(weightElements), macCheckCost());

/**
 * This party's seeds of one session of the epoch: pair seed k =
 * SHA-256("mal.epoch.pair", epoch seed k, label)[0..16) for each pair it is
 * in; `own` fresh (the caller's). Two labels never give the same stream.
 */
export function deriveSeeds(epochPair: PartySeeds['pair'], label: string, own: Uint8Array): PartySeeds {
  const pair = epochPair.map((seed) => (seed ? new Uint8Array(createHash('sha256').update('mal.epoch.pair').update(new Uint8Array([0])).update(seed).update(label).digest()).slice(0, 16) : undefined));
  return { pair, own };
}

/**
 * Step 2 on a fresh session (createMalSession on the 'epoch' seeds): the
 * weights checked and MACed under the session's key, and a MAC check over
 * them. Returns the MACed weights; the epoch's key is `s.alpha`. A failure
 * is E_INTEGRITY and no epoch. Cost epochSetupCost(weight elements).
 */
export async function setupEpoch(s: MalSession, model: ModelIR<RepTensor>): Promise<ModelIR<MTensor>> {
  const weights = await prepareWeights(s, model);
  await macCheck(s);
  return weights;
}
