/**
 * A dropped peer link and the malicious sessions at the third party (review of s42-probe; BENCHMARKS.md "Review of
 * the s42 probe merge"): three in-process parties (mTLS, h2 link), security 'malicious', clientWaitMs default (30 s),
 * deadline 90 s; session a set up at the three without its input, session b with its input at P2 only (P2 waits in
 * it); then the P0-P1 data link is cut. Prints how long until P2 (whose links stayed up) holds no open session, and
 * until b's input request at P2 is answered (and with what).
 *
 *   npx tsx bench/link-drop-probe.ts <checkout root>   (the root whose parties/ and protocol/ are loaded; default .)
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? '.');
  const { partyTrio, auth } = await import(`${root}/parties/testing/trio.ts`);
  const { internals } = await import(`${root}/parties/testing/h2-link.ts`);
  const { IR_FORMAT_VERSION } = await import(`${root}/protocol/ir.ts`);
  const { maskedInput } = await import(`${root}/client-sdk/src/malicious-io.ts`);
  const { encode } = await import(`${root}/protocol/fixed-point/fixed-point.ts`);
  const F = 13;
  const tiny = { formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd', outputActivation: 'softmax', nodes: [{ kind: 'dense', name: 'd', inputs: ['input'], units: 2, activation: 'linear', kernel: { shape: [4, 2], data: Float64Array.from([1, 0, 0, 1, 1, 0, 0, 1]) }, bias: { shape: [2], data: Float64Array.from([0.5, -0.25]) } }] };
  const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, batch: { maxConcurrentRuns: 2 }, malicious: { poolInferences: 0 }, sessions: { maxDeadlineMs: 120_000 } });
  const mask = (p: number, id: string) => t.servers[p].app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask?deadlineMs=90000`, headers: auth });
  const input = (p: number, id: string, d: Uint8Array) => t.servers[p].app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) });
  try {
    const [a, b] = [randomUUID(), randomUUID()];
    await Promise.all([0, 1, 2].map((p) => mask(p, a)));
    const mb = await Promise.all([0, 1, 2].map((p) => mask(p, b)));
    const db = maskedInput(encode(Float64Array.from([0.25, -1, 2, 0.5]), F), mb.map((r: { rawPayload: Buffer }) => new Uint8Array(r.rawPayload)));
    let inP2 = -1;
    const t0 = performance.now();
    const pending = input(2, b, db).then((r: { json: () => { code: string } }) => { inP2 = performance.now() - t0; return r.json().code; });
    await new Promise((r) => setTimeout(r, 100));
    const t1 = performance.now();
    internals(t.servers[1].party.mesh).links[0].dataSession.destroy();
    let freed = -1;
    while (performance.now() - t1 < 100_000) { if (t.servers[2].party.malDesk.open === 0) { freed = performance.now() - t1; break; } await new Promise((r) => setTimeout(r, 10)); }
    const code = await pending;
    console.log(JSON.stringify({ root, p2SlotsFreedMs: Math.round(freed), p2InputAnsweredMs: Math.round(inP2 - (t1 - t0)), p2InputCode: code }));
  } finally { await t.close(); }
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
