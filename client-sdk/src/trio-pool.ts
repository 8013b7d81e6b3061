/**
 * Capacity by trios: K independent trios (trio i = replica i of P0, P1 and
 * P2, each party run by its own organisation), and a client that spreads its
 * predictions over them. Each prediction goes to the trio with the fewest of
 * this pool's predictions in flight (ties: round robin). A prediction that
 * fails because its trio cannot serve it (E_PEER_UNAVAILABLE: a party is down
 * or unreachable; E_NOT_READY; E_OVERLOADED; E_PROCESS_FAULT: a party process met an internal fault
 * and is restarting, parties/process-fault.ts) is run again, from the start, on
 * the next trio, and the failed trio is skipped for `cooldownMs`. A retry is a
 * new session with fresh shares of the input: the shares a party saw in the
 * failed session and in the new one are independent, and a failed session's
 * privacy budget was released by the parties. Other errors (bad input, model
 * mismatch, budget, deadline) are the caller's and are thrown as they are.
 */
import type { PrivateInferenceClientBase } from './client.js';
import { PrivateInferenceError } from './errors.js';

export interface TrioPoolOptions {
  /** How long a trio that failed a prediction is skipped (ms, default 5000), unless every trio is. */
  cooldownMs?: number;
  /** Error codes run again on another trio. */
  retryCodes?: readonly string[];
}

const RETRY = ['E_PEER_UNAVAILABLE', 'E_NOT_READY', 'E_OVERLOADED', 'E_PROCESS_FAULT'];

type Predict = PrivateInferenceClientBase['predict'];

export class TrioPool {
  private readonly inFlight: number[];
  private readonly downUntil: number[];
  private next = 0;
  private readonly cooldownMs: number;
  private readonly retryCodes: ReadonlySet<string>;
  /** Per trio: predictions it answered, and attempts that failed over to another trio. */
  readonly stats: { served: number; failedOver: number }[];

  constructor(private readonly trios: readonly Pick<PrivateInferenceClientBase, 'predict'>[], options: TrioPoolOptions = {}) {
    if (trios.length === 0) throw new PrivateInferenceError('E_BAD_ARGUMENT', 'TrioPool: give at least one trio (a client of its three parties)');
    this.inFlight = trios.map(() => 0);
    this.downUntil = trios.map(() => 0);
    this.stats = trios.map(() => ({ served: 0, failedOver: 0 }));
    this.cooldownMs = options.cooldownMs ?? 5_000;
    this.retryCodes = new Set(options.retryCodes ?? RETRY);
  }

  /** The trios in the order to try them: up before down, fewer in flight first, round robin among equals. */
  private order(): number[] {
    const t = Date.now();
    const start = this.next++ % this.trios.length;
    const idx = this.trios.map((_, i) => (start + i) % this.trios.length);
    return idx.sort((a, b) => Number(this.downUntil[a]! > t) - Number(this.downUntil[b]! > t) || this.inFlight[a]! - this.inFlight[b]!);
  }

  /** PrivateInferenceClient.predict on one trio, failing over to the others. */
  predict: Predict = (async (input: Parameters<Predict>[0], options?: Parameters<Predict>[1]) => {
    let last: unknown;
    for (const i of this.order()) {
      this.inFlight[i]! += 1;
      try {
        const r = await this.trios[i]!.predict(input, options);
        this.stats[i]!.served += 1;
        return r;
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (typeof code !== 'string' || !this.retryCodes.has(code)) throw e;
        this.stats[i]!.failedOver += 1;
        this.downUntil[i] = Date.now() + this.cooldownMs;
        last = e;
      } finally {
        this.inFlight[i]! -= 1;
      }
    }
    throw last;
  }) as Predict;
}
