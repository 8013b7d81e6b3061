/**
 * A fake trio of party servers that implements protocol/api-contract.ts over
 * real HTTP (fastify on 127.0.0.1), for the SDK's tests only.
 *
 * "Inference" is a public linear map computed on shares: P0 and P1 each
 * compute y_j = trunc_j(W x_j) with W an integer matrix and trunc the
 * SecureML local truncation by 2^k (P0: floor(y_0 / 2^k); P1: 2^64 -
 * floor((2^64 - y_1) / 2^k)), so y_0 + y_1 = floor(W x / 2^k) up to one unit
 * in the last place. P2 takes part in session creation only. Outputs are
 * released when both input shares arrived (like the real protocol).
 *
 * Output privacy: with `model.privacy` (the model's policy) or a request's
 * `privacy.outputMode`, the fake answers in a label mode: it computes the
 * labels (and confidence buckets) of the same public map in the clear from
 * the reconstructed input (a fake: real parties never can) and hands P0 and
 * P1 fresh additive shares of them: by the model's decision rule
 * (protocol/output-kind.ts), argmax per image, one bit per element against
 * the thresholds of model.privacy.decisionThresholds (x >= ceil(logit(t)
 * 2^f)), or argmax per pixel. A request looser than the model's mode is
 * refused with E_PRIVACY_POLICY. No noise, no accountant.
 *
 * TEST SPY: the fake also reconstructs the input it received (`inputs`) so
 * tests can compare what the browser and Node sent. Real parties never can.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { ApiError, CreateSessionRequest, CreateSessionResponse, ModelInfo, OutputMode, OutputPrivacy } from '../../protocol/api-contract.js';
import { AWAIT_OUTPUT_HEADER, OUTPUT_ENVELOPE_TYPE, OUTPUT_KIND_HEADER, OUTPUT_MODE_HEADER, OUTPUT_SENTINEL_HEADER, OUTPUT_SESSION_HEADER, OUTPUT_SHAPE_HEADER, SESSION_CREATE_HEADER, SESSION_KEY_HEADER, SESSION_KEY_PATTERN } from '../../protocol/api-contract.js';
import { ERROR_CODES, type ErrorCode } from '../../protocol/errors.js';
import { decisionRuleOf, labelShapeOf, outputKindOf } from '../../protocol/output-kind.js';

const MOD = 1n << 64n;
const MASK = MOD - 1n;

export interface PartyBehavior {
  /** Model hash this party reports (default: the model's). */
  modelHash?: string;
  /** Party id this party reports (default: its index). */
  reportParty?: number;
  /** Answer POST /v1/sessions with this error. */
  failCreate?: { code: string; status?: number; message?: string };
  /** Answer GET .../output with this error (after the inputs arrived). */
  failOutput?: { code: string; status?: number; message?: string };
  /** Extra wait before answering GET .../output. */
  outputDelayMs?: number;
  /** Answer GET .../output with 202 {state:'running'} this many times first. */
  notReadyPolls?: number;
  /** Leave out the x-output-shape header. */
  omitShapeHeader?: boolean;
  /** Send this x-output-kind header instead of the model's kind. */
  kindHeader?: string;
  /** Send this x-range-sentinel header (the party's share of the range sentinel's s) with the output; absent: none. */
  sentinelHeader?: string;
  /** Model fields this party reports differently (its session responses and /v1/model), e.g. another importId or labels. */
  info?: Partial<ModelInfo>;
}

export interface FakePartiesOptions {
  /** One token every party takes (default), or `tokens`: each party's own. */
  token?: string;
  tokens?: [string, string, string];
  model?: Partial<ModelInfo>;
  behavior?: Partial<Record<0 | 1 | 2, PartyBehavior>>;
  /** Answer a PUT with x-session-create and x-await-output with the output (default true, as the real parties; false: an older party, 201 only). */
  awaitOutput?: boolean;
  /** Files P0 serves at /<name> (and / -> index.html), like the real P0 serving client-sdk/demo. */
  staticFiles?: () => Record<string, { body: string | Uint8Array; type: string }>;
}

export interface RequestLog { party: number; method: string; url: string; /** The session key header, if any. */ key?: string }

interface Session {
  batch: number;
  deadline: number;
  created: Set<number>;
  /** The session key each party got at creation. */
  keys: [unknown, unknown, unknown];
  inputs: [BigUint64Array | undefined, BigUint64Array | undefined];
  polls: [number, number];
  mode: OutputMode;
  /** Label modes: P0's and P1's shares of the labels (and buckets), made once both inputs arrived. */
  labelShares?: [BigUint64Array, BigUint64Array];
  ready: Promise<void>;
  markReady: () => void;
}

