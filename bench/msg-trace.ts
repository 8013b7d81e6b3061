/**
 * Where a comparison's time goes between the three party processes: reads the message events the parties write
 * with MSG_TRACE=<file> (parties/session-transport.ts: wall-clock ms, party, session, event, tag, bytes) and prints,
 * for each relu-direct comparison of the runs (a tag `<label>.pc:d`), medians over the runs of:
 *   P0 d - P1 d     how much later P0 sent its d to P2 than P1 did (P2 needs both);
 *   c -> d P0 / P1  from getting the other data party's c to sending d (step 3's work after the opening);
 *   d transit P0 / P1  from sending d to its arrival at P2 (reassembled and routed: link, TLS, HTTP/2, copies);
 *   d -> z at P2    from the later d's arrival to sending z(,w) to P1 (the zero test and step 4);
 *   z transit       P2's z(,w) to its arrival at P1;
 *   z -> next c P1  from getting z(,w) to P1's next send to P0 (step 5 and the next layer's work up to its opening).
 *
 *   MSG_TRACE=/tmp/trace.txt npx tsx bench/party-cpu.ts cnn 1 8
 *   npx tsx bench/msg-trace.ts /tmp/trace.txt [--runs 6]
 *
 * Runs are sessions that P0 traced and that carry a comparison; the last --runs of them count (default 6; the
 * warm-ups come first). The offline phase's sessions carry no comparison tag and are skipped.
 */
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const file = argv.find((a) => !a.startsWith('--'));
if (!file) throw new Error('usage: npx tsx bench/msg-trace.ts <trace file> [--runs N]');
const ri = argv.indexOf('--runs');
const keep = ri >= 0 ? Number(argv[ri + 1]) : 6;

interface Ev { t: number; party: string; session: string; ev: string; tag: string; bytes: number }
const evs: Ev[] = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
  const [t, party, session, ev, tag, bytes] = l.split(' ');
  return { t: Number(t), party: party!, session: session!, ev: ev!, tag: tag!, bytes: Number(bytes) };
});
const bySession = new Map<string, Ev[]>();
for (const e of evs) { const l = bySession.get(e.session); if (l) l.push(e); else bySession.set(e.session, [e]); }
const runs = [...bySession.values()].filter((l) => l.some((e) => e.tag.endsWith('.pc:d'))).sort((a, b) => a[0]!.t - b[0]!.t).slice(-keep);
if (!runs.length) throw new Error(`${file}: no session with a comparison`);

const cols = ['P0 d - P1 d', 'c->d P0', 'c->d P1', 'd transit P0', 'd transit P1', 'd->z P2', 'z transit', 'z->next c P1'];
const rows = new Map<string, { bytes: number; v: number[][] }>();
for (const run of runs) {
  const first = new Map<string, number>();
  for (const e of run) { const k = `${e.party} ${e.ev} ${e.tag}`; if (!first.has(k)) first.set(k, e.t); }
  const at = (p: string, ev: string, tag: string): number => first.get(`${p} ${ev} ${tag}`) ?? NaN;
  const p1Sends = run.filter((e) => e.party === 'P1' && e.ev === 'send>0').map((e) => e.t);
  for (const e of run) {
    if (e.party !== 'P0' || e.ev !== 'send>2' || !e.tag.endsWith('.pc:d')) continue;
    const base = e.tag.slice(0, -'.pc:d'.length), cTag = `${base}:c`;
    const zTag = run.some((x) => x.tag === `${base}:z,w`) ? `${base}:z,w` : `${base}:z`;
    const d0 = at('P0', 'send>2', e.tag), d1 = at('P1', 'send>2', e.tag);
    const a0 = at('P2', 'arr<0', e.tag), a1 = at('P2', 'arr<1', e.tag);
    const zs = at('P2', 'send>1', zTag), zg = at('P1', 'got<2', zTag);
    const nextC = p1Sends.find((t) => t > zg) ?? NaN;
    const v = [d0 - d1, d0 - at('P0', 'got<1', cTag), d1 - at('P1', 'got<0', cTag), a0 - d0, a1 - d1, zs - Math.max(a0, a1), at('P1', 'arr<2', zTag) - zs, nextC - zg];
    const r = rows.get(base) ?? { bytes: e.bytes, v: cols.map(() => []) };
    v.forEach((x, i) => r.v[i]!.push(x));
    rows.set(base, r);
  }
}
const med = (a: number[]): number => { const b = a.filter((x) => Number.isFinite(x)).sort((x, y) => x - y); return b.length ? b[b.length >> 1]! : NaN; };
console.log(`${file}: ${runs.length} runs; medians in ms`);
console.log(`| comparison | d bytes | ${cols.join(' | ')} |`);
console.log(`|---|---|${cols.map(() => '---').join('|')}|`);
for (const [name, r] of rows) console.log(`| ${name} | ${(r.bytes / 1024).toFixed(0)} KiB | ${r.v.map((x) => med(x).toFixed(2)).join(' | ')} |`);
