/**
 * A peer whose event loop is blocked cannot answer keepalive pings. With the
 * old 5 s ping timeout, a party stuck in one long compute step under load
 * lost its links mid-run (EfficientNet-B0 on a loaded machine, BENCHMARKS.md
 * zoo section). The dialer now waits keepaliveTimeoutMs (default 60 s): a
 * short timeout drops the link during a 2.5 s block (the control), the
 * default keeps it through a 6 s one.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerMesh } from './mesh.js';

const ROOT = path.resolve(import.meta.dirname, '..');

function startPeer(): Promise<{ child: ChildProcessWithoutNullStreams; port: number; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'parties/testing/keepalive-peer.ts')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('peer did not start in 30 s')), 30_000);
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      const m = /^port (\d+)$/.exec(l);
      if (m) { clearTimeout(t); resolve({ child, port: Number(m[1]), lines }); }
    });
    child.on('exit', () => { clearTimeout(t); reject(new Error('peer exited')); });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('mesh keepalive: a peer blocked in a long compute step', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => { for (const c of cleanup.splice(0)) await c(); });

  async function linkDropsDuringBlock(blockMs: number, keepaliveTimeoutMs: number | undefined): Promise<number> {
    const { child, port, lines } = await startPeer();
    cleanup.push(async () => { child.stdin.end(); await new Promise((r) => { if (child.exitCode !== null) r(null); else { child.once('exit', r); setTimeout(() => { child.kill(); r(null); }, 5000).unref(); } }); });
    const p1 = new PeerMesh({ party: 1, tls: null, reconnectMs: { min: 20, max: 200 }, keepaliveMs: 200, ...(keepaliveTimeoutMs === undefined ? {} : { keepaliveTimeoutMs }) });
    cleanup.unshift(() => p1.close());
    await p1.start();
    p1.setDialAddress(0, `127.0.0.1:${port}`);
    await waitFor(() => p1.isUp(0), 10_000, 'link up');
    const upsBefore = p1.health[0]!.ups;
    await sleep(600); // a few pings answered while the peer is idle
    child.stdin.write(`block ${blockMs}\n`);
    await waitFor(() => lines.includes('unblocked'), 15_000, 'peer unblocked');
    await sleep(500);
    return p1.health[0]!.ups - upsBefore + (p1.isUp(0) ? 0 : 1);
  }

  it('control: a 300 ms ping timeout drops the link while the peer is blocked for 2.5 s', async () => {
    expect(await linkDropsDuringBlock(2500, 300)).toBeGreaterThan(0);
  }, 60_000);

  it('default: the link survives a 6 s block, longer than the old 5 s timeout (no reconnect)', async () => {
    expect(await linkDropsDuringBlock(6000, undefined)).toBe(0);
  }, 60_000);
});
