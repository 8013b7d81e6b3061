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

function rowsOf(dir: string): Row[] {
  const files = readdirSync(dir);
  const nRounds = files.filter((f) => /^ours-\d+\.txt$/.test(f)).length;
  if (nRounds === 0) throw new MpcError('E_BAD_ARGUMENT', `summarize: no ours-<round>.txt in ${dir}`, { step: 'peers.summarize' });
  const read = (f: string) => { try { return readFileSync(join(dir, f), 'utf8'); } catch { return ''; } };
  const rows: Row[] = [];
  const cryptenChecks = read('crypten-compare.txt').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { model: string; vsOurPlain: { argmaxAgree: boolean; maxAbsDiff: number } });
  for (const [net, label] of Object.entries(NETS)) {
    const rs = Array.from({ length: nRounds }, (_, i) => i + 1);
    const ours = rs.map((r) => parseOurs(read(`ours-${r}.txt`), label));
    const o = ours.find(Boolean);
    rows.push({ net, system: 'ours, client latency (SDK + HTTP + gRPC/mTLS, offline phase ahead)', rounds: ours.map((x) => (x ? [x.latencyMs] : [])), traffic: o ? `${o.sent} (P0 / P1 / P2)` : 'n/a', msgRounds: o?.rounds ?? 'n/a', check: o ? `reference (error ${o.err})` : 'n/a' });
    rows.push({ net, system: 'ours, P0 protocol time', rounds: ours.map((x) => (x ? [x.protocolMs] : [])), traffic: '', msgRounds: '', check: '' });
    const short = net === 'networkA' ? 'networkA' : 'cnn';
    for (const [party, name] of [['rep', 'MP-SPDZ replicated-ring-party.x (semi-honest)'], ['ps', 'MP-SPDZ ps-rep-ring-party.x (malicious)'], ['sy', 'MP-SPDZ sy-rep-ring-party.x (malicious)']] as const) {
      const runs = rs.map((r) => parseMpSpdz(read(`mpspdz-${party}-${short}-${r}.txt`)));
      const any = runs.find((x) => x.forwardMs.length);
      const checks = runs.map((x) => x.check).filter((c): c is NonNullable<typeof c> => c !== null);
      rows.push({ net, system: name, rounds: runs.map((x) => x.forwardMs), traffic: any ? `${any.mb} MB (P0)` : 'n/a', msgRounds: any?.rounds ?? 'n/a',
        check: checks.length ? `${checks.every((c) => c.argmaxAgree) ? 'argmax = ours' : 'ARGMAX DIFFERS'}, max abs diff ${Math.max(...checks.map((c) => c.maxAbsDiff)).toExponential(1)}` : 'n/a' });
    }
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
  const dir = process.argv[2];
  if (!dir) throw new MpcError('E_BAD_ARGUMENT', 'summarize: usage: summarize.ts SITTING_DIR', { step: 'peers.summarize' });
  console.log(markdown(rowsOf(dir)));
}
