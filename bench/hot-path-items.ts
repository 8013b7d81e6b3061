/**
 * CPU of a few per-prediction items of the parties and the SDK, each timed on its own in a loop (process.cpuUsage),
 * to tell whether they matter next to a Network A prediction's ~10 ms of CPU in the four processes:
 *
 *   npx tsx bench/hot-path-items.ts [--n 100000] [--rounds 3]
 *
 * - a view's normal close reason (session-transport.ts): an MpcError made with Error.stackTraceLimit 0, and one
 *   with a stack;
 * - randomBytes(16) (node:crypto; a run's seeds at P1 and P2);
 * - one metrics inc + observe with three and two labels (parties/metrics.ts; a few per request and run);
 * - the SDK's per-prediction ids: uuidV4() and three session keys plus the request nonce (client-sdk/src/ring.ts,
 *   one getRandomValues each), against one draw of the same 148 bytes.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { randomFill, sessionKey, uuidV4 } from '../client-sdk/src/ring.js';
import { MpcError } from '../protocol/errors.js';
import { Counter, Histogram } from '../parties/metrics.js';

const argv = process.argv.slice(2);
const opt = (k: string, d: number): number => { const i = argv.indexOf(k); return i >= 0 ? Number(argv[i + 1]) : d; };
const N = opt('--n', 100_000), rounds = opt('--rounds', 3);
const cpuUs = (): number => { const u = process.cpuUsage(); return u.user + u.system; };
const stackless = (): MpcError => { const l = Error.stackTraceLimit; Error.stackTraceLimit = 0; try { return new MpcError('E_PEER_UNAVAILABLE', 'transport: party 1 closed session'); } finally { Error.stackTraceLimit = l; } };
const c = new Counter('x_total', 'x'), h = new Histogram('x_seconds', 'x', [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]);
let sink: unknown;
const items: [string, () => void][] = [
  ['MpcError, no stack', () => { sink = stackless(); }],
  ['MpcError with a stack', () => { sink = new MpcError('E_PEER_UNAVAILABLE', 'transport: party 1 closed session'); }],
  ['randomBytes(16)', () => { sink = randomBytes(16); }],
  ['metrics inc + observe', () => { c.inc({ method: 'PUT', route: '/v1/sessions/:id/input', status: 200 }); h.observe({ method: 'PUT', route: '/v1/sessions/:id/input' }, 0.003); }],
  ['SDK uuidV4 + 4 session keys', () => { sink = uuidV4() + sessionKey() + sessionKey() + sessionKey() + sessionKey(); }],
  ['one getRandomValues of 148 bytes', () => { sink = randomFill(new Uint8Array(148)); }],
];
console.log(`hot-path items, ${N} calls each, ${rounds} rounds; 1-minute load ${loadavg()[0]!.toFixed(2)}`);
const res = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) for (const [name, f] of items) { const t = cpuUs(); for (let i = 0; i < N; i++) f(); (res.get(name) ?? res.set(name, []).get(name)!).push((cpuUs() - t) / N); }
for (const [name, v] of res) console.log(`${name}: ${v.map((x) => x.toFixed(2)).join(' / ')} µs of CPU per call`);
void sink;