export interface FakeParties {
  urls: [string, string, string];
  model: ModelInfo;
  token: string;
  requests: RequestLog[];
  /** TEST SPY: reconstructed inputs (real numbers) per session id. */
  inputs: Map<string, Float64Array>;
  behavior: Partial<Record<0 | 1 | 2, PartyBehavior>>;
  /** Plaintext twin: floor(W x_enc / 2^k) in ring units, per batch item. */
  expectedRing(xEncoded: BigUint64Array, batch: number): bigint[][];
  shift: number;
  close(): Promise<void>;
}

export const DEFAULT_FAKE_MODEL: ModelInfo = {
  modelHash: 'a3f1c9e2b7d4'.padEnd(64, '0'),
  inputShape: [64, 64, 1],
  outputShape: [2],
  fracBits: 13,
  outputActivation: 'softmax',
  labels: ['NORMAL', 'PNEUMONIA'],
};

/** Public weight W[c][i] in -3..3 (a fixed hash, no randomness). */
export function weight(c: number, i: number): number {
  return ((Math.imul(i + 1, 2654435761) ^ Math.imul(c + 7, 40503)) >>> 0) % 7 - 3;
}

function toSigned(v: bigint): bigint {
  return v >= 1n << 63n ? v - (1n << 64n) : v;
}

const RANK: Record<OutputMode, number> = { logits: 0, 'label+confidence': 1, label: 2 };

function randomU64s(n: number): BigUint64Array {
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i += 8192) globalThis.crypto.getRandomValues(out.subarray(i, i + 8192));
  return out;
}

/** Plaintext labels (argmax; single output: x > 0) and buckets (how many thresholds the margin reaches) of ring-unit logits. */
export function fakeLabels(logits: bigint[][], thresholds: number[], fracBits: number): { index: number[]; bucket: number[] } {
  const index: number[] = [], bucket: number[] = [];
  for (const row0 of logits) {
    const row = row0.length === 1 ? [0n, row0[0]!] : row0;
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
    let second: bigint | undefined;
    row.forEach((v, c) => { if (c !== best && (second === undefined || v > second)) second = v; });
    const margin = Number(row[best]! - second!) / 2 ** fracBits;
    index.push(best);
    bucket.push(thresholds.filter((t) => margin >= t).length);
  }
  return { index, bucket };
}

/** Plaintext per-element decisions [x >= tau_c] and buckets #{k : |x - tau_c| >= m_k} of ring-unit logits (rows of C thresholds). */
export function fakeDecisions(logits: bigint[][], thresholds: number[], margins: number[], fracBits: number): { index: number[]; bucket: number[] } {
  const enc = (v: number): bigint => BigInt(Math.round(v * 2 ** fracBits));
  // As protocol/privacy/decisions.ts logitThreshold: the least lattice point at or above logit(t).
  const tau = thresholds.map((t) => BigInt(Math.ceil(Math.log(t / (1 - t)) * 2 ** fracBits)));
  const m = margins.map((mu) => { const u = enc(mu); return u < 1n ? 1n : u; });
  const index: number[] = [], bucket: number[] = [];
  for (const row of logits) row.forEach((x, e) => {
    const w = x - tau[e % tau.length]!;
    index.push(w >= 0n ? 1 : 0);
    const a = w < 0n ? -w : w;
    bucket.push(m.filter((u) => a >= u).length);
  });
  return { index, bucket };
}

function linearMap(x: BigUint64Array, batch: number, n: number, classes: number): bigint[][] {
  const out: bigint[][] = [];
  for (let b = 0; b < batch; b++) {
    const row: bigint[] = [];
    for (let c = 0; c < classes; c++) {
      let acc = 0n;
      for (let i = 0; i < n; i++) {
        const w = weight(c, i);
        if (w !== 0) acc += BigInt(w) * x[b * n + i]!;
      }
      row.push(acc & MASK);
    }
    out.push(row);
  }
  return out;
}

