import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { networkA, seedCnn } from '../seed-models.js';
import { inputMaskCost, outputToClientCost } from './client-io.js';
import { epochSetupCost } from './epoch.js';
import { MALICIOUS_REVISION } from './revision.js';
import { malForwardCost } from './runner.js';
import { setupCost } from './session.js';

// The declared costs of reference malicious runs (both comparison domains, Network A and the seed CNN at batch 1
// and 2, the set-ups and the client's I/O), as one fingerprint per revision. A change of the malicious messages
// that changes any of them must raise MALICIOUS_REVISION (revision.ts), so that parties on the two builds refuse
// to link instead of running together and failing with E_INTEGRITY (a false alarm that drops the epoch).
const FINGERPRINTS: Record<number, string> = {
  1: '52edad62b9653a73', // at 6371911, the last build of revision 1 (for the record: revision 1 spans several builds)
  2: 'e6e3b86f62c9e981',
};

function fingerprint(): { digest: string; costs: Record<string, unknown> } {
  const costs: Record<string, unknown> = {
    setup: setupCost(), epochSetup: epochSetupCost(1000), inputMask: inputMaskCost(784), output: outputToClientCost(),
  };
  for (const [name, model] of [['networkA', networkA()], ['seedCnn', seedCnn('maxpool2d')]] as const) {
    for (const comparisons of ['arithmetic', 'binary'] as const) {
      for (const N of [1, 2]) costs[`${name}/${comparisons}/${N}`] = malForwardCost(model, N, 13, { comparisons });
    }
  }
  return { digest: createHash('sha256').update(JSON.stringify(costs)).digest('hex').slice(0, 16), costs };
}

describe('the malicious messages\' revision (revision.ts)', () => {
  it('the declared costs of the reference runs match the fingerprint recorded for MALICIOUS_REVISION', () => {
    const { digest, costs } = fingerprint();
    expect(Object.keys(costs)).toHaveLength(12);
    expect(FINGERPRINTS[MALICIOUS_REVISION], `the malicious messages changed (declared costs ${digest}): raise MALICIOUS_REVISION in revision.ts and record the new fingerprint here`).toBe(digest);
  });
});
