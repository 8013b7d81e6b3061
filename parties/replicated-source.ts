/**
 * The malicious mode's replicated weight shares of the served model
 * (docs/MALICIOUS.md; protocol/malicious/weights.ts): party i holds
 * (w_i, w_{i+1}) of every weight, lifted into Z_2^128. From a model-import
 * bundle (`mpc-import --replicated`: replicated-a.bin, replicated-b.bin,
 * checked against the manifest's sizes and sha256 by
 * model-import/bundle-replicated.ts) or, in process (tests), from the memory
 * bundle's `replicated`. A source without them is refused with
 * E_BUNDLE_INTEGRITY: a malicious party never serves without them. The two
 * copies of each share are compared between their holders at every
 * session's set-up (prepareWeights, parties/malicious-desk.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadReplicatedWeights } from '../model-import/bundle-replicated.js';
import { MpcError } from '../protocol/errors.js';
import type { ModelIR } from '../protocol/ir.js';
import type { RepTensor } from '../protocol/malicious/weights.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { ModelSource } from './model-source.js';

const refuse = (party: PartyId, why: string): MpcError => new MpcError('E_BUNDLE_INTEGRITY', `model: security 'malicious' needs the replicated weight shares (mpc-import --replicated); ${why}`, { party, step: 'model.load' });

export function loadReplicatedModel(src: ModelSource, party: PartyId): ModelIR<RepTensor> {
  switch (src.kind) {
    case 'memory':
      if (!src.bundle.replicated) throw refuse(party, 'the in-process bundle has none');
      return src.bundle.replicated;
    case 'bundle': {
      const direct = path.join(src.dir, 'manifest.json');
      const dir = existsSync(direct) ? src.dir : path.join(src.dir, `party${party}`);
      let manifest: Parameters<typeof loadReplicatedWeights>[2];
      try {
        manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as typeof manifest;
      } catch (e) {
        throw new MpcError('E_BUNDLE_INTEGRITY', 'model: cannot read the bundle manifest for the replicated shares', { party, step: 'model.load', cause: e });
      }
      if (!manifest.replicated) throw refuse(party, 'this bundle has none');
      return loadReplicatedWeights(dir, party, manifest);
    }
    case 'dev-file':
      throw refuse(party, 'a dev model file has none');
    case 'ensemble':
      throw new MpcError('E_SECURITY_MODE', "model: a PATE ensemble is not served with security 'malicious'", { party, step: 'model.load' });
  }
}
