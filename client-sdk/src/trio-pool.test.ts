/**
 * TrioPool's failover codes without party processes (the pool over real trios: test/trios.test.ts): a trio whose
 * party met a process fault (E_PROCESS_FAULT: it fails its sessions and restarts, parties/process-fault.ts) cannot
 * serve the prediction, so the pool runs it on the next trio; a caller's error is thrown as it is.
 */
import { describe, expect, it } from 'vitest';
import { PrivateInferenceError } from './errors.js';
import { TrioPool } from './trio-pool.js';

const failing = (code: string) => ({ predict: (async () => { throw new PrivateInferenceError(code as never, `trio failed with ${code}`); }) as never });
const answering = { predict: (async () => ({ label: 'ok' })) as never };

describe('TrioPool failover codes', () => {
  it('E_PROCESS_FAULT at one trio: the prediction runs on the next', async () => {
    const pool = new TrioPool([failing('E_PROCESS_FAULT'), answering]);
    const r = (await pool.predict({ data: new Float32Array(1), shape: [1] })) as unknown as { label: string };
    expect(r.label).toBe('ok');
    expect(pool.stats.map((s) => [s.served, s.failedOver])).toEqual([[0, 1], [1, 0]]);
  });
  it('a caller\'s error (E_BUDGET_EXHAUSTED) is not run again', async () => {
    const pool = new TrioPool([failing('E_BUDGET_EXHAUSTED'), answering]);
    await expect(pool.predict({ data: new Float32Array(1), shape: [1] })).rejects.toMatchObject({ code: 'E_BUDGET_EXHAUSTED' });
    expect(pool.stats.map((s) => s.served)).toEqual([0, 0]);
  });
});
