import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { PARTY_BUNDLE } from '../scripts/build-party.mjs';
import { LOCAL_PARTY_NODE_ARGS, partyNodeArgs, partyProgram } from './launch.js';

describe('partyNodeArgs (Node options of launched party processes)', () => {
  it('defaults to single-threaded, non-incremental GC; PARTY_NODE_ARGS replaces it, empty means none', () => {
    expect(partyNodeArgs({})).toEqual(['--single-threaded-gc', '--no-incremental-marking']);
    expect(LOCAL_PARTY_NODE_ARGS).toEqual(['--single-threaded-gc', '--no-incremental-marking']);
    expect(partyNodeArgs({ PARTY_NODE_ARGS: '--cpu-prof  --cpu-prof-dir=/tmp/p' })).toEqual(['--cpu-prof', '--cpu-prof-dir=/tmp/p']);
    expect(partyNodeArgs({ PARTY_NODE_ARGS: '' })).toEqual([]);
  });
});

describe('partyProgram (how launched parties run the program)', () => {
  it('default: the bundle, rebuilt from the sources now, which runs as the party program', async () => {
    const before = Date.now();
    const p = await partyProgram({});
    expect(p.runtime).toBe('bundle');
    expect(p.note).toBeUndefined();
    expect(p.args).toEqual([PARTY_BUNDLE]);
    expect(statSync(PARTY_BUNDLE).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
    // It is main.ts: a bad config is refused the same way (exit 2, the config error on stderr).
    const r = spawnSync(process.execPath, [PARTY_BUNDLE, '--party', '1', '--config', '/nonexistent/deploy.json'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^party: config: .*not found/m);
  });

  it('PARTY_RUNTIME=tsx runs the sources through tsx; other values are refused', async () => {
    const p = await partyProgram({ PARTY_RUNTIME: 'tsx' });
    expect(p.runtime).toBe('tsx');
    expect(p.args[0]).toBe('--import');
    expect(p.args.at(-1)).toMatch(/parties[/\\]main\.ts$/);
    await expect(partyProgram({ PARTY_RUNTIME: 'fast' })).rejects.toThrow(/PARTY_RUNTIME must be/);
  });

  it('PARTY_BUNDLE=<file> runs that prebuilt bundle, resolved, without building one', async () => {
    const p = await partyProgram({ PARTY_BUNDLE: 'some/dir/party.mjs' });
    expect(p).toEqual({ runtime: 'bundle', args: [path.resolve('some/dir/party.mjs')] });
  });
});
