/**
 * The --inputs check of bench/e2e-oracle.ts without models or parties (preprocessing only): N random model inputs
 * (1..9 x 1..9, grey or RGB, a drawn resize / png16 / orientation), 3 files of each kind per input made by
 * bench/preproc-oracle/e2e_inputs.py (Pillow 9.4 / pydicom 2.3.1), the SDK's pixels against Pillow's
 * (e2e-oracle-inputs.ts inputCheck). Prints the differences and refusals, then the tally. Seeded (--seed).
 *
 *   KINDS=png16,exif,dicom,resize N=60 nice -n 10 npx tsx bench/e2e-oracle-inputs-sdk.ts [--seed 77]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { havePython, inputCheck, inputPlan, makeInputs, type InputKind } from './e2e-oracle-inputs.js';
import { Prg } from '../protocol/correlated/prg.js';
import { FIXTURES } from '../test/testing/e2e.js';
const kinds = (process.env.KINDS ?? 'png16,exif,dicom,resize').split(',') as InputKind[];
const n = Number(process.env.N ?? 50);
const si = process.argv.indexOf('--seed');
const seed = si >= 0 ? Number(process.argv[si + 1]) : 77;
if (!havePython()) { console.log('skipped: /usr/bin/python3 lacks PIL, pydicom or numpy'); process.exit(0); }
const tally = new Map<string, number>();
for (let m = 0; m < n; m++) {
  const s = new Uint8Array(16); s[0] = seed; s[1] = m; s[2] = m >> 8;
  const g = new Prg(s);
  const plan = inputPlan(g, kinds, 3);
  const b = g.bytes(4);
  const C = b[0]! % 2 ? 3 : 1, H = 1 + (b[1]! % 9), W = 1 + (b[2]! % 9);
  const prep: Record<string, unknown> = { colorMode: C === 1 ? 'grayscale' : 'rgb', scaling: 'raw', channelOrder: 'rgb' };
  for (let i = 0; i < plan.flags.length; i += 2) { const [k, v] = plan.flags[i + 1]!.split('='); prep[k!] = v; }
  const man = { inputShape: [H, W, C], preprocessing: prep } as never;
  const dir = mkdtempSync(path.join(tmpdir(), 'scr-in-'));
  try {
    const { made, skipped } = makeInputs(dir, plan, man, FIXTURES);
    for (const k of skipped) { console.log('SKIP', k); tally.set('skip', (tally.get('skip') ?? 0) + 1); }
    for (const x of made) {
      const c = await inputCheck(x, man);
      const key = `${c.verdict} ${x.kind}${x.desc.startsWith('dicom fixture') ? ` ${x.desc.split(' ')[2]}` : x.kind === 'exif' ? ` ${x.desc.split(' ')[0]} ${plan.desc.split(' ').find((f) => f.startsWith('orientation'))}` : ''}${c.refused ? ' ' + c.refused : ''}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      if (c.verdict === 'DIFFERENT' || c.verdict === 'refused') console.log(m, key, x.desc, plan.desc, `${H}x${W}x${C}`, c.d, c.where);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
console.log([...tally].sort().map(([k, v]) => `${v} ${k}`).join('\n'));
