/**
 * Run one protocol with three parties in this process over the in-memory
 * transport (tests and benchmarks). Each party runs the same function with
 * its own context; all three run concurrently.
 */
import { dealSeeds } from '../correlated/prg.js';
import { createContext, type ContextOptions, type PartyContext } from '../context.js';
import { getKernels } from '../kernels/index.js';
import type { AShare, PartyId } from '../ring/types.js';
import { share } from '../sharing/sharing.js';
import { memoryTransports, type MemoryTransport } from '../transport/memory.js';

export interface Run3Result<T> {
  results: [T, T, T];
  transports: [MemoryTransport, MemoryTransport, MemoryTransport];
  /** Rounds: the largest Lamport depth any party reached. */
  rounds: number;
  /** Bytes sent by all parties together. */
  bytes: number;
}

/** Context options plus lateCopy for the transports (memoryTransports). */
export type Run3Options = ContextOptions & { lateCopy?: boolean };

export function makeContexts(opts: Run3Options = {}): { contexts: [PartyContext, PartyContext, PartyContext]; transports: [MemoryTransport, MemoryTransport, MemoryTransport] } {
  const transports = memoryTransports({ lateCopy: opts.lateCopy ?? false });
  const seeds = dealSeeds();
  const contexts = ([0, 1, 2] as PartyId[]).map((p) => createContext(p, transports[p], seeds[p], opts)) as [PartyContext, PartyContext, PartyContext];
  return { contexts, transports };
}

export async function run3<T>(fn: (ctx: PartyContext) => Promise<T>, opts: Run3Options = {}): Promise<Run3Result<T>> {
  const { contexts, transports } = makeContexts(opts);
  let failed = false;
  const results = (await Promise.all(
    contexts.map((c) =>
      fn(c).catch((e: unknown) => {
        // One party failing must not leave the others waiting forever.
        if (!failed) { failed = true; transports.forEach((t) => t.close(e instanceof Error ? e : new Error(String(e)))); }
        throw e;
      }),
    ),
  )) as [T, T, T];
  return {
    results,
    transports,
    rounds: Math.max(...transports.map((t) => t.counters.depth)),
    bytes: transports.reduce((s, t) => s + t.counters.bytesSent, 0),
  };
}

/** Shares of a secret for [P0, P1, P2] (P2 gets a zero placeholder). */
export function shareFor3(x: BigUint64Array): [AShare, AShare, AShare] {
  const [s0, s1] = share(getKernels(), x);
  return [s0, s1, new BigUint64Array(x.length) as AShare];
}
