/**
 * The malicious mode's client input and output (docs/MALICIOUS.md "The
 * client"): the parties' side (protocol/malicious/client-io.ts) over the
 * in-memory transport with three MalSessions, the client's side
 * (client-sdk/src/malicious-io.ts) in the middle, carried by a small hub
 * that stands for the three TLS channels between the client and the parties.
 */
import { describe, expect, it } from 'vitest';
import { isMpcError } from '../../protocol/errors.js';
import type { PartyId } from '../../protocol/ring/types.js';
import { runMal3, values } from '../../protocol/testing/cheat.js';
import { EDGE_SIGNED, randomSigned } from '../../protocol/testing/values.js';
import { addM, mulPublicM } from '../../protocol/malicious/rep.js';
import { scalar128 } from '../../protocol/malicious/ring128.js';
import { clientIoBytes, inputFromClient, inputMask, inputMaskCost, outputToClient, outputToClientCost } from '../../protocol/malicious/client-io.js';
import { setupCost, type MalSession } from '../../protocol/malicious/session.js';
import { maskedInput, reconstructOutput } from '../src/malicious-io.js';
import { goodnessOfFitZ, twoSampleChiSquareZ } from '../../protocol/privacy/stats.js';
import { inputM } from '../../protocol/malicious/input.js';
import { mulM } from '../../protocol/malicious/product.js';
import { macCheck } from '../../protocol/malicious/mac-check.js';
import { repMessage } from '../../protocol/malicious/client-io.js';
import { add128, alloc128, fromBytes128, liftSigned, type Vec128 } from '../../protocol/malicious/ring128.js';

type Three = [Uint8Array, Uint8Array, Uint8Array];

/** Collects one message from each party; resolves when the three are in. */
class Gather {
  private got: Uint8Array[] = [];
  private resolve!: (v: Three) => void;
  readonly all = new Promise<Three>((r) => { this.resolve = r; });
  put(p: PartyId, m: Uint8Array): void {
    this.got[p] = m;
    if ([0, 1, 2].every((i) => this.got[i])) this.resolve(this.got as Three);
  }
}

interface Faults {
  /** Alter party p's mask message to the client. */
  maskFrom?: PartyId;
  /** Alter party p's output message to the client. */
  outputFrom?: PartyId;
  /** The client sends party p another d. */
  dTo?: PartyId;
  /** The client sends party p a d of the wrong length. */
  shortDTo?: PartyId;
}

const flip = (m: Uint8Array): Uint8Array => { const o = m.slice(); o[3]! ^= 0x10; return o; };

/** Client input x, the parties compute y = 3x + x (linear), the client reconstructs. */
async function roundTrip(x: BigUint64Array, faults: Faults = {}) {
  const n = x.length;
  const masks = new Gather(), outs = new Gather();
  // The client: d from the three mask messages, one d for all three parties.
  const client = masks.all.then((m) => maskedInput(x, m));
  const result = outs.all.then((m) => reconstructOutput(m, n));
  result.catch(() => undefined);
  client.catch(() => undefined);
  const run = await runMal3(async (s: MalSession) => {
    const { r, forClient } = await inputMask(s, n);
    masks.put(s.party, faults.maskFrom === s.party ? flip(forClient) : forClient);
    let d = await client;
    if (faults.dTo === s.party) d = flip(d);
    if (faults.shortDTo === s.party) d = d.subarray(1);
    const xs = await inputFromClient(s, r, d);
    const y = addM(mulPublicM(xs, scalar128(3n)), xs);
    const out = await outputToClient(s, y);
    outs.put(s.party, faults.outputFrom === s.party ? flip(out) : out);
    return out.byteLength;
  }, { watchdogMs: 5_000 });
  return { run, client, result };
}

const codes = (r: Awaited<ReturnType<typeof roundTrip>>['run']): string[] => r.outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : isMpcError(o.reason) ? o.reason.code : String(o.reason)));

