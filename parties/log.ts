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
}

export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
  child() { return silentLogger; },
};

/** The fields of an error that are safe to log (code, message, party, step). */
export function errFields(e: unknown): Record<string, unknown> {
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; message?: unknown; party?: unknown; step?: unknown; name?: unknown };
    return { code: o.code, err: typeof o.message === 'string' ? o.message : String(o.name ?? 'error'), ...(o.party !== undefined ? { party: o.party } : {}), ...(o.step !== undefined ? { step: o.step } : {}) };
  }
  return { err: String(e) };
}
