/**
 * The round schedule of one prediction as the party servers run it (issue 28, "count rounds again"): every message
 * of the protocol run with its Lamport depth, sender, receiver, tag and bytes, from the in-memory transport's
 * counters, in the party servers' default settings (kept weight masks in a 'use' run, the 32-bit comparison ring in
 * radix 4, the direct ReLU, local truncation, P2's dealt randomness from a preprocessed bundle; a build run and a
 * recorded run come first, as in service). The control messages of the served path (P0's plan, P1's pair seed to
 * P2, the 'ready' reports, the client's HTTP requests) are not run messages and are not listed.
 *
 *   npx tsx bench/round-schedule.ts [--model networkA|cnn-maxpool] [--batch 1] [--live] [--fuse-dense]
 *
 * Network A: one row per message. Other models: one row per (depth, sender -> receiver) with the tags and bytes.
 * --live: P2 deals during the run (no bundle), as the first run of a shape. --fuse-dense: the runner's
 * fuseReluIntoDense (protocol/primitives/relu-dense.ts; PARTY_FUSE_RELU_DENSE=1 at the party servers).
 */
import '../runtime/install.js';
import { randomBytes } from 'node:crypto';
import { p0Bundle, p1Bundle, prepareBundle, type DealScript, type PartyBundle } from '../protocol/correlated/dealer.js';
import { dealSeeds } from '../protocol/correlated/prg.js';
import { MemoryWeightMasks } from '../protocol/correlated/weight-masks.js';
import { createContext } from '../protocol/context.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { plainForward } from '../protocol/reference/forward.js';
import type { PartyId } from '../protocol/ring/types.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { networkA, seedCnn, seededPrg, uniform } from '../protocol/seed-models.js';
import { shareFor3 } from '../protocol/testing/run3.js';
import { memoryTransports } from '../protocol/transport/memory.js';
import type { Transport } from '../protocol/transport/transport.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { getKernels } from '../protocol/kernels/index.js';

const args = process.argv.slice(2);
const opt = (k: string, d: string): string => { const i = args.indexOf(k); return i >= 0 ? args[i + 1]! : d; };
const model = opt('--model', 'networkA'), batch = Number(opt('--batch', '1')), live = args.includes('--live'), fuseDense = args.includes('--fuse-dense');
if (model !== 'networkA' && model !== 'cnn-maxpool') throw new Error(`--model: networkA or cnn-maxpool, got ${model}`);
if (!Number.isInteger(batch) || batch < 1 || batch > 64) throw new Error(`--batch: an integer in 1..64, got ${batch}`);
const k = getKernels();
const PARTIES = [0, 1, 2] as PartyId[];
const F = 16;
const net = model === 'networkA' ? networkA() : seedCnn('maxpool2d');
const inShape = net.inputShape as number[];
const inSize = inShape.reduce((a, b) => a * b, 1);

interface Msg { from: PartyId; to: PartyId; tag: string; bytes: number; depth: number }

function traced(t: Transport, log: Msg[]): Transport {
  return new Proxy(t, {
    get(target, prop, recv) {
      if (prop === 'send') return (to: PartyId, tag: string, p: Uint8Array) => { log.push({ from: t.party, to, tag, bytes: p.byteLength, depth: t.counters.depth }); target.send(to, tag, p); };
      if (prop === 'sendWithRelease') return (to: PartyId, tag: string, p: Uint8Array, release: () => void) => { log.push({ from: t.party, to, tag, bytes: p.byteLength, depth: t.counters.depth }); target.sendWithRelease!(to, tag, p, release); };
      const v = Reflect.get(target, prop, recv) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function run(x: Float64Array, stores: MemoryWeightMasks[], mode: 'build' | 'use', extra: { bundles?: PartyBundle[]; script?: DealScript } = {}) {
  const parts = shareModel(k, net, F);
  const xs = shareFor3(encode(x, F));
  const ts = memoryTransports();
  const seeds = dealSeeds();
  const log: Msg[] = [];
  const out = await Promise.all(PARTIES.map((p) => {
    const ctx = createContext(p, traced(ts[p], log), seeds[p], {
      fracBits: F, compareBits: 32, compareRadix: 4, truncation: 'local', comparison: 'direct',
      weightMasks: stores[p]!.session(mode),
      ...(extra.bundles ? { bundle: extra.bundles[p]! } : {}), ...(extra.script && p === 2 ? { dealScript: extra.script } : {}),
    });
    return secureForward(ctx, parts[p], { shape: [batch, ...inShape], data: xs[p] }, { fuseReluIntoDense: fuseDense });
  }));
  const got = decode(reconstruct(k, out[0].data, out[1].data), F);
  const want = plainForward(net, x, batch).data;
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
  return { log, rounds: Math.max(...ts.map((t) => t.counters.depth)), err };
}

const input = (seed: number): Float64Array => uniform(seededPrg(seed), batch * inSize, 1).map((v) => (v + 1) / 2);
const stores = PARTIES.map(() => new MemoryWeightMasks());
await run(input(1), stores, 'build');
let res;
if (live) res = await run(input(3), stores, 'use');
else {
  const script: DealScript = [];
  await run(input(2), stores, 'use', { script });
  const s02 = randomBytes(16), s12 = randomBytes(16);
  const { forP1, p2 } = prepareBundle(k, script, s02, s12);
  res = await run(input(3), stores, 'use', { bundles: [p0Bundle(s02), p1Bundle(s12, forP1), p2] });
}
const { log, rounds, err } = res;
const total = log.reduce((s, m) => s + m.bytes, 0);
console.log(`${model}, batch ${batch}, ${live ? 'live dealing' : 'preprocessed bundle'}${fuseDense ? ', ReLU fused into small dense layers' : ''}: ${rounds} rounds, ${log.length} messages, ${total} bytes (max abs error ${err.toExponential(1)})`);
console.log('(depth = the sender\'s Lamport depth when it sent; the message arrives in round depth + 1)\n');
if (model === 'networkA') {
  console.log('| round | from -> to | tag | bytes |');
  console.log('|---|---|---|---|');
  for (const m of [...log].sort((a, b) => a.depth - b.depth || a.from - b.from)) console.log(`| ${m.depth + 1} | P${m.from} -> P${m.to} | \`${m.tag}\` | ${m.bytes} |`);
} else {
  const rows = new Map<string, { depth: number; from: PartyId; to: PartyId; tags: Set<string>; bytes: number; n: number }>();
  for (const m of log) {
    const key = `${m.depth} ${m.from} ${m.to}`;
    const r = rows.get(key) ?? { depth: m.depth, from: m.from, to: m.to, tags: new Set<string>(), bytes: 0, n: 0 };
    r.tags.add(m.tag); r.bytes += m.bytes; r.n++;
    rows.set(key, r);
  }
  console.log('| round | from -> to | messages | bytes | tags |');
  console.log('|---|---|---|---|---|');
  for (const r of [...rows.values()].sort((a, b) => a.depth - b.depth || a.from - b.from || a.to - b.to)) console.log(`| ${r.depth + 1} | P${r.from} -> P${r.to} | ${r.n} | ${r.bytes} | ${[...r.tags].join(' ')} |`);
}
const per = new Map<string, { n: number; bytes: number }>();
for (const m of log) { const key = `P${m.from} -> P${m.to}`; const r = per.get(key) ?? { n: 0, bytes: 0 }; r.n++; r.bytes += m.bytes; per.set(key, r); }
console.log(`\nper link: ${[...per.entries()].sort().map(([key, r]) => `${key} ${r.n} messages ${r.bytes} B`).join('; ')}`);