describe('malicious mode, the client: masked input and checked output (client-io.ts, malicious-io.ts)', () => {
  it('round trip on random and edge inputs (0, -1, +-max): the client gets 4x mod 2^64; costs match the counters', async () => {
    const x = BigUint64Array.from([...EDGE_SIGNED, ...randomSigned(9, 50)]);
    const n = x.length;
    const { run, result } = await roundTrip(x);
    values(run).forEach((b) => expect(b).toBe(clientIoBytes(n).output / 3));
    expect(Array.from(await result)).toEqual(Array.from(x, (v) => BigInt.asUintN(64, 4n * v)));
    expect(run.bytes).toBe(setupCost().bytes + inputMaskCost(n).bytes + outputToClientCost().bytes);
    expect(run.rounds).toBe(setupCost().rounds + inputMaskCost(n).rounds + outputToClientCost().rounds);
  });

  it('a party that alters its mask shares to the client: the client refuses with E_INTEGRITY and sends nothing', async () => {
    for (const p of [0, 1, 2] as PartyId[]) {
      const { run, client } = await roundTrip(BigUint64Array.from([1n, 2n, 3n]), { maskFrom: p });
      await expect(client).rejects.toMatchObject({ code: 'E_INTEGRITY' });
      // The parties never get a d, so none computes or sends an output.
      expect(codes(run)).toEqual(['E_INTEGRITY', 'E_INTEGRITY', 'E_INTEGRITY']);
    }
  });

  it('a client that sends one party another d: every party aborts with E_INTEGRITY at the MAC check, before any output', async () => {
    for (const p of [0, 1, 2] as PartyId[]) {
      const { run } = await roundTrip(BigUint64Array.from([5n, 0n, 0xffffffffffffffffn]), { dTo: p });
      expect(codes(run)).toEqual(['E_INTEGRITY', 'E_INTEGRITY', 'E_INTEGRITY']);
    }
  });

  it('a d of the wrong length: that party refuses (E_SHAPE), the others abort (E_INTEGRITY), no output', async () => {
    const { run } = await roundTrip(BigUint64Array.from([5n, 6n]), { shortDTo: 1 });
    expect(codes(run)).toEqual(['E_INTEGRITY', 'E_SHAPE', 'E_INTEGRITY']);
  });

  it('a party that alters its output shares: the client refuses with E_INTEGRITY (the parties\' check passed)', async () => {
    for (const p of [0, 1, 2] as PartyId[]) {
      const { run, result } = await roundTrip(BigUint64Array.from([7n, 8n]), { outputFrom: p });
      expect(codes(run)).toEqual(['ok', 'ok', 'ok']);
      await expect(result).rejects.toMatchObject({ code: 'E_INTEGRITY' });
    }
  });
});

/**
 * The client's view (docs/MALICIOUS.md "The client"): the mask shares are
 * uniform, and the output it reconstructs reveals y mod 2^64 and nothing of
 * the high 64 bits, which after a product depend on more than the output
 * (here y = −2^63 x for even x: y mod 2^64 = 0, the high half −x/2). We compare
 * the top two bits of each received 16-byte word and of the reconstructed
 * high half across two inputs with the same output; a leaky variant that
 * sends y's shares without the 2^64 rho mask shows the check has power.
 */
describe("malicious mode, the client's view", () => {
  const RUNS = 120;
  // Same y mod 2^64 (0), different high bits: y = x · (−2^63) (2^63 lifted as a signed value) with x = 0, or x = 2, 4, 6, 8 (high half −1 .. −4).
  const CASES = { A: BigUint64Array.from([0n, 0n, 0n, 0n]), B: BigUint64Array.from([2n, 4n, 6n, 8n]) };
  const topBits = (h: number[], words: Uint32Array): void => { for (let w = 3; w < words.length; w += 4) h[words[w]! >>> 30]!++; };

  async function view(x: BigUint64Array, leaky: boolean): Promise<{ mask: number[]; high: number[] }> {
    const mask = [0, 0, 0, 0], high = [0, 0, 0, 0];
    for (let run = 0; run < RUNS; run++) {
      const r = await runMal3(async (s: MalSession) => {
        const { forClient } = await inputMask(s, 4);
        const xs = await inputM(s, 0, s.party === 0 ? liftSigned(x) : null, 4);
        const two63 = await inputM(s, 1, s.party === 1 ? liftSigned(BigUint64Array.from([1n << 63n, 1n << 63n, 1n << 63n, 1n << 63n])) : null, 4);
        const y = await mulM(s, xs, two63);
        if (leaky) { await macCheck(s); return { forClient, out: repMessage(y.x) }; }
        return { forClient, out: await outputToClient(s, y) };
      });
      const v = values(r);
      v.forEach((p) => topBits(mask, new Uint32Array(p.forClient.slice().buffer)));
      expect(Array.from(reconstructOutput(v.map((p) => p.out) as Three, 4))).toEqual([0n, 0n, 0n, 0n]);
      const parts = v.map((p) => fromBytes128(p.out.subarray(0, 64)));
      const z = add128(add128(parts[0]!, parts[1]!, alloc128(4)), parts[2]!, alloc128(4)) as Vec128;
      topBits(high, z);
    }
    return { mask, high };
  }

  it('mask shares are uniform; the high half of the reconstructed output does not depend on y beyond y mod 2^64', async () => {
    const a = await view(CASES.A, false), b = await view(CASES.B, false);
    expect(goodnessOfFitZ(a.mask, [0.25, 0.25, 0.25, 0.25])).toBeLessThan(5);
    expect(twoSampleChiSquareZ(a.high, b.high)).toBeLessThan(5);
    expect(goodnessOfFitZ(b.high, [0.25, 0.25, 0.25, 0.25])).toBeLessThan(5);
  }, 60_000);

  it('the check has power: without the 2^64 rho mask the high half gives the inputs away', async () => {
    const a = await view(CASES.A, true), b = await view(CASES.B, true);
    expect(twoSampleChiSquareZ(a.high, b.high)).toBeGreaterThan(10); // fully separated histograms (one degree of freedom): z about 19
  }, 60_000);
});
