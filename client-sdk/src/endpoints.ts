/**
 * The three party URLs a client is given, checked before any request
 * (E_BAD_ARGUMENT):
 *  - each an http(s) base URL;
 *  - plain `http:` only to a loopback host (localhost, 127.0.0.0/8, ::1), as
 *    the parties take `--insecure-local` only on loopback: over plain HTTP
 *    whoever sees the traffic to P0 and P1 (a proxy, the hospital's egress, a
 *    shared Wi-Fi) reads both input shares and both output shares, so the
 *    image and the result, and the bearer tokens and session keys with them.
 *    `allowInsecureHttp` lets a deployment whose links are encrypted by
 *    something else (a service-mesh sidecar) say so explicitly;
 *  - three different servers (serverOf): the same server named twice gets
 *    both shares of the input (on the one-request path, with the session's
 *    creation, before its answer could say which party it is) and adds them
 *    up.
 */
import { isLoopbackHost } from '../../protocol/loopback.js';
import { InputError } from './errors.js';
import type { PartyEndpoint } from './http.js';

/** localhost, 127.x.y.z or ::1 (a URL's hostname, IPv6 in brackets, any case): the parties' rule (protocol/loopback.ts). */
export function isLoopbackHostname(hostname: string): boolean {
  return isLoopbackHost(hostname.toLowerCase());
}

/**
 * Where requests to a base URL go: scheme, host (a fully qualified name's trailing dot dropped), port (the scheme's
 * default left out) and path. User info, query and fragment are left out: the transports never send the first (the
 * Node one drops it, fetch refuses it), and `baseUrl + path` puts the API path inside the other two, so two URLs that
 * differ only there reach one server. Names that resolve to one address (a DNS alias, localhost and 127.0.0.1) are
 * not detected here.
 */
export function serverOf(baseUrl: string): string {
  const u = new URL(baseUrl);
  return `${u.protocol}//${u.hostname.replace(/\.$/, '')}:${u.port}${u.pathname.replace(/\/+$/, '')}`;
}

export function partyEndpoints(parties: unknown, allowInsecureHttp: boolean): PartyEndpoint[] {
  if (!Array.isArray(parties) || parties.length !== 3) {
    throw new InputError('E_BAD_ARGUMENT', 'PrivateInferenceClient: parties must be the three base URLs [P0, P1, P2]');
  }
  const endpoints = parties.map((u: unknown, i) => {
    if (typeof u !== 'string' || !/^https?:\/\/[^/]/i.test(u)) throw new InputError('E_BAD_ARGUMENT', `PrivateInferenceClient: parties[${i}] is not an http(s) URL`);
    let url: URL;
    try { url = new URL(u); } catch { throw new InputError('E_BAD_ARGUMENT', `PrivateInferenceClient: parties[${i}] is not an http(s) URL`); }
    if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHostname(url.hostname)) {
      throw new InputError('E_BAD_ARGUMENT', `PrivateInferenceClient: parties[${i}] is a plain http:// URL to a host that is not loopback: the input and output shares, the token and the session key would cross the network unencrypted; use https (allowInsecureHttp: only where something else encrypts the link)`);
    }
    return { party: i as 0 | 1 | 2, baseUrl: u.replace(/\/+$/, '') };
  });
  const where = endpoints.map((e) => serverOf(e.baseUrl));
  for (const [a, b] of [[0, 1], [0, 2], [1, 2]] as const) {
    if (where[a] === where[b]) throw new InputError('E_BAD_ARGUMENT', `PrivateInferenceClient: parties[${a}] and parties[${b}] are the same URL: each party needs its own server (one server would get both input shares)`);
  }
  return endpoints;
}
