/**
 * The malicious mode's test-only cheating switch (SECURENN_TEST_CHEAT): a
 * party process started with it deviates once, so that tests through real
 * party processes can check that the honest parties abort (docs/MALICIOUS.md
 * "What is checked, and when").
 *
 *   SECURENN_TEST_CHEAT=<party>:<tag prefix>          e.g. 1:mal:matmul
 *   SECURENN_TEST_CHEAT=<party>@offline:<tag prefix>  e.g. 1@offline:mal:mul
 *   SECURENN_TEST_CHEAT=<party>@pooled:<tag prefix>   e.g. 1@pooled:mal:openB
 *   (a tag pattern /.../ instead of a prefix: the first tag it matches, e.g. 2@pooled:/zeroB$/)
 *
 * That party adds 1 to the first byte of its first outgoing message whose tag
 * starts with the prefix: in its first malicious client session (scope
 * 'session', malicious-desk.ts), in its first client session that takes a
 * pool entry (scope 'pooled', malicious-desk.ts), or in its first offline
 * mask batch (scope 'offline', malicious-epoch.ts), and logs 'test cheat: message altered' (warn,
 * with the tag) when it does. Refused (E_BAD_ARGUMENT at construction,
 * the party does not start) unless NODE_ENV is 'test'.
 */
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { Transport } from '../protocol/transport/transport.js';

export const CHEAT_ENV = 'SECURENN_TEST_CHEAT';

export interface CheatSwitch {
  /** Tag prefix of the message to alter (e.g. 'mal:matmul'). */
  prefix: string;
  /** Where: the party's first client session, its first client session with a pool entry, or its first offline mask batch. */
  scope: 'session' | 'pooled' | 'offline';
}

/** The test-only cheating switch of this party, or null; refused outside tests. */
export function cheatSwitch(party: PartyId, env: NodeJS.ProcessEnv = process.env): CheatSwitch | null {
  const raw = env[CHEAT_ENV];
  if (raw === undefined || raw === '') return null;
  if (env.NODE_ENV !== 'test') throw new MpcError('E_BAD_ARGUMENT', `${CHEAT_ENV} is a test-only switch (it makes a party deviate); refused unless NODE_ENV=test`, { party, step: 'config' });
  const m = /^([012])(@offline|@pooled)?:(.+)$/.exec(raw);
  if (!m) throw new MpcError('E_BAD_ARGUMENT', `${CHEAT_ENV}: expected <party>[@offline|@pooled]:<tag prefix>, e.g. 1:mal:matmul or 1@offline:mal:mul`, { party, step: 'config' });
  return Number(m[1]) === party ? { prefix: m[3]!, scope: m[2] === '@offline' ? 'offline' : m[2] === '@pooled' ? 'pooled' : 'session' } : null;
}

/**
 * A transport that alters the first message whose tag starts with `prefix` (or matches it, written /pattern/) while
 * `armed()` (test-only cheating); `altered` is told its tag.
 */
export function cheating(t: Transport, prefix: string, altered?: (tag: string) => void, armed: () => boolean = () => true): Transport {
  let done = false;
  const re = prefix.length > 2 && prefix.startsWith('/') && prefix.endsWith('/') ? new RegExp(prefix.slice(1, -1)) : null;
  const hit = (tag: string): boolean => (re ? re.test(tag) : tag.startsWith(prefix));
  return new Proxy(t, {
    get(target, prop, recv) {
      // No sendWithRelease (the send pool's path, protocol/ring/send-pool.ts): every message goes through `send` below.
      if (prop === 'sendWithRelease') return undefined;
      if (prop !== 'send') return Reflect.get(target, prop, recv) as unknown;
      return (to: PartyId, tag: string, payload: Uint8Array) => {
        if (!done && hit(tag) && payload.byteLength > 0 && armed()) {
          done = true;
          const p = payload.slice();
          p[0] = (p[0]! + 1) & 0xff;
          altered?.(tag);
          return target.send(to, tag, p);
        }
        return target.send(to, tag, payload);
      };
    },
  });
}
