import { createHmac, randomBytes } from 'node:crypto';

/**
 * The structured logger the runtime uses (fastify's pino logger satisfies
 * it). Log sizes, ids, codes and timings only: never input, weight or output
 * values, never a bearer token.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
  /** Whether lines of `level` are written (pino has it); a logger without it writes every level. */
  isLevelEnabled?(level: 'debug' | 'info' | 'warn' | 'error'): boolean;
}

export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
  child() { return silentLogger; },
  isLevelEnabled() { return false; },
};

/**
 * Whether `log` writes info lines: a hot path (every session, every run) builds the fields of such a line, keyed
 * hashes included (sessionTag), only then. At the default level ('info') nothing changes.
 */
export const infoEnabled = (log: Logger): boolean => log.isLevelEnabled?.('info') ?? true;

/**
 * Session ids are logged only as a keyed hash: HMAC-SHA256 under a key drawn
 * at process start, 48 bits in hex (shorter than a u64 word in hex, which the
 * log scans of test/secrets.test.ts look for). One process's lines about one session
 * share a tag, but a log line gives nobody (a party operator, a log store)
 * an id to replay: the id itself is never written.
 */
const LOG_ID_KEY = randomBytes(32);
export function sessionTag(id: string): string {
  return `s:${createHmac('sha256', LOG_ID_KEY).update(id.toLowerCase()).digest('hex').slice(0, 12)}`;
}

const UUID_ANYWHERE = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;
/** A message with every UUID in it (session, run and bundle ids) replaced by its tag. */
export const redactIds = (msg: string): string => msg.replace(UUID_ANYWHERE, (id) => sessionTag(id));

/** The fields of an error that are safe to log (code, message with ids as tags, party, step). */
export function errFields(e: unknown): Record<string, unknown> {
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; message?: unknown; party?: unknown; step?: unknown; name?: unknown };
    return { code: o.code, err: typeof o.message === 'string' ? redactIds(o.message) : String(o.name ?? 'error'), ...(o.party !== undefined ? { party: o.party } : {}), ...(o.step !== undefined ? { step: o.step } : {}) };
  }
  return { err: redactIds(String(e)) };
}