export async function startFakeParties(opts: FakePartiesOptions = {}): Promise<FakeParties> {
  const token = opts.token ?? 'test-token';
  const model: ModelInfo = { ...DEFAULT_FAKE_MODEL, ...opts.model };
  const behavior = opts.behavior ?? {};
  const n = model.inputShape.reduce((a, b) => a * b, 1);
  const classes = model.outputShape.reduce((a, b) => a * b, 1);
  const rule = decisionRuleOf(model.outputShape, model.outputActivation);
  const shift = Math.max(0, Math.round(Math.log2(Math.sqrt(n) * 2)));
  const K = BigInt(shift);
  const sessions = new Map<string, Session>();
  const requests: RequestLog[] = [];
  const inputs = new Map<string, Float64Array>();
  const closing = new AbortController();

  const fail = (reply: FastifyReply, party: number, code: string, message: string, status?: number): FastifyReply => {
    const body: ApiError = { code, message, party };
    return reply.code(status ?? ERROR_CODES[code as ErrorCode]?.http ?? 500).type('application/json').send(body);
  };

  /** Resolves after ms, when `until` settles first, or on close; leaves no timer or listener behind. */
  const wait = (ms: number, until?: Promise<unknown>): Promise<void> => new Promise((resolve) => {
    const done = (): void => { clearTimeout(t); closing.signal.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    closing.signal.addEventListener('abort', done, { once: true });
    until?.then(done, done);
  });

  function makeServer(party: 0 | 1 | 2): FastifyInstance {
    const app = Fastify({ logger: false, bodyLimit: 256 * 1024 * 1024, forceCloseConnections: true });
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.addHook('onRequest', async (req, reply) => {
      const key = req.headers[SESSION_KEY_HEADER];
      requests.push({ party, method: req.method, url: req.url, ...(typeof key === 'string' ? { key } : {}) });
      reply.header('access-control-allow-origin', '*');
      reply.header('access-control-allow-headers', `authorization, content-type, accept, ${SESSION_CREATE_HEADER}, ${AWAIT_OUTPUT_HEADER}, ${SESSION_KEY_HEADER}`);
      reply.header('access-control-allow-methods', 'GET, POST, PUT, OPTIONS');
      reply.header('access-control-expose-headers', `${OUTPUT_SHAPE_HEADER}, ${OUTPUT_MODE_HEADER}, ${OUTPUT_KIND_HEADER}, ${OUTPUT_SESSION_HEADER}, ${OUTPUT_SENTINEL_HEADER}`);
      if (req.method === 'OPTIONS') return reply.code(204).send();
      if (req.url.startsWith('/v1/') && req.headers.authorization !== `Bearer ${opts.tokens?.[party] ?? token}`) return fail(reply, party, 'E_UNAUTHENTICATED', 'missing or invalid bearer token');
      return undefined;
    });
    app.options('/*', async (_req, reply) => reply.code(204).send());

    /** POST /v1/sessions, or the creating half of a PUT with x-session-create: the response, or a failed reply. */
    const createSession = (body: CreateSessionRequest, reply: FastifyReply, key: unknown): CreateSessionResponse | FastifyReply => {
      const b = behavior[party] ?? {};
      // As the real parties: a new session needs its key; later requests must present the same one.
      if (typeof key !== 'string' || !SESSION_KEY_PATTERN.test(key)) return fail(reply, party, 'E_BAD_ARGUMENT', `${SESSION_KEY_HEADER} missing or malformed`);
      if (b.failCreate) return fail(reply, party, b.failCreate.code, b.failCreate.message ?? 'injected failure', b.failCreate.status);
      if (typeof body?.sessionId !== 'string') return fail(reply, party, 'E_BAD_ARGUMENT', 'sessionId missing');
      if (body.modelHash !== undefined && body.modelHash !== (b.modelHash ?? model.modelHash)) return fail(reply, party, 'E_MODEL_MISMATCH', 'client expects a different model');
      const modelMode = model.privacy?.outputMode ?? 'logits';
      const mode = body.privacy?.outputMode ?? modelMode;
      if (!(mode in RANK) || RANK[mode] < RANK[modelMode]) return fail(reply, party, 'E_PRIVACY_POLICY', `privacy policy: the model allows at most '${modelMode}', the request asked for '${String(mode)}'`);
      let s = sessions.get(body.sessionId);
      if (!s) {
        let markReady!: () => void;
        const ready = new Promise<void>((r) => { markReady = r; });
        s = { batch: body.batch ?? 1, deadline: Date.now() + (body.deadlineMs ?? 60_000), created: new Set(), keys: [undefined, undefined, undefined], inputs: [undefined, undefined], polls: [0, 0], mode, ready, markReady };
        sessions.set(body.sessionId, s);
      }
      if (s.created.has(party)) return fail(reply, party, 'E_CONFLICT', 'session id already in use');
      s.created.add(party);
      s.keys[party] = key;
      const { privacy: _modelPrivacy, ...info } = model;
      const privacy: OutputPrivacy | undefined = mode === 'logits' && !model.privacy?.dp ? undefined : {
        outputMode: mode,
        ...(mode === 'label+confidence' ? { confidenceThresholds: model.privacy?.confidenceThresholds ?? [1, 3] } : {}),
        ...(mode !== 'logits' && rule === 'threshold' ? { decisionThresholds: model.privacy?.decisionThresholds ?? new Array<number>(model.outputShape[model.outputShape.length - 1]!).fill(0.5) } : {}),
        ...(model.privacy?.dp ? { dp: model.privacy.dp } : {}),
      };
      return { ...info, ...b.info, ...(privacy ? { privacy } : {}), modelHash: b.modelHash ?? model.modelHash, sessionId: body.sessionId, party: (b.reportParty ?? party) as 0 | 1 | 2, acceptsInput: party !== 2 };
    };
    const isReply = (r: unknown): r is FastifyReply => typeof (r as FastifyReply).send === 'function';

    app.post('/v1/sessions', async (req, reply) => {
      const r = createSession(req.body as CreateSessionRequest, reply, req.headers[SESSION_KEY_HEADER]);
      return isReply(r) ? r : reply.code(201).send(r);
    });

    // The model as the real parties describe it (client.describe()).
    app.get('/v1/model', async () => ({ ...model, ...(behavior[party] ?? {}).info, modelHash: (behavior[party] ?? {}).modelHash ?? model.modelHash, party: (behavior[party] ?? {}).reportParty ?? party }));

    app.put('/v1/sessions/:id/input', async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const buf = req.body as Buffer;
      // x-session-create: as the real parties (parties/session-desk.ts createWithInput), modelHash required, size checked first.
      const header = req.headers[SESSION_CREATE_HEADER];
      let created: CreateSessionResponse | undefined;
      if (typeof header === 'string') {
        if (party === 2) return fail(reply, party, 'E_BAD_ARGUMENT', 'P2 takes no input share');
        const body = { ...(JSON.parse(header) as CreateSessionRequest), sessionId: id };
        if (body.modelHash === undefined) return fail(reply, party, 'E_BAD_ARGUMENT', 'modelHash required');
        if (!Buffer.isBuffer(buf) || buf.byteLength !== (body.batch ?? 1) * n * 8) return fail(reply, party, 'E_SHAPE', `expected ${(body.batch ?? 1) * n} u64`);
        const r = createSession(body, reply, req.headers[SESSION_KEY_HEADER]);
        if (isReply(r)) return r;
        created = r;
      }
      const s = sessions.get(id);
      if (!s || !s.created.has(party) || s.keys[party] !== req.headers[SESSION_KEY_HEADER]) return fail(reply, party, 'E_NOT_FOUND', 'unknown session');
      if (party === 2) return fail(reply, party, 'E_BAD_ARGUMENT', 'P2 takes no input share');
      if (!Buffer.isBuffer(buf) || buf.byteLength !== s.batch * n * 8) return fail(reply, party, 'E_SHAPE', `expected ${s.batch * n} u64`);
      if (s.inputs[party]) return fail(reply, party, 'E_CONFLICT', 'input already uploaded');
      const share = new BigUint64Array(buf.byteLength / 8);
      new Uint8Array(share.buffer).set(buf);
      s.inputs[party] = share;
      if (s.inputs[0] && s.inputs[1]) {
        const x = new Float64Array(share.length);
        for (let i = 0; i < x.length; i++) x[i] = Number(toSigned((s.inputs[0][i]! + s.inputs[1][i]!) & MASK)) / 2 ** model.fracBits;
        inputs.set(id, x);
        s.markReady();
      }
      if (!created) return reply.code(200).send({ state: 'input-received' });
      const answer = { ...created, state: 'input-received', bytes: buf.byteLength };
      if (req.headers[AWAIT_OUTPUT_HEADER] === undefined || opts.awaitOutput === false) return reply.code(201).send(answer);
      // As the real parties: the output share after the session response (u32 LE length, JSON, share).
      const out = await outputShare(id, party, reply);
      if (isReply(out)) return out;
      const json = Buffer.from(JSON.stringify(answer));
      const len = Buffer.alloc(4);
      len.writeUInt32LE(json.length, 0);
      return reply.code(200).type(OUTPUT_ENVELOPE_TYPE).send(Buffer.concat([len, json, out]));
    });

    app.get('/v1/sessions/:id/output', async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const b = behavior[party] ?? {};
      const s = sessions.get(id);
      if (!s || !s.created.has(party) || s.keys[party] !== req.headers[SESSION_KEY_HEADER]) return fail(reply, party, 'E_NOT_FOUND', 'unknown session');
      if (party === 2) return fail(reply, party, 'E_BAD_ARGUMENT', 'P2 has no output share');
      if (s.polls[party]++ < (b.notReadyPolls ?? 0)) return reply.code(202).send({ state: 'running' });
      const out = await outputShare(id, party as 0 | 1, reply);
      return isReply(out) ? out : reply.code(200).type('application/octet-stream').send(out);
    });

    /** Wait for the inputs (or the deadline), then party's output share with its headers set, or a failed reply. */
    const outputShare = async (id: string, party: 0 | 1, reply: FastifyReply): Promise<Buffer | FastifyReply> => {
      const b = behavior[party] ?? {};
      const s = sessions.get(id)!;
      const left = s.deadline - Date.now();
      await wait(Math.max(0, left), s.ready);
      const inTime = s.inputs[0] !== undefined && s.inputs[1] !== undefined;
      if (b.outputDelayMs) await wait(b.outputDelayMs);
      if (closing.signal.aborted) return fail(reply, party, 'E_PEER_UNAVAILABLE', 'shutting down');
      if (!inTime || Date.now() > s.deadline) return fail(reply, party, 'E_DEADLINE', 'session deadline passed');
      if (b.failOutput) return fail(reply, party, b.failOutput.code, b.failOutput.message ?? 'injected failure', b.failOutput.status);
      reply.header(OUTPUT_MODE_HEADER, s.mode);
      reply.header(OUTPUT_KIND_HEADER, b.kindHeader ?? outputKindOf(model.outputShape, model.outputActivation));
      reply.header(OUTPUT_SESSION_HEADER, id);
      if (b.sentinelHeader !== undefined) reply.header(OUTPUT_SENTINEL_HEADER, b.sentinelHeader);
      if (s.mode !== 'logits') {
        if (!s.labelShares) {
          const x = s.inputs[0]!.map((v, i) => (v + s!.inputs[1]![i]!) & MASK);
          const logits = linearMap(x, s.batch, n, classes).map((row) => row.map((v) => toSigned(v) >> K));
          const margins = model.privacy?.confidenceThresholds ?? [1, 3];
          const C = model.outputShape[model.outputShape.length - 1]!;
          const { index, bucket } = rule === 'threshold' ? fakeDecisions(logits, model.privacy?.decisionThresholds ?? [0.5], margins, model.fracBits)
            : rule === 'pixel-argmax' ? fakeLabels(logits.flatMap((row) => Array.from({ length: row.length / C }, (_, p) => row.slice(p * C, (p + 1) * C))), margins, model.fracBits)
              : fakeLabels(logits, margins, model.fracBits);
          const plain = BigUint64Array.from(s.mode === 'label' ? index.map(BigInt) : index.flatMap((l, i) => [BigInt(l), BigInt(bucket[i]!)]));
          const r = randomU64s(plain.length);
          s.labelShares = [r, plain.map((v, i) => (v - r[i]!) & MASK)];
        }
        if (!b.omitShapeHeader) reply.header(OUTPUT_SHAPE_HEADER, [s.batch, ...labelShapeOf(model.outputShape, rule, s.mode)].join(','));
        return Buffer.from(s.labelShares[party].buffer);
      }
      const y = linearMap(s.inputs[party]!, s.batch, n, classes);
      const out = new BigUint64Array(s.batch * classes);
      y.flat().forEach((v, i) => {
        out[i] = party === 0 ? v >> K : (MOD - (((MOD - v) & MASK) >> K)) & MASK;
      });
      if (!b.omitShapeHeader) reply.header(OUTPUT_SHAPE_HEADER, [s.batch, ...model.outputShape].join(','));
      return Buffer.from(out.buffer);
    };

    if (party === 0 && opts.staticFiles) {
      const serve = async (name: string, reply: FastifyReply): Promise<FastifyReply> => {
        const f = opts.staticFiles!()[name];
        if (!f) return reply.code(404).send('not found');
        return reply.type(f.type).send(typeof f.body === 'string' ? f.body : Buffer.from(f.body));
      };
      app.get('/', async (_req, reply) => serve('index.html', reply));
      app.get('/:file', async (req, reply) => serve((req.params as { file: string }).file, reply));
    }
    return app;
  }

  const apps = ([0, 1, 2] as const).map(makeServer);
  const urls = (await Promise.all(apps.map(async (app) => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }))) as [string, string, string];

  return {
    urls, model, token, requests, inputs, behavior, shift,
    expectedRing: (x, batch) => linearMap(x, batch, n, classes).map((row) => row.map((v) => toSigned(v) >> K)),
    async close() {
      closing.abort();
      await Promise.all(apps.map((a) => a.close()));
    },
  };
}

/** A base URL where nothing listens (a port bound then released). */
export async function deadUrl(): Promise<string> {
  const app = Fastify();
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  await app.close();
  return `http://127.0.0.1:${port}`;
}
