/**
 * Output privacy at the party server (the protocol is in
 * protocol/privacy/): client identities for the accountant, the accountant's
 * lazy opening, the canonical key of a resolved policy that the three
 * parties compare through the plan, and the public summary of a policy.
 */
import { createHash } from 'node:crypto';
import type { OutputPrivacy } from '../protocol/api-contract.js';
import { fileStore } from './accountant-store.js';
import type { AccountantStore } from '../protocol/privacy/accountant.js';
import { PrivacyAccountant, type Budget, type Enforcement, type ResolvedPolicy } from '../protocol/privacy/index.js';

/** What a party needs to run its accountant (config.ts resolves it). */
export interface PrivacySettings {
  /** Absolute path of this party's accountant state file. */
  accountantFile: string;
  /** Budget of every client. */
  budget: Budget;
  /** Per-client budgets, by client id (see clientIdOf). */
  budgets?: Record<string, Budget>;
  enforce?: Enforcement;
  /** Open the accountant at start-up (the deployment configured one); otherwise at the first request that needs it. */
  eager?: boolean;
}

/**
 * The accountant's client id of a bearer token: a domain-separated sha256,
 * 128 bits in hex. The token itself is never stored or logged.
 */
export function clientIdOf(authorization: string | undefined): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return createHash('sha256').update('securenn/privacy-client/v1\0').update(m ? m[1]! : '', 'utf8').digest('hex').slice(0, 32);
}

/**
 * Opens the accountant once (at start-up or on first use); every later call gets the same instance. Its state is the
 * settings' file, or `store` (the warm-up's twin keeps its own in memory: parties/warmup-client.ts).
 */
export class AccountantHolder {
  private opening: Promise<PrivacyAccountant> | null = null;
  constructor(readonly settings: PrivacySettings, private readonly store?: AccountantStore) {}

  get(): Promise<PrivacyAccountant> {
    const p = (this.opening ??= PrivacyAccountant.open({
      store: this.store ?? fileStore(this.settings.accountantFile),
      budget: this.settings.budget,
      ...(this.settings.budgets ? { budgets: this.settings.budgets } : {}),
      ...(this.settings.enforce ? { enforce: this.settings.enforce } : {}),
    }));
    // A failed open (unreadable or corrupt state file) is retried on the next request.
    p.catch(() => { if (this.opening === p) this.opening = null; });
    return p;
  }

  /** Wait for pending writes, if the accountant was opened. */
  async flush(): Promise<void> {
    const a = await this.opening?.catch(() => null);
    await a?.flush();
  }
}

const sortedJson = (o: object | null): string => (o === null ? 'null' : JSON.stringify(o, Object.keys(o).sort()));

/**
 * Canonical key of a resolved policy: everything that changes the computation
 * (mode, thresholds, clip, noise, decision rule and its thresholds) or the charge. P0 puts it in the plan; P1
 * and P2 check it against their own resolution.
 */
export function policyKey(p: ResolvedPolicy): string {
  return `${p.outputMode}|${JSON.stringify(p.confidenceThresholds)}|${sortedJson(p.dp)}|${sortedJson(p.noise)}|${p.decision}|${JSON.stringify(p.decisionThresholds)}|${p.decisionChannels}`;
}

/** Plain logits without noise: nothing to do after secureForward. */
export const isPlainLogits = (p: ResolvedPolicy): boolean => p.outputMode === 'logits' && p.dp === null;

/** The client-facing summary of a policy (undefined for plain logits). */
export function outputPrivacy(p: ResolvedPolicy): OutputPrivacy | undefined {
  if (isPlainLogits(p)) return undefined;
  return {
    outputMode: p.outputMode,
    ...(p.confidenceThresholds.length > 0 ? { confidenceThresholds: [...p.confidenceThresholds] } : {}),
    ...(p.decisionThresholds.length > 0 ? { decisionThresholds: [...p.decisionThresholds] } : {}),
    ...(p.dp && p.charge && p.noise
      ? { dp: { mechanism: p.dp.mechanism, epsilon: p.charge.epsilon, delta: p.charge.delta, sensitivity: p.dp.sensitivity, sampler: p.noise.sampler, ...(p.dp.clip !== undefined ? { clip: p.dp.clip } : {}) } }
      : {}),
  };
}
