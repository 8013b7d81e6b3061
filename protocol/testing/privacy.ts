/** Helpers shared by the privacy tests (protocol/privacy/*.test.ts; test code only). */
import { expect } from 'vitest';
import { getKernels } from '../kernels/index.js';
import type { Cost } from '../primitives/cost.js';
import { reconstruct } from '../sharing/sharing.js';
import type { Run3Result } from './run3.js';
import type { Prg, PartySeeds } from '../correlated/prg.js';
import { createContext, type ContextOptions, type PartyContext } from '../context.js';
import type { PartyId } from '../ring/types.js';
import { memoryTransports, type MemoryTransport } from '../transport/memory.js';
import type { Transport } from '../transport/transport.js';

export const k = getKernels();

export const open = (a: BigUint64Array, b: BigUint64Array): BigUint64Array => reconstruct(k, a, b);
export const signed = (a: BigUint64Array): bigint[] => Array.from(a, (v) => BigInt.asIntN(64, v));

export function expectCost(r: Run3Result<unknown>, c: Cost): void {
  expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(c);
  expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
}

/** Rounds and bytes of one labelled step over all three parties (rounds: the largest per-party count). */
export function stepCost(r: Run3Result<unknown>, label: string): Cost {
  const s = r.transports.map((t) => t.steps.get(label) ?? { bytesSent: 0, rounds: 0 });
  return { rounds: Math.max(...s.map((x) => x.rounds)), bytes: s.reduce((a, x) => a + x.bytesSent, 0) };
}

/** Plaintext argmax of each row of a signed [m x n] matrix, ties to the lowest index. */
export function plainArgmax(x: readonly bigint[], m: number, n: number): number[] {
  return Array.from({ length: m }, (_, r) => {
    let best = 0;
    for (let c = 1; c < n; c++) if (x[r * n + c]! > x[r * n + best]!) best = c;
    return best;
  });
}

/** A message one party received (its view). */
export interface ViewMsg { from: PartyId; tag: string; payload: Uint8Array }

/** Wraps a transport and records every message its party receives. */
export class RecordingTransport implements Transport {
  readonly received: ViewMsg[] = [];
  constructor(private readonly inner: MemoryTransport) {}
  get party() { return this.inner.party; }
  get counters() { return this.inner.counters; }
  get steps() { return this.inner.steps; }
  send(to: PartyId, tag: string, payload: Uint8Array): void { this.inner.send(to, tag, payload); }
  async recv(from: PartyId, tag: string): Promise<Uint8Array> {
    const p = await this.inner.recv(from, tag);
    this.received.push({ from, tag, payload: p.slice() });
    return p;
  }
  close(reason?: Error): void { this.inner.close(reason); }
}

/** Three parties with seeds drawn from g (deterministic); runs fn and returns the results and each party's received messages. */
export async function recordViews<T>(g: Prg, fn: (ctx: PartyContext) => Promise<T>, opts: ContextOptions = {}): Promise<{ results: T[]; views: [ViewMsg[], ViewMsg[], ViewMsg[]] }> {
  const s01 = g.bytes(16), s02 = g.bytes(16), s12 = g.bytes(16);
  const seeds: PartySeeds[] = [
    { pair: [undefined, s01, s02], own: g.bytes(16) },
    { pair: [s01, undefined, s12], own: g.bytes(16) },
    { pair: [s02, s12, undefined], own: g.bytes(16) },
  ];
  const ts = memoryTransports().map((t) => new RecordingTransport(t));
  const results = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => fn(createContext(p, ts[p]!, seeds[p]!, opts))));
  return { results, views: [ts[0]!.received, ts[1]!.received, ts[2]!.received] };
}
