/**
 * Differential fuzz of the secure forward pass against the fixed-point
 * simulation (protocol/testing/fuzz-run.ts): random IR models of every layer
 * kind secureForward runs, each under one drawn protocol setting (SecureNN or
 * direct comparisons, 64- or 32-bit comparison ring, radix 2/4, local or
 * exact truncation, f = 13 or 20, batch 1 or 3) and one input sharing
 * (random, (x, 0), (0, x), shares at 2^63 and 2^64 - 1, low 32 bits 0).
 * Prints counts per layer kind and per setting, and every candidate defect
 * with the seed that reruns it (--seed S --count 1 --verbose).
 *
 *   npx tsx bench/protocol-fuzz.ts --seed 1 --count 200 [--verbose] [--malicious M]
 *
 * --margin B: keep values 2^B below the 32-bit comparison ring's range (default 4).
 * --malicious M: also run the first M seeds' models in malicious mode
 * (protocol/testing/fuzz-mal.ts; about 2 s a case).
 *
 * Exit 1 when any case is a defect or threw.
 */
import { fuzzCase, type FuzzCase } from '../protocol/testing/fuzz-run.js';
import { malFuzzCase } from '../protocol/testing/fuzz-mal.js';

const arg = (name: string, dflt: number): number => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const seed0 = arg('seed', 1), count = arg('count', 50), malCount = arg('malicious', 0), marginBits = arg('margin', 4), verbose = process.argv.includes('--verbose');

const byTag = new Map<string, Record<string, number>>(), byOption = new Map<string, Record<string, number>>(), bySetting = new Map<string, Record<string, number>>(), bySharing = new Map<string, Record<string, number>>();
const bump = (m: Map<string, Record<string, number>>, key: string, v: string) => { const e = m.get(key) ?? {}; e[v] = (e[v] ?? 0) + 1; m.set(key, e); };
const bad: FuzzCase[] = [];
const t0 = performance.now();
for (let s = seed0; s < seed0 + count; s++) {
  const c = await fuzzCase(s, { marginBits });
  for (const t of c.tags) bump(byTag, t, c.verdict);
  bump(bySetting, c.setting.replace(/ limit \d+| relu-in-place/g, ''), c.verdict);
  bump(byOption, / limit /.test(c.setting) ? 'chunked calls (comparison limit 1..7)' : 'one call per layer', c.verdict);
  bump(byOption, / relu-in-place/.test(c.setting) ? 'ReLU in place (reluAfterMaxPool false)' : 'ReLU after MaxPool (default)', c.verdict);
  bump(bySharing, c.sharing, c.verdict);
  if (c.verdict === 'defect' || c.verdict === 'error') bad.push(c);
  if (verbose || c.verdict !== 'ok' && c.verdict !== 'skipped') {
    console.log(`seed ${s}: ${c.verdict} [${c.setting}; ${c.sharing}; ${c.magnitude} weights; input ${c.inputKind}] err ${c.err.toExponential(2)} tol ${c.tol.toExponential(2)} sim-float ${c.simVsFloat.toExponential(2)} risk ${c.risk.toExponential(1)} ${c.detail ?? ''}`);
    if (verbose || c.verdict !== 'ok') console.log(`  nodes: ${c.model.nodes.map((n) => `${n.name}(${n.inputs.join(',')}${'activation' in n ? `; ${n.activation}` : ''})`).join(' -> ')}; input [${c.model.inputShape}]`);
  }
}
const table = (title: string, m: Map<string, Record<string, number>>) => {
  console.log(`\n| ${title} | ok | skipped | risk | defect | error |\n|---|---|---|---|---|---|`);
  for (const [k, v] of [...m].sort()) console.log(`| ${k} | ${v.ok ?? 0} | ${v.skipped ?? 0} | ${v.risk ?? 0} | ${v.defect ?? 0} | ${v.error ?? 0} |`);
};
table('layer kind / activation (cases using it)', byTag);
table('setting', bySetting);
table('input sharing', bySharing);
table('forward option', byOption);
const byMal = new Map<string, Record<string, number>>();
for (let s = seed0; s < seed0 + malCount; s++) {
  const c = await malFuzzCase(s);
  for (const t of c.tags) bump(byMal, t, c.verdict);
  if (c.verdict === 'defect' || c.verdict === 'error') {
    bad.push(c as unknown as FuzzCase);
    console.log(`malicious seed ${s}: ${c.verdict} err ${c.err.toExponential(2)} tol ${c.tol.toExponential(2)} ${c.detail ?? ''}\n  nodes: ${c.model.nodes.map((n) => n.name).join(' -> ')}`);
  }
}
if (malCount) table(`malicious mode, ${malCount} cases: layer kind`, byMal);
console.log(`\n${count} cases (seeds ${seed0}..${seed0 + count - 1}) in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${bad.length} defect or error (risk: a mismatch put down to the local truncation's documented failure rate, RISK_FLOOR in fuzz-run.ts)`);
process.exitCode = bad.length ? 1 : 0;
