import { describe, expect, it } from 'vitest';
import { LOCAL_PARTY_NODE_ARGS, partyNodeArgs } from './launch.js';

describe('partyNodeArgs (Node options of launched party processes)', () => {
  it('defaults to single-threaded, non-incremental GC; PARTY_NODE_ARGS replaces it, empty means none', () => {
    expect(partyNodeArgs({})).toEqual(['--single-threaded-gc', '--no-incremental-marking']);
    expect(LOCAL_PARTY_NODE_ARGS).toEqual(['--single-threaded-gc', '--no-incremental-marking']);
    expect(partyNodeArgs({ PARTY_NODE_ARGS: '--cpu-prof  --cpu-prof-dir=/tmp/p' })).toEqual(['--cpu-prof', '--cpu-prof-dir=/tmp/p']);
    expect(partyNodeArgs({ PARTY_NODE_ARGS: '' })).toEqual([]);
  });
});
