/**
 * Test helpers for the malicious routes through an in-process party trio (testing/trio.ts): the one-dense-layer
 * model the session tests serve, and the client's two requests (mask step, input) by app.inject.
 */
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../../protocol/ir.js';
import { auth, type PartyTrio } from './trio.js';

/** Fractional bits of the tests' fixed-point encoding. */
export const F = 13;
export type Three = [Uint8Array, Uint8Array, Uint8Array];
/** Dense 4 -> 2 with known weights and bias, softmax output. */
export const tiny: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd', outputActivation: 'softmax',
  nodes: [{ kind: 'dense', name: 'd', inputs: ['input'], units: 2, activation: 'linear', kernel: { shape: [4, 2], data: Float64Array.from([1, 0, 0, 1, 1, 0, 0, 1]) }, bias: { shape: [2], data: Float64Array.from([0.5, -0.25]) } }],
};
export const bytesOf = (r: { rawPayload: Buffer }): Uint8Array => new Uint8Array(r.rawPayload);
/** The client's mask request to party p. */
export const mask = (t: PartyTrio, p: number, id: string, deadlineMs: number) => t.servers[p]!.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask?deadlineMs=${deadlineMs}`, headers: auth });
/** The client's masked input d to party p. */
export const input = (t: PartyTrio, p: number, id: string, d: Uint8Array) => t.servers[p]!.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) });
/** Polls ok() every 20 ms; false if it is still false after ms. */
export const until = async (ok: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!ok()) { if (Date.now() > end) return false; await new Promise((r) => setTimeout(r, 20)); }
  return true;
};
