/**
 * Groups a V8 CPU profile's self time (node --cpu-prof; a party's with PARTY_NODE_ARGS="... --cpu-prof
 * --cpu-prof-dir=DIR" under bench/party-cpu.ts) into what the party spends it on:
 *
 *   npx tsx bench/cpuprof-summary.ts DIR/*.cpuprofile [--top 25]
 *
 * One column per profile (in the order given), rows = the groups below as shares of the busy time (idle excluded),
 * then the busy seconds. Time is counted in samples (each worth the profile's mean interval), not in
 * timeDeltas: under load a delta includes the time the process waited for a CPU. A function lands in the first group whose test matches its name or its source file; the
 * addon's kernels show as the JS function that calls them (the bundle keeps function names). `--top N` also prints
 * each profile's N largest functions by self time, to check the grouping. `--window START:END` counts only the samples
 * taken in that interval of CLOCK_MONOTONIC in µs (V8's profile clock; bench/served-malicious.ts prints each timed
 * prediction's as `windowsUs`), e.g. one prediction out of a profile of a party's whole life.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number }

type Group = [name: string, test: (fn: string, url: string) => boolean];
const re = (r: RegExp) => (fn: string) => r.test(fn);
const GROUPS: Group[] = [
  ['idle', re(/^\(idle\)$/)],
  ['garbage collector', re(/^\(garbage collector\)$/)],
  ['GEMM, im2col, conv (native)', re(/^(gemm|im2col|conv\w*|matmul\w*|gemm\w*)$/i)],
  ['PrivateCompare kernels, P2 dealing kernel (native)', re(/^(privateCompare\w*|zeroTest\w*|digitShareZp\w*|bitShareZp\w*|maskZp)$/)],
  ['PRG: Z_p rejection sampling (native AES-CTR + scan)', re(/^(rejectInto|rejectSample|zp\w*)$/)],
  ['PRG: keystream, bits, rotations (fill, u64, andBytes)', re(/^(fill|u64|u64Into|u64odd|bytes|bits|andBytes|rotations64)$/)],
  ['ring elementwise (add, sub, mul, bias, truncation)', re(/^(add|sub|mul|neg|addOdd|divShare|divideByPublic|truncate\w*|addBias|addInto|subInto|mulInto|scale\w*)$/)],
  ['comparison / ReLU / MaxPool JS (relu-direct core, P2 dealing job, selects, bit loops, pair copies)', re(/^(core|run|step|body|sendNarrowD|selectByBit|keepWhereBit|low31|low63|low31of32|bit31|signBit|bitsToU64|xorInto|allBelow2p31|adjacentPairs|chunkedRows|pool1d|maxOfPairs|msb)$/)],
  ['receive copy (Buffer.copy into the frame buffer)', re(/^_copyActual$/)],
  ['transport JS (framing, codec, sessions)', (fn, url) => /^(push|write|deliver|decodeFrame|encodeFrameParts|sendMessage|writeMessage|recv|send|toFrames|onFrame|route)$/.test(fn) && !/^node:/.test(url)],
  ['(program): native code with no JS frame (TLS, nghttp2, syscalls)', re(/^\(program\)$/)],
  ['start-up: module loading and compiling', (fn, url) => /wrapSafe|compile\w*|realpathSync|_findPath|resolve|readPackage|^read$|addNames|optimizeNodes|validateArray|^Name$|^get$/.test(fn) || /loader|package_json|ajv|index\.js|code\.js|type\.js/.test(url)],
  ['Node internals: streams, http2, net, events, ticks', (_fn, url) => /^node:/.test(url) || url === ''],
];

function summarise(file: string, window?: [number, number]): { busy: number; groups: Map<string, number>; top: [string, number][] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // Samples, not timeDeltas: on a loaded machine a delta also counts the time the process waited for a CPU (a
  // sample in a short function can carry a delta of 100 ms), so the count of samples is the better measure of CPU.
  const dt = (p.timeDeltas.reduce((a, b) => a + b, 0) / Math.max(1, p.samples.length));
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (window && (t < window[0] || t > window[1])) continue;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
  const groups = new Map<string, number>(), fns = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const { functionName: fn0, url, lineNumber } = byId.get(id)!.callFrame;
    const fn = fn0 || '(anonymous)';
    const g = GROUPS.find(([, t]) => t(fn, url))?.[0] ?? 'other JS';
    groups.set(g, (groups.get(g) ?? 0) + us);
    if (g !== 'idle') busy += us;
    const key = `${fn} ${url ? `${path.basename(url)}:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  groups.delete('idle');
  fns.delete('(idle) ');
  return { busy, groups, top: [...fns].sort((a, b) => b[1] - a[1]) };
}

const args = process.argv.slice(2);
const ti = args.indexOf('--top');
const top = ti >= 0 ? Number(args[ti + 1]) : 0;
const wi = args.indexOf('--window');
const window = wi >= 0 ? (args[wi + 1]!.split(':').map(Number) as [number, number]) : undefined;
if (window && !(window.length === 2 && window.every(Number.isFinite) && window[0] < window[1])) throw new Error('--window START:END (µs of CLOCK_MONOTONIC, START < END)');
const files = args.filter((a, i) => a.endsWith('.cpuprofile') && (ti < 0 || i !== ti + 1));
if (!files.length) throw new Error('usage: bench/cpuprof-summary.ts FILE.cpuprofile ... [--top N]');
const all = files.map((f) => summarise(f, window));
const names = [...GROUPS.map(([n]) => n).filter((n) => n !== 'idle'), 'other JS'];
console.log(`| item | ${files.map((f) => path.basename(f).replace(/\.cpuprofile$/, '')).join(' | ')} |`);
console.log(`|---|${files.map(() => '---').join('|')}|`);
for (const n of names) console.log(`| ${n} | ${all.map((s) => `${(100 * (s.groups.get(n) ?? 0) / s.busy).toFixed(1)}%`).join(' | ')} |`);
console.log(`| busy CPU in the profile (s) | ${all.map((s) => (s.busy / 1e6).toFixed(2)).join(' | ')} |`);
if (top) all.forEach((s, i) => {
  console.log(`\n${path.basename(files[i]!)}: top ${top} by self time`);
  for (const [k, us] of s.top.slice(0, top)) console.log(`  ${(us / 1e3).toFixed(0).padStart(7)} ms ${(100 * us / s.busy).toFixed(1).padStart(5)}%  ${k}`);
});
