import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadBundle } from './bundle.js';
import { main } from './cli.js';
import { tempDir } from './testing/fixtures.js';

function capture(): { out: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { chunks.push(String(s)); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return { out: () => chunks.join('') };
}

describe('mpc-import --stress-inputs (model-import/stress-inputs.ts)', () => {
  const tmp = tempDir();
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => tmp.cleanup());

  it('the chooser checks the in-range stress images over --input-range too (the summary counts them); without a declared range it is refused', async () => {
    const cap = capture();
    const out = path.join(tmp.dir, 'stress');
    expect(await main(['--seed-arch', 'mnist-a', '--seed', '4', '--out', out, '--no-labels', '--random', '1', '--input-range', '0,1', '--stress-inputs', '--no-progress'])).toBe(0);
    vi.restoreAllMocks();
    const text = cap.out();
    // mnist-a's input is flat [784]: low, high, five checkerboard runs, one stripe run = 8 stress inputs beside the 1 sample.
    expect(text).toMatch(/tried \(9 samples, 8 of them in-range stress images, cheapest first/);
    const m = /precision: +f = (\d+),/.exec(text);
    expect(m).not.toBeNull();
    expect(loadBundle(out, 0).manifest.fracBits).toBe(Number(m![1]));
    const never = path.join(tmp.dir, 'never');
    await expect(main(['--seed-arch', 'mnist-a', '--seed', '4', '--out', never, '--no-labels', '--random', '1', '--stress-inputs', '--no-progress']))
      .rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('--stress-inputs: the model declares no input range') });
    expect(existsSync(never)).toBe(false);
  }, 120_000);
});
