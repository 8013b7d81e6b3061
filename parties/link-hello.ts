/**
 * The HELLO of a peer link (mesh.ts): which party speaks, which link
 * versions it speaks, and the protocol settings the three parties must share.
 * Pure functions: what the mesh sends and how it judges what it receives.
 *
 * Link versions. A build of link version N speaks N and N-1 (MIN_LINK_VERSION),
 * so one organisation can upgrade before the others. A HELLO carries
 *   version     the LOWEST version the sender speaks (a version-3 build sends
 *               its only version here and checks `version === 3`, so a
 *               version-4 build announcing 3 here is accepted by it),
 *   maxVersion  the highest (absent: = version, as a version-3 build sends).
 * The link runs at min(maxVersion of both); it is refused when that is below
 * either side's lowest version. Rule for whoever changes the link: a change a
 * party can not adapt to per link (different messages in a run) bumps
 * LINK_VERSION and must be gated on the link's negotiated version, or else
 * also raise MIN_LINK_VERSION (N-1 no longer interoperates).
 *   3: frames of up to 64 MiB, exact truncation (chunking.ts).
 *   4: HELLO carries `maxVersion` and `settings`, compared at link set-up.
 *      A version-3 peer sends no settings: they are then compared per run, by
 *      the plan (run-planner.ts: E_PROTOCOL_DESYNC / E_MODEL_MISMATCH).
 *
 * Settings. `must` ones make every run fail if they differ (the plan carries
 * them and the other parties refuse it): the link is refused with
 * E_SETTINGS_MISMATCH naming the setting and both values, instead of a
 * failure per run. `should` ones are decided by P0 per run, so a difference
 * only costs speed or memory: logged as a warning, the link comes up.
 * Messages name settings and public values (model hashes are public: clients
 * read them at /v1/model), never a share or key.
 */
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';

export const LINK_VERSION = 4;
export const MIN_LINK_VERSION = 3;

export interface LinkSettings {
  compareBits?: 32 | 64;
  compareRadix?: 2 | 4;
  /** The loaded share model's hash (absent before a model is loaded). */
  modelHash?: string;
  /** The import the loaded bundle comes from (model-source.ts): two imports of one file share a modelHash, not their weight shares. */
  importId?: string;
  keepWeightMasks?: boolean;
  preprocess?: boolean;
  /** The security mode (config security): semi-honest and malicious parties run different protocols. */
  security?: 'semi-honest' | 'malicious';
  /**
   * Malicious mode only (config malicious.comparisons): the domain of the ReLU-family and MaxPool comparisons; the
   * two run different messages. Sent by a malicious party only; absent from a HELLO: 'arithmetic', what a build
   * before the setting runs, so such a peer and a party running 'binary' are refused.
   */
  maliciousComparisons?: 'arithmetic' | 'binary';
  /**
   * Malicious mode only: the party runs step d0, a digest of the client's d compared with its peers before the run
   * (malicious-desk.ts), set-up messages a build before it neither sends nor reads. Negotiated, not compared: a
   * session runs d0 only when the three parties announce it (each party sees the other two's HELLOs, so the three
   * decide the same), else the run goes on without it, as before the step; a peer without it still links, so one
   * organisation can upgrade first (link versions above).
   */
  maliciousInputDigest?: boolean;
  /**
   * Malicious mode only: the revision of the malicious mode's messages (protocol/malicious/revision.ts). Two builds
   * with different messages would fail their first run with E_INTEGRITY, a false alarm of cheating that drops the
   * epoch: refused here instead. Absent from a HELLO: 1, what a build before the field runs.
   */
  maliciousRevision?: number;
  /** What carries the pair's messages (mesh-h2.ts): the mesh adds it; a build before it speaks only 'grpc'. */
  meshLink?: 'grpc' | 'h2';
  /**
   * The ring of a request-only label mode's decisions (the loaded bundle's outputCompareBits, model-source.ts; 64
   * without it). Absent from a HELLO: 64, what a build before the field decides on, so such a peer and a party
   * deciding on 32 bits are refused instead of running the output step on different rings.
   */
  outputCompareBits?: 32 | 64;
  /**
   * Whether the party runs the run-time range sentinel for the loaded model (range-sentinel.ts). Absent from a
   * HELLO: false, what a build before the field runs, so such a peer and a party running it are refused.
   */
  rangeSentinel?: boolean;
  /**
   * The opt-in fusions (parties/fuse-knob.ts: PARTY_FUSE_RELU_DENSE, PARTY_FUSE_RELU_MAXPOOL): a party with one on
   * runs other messages and PRG draws in a run than a party with it off, and a mismatch is not always caught by the
   * run (P0 alone fusing the dense layer: P1 waits for an opening that never comes, no error). Sent only when on;
   * absent from a HELLO: off, what a build before the field (or with the knob off) runs.
   */
  fuseReluIntoDense?: boolean;
  fuseReluIntoMaxPool?: boolean;
}

/** Settings that must be the same at both ends of a link, in the order they are reported. */
const MUST: (keyof LinkSettings)[] = ['security', 'maliciousComparisons', 'maliciousRevision', 'compareBits', 'compareRadix', 'modelHash', 'importId', 'meshLink', 'outputCompareBits', 'rangeSentinel', 'fuseReluIntoDense', 'fuseReluIntoMaxPool'];
/** Settings compared with a default when a HELLO leaves them out (what a build before the setting does). */
const DEFAULTS: Partial<LinkSettings> = { outputCompareBits: 64, rangeSentinel: false, maliciousComparisons: 'arithmetic', maliciousRevision: 1, fuseReluIntoDense: false, fuseReluIntoMaxPool: false };
/** Settings P0 decides per run: a difference is reported, not refused. */
const SHOULD: (keyof LinkSettings)[] = ['keepWeightMasks', 'preprocess'];

