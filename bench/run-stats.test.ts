/** bench/run-stats.ts outputErrors: the bench's error on the logits and after the output activation. */
import { describe, expect, it } from 'vitest';
import { outputErrors } from './run-stats.js';

describe('outputErrors', () => {
  it('softmax: a shift of every logit by the same amount is a logit error but no probability error', () => {
    const want = Float64Array.from([2.49, -1.2, 0.3, 2.0, 1.0, -3.0]);
    const got = want.map((v) => v + 5e-3);
    const e = outputErrors(got, want, 2, 'softmax');
    expect(e.abs).toBeCloseTo(5e-3, 12);
    expect(e.rel).toBeCloseTo(5e-3 / 3.0, 12);
    expect(e.prob).toBeLessThan(1e-6);
    // One logit moved: the probabilities of its row move too.
    const one = Float64Array.from(want); one[0] = want[0]! + 0.1;
    expect(outputErrors(one, want, 2, 'softmax').prob).toBeGreaterThan(1e-2);
  });

  it('sigmoid per element, linear as is', () => {
    const want = Float64Array.from([0, 0]);
    const e = outputErrors([0.01, 0], want, 1, 'sigmoid');
    expect(e.prob).toBeCloseTo(0.0025, 4); // sigmoid'(0) = 1/4
    expect(outputErrors([0.01, 0], want, 1, 'linear').prob).toBeCloseTo(0.01, 6);
  });
});
