/**
 * JSON schema of the deployment config file (config.ts `DeploymentConfig`),
 * checked with ajv before anything else: every object refuses keys it does
 * not know (a typo such as "bundel" or "maxBtach" is an error naming the
 * key, not a silently ignored setting), and every value has its JSON type.
 * Ranges, enumerations and cross-field rules stay in config.ts, which words
 * them for this project.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { MpcError } from '../protocol/errors.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const strs = { type: 'array', items: str, minItems: 1 } as const;
const obj = (properties: Record<string, unknown>, required: string[] = []): Record<string, unknown> => ({ type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) });

const budget = obj({ epsilon: num, delta: num });
const singleModel = { oneOf: [obj({ bundleDir: str }, ['bundleDir']), obj({ devFile: str }, ['devFile'])] };
const model = {
  oneOf: [
    obj({ bundleDir: str }, ['bundleDir']),
    obj({ devFile: str }, ['devFile']),
    obj({ ensemble: obj({ teachers: { type: 'array', items: singleModel }, noise: obj({ mechanism: str, epsilon: num, delta: num, sampler: str }) }, ['teachers']) }, ['ensemble']),
  ],
};

const party = obj({
  http: obj({ host: str, port: int, tls: obj({ cert: str, key: str, ca: str, requireClientCert: bool }) }, ['host', 'port']),
  grpc: obj({ host: str, port: int, address: str, dataPort: int }, ['host', 'port']),
  tls: obj({ ca: { anyOf: [str, strs] }, cert: str, key: str, pins: obj({ 0: str, 1: str, 2: str }), spkiPins: obj({ 0: strs, 1: strs, 2: strs }), peerCas: obj({ 0: str, 1: str, 2: str }) }, ['ca', 'cert', 'key']),
  model,
  clients: { type: 'array', items: obj({ id: str, tokenSha256: str }, ['id', 'tokenSha256']) },
  metrics: obj({ host: str, port: int }, ['host', 'port']),
  staticDir: str,
  staticFiles: { type: 'object', additionalProperties: str },
});

export const DEPLOYMENT_SCHEMA = obj({
  tokens: { type: 'array', items: str },
  operatorTokens: { type: 'array', items: str },
  insecureLocal: bool,
  batch: obj({ windowMs: int, maxBatch: int, maxConcurrentRuns: int, planAheadMs: int, balance: bool }),
  sessions: obj({ defaultDeadlineMs: int, maxDeadlineMs: int, maxSessions: int, maxPerClient: int, retentionMs: int, idJournal: str }),
  http: obj({ requestMs: int, keepAliveMs: int }),
  cors: obj({ origins: { type: 'array', items: str } }),
  logLevel: str,
  kernels: str,
  compareBits: int,
  compareRadix: int,
  security: { enum: ['semi-honest', 'malicious'] },
  malicious: obj({ epochSessions: int, poolInferences: int, poolMaxBytes: int, comparisons: str, clientWaitMs: int }),
  keepWeightMasks: bool,
  rangeSentinel: { enum: ['auto', 'on', 'off'] },
  preprocess: obj({ enabled: bool, maxBytes: int, timeoutMs: int }),
  warmup: obj({ runs: int, maxMs: int, batches: { type: 'array', items: int }, clientRuns: int }),
  tlsReloadMs: int,
  mesh: obj({ link: str }),
  privacy: obj({ accountantFile: str, budget, budgets: { type: 'object', additionalProperties: budget }, enforce: str }),
  parties: { type: 'array', items: party, minItems: 3, maxItems: 3 },
}, ['parties']);

let validate: ReturnType<Ajv['compile']> | undefined;

/** A dotted path for messages: /parties/0/model -> parties[0].model. */
function where(e: ErrorObject): string {
  return e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('').replace(/^\./, '');
}

/** The most useful error: an unknown key first (the typo), then the deepest one. */
function describe(errors: ErrorObject[]): string {
  const unknown = errors.find((e) => e.keyword === 'additionalProperties');
  if (unknown) {
    const at = where(unknown);
    return `unknown key '${String((unknown.params as { additionalProperty: string }).additionalProperty)}'${at ? ` in ${at}` : ' at the top level'}`;
  }
  const deepest = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length)[0]!;
  return `${where(deepest) || 'the config'} ${deepest.message ?? 'is invalid'}`;
}

/** E_BAD_ARGUMENT naming the first unknown key or mistyped value of a deployment config. */
export function checkDeploymentSchema(dep: unknown, file?: string): void {
  validate ??= new Ajv({ allErrors: true, strict: true }).compile(DEPLOYMENT_SCHEMA);
  if (validate(dep)) return;
  throw new MpcError('E_BAD_ARGUMENT', `config: ${file ? `${file}: ` : ''}${describe(validate.errors ?? [])}`, { step: 'config.schema' });
}
