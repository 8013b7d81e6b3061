/**
 * client-sdk/cli.ts predict: a folder of DICOM studies (and JPEGs) through
 * the fake parties, one line per file, --json lines, the progress bar for more
 * than one file, the exit status; and the command run as a user runs it.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli.js';
import { PrivateInferenceClient } from '../src/index.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';
import { DICOM_DIR, REPO_ROOT, XRAY_DIR } from '../testing/fixtures.js';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }), text: () => chunks.join('') };
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = sink(), e = sink();
  const code = await main(args, o.stream, e.stream);
  return { code, out: o.text(), err: e.text() };
}

const DICOMS = readdirSync(DICOM_DIR).filter((f) => f.endsWith('.dcm')).sort((a, b) => a.localeCompare(b)).map((f) => join(DICOM_DIR, f));
const JPEG = join(XRAY_DIR, 'NORMAL/IM-0001-0001.jpeg');

describe('cli predict (single-label model)', () => {
  let fake: FakeParties;
  let conn: string[];
  beforeAll(async () => {
    fake = await startFakeParties({ model: { inputShape: [64, 64, 1] } });
    conn = ['--parties', fake.urls.join(','), '--token', fake.token];
  });
  afterAll(async () => { await fake.close(); });

  it('a folder: one line per DICOM file (other files left out), the label and its probability as the SDK gives them, errors named; exit 1', async () => {
    const r = await run(['predict', ...conn, DICOM_DIR, JPEG]);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.map((l) => l.split('\t')[0])).toEqual([...DICOMS, JPEG]); // README and expected.json are not images
    const sdk = new PrivateInferenceClient({ parties: fake.urls, token: fake.token });
    for (const [i, file] of [...DICOMS, JPEG].entries()) {
      const text = lines[i]!.split('\t')[1]!;
      if (/truncated|rtplan/.test(file)) {
        expect(text).toMatch(file.includes('truncated') ? /^ERROR E_SHAPE DICOM_TRUNCATED: / : /^ERROR E_DTYPE DICOM_NO_PIXEL_DATA: /);
        continue;
      }
      const p = await sdk.predict(new Uint8Array(readFileSync(file)));
      // The same label; the probability as printed (0.1 %), within a rounding step of this second prediction's (the
      // parties' local truncation differs by an ulp between two predictions, which can move the last printed digit).
      const m = /^(.*) (\d+\.\d)%$/.exec(text);
      expect(m, text).not.toBeNull();
      expect(m![1]).toBe(p.label);
      expect(Math.abs(Number(m![2]) - p.probability * 100)).toBeLessThanOrEqual(0.1);
    }
    expect(r.code).toBe(1);
    // The progress bar on stderr: one step per file, failures counted.
    expect(r.err).toContain(`] ${DICOMS.length + 1}/${DICOMS.length + 1} (2 failed)`);
    expect(r.err.split('\n').filter((l) => l.startsWith('['))).toHaveLength(DICOMS.length + 2);
  });

  it('--json: one object per line; the failures carry code and reason; one file: no progress bar, exit 0', async () => {
    const r = await run(['predict', ...conn, '--json', join(DICOM_DIR, 'xray-mono1-12bit.dcm'), join(DICOM_DIR, 'rtplan.dcm')]);
    const rows = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { file: string; ok: boolean; kind?: string; label?: string; probabilities?: number[]; error?: { code: string; reason: string } });
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ ok: true, kind: 'class' });
    expect(rows[0]!.probabilities).toHaveLength(2);
    expect(rows[1]).toMatchObject({ ok: false, error: { code: 'E_DTYPE', reason: 'DICOM_NO_PIXEL_DATA' } });
    const one = await run(['predict', ...conn, JPEG]);
    expect(one.code).toBe(0);
    expect(one.err).toBe('');
    expect(one.out.trimEnd().split('\n')).toHaveLength(1);
  });

  it('bad usage: exit 2 with the usage', async () => {
    for (const args of [['predict'], ['predict', JPEG], ['predict', ...conn, '--frame', '-1', JPEG], ['frobnicate']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain('usage: npx tsx client-sdk/cli.ts predict');
      expect(r.out).toBe('');
    }
  });

  it('plain http:// to a host that is not loopback: exit 2 unless --allow-insecure-http (the SDK option had no flag)', async () => {
    // The fakes through their IPv4-mapped IPv6 address: loopback in fact, not one of the names the SDK takes as loopback.
    const mapped = ['--parties', fake.urls.map((u) => u.replace('127.0.0.1', '[::ffff:127.0.0.1]')).join(','), '--token', fake.token, '--json'];
    expect(mapped[1]).toMatch(/^http:\/\/\[::ffff:127\.0\.0\.1\]:\d+,/);
    const refused = await run(['predict', ...mapped, JPEG]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/parties\[0\] is a plain http:\/\/ URL to a host that is not loopback/);
    expect(refused.err).toContain('--allow-insecure-http');
    expect(refused.out).toBe('');
    const before = fake.requests.length;
    const allowed = await run(['predict', ...mapped, '--allow-insecure-http', JPEG]);
    const row = JSON.parse(allowed.out.trim()) as { ok: boolean; label?: string; error?: { code: string } };
    if (allowed.code === 0) {
      expect(row.ok).toBe(true);
      expect(['NORMAL', 'PNEUMONIA']).toContain(row.label);
      expect(fake.requests.length).toBeGreaterThan(before);
    } else {
      // A machine without IPv6 cannot reach the mapped address: the prediction was tried, not refused up front.
      expect(allowed.code).toBe(1);
      expect(row.error?.code).toBe('E_PEER_UNAVAILABLE');
    }
  });

  it('runs as `npx tsx client-sdk/cli.ts predict`', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'client-sdk/cli.ts', 'predict', ...conn, '--json', join(DICOM_DIR, 'xray-mono2-8bit.dcm')], { cwd: REPO_ROOT, timeout: 60_000 });
    const row = JSON.parse(stdout.trim()) as { ok: boolean; label: string };
    expect(row.ok).toBe(true);
    expect(['NORMAL', 'PNEUMONIA']).toContain(row.label);
  }, 60_000);
});

describe('cli predict (multi-label and mask models)', () => {
  it('prints the findings at or above 0.5, and a mask\'s positive fraction', async () => {
    const labels = Array.from({ length: 14 }, (_, i) => `finding${i}`);
    const ml = await startFakeParties({ model: { inputShape: [32, 32, 1], outputShape: [14], outputActivation: 'sigmoid', labels } });
    const mask = await startFakeParties({ model: { inputShape: [16, 16, 1], outputShape: [16, 16, 1], outputActivation: 'sigmoid', labels: undefined } });
    try {
      const file = join(DICOM_DIR, 'xray-mono2-8bit.dcm');
      const p = await new PrivateInferenceClient({ parties: ml.urls, token: ml.token }).predict(new Uint8Array(readFileSync(file)));
      const r = await run(['predict', '--parties', ml.urls.join(','), '--token', ml.token, file]);
      const pos = p.findings!.filter((f) => f.positive);
      expect(r.out).toContain(`${pos.length} of 14 findings >= 0.5`);
      for (const f of pos) expect(r.out).toContain(`${f.label} ${(f.probability * 100).toFixed(1)}%`);
      const j = await run(['predict', '--parties', ml.urls.join(','), '--token', ml.token, '--json', file]);
      expect((JSON.parse(j.out) as { findings: unknown[] }).findings).toHaveLength(14);
      const m = await new PrivateInferenceClient({ parties: mask.urls, token: mask.token }).predict(new Uint8Array(readFileSync(file)));
      const rm = await run(['predict', '--parties', mask.urls.join(','), '--token', mask.token, file]);
      expect(rm.out.trim()).toBe(`${file}\tmask 16x16x1: ${(m.mask!.positiveFraction * 100).toFixed(1)}% of pixels >= 0.5`);
    } finally {
      await ml.close();
      await mask.close();
    }
  });
});