/**
 * Link 'h2' (mesh-h2.ts): dataPort, the server's data link port, in its gRPC
 * answer; dataToken, the server's random token for this one gRPC link, in its
 * gRPC answer, then in both HELLOs on the data link (it binds the data stream
 * to that gRPC link: mesh-data-links.ts).
 */
export interface Hello { party: PartyId; version: number; maxVersion: number; settings?: LinkSettings; dataPort?: number; dataToken?: string }

/** What a HELLO says of the h2 data link (absent on 'grpc' links). */
export interface HelloData { port?: number | undefined; token?: string | undefined }

/** A data token: 16 random bytes, base64url (mesh-data-links.ts newDataToken). */
export const DATA_TOKEN_RE = /^[A-Za-z0-9_-]{22}$/;
export interface VersionRange { min: number; max: number }

export const DEFAULT_VERSIONS: VersionRange = { min: MIN_LINK_VERSION, max: LINK_VERSION };

export function encodeHello(party: PartyId, versions: VersionRange, settings: LinkSettings | undefined, data?: HelloData): Uint8Array {
  return Buffer.from(JSON.stringify({ party, version: versions.min, maxVersion: versions.max, ...(settings ? { settings } : {}), ...(data?.port ? { dataPort: data.port } : {}), ...(data?.token ? { dataToken: data.token } : {}) }));
}

/** The HELLO in `payload`, or null when it is not one (no party, no version, not JSON). */
export function decodeHello(payload: Uint8Array): Hello | null {
  let h: { party?: unknown; version?: unknown; maxVersion?: unknown; settings?: unknown; dataPort?: unknown; dataToken?: unknown };
  try { h = JSON.parse(Buffer.from(payload).toString('utf8')) as typeof h; } catch { return null; }
  if (!h || typeof h !== 'object') return null;
  const p = h.party;
  if ((p !== 0 && p !== 1 && p !== 2) || !Number.isInteger(h.version)) return null;
  const version = h.version as number;
  const maxVersion = Number.isInteger(h.maxVersion) && (h.maxVersion as number) >= version ? (h.maxVersion as number) : version;
  const settings = h.settings && typeof h.settings === 'object' ? (h.settings as LinkSettings) : undefined;
  const dataPort = Number.isInteger(h.dataPort) && (h.dataPort as number) > 0 && (h.dataPort as number) < 65536 ? (h.dataPort as number) : undefined;
  const dataToken = typeof h.dataToken === 'string' && DATA_TOKEN_RE.test(h.dataToken) ? h.dataToken : undefined;
  return { party: p, version, maxVersion, ...(settings ? { settings } : {}), ...(dataPort ? { dataPort } : {}), ...(dataToken ? { dataToken } : {}) };
}

const range = (r: VersionRange): string => (r.min === r.max ? `${r.min}` : `${r.min}..${r.max}`);

/** The version both speak, or E_LINK_VERSION naming both ranges. */
export function negotiateVersion(self: PartyId, mine: VersionRange, peer: PartyId, theirs: VersionRange): number | MpcError {
  const v = Math.min(mine.max, theirs.max);
  if (v >= mine.min && v >= theirs.min) return v;
  const [a, b] = self < peer ? [[self, mine], [peer, theirs]] as const : [[peer, theirs], [self, mine]] as const;
  return new MpcError('E_LINK_VERSION', `link version: P${a[0]} speaks ${range(a[1])}, P${b[0]} speaks ${range(b[1])} (a build speaks its version and the one before)`, { party: peer, step: 'link.hello' });
}

const show = (v: unknown): string => (v === undefined ? 'none' : String(v));

/**
 * Differences between two parties' settings, as `name: P0 has x, P1 has y`
 * (lower party id first, so both ends word it the same). Only settings both
 * HELLOs carry are compared.
 */
export function compareSettings(self: PartyId, mine: LinkSettings, peer: PartyId, theirs: LinkSettings): { must: string[]; should: string[] } {
  const m: LinkSettings = { ...DEFAULTS, ...mine }, t: LinkSettings = { ...DEFAULTS, ...theirs };
  const diff = (keys: (keyof LinkSettings)[]) => keys.filter((k) => m[k] !== undefined && t[k] !== undefined && m[k] !== t[k]).map((k) => {
    const [a, b] = self < peer ? [[self, m[k]], [peer, t[k]]] : [[peer, t[k]], [self, m[k]]];
    return `${k}: P${a[0]} has ${show(a[1])}, P${b[0]} has ${show(b[1])}`;
  });
  return { must: diff(MUST), should: diff(SHOULD) };
}

/** E_SETTINGS_MISMATCH for the `must` differences, or null. */
export function settingsError(peer: PartyId, diffs: string[]): MpcError | null {
  return diffs.length === 0 ? null : new MpcError('E_SETTINGS_MISMATCH', `${diffs.join('; ')} (must be the same at the three parties)`, { party: peer, step: 'link.hello' });
}

/** How a refusal travels in the gRPC status details: `E_CODE: message`, so the other end can name it too. */
export const refusalDetails = (e: MpcError): string => `${e.code}: ${e.message}`;

/** The refusal a peer sent in its gRPC status details, or null. */
export function parseRefusal(details: string | undefined, peer: PartyId): MpcError | null {
  const m = /^(E_LINK_VERSION|E_SETTINGS_MISMATCH): (.*)$/s.exec(details ?? '');
  return m ? new MpcError(m[1] as 'E_LINK_VERSION' | 'E_SETTINGS_MISMATCH', m[2]!, { party: peer, step: 'link.hello' }) : null;
}
