/**
 * The table of one peer sitting (bench/peers/sitting.sh's OUT directory):
 *
 *   npx tsx bench/peers/summarize.ts /work/peers/sitting-<date>
 *
 * Per network and system: the median over every timed sample of every round
 * (ours: each round's median latency and P0 protocol time from bench/run.ts's
 * table; MP-SPDZ: timer 1 of each run; CrypTen: each timed forward pass), the
 * per-round medians, traffic and rounds per inference, and the logit check
 * (argmax equal to ours, largest |difference| from our plaintext logits).
 * Prints Markdown for BENCHMARKS.md's "Peers" section.
 *
 *   npx tsx bench/peers/summarize.ts --malicious /work/peers/sitting-mal-<date>
 *
 * A malicious sitting (bench/peers/sitting-malicious.sh): Network A only, our
 * served modes from bench/served-malicious.ts's table (semi-honest, warm pool,
 * pool off: each round's median client latency) beside MP-SPDZ's rings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MpcError } from '../../protocol/errors.js';

export interface Row {
  net: string;
  system: string;
  /** Per round, the samples in ms. */
  rounds: number[][];
  traffic: string;
  msgRounds: string;
  check: string;
}

const NETS: Record<string, string> = { networkA: 'MNIST Network A (784-128-128-10)', 'cnn-maxpool': 'seed CNN MaxPool 150x125x1' };

