/**
 * What the parts of a party share (party.ts assembles them): the options,
 * the plan and run records that travel between them, and PartyCore, the
 * view of the party that the session desk, the run planner, the
 * preprocessing driver and the run executor work on.
 */
import type { ModelInfo, SecurityMode } from '../protocol/api-contract.js';
import { isMpcError, MpcError, type ErrorCode } from '../protocol/errors.js';
import type { BackendSpec } from '../runtime/kernels.js';
import type { MalComparisons } from '../protocol/malicious/primitives.js';
import type { PrivacyRequest } from '../protocol/privacy/index.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { BatcherOptions } from './batcher.js';
import type { Logger } from './log.js';
import type { MeshOptions, PeerMesh } from './mesh.js';
import type { PartyMetrics } from './metrics.js';
import type { LoadedModel, ModelSource } from './model-source.js';
import type { PreprocessOptions } from './preprocessing.js';
import type { AccountantHolder, PrivacySettings } from './privacy.js';
import type { SessionTransport } from './session-transport.js';
import type { SessionStore } from './sessions.js';
import type { WarmupOptions } from './warmup.js';
import type { PlanMasks, WeightMaskState } from './weight-masks.js';
import type { RangeSentinelSetting } from './range-sentinel.js';

export interface SessionLimits {
  defaultDeadlineMs: number;
  maxDeadlineMs: number;
  maxSessions: number;
  /** Unfinished sessions one client may hold (default maxSessions / 4, at least 1). */
  maxPerClient?: number;
  retentionMs: number;
  /** Absolute path of the burnt-id journal (parties/id-journal.ts); without it, used ids are refused only until a restart. */
  idJournal?: string;
}

/**
 * A client session's deadline (semi-honest sessions and the malicious routes alike): the one the client asked for,
 * else the config's default; an integer in 1..maxDeadlineMs, else E_BAD_ARGUMENT (with `where`'s party and step).
 */
export function clientDeadlineMs(requested: number | undefined, s: SessionLimits, where?: { party: PartyId; step: string }): number {
  const ms = requested ?? s.defaultDeadlineMs;
  if (!Number.isInteger(ms) || ms < 1 || ms > s.maxDeadlineMs) throw new MpcError('E_BAD_ARGUMENT', `deadlineMs must be an integer in 1..${s.maxDeadlineMs}`, where);
  return ms;
}

export interface PartyOptions {
  party: PartyId;
  model: ModelSource;
  mesh: Omit<MeshOptions, 'party' | 'logger'>;
  /**
   * planAheadMs (default DEFAULT_PLAN_AHEAD_MS; 0 = off): P0 plans a session
   * as soon as its own input is in, without waiting for P1's and P2's
   * 'ready' reports, and P1 and P2 wait this long for a planned session that
   * has not reached them before they defer the run (run-planner.ts).
   */
  batch: BatcherOptions & { planAheadMs?: number };
  sessions: SessionLimits;
  kernels?: BackendSpec;
  /** Comparison ring width (config compareBits; default 32). */
  compareBits?: 32 | 64;
  /** Digits of the PrivateCompare on the 32-bit ring (config compareRadix; default 4). */
  compareRadix?: 2 | 4;
  /** The security mode (config security; default 'semi-honest'). */
  security?: SecurityMode;
  /**
   * Malicious mode: epoch rotation, the mask pool, the comparisons' domain, and how long a session waits on its client
   * (config malicious; default DEFAULT_MALICIOUS, parties/malicious-epoch.ts; comparisons absent: 'arithmetic').
   */
  malicious?: { epochSessions: number; poolInferences: number; poolMaxBytes: number; comparisons?: MalComparisons; clientWaitMs?: number };
  /** Keep the masks of the model's weights across runs (parties/weight-masks.ts; default true). */
  keepWeightMasks?: boolean;
  /** The run-time range sentinel (config rangeSentinel; default 'auto': models with compareBound 'samples-only'; parties/range-sentinel.ts). */
  rangeSentinel?: RangeSentinelSetting;
  /** P2 deals the next run's correlated randomness while idle (parties/preprocessing.ts; default DEFAULT_PREPROCESS). */
  preprocess?: PreprocessOptions;
  /** This party's privacy accountant. */
  privacy: PrivacySettings;
  /** Start-up warm-up between the parties (parties/warmup.ts; default DEFAULT_WARMUP; P0's decides for the three). */
  warmup?: WarmupOptions;
  logger?: Logger;
  metrics?: PartyMetrics;
  /** Test hook: called after each layer of each run. */
  onNode?: (party: PartyId, runId: string, name: string, index: number) => void;
}

/** One session of a run: its images, its request's privacy options, and the key of the policy P0 resolved. */
/** `bind`: P0's digest of the session's create request (session-binding.ts); P1 and P2 compare their own. */
export interface PlanEntry { id: string; batch: number; policy: string; privacy?: PrivacyRequest; bind?: string }
export interface PlanBody { runId: string; modelHash: string; importId?: string; sessions: PlanEntry[]; deadlineMs: number; seed: string; compareBits: 32 | 64; compareRadix: 2 | 4; rangeSentinel?: boolean; masks: PlanMasks | null; prep: string | null }

/** One layer of a run at this party: wall time, time blocked in recv, and the traffic this party sent. */
export interface LayerRecord { name: string; kind: string; ms: number; waitMs: number; bytesSent: number; messages: number; rounds: number }

export interface RunRecord {
  runId: string; sessions: string[]; images: number; ok: boolean; code?: ErrorCode; ms: number; bytesSent: number; rounds: number;
  messages?: number;
  /** Time blocked in recv over the whole run (ms). */
  waitMs?: number;
  /** Per layer, in model order (complete only for successful runs). */
  layers?: LayerRecord[];
  /** The run took P2's dealt randomness from a bundle made before it (parties/preprocessing.ts). */
  preprocessed?: boolean;
}

/** A run in progress at this party; a peer's 'abort' or 'defer' closes its view. */
export interface ActiveRun { view: SessionTransport; abortedBy: PartyId | null; deferred?: boolean }

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The one converter from anything thrown to the coded error a session or a
 * client gets: an MpcError as it is, anything else E_INTERNAL (its cause kept
 * for the log, never shown). parties/http.ts maps fastify's own errors first.
 */
export function asMpcError(e: unknown, message = 'internal error in the protocol run'): MpcError {
  if (isMpcError(e)) return e;
  return new MpcError('E_INTERNAL', message, { cause: e });
}

/** The party as its parts see it. */
export interface PartyCore {
  readonly party: PartyId;
  readonly opts: PartyOptions;
  readonly mesh: PeerMesh;
  readonly store: SessionStore;
  readonly metrics: PartyMetrics;
  readonly log: Logger;
  readonly weightMasks: WeightMaskState;
  readonly accountant: AccountantHolder;
  /** The loaded model (null until start() has loaded it). */
  readonly model: LoadedModel | null;
  readonly closed: boolean;
  ready(): boolean;
  modelInfo(): ModelInfo;
}

/** Tell a peer that a run stopped (control 'abort'); a link that is down needs no telling. */
export function sendAbort(core: PartyCore, to: PartyId, runId: string, code: ErrorCode): void {
  try { core.mesh.sendControl(to, 'abort', { runId, code }); } catch { /* link down: the peer sees that itself */ }
}

/** The two other parties. */
export const peersOf = (p: PartyId): PartyId[] => ([0, 1, 2] as PartyId[]).filter((q) => q !== p);
