/**
 * Which hosts count as loopback, for the party servers (`--insecure-local`, shared tokens and metrics on the API
 * listener: parties/config.ts, server.ts) and the client SDK (plain http:// allowed: client-sdk/src/endpoints.ts):
 * one rule on both sides of the wire.
 */

/** True for 127.0.0.0/8, ::1 (bracketed or not) and 'localhost', as written (callers lower-case a URL's hostname). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
