import { describe, expect, it } from 'vitest';
import { partyNodeArgs } from './launch.js';

describe('partyNodeArgs (Node options of launched party processes)', () => {
  it('defaults to --single-threaded-gc; PARTY_NODE_ARGS replaces it, empty means none', () => {
    expect(partyNodeArgs({})).toEqual(['--single-threaded-gc']);
    expect(partyNodeArgs({ PARTY_NODE_ARGS: '--cpu-prof  --cpu-prof-dir=/tmp/p' })).toEqual(['--cpu-prof', '--cpu-prof-dir=/tmp/p']);
    expect(partyNodeArgs({ PARTY_NODE_ARGS: '' })).toEqual([]);
  });
});
