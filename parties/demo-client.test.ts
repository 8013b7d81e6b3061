/**
 * parties/demo-client.ts against fake parties (client-sdk/testing/fake-parties.ts)
 * that announce the run-time range sentinel: the demo client must check both
 * shares of s like the SDK (client-sdk/src/range-sentinel.ts) and print no
 * prediction when one is missing or s != 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeParties, type PartyBehavior } from '../client-sdk/testing/fake-parties.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'demo-client-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the demo client (async: the fake parties answer from this process). */
function demoClient(clientJson: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'parties/demo-client.ts'), clientJson], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

async function runAgainst(name: string, behavior: Partial<Record<0 | 1 | 2, PartyBehavior>>) {
  const fake = await startFakeParties({ model: { rangeSentinel: true, compareBound: 'samples-only' }, behavior });
  try {
    const file = path.join(tmp, `${name}.json`);
    writeFileSync(file, JSON.stringify({ parties: fake.urls, token: fake.token, modelHash: fake.model.modelHash }));
    return await demoClient(file);
  } finally {
    await fake.close();
  }
}

describe('demo client with parties that run the range sentinel', () => {
  it('prints the prediction when s_0 + s_1 = 0', async () => {
    const r = await runAgainst('zero', { 0: { sentinelHeader: '0000000000000005' }, 1: { sentinelHeader: 'fffffffffffffffb' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/prediction: (NORMAL|PNEUMONIA) \(\d+\.\d\d %\)/);
  }, 90_000);

  it('refuses the result when s != 0 (E_RANGE_SENTINEL) and prints no prediction', async () => {
    const r = await runAgainst('nonzero', { 0: { sentinelHeader: '0000000000000005' }, 1: { sentinelHeader: '0000000000000000' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error E_RANGE_SENTINEL: /);
    expect(r.stdout).not.toMatch(/prediction:/);
  }, 90_000);

  it('refuses the result when a party sends no share of s (never read as in range)', async () => {
    const r = await runAgainst('missing', { 0: { sentinelHeader: '0000000000000000' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error E_INTERNAL: .*x-range-sentinel/);
    expect(r.stdout).not.toMatch(/prediction:/);
  }, 90_000);
});
