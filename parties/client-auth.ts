/**
 * Who is asking: the client identity of a request's bearer token at this
 * party. Two kinds of credential:
 *  - per-party clients (`parties[i].clients`: { id, tokenSha256 }): each
 *    organisation enrols each client with a token of its own and keeps only
 *    its SHA-256; a token is valid at one party only, so no party (nor anyone
 *    who reads the shared deployment file) can act as the client at another.
 *    The identity is the entry's `id`.
 *  - shared tokens (`tokens`): one token valid at all three parties, for
 *    `npm start` and tests on loopback only (config.ts refuses them on any
 *    other address). The identity is clientIdOf(token).
 * Tokens are compared as SHA-256 digests in constant time against every
 * configured credential; the token itself is never stored or logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { clientIdOf } from './privacy.js';

export interface ClientCredential {
  /** The client's name at this party: the session owner and the privacy accountant's client id. */
  id: string;
  /** SHA-256 of the client's bearer token for this party, 64 hex digits (`printf %s "$TOKEN" | sha256sum`). */
  tokenSha256: string;
}

export const tokenDigest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** The identity of an Authorization header, or null when it carries no valid token. */
export function clientAuthenticator(tokens: readonly string[], clients: readonly ClientCredential[] = []): (authorization: string | undefined) => string | null {
  const known = [
    ...tokens.map((t) => ({ digest: tokenDigest(t), id: clientIdOf(`Bearer ${t}`) })),
    ...clients.map((c) => ({ digest: Buffer.from(c.tokenSha256, 'hex'), id: c.id })),
  ];
  return (header) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    const got = tokenDigest(m ? m[1]! : '');
    let found: string | null = null;
    // Every credential is compared, whichever matches, so the time does not tell which one did.
    for (const k of known) if (timingSafeEqual(got, k.digest) && found === null) found = k.id;
    return m !== null ? found : null;
  };
}