export const median = (v: readonly number[]): number => {
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const ms = (x: number): string => (Number.isNaN(x) ? 'n/a' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toPrecision(3)} ms`);
const toMs = (s: string): number => { const [v, u] = s.trim().split(/\s+/); return Number(v) * (u === 's' ? 1000 : 1); };

/** bench/run.ts's table row for one network: latency median, P0 protocol time, traffic, rounds, error. */
export function parseOurs(text: string, label: string): { latencyMs: number; protocolMs: number; sent: string; rounds: string; err: string } | null {
  const line = text.split('\n').find((l) => l.startsWith(`| ${label} | 1 |`));
  if (!line) return null;
  const c = line.split('|').map((s) => s.trim());
  // | model | batch | reps | latency median | p90 | per image | first run | protocol (P0) | offline | tfjs | ratio | sent | rounds | err | rss |
  return { latencyMs: toMs(c[4]!), protocolMs: toMs(c[8]!), sent: c[12]!, rounds: c[13]!, err: c[14]! };
}

/** mp-spdz.sh run's lines: timer 1 per run, its traffic and rounds, and the compare.ts JSON line. */
export function parseMpSpdz(text: string): { forwardMs: number[]; mb: string; rounds: string; check: { argmaxAgree: boolean; maxAbsDiff: number } | null } {
  const forwardMs: number[] = [];
  let mb = '', rounds = '', check = null;
  for (const l of text.split('\n')) {
    const m = /forward_s=([\d.e+-]+) forward_party0_MB=([\d.e+-]+) forward_rounds=(\d+)/.exec(l);
    if (m) { forwardMs.push(Number(m[1]) * 1000); mb = m[2]!; rounds = m[3]!; }
    if (l.startsWith('{"peer"')) check = (JSON.parse(l) as { vsOurPlain: { argmaxAgree: boolean; maxAbsDiff: number } }).vsOurPlain;
  }
  return { forwardMs, mb, rounds, check };
}

/** bench/served-malicious.ts's table: per mode (its first column), the median latency, MB sent by the three parties, rounds, error. */
export function parseOursMalicious(text: string): Map<string, { latencyMs: number; mb: string; rounds: string; err: string }> {
  const out = new Map<string, { latencyMs: number; mb: string; rounds: string; err: string }>();
  for (const l of text.split('\n')) {
    const c = l.split('|').map((x) => x.trim());
    // | mode | median ms | p90 ms | MB sent (3 parties) | rounds | pooled | max abs error | peak RSS |
    if (c.length < 9 || !/^(semi-honest|malicious, (warm pool|pool off))$/.test(c[1]!) || !/^[\d.]+$/.test(c[2]!)) continue;
    out.set(c[1]!, { latencyMs: Number(c[2]), mb: c[4]!, rounds: c[5]!, err: c[7]! });
  }
  return out;
}

const readIn = (dir: string) => (f: string): string => { try { return readFileSync(join(dir, f), 'utf8'); } catch { return ''; } };

function mpSpdzRow(net: string, name: string, runs: ReturnType<typeof parseMpSpdz>[]): Row {
  const any = runs.find((x) => x.forwardMs.length);
  const checks = runs.map((x) => x.check).filter((c): c is NonNullable<typeof c> => c !== null);
  return { net, system: name, rounds: runs.map((x) => x.forwardMs), traffic: any ? `${any.mb} MB (P0)` : 'n/a', msgRounds: any?.rounds ?? 'n/a',
    check: checks.length ? `${checks.every((c) => c.argmaxAgree) ? 'argmax = ours' : 'ARGMAX DIFFERS'}, max abs diff ${Math.max(...checks.map((c) => c.maxAbsDiff)).toExponential(1)}` : 'n/a' };
}

const MP_SPDZ_PARTIES = [['rep', 'MP-SPDZ replicated-ring-party.x (semi-honest)'], ['ps', 'MP-SPDZ ps-rep-ring-party.x (malicious)'], ['sy', 'MP-SPDZ sy-rep-ring-party.x (malicious)']] as const;

/** A malicious sitting's rows (Network A): ours-mal-<round>.txt and mpspdz-<party>-networkA-<round>.txt. */
export function rowsOfMalicious(dir: string): Row[] {
  const nRounds = readdirSync(dir).filter((f) => /^ours-mal-\d+\.txt$/.test(f)).length;
  if (nRounds === 0) throw new MpcError('E_BAD_ARGUMENT', `summarize: no ours-mal-<round>.txt in ${dir}`, { step: 'peers.summarize' });
  const read = readIn(dir);
  const rs = Array.from({ length: nRounds }, (_, i) => i + 1);
  const ours = rs.map((r) => parseOursMalicious(read(`ours-mal-${r}.txt`)));
  const rows: Row[] = [];
  for (const mode of ['semi-honest', 'malicious, warm pool', 'malicious, pool off']) {
    const o = ours.map((m) => m.get(mode)).find(Boolean);
    rows.push({ net: 'networkA', system: `ours served, ${mode} (client latency: SDK + HTTP + gRPC/mTLS${mode.includes('warm') ? '; masks made ahead' : ''})`, rounds: ours.map((m) => { const v = m.get(mode); return v ? [v.latencyMs] : []; }),
      traffic: o ? `${o.mb} MB (3 parties)` : 'n/a', msgRounds: o?.rounds ?? 'n/a', check: o ? `reference (error ${o.err})` : 'n/a' });
  }
  for (const [party, name] of MP_SPDZ_PARTIES) rows.push(mpSpdzRow('networkA', name, rs.map((r) => parseMpSpdz(read(`mpspdz-${party}-networkA-${r}.txt`)))));
  return rows;
}

function rowsOf(dir: string): Row[] {
  const files = readdirSync(dir);
  const nRounds = files.filter((f) => /^ours-\d+\.txt$/.test(f)).length;
  if (nRounds === 0) throw new MpcError('E_BAD_ARGUMENT', `summarize: no ours-<round>.txt in ${dir}`, { step: 'peers.summarize' });
  const read = readIn(dir);
  const rows: Row[] = [];
  const cryptenChecks = read('crypten-compare.txt').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { model: string; vsOurPlain: { argmaxAgree: boolean; maxAbsDiff: number } });
  for (const [net, label] of Object.entries(NETS)) {
    const rs = Array.from({ length: nRounds }, (_, i) => i + 1);
    const ours = rs.map((r) => parseOurs(read(`ours-${r}.txt`), label));
    const o = ours.find(Boolean);
    rows.push({ net, system: 'ours, client latency (SDK + HTTP + gRPC/mTLS, offline phase ahead)', rounds: ours.map((x) => (x ? [x.latencyMs] : [])), traffic: o ? `${o.sent} (P0 / P1 / P2)` : 'n/a', msgRounds: o?.rounds ?? 'n/a', check: o ? `reference (error ${o.err})` : 'n/a' });
    rows.push({ net, system: 'ours, P0 protocol time', rounds: ours.map((x) => (x ? [x.protocolMs] : [])), traffic: '', msgRounds: '', check: '' });
    const short = net === 'networkA' ? 'networkA' : 'cnn';
    for (const [party, name] of MP_SPDZ_PARTIES) rows.push(mpSpdzRow(net, name, rs.map((r) => parseMpSpdz(read(`mpspdz-${party}-${short}-${r}.txt`)))));
    const cr = rs.map((r) => read(`crypten-${r}.txt`).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { model: string; times_ms: number[] }).find((j) => j.model === net)?.times_ms ?? []);
    const cc = cryptenChecks.filter((c) => c.model === net);
    rows.push({ net, system: 'CrypTen 2PC + TTP', rounds: cr, traffic: 'n/a', msgRounds: 'n/a',
      check: cc.length ? `${cc.every((c) => c.vsOurPlain.argmaxAgree) ? 'argmax = ours' : 'ARGMAX DIFFERS'}, max abs diff ${Math.max(...cc.map((c) => c.vsOurPlain.maxAbsDiff)).toExponential(1)}` : 'n/a' });
  }
  return rows;
}

export function markdown(rows: Row[]): string {
  const out = ['| network | system | median (all samples) | per-round medians | samples | traffic per inference | rounds | logits vs ours |', '|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const all = r.rounds.flat();
    out.push(`| ${NETS[r.net]} | ${r.system} | ${ms(median(all))} | ${r.rounds.map((x) => ms(median(x))).join(', ')} | ${all.length} | ${r.traffic} | ${r.msgRounds} | ${r.check} |`);
  }
  return out.join('\n');
}

if (process.argv[1]?.endsWith('summarize.ts')) {
  const mal = process.argv[2] === '--malicious';
  const dir = process.argv[mal ? 3 : 2];
  if (!dir) throw new MpcError('E_BAD_ARGUMENT', 'summarize: usage: summarize.ts [--malicious] SITTING_DIR', { step: 'peers.summarize' });
  console.log(markdown(mal ? rowsOfMalicious(dir) : rowsOf(dir)));
}
