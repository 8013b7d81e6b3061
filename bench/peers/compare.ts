/**
 * Checks a peer's logits against ours on the same network, weights and
 * input (bench/peers/README.md):
 *
 *   npx tsx bench/peers/compare.ts --data DIR --model networkA --peer mp-spdz --logits '0.24,-1.33,...'
 *
 * Reads DIR/<model>/model.json (bench/peers/export-weights.ts): our
 * plaintext logits and our secure logits. Prints one JSON line: whether the
 * peer's argmax equals ours (plaintext and secure) and the largest absolute
 * difference from each; exits 1 when the argmax differs or a logit is off by
 * more than --tol (default 0.05: both sides are fixed point, 13 to 16
 * fractional bits, with probabilistic truncation).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MpcError } from '../../protocol/errors.js';

export interface LogitCheck {
  argmaxPeer: number;
  argmaxOurs: number;
  argmaxAgree: boolean;
  maxAbsDiff: number;
}

export function argmax(v: readonly number[]): number {
  if (v.length === 0) throw new MpcError('E_BAD_ARGUMENT', 'argmax: empty vector', { step: 'peers.compare' });
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** The peer's logits against ours: argmax agreement and the largest absolute difference. */
export function checkLogits(peer: readonly number[], ours: readonly number[]): LogitCheck {
  if (peer.length !== ours.length) throw new MpcError('E_BAD_ARGUMENT', `compare: the peer gave ${peer.length} logits, ours ${ours.length}`, { step: 'peers.compare' });
  if (peer.some((v) => !Number.isFinite(v))) throw new MpcError('E_BAD_ARGUMENT', 'compare: a peer logit is not a finite number', { step: 'peers.compare' });
  const argmaxPeer = argmax(peer), argmaxOurs = argmax(ours);
  let maxAbsDiff = 0;
  for (let i = 0; i < peer.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(peer[i]! - ours[i]!));
  return { argmaxPeer, argmaxOurs, argmaxAgree: argmaxPeer === argmaxOurs, maxAbsDiff };
}

/** Logits as the peers print them: '[a, b, c]' (MP-SPDZ) or 'a,b,c'. */
export function parseLogits(s: string): number[] {
  const body = s.trim().replace(/^\[/, '').replace(/\]$/, '');
  return body.split(/[\s,]+/).filter(Boolean).map(Number);
}

function main(): void {
  const argv = process.argv.slice(2);
  const opt = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const data = opt('--data') ?? '/work/peers/data', model = opt('--model'), peer = opt('--peer') ?? 'peer', logits = opt('--logits');
  const tol = Number(opt('--tol') ?? '0.05');
  if (!model || !logits) throw new MpcError('E_BAD_ARGUMENT', 'compare: --model and --logits are required', { step: 'peers.compare' });
  const spec = JSON.parse(readFileSync(join(data, model, 'model.json'), 'utf8')) as { plainLogits: number[]; secureLogits: number[] | null };
  const got = parseLogits(logits);
  const plain = checkLogits(got, spec.plainLogits);
  const secure = spec.secureLogits ? checkLogits(got, spec.secureLogits) : null;
  const ok = plain.argmaxAgree && plain.maxAbsDiff <= tol && (!secure || secure.argmaxAgree);
  console.log(JSON.stringify({ peer, model, ok, vsOurPlain: plain, vsOurSecure: secure }));
  if (!ok) process.exitCode = 1;
}

if (process.argv[1]?.endsWith('compare.ts')) main();
