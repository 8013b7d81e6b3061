/**
 * End-to-end benchmark:
 *
 *   npm run bench -- [--model networkA,cnn-maxpool,cnn-avgpool,vgg16] [--batch 1,8]
 *                    (zoo rows: --model mobilenetv3small,unet128,resnet50,densenet121,efficientnetb0 --batch 1;
 *                     `--zoo` selects all five at batch 1)
 *                    [--reps N] [--light-reps N] [--warmup N] [--warmup-s S] [--light-warmup N] [--heavy-reps N] [--heavy-warmup N]
 *                    [--transport grpc|memory] [--link h2|grpc (config mesh.link, default h2, parties/mesh-h2.ts)]
 *                    [--prep wait|off] [--prep-max-mib N] [--quick] [--no-write] [--verbose] [--no-cold-start] [--security malicious: bench/served-malicious.ts]
 *                    [--kernels cuda,cpu (the parties' config kernels, one case per set and model; cuda: the GPU, as npm start -- --gpu)] [--json FILE (also with --no-write, after every model)]
 *
 * grpc (default): three real party processes (parties/main.ts via
 * parties/launch.ts) on loopback with mTLS between them, serving model-import
 * bundles of the seed models (random weights); inferences go through the Node
 * client SDK over HTTP. After each inference the benchmark asks every party for
 * its stats of that run (GET /v1/sessions/:id/run: per layer wall ms, ms blocked
 * in recv, bytes, rounds; peak RSS of the process). memory: the three parties in this process, in-memory transport.
 *
 * Offline phase (grpc, parties/preprocessing.ts): with --prep wait (default)
 * the parties have P2 deal the next run ahead of it while idle, and the
 * benchmark waits until that is done before each inference (the latency is the
 * online run's; the mean time of one bundle is reported beside it); --prep off
 * starts the parties with it disabled (every run deals live). --prep-max-mib N
 * raises the parties' preprocess.maxBytes (default 256 MiB: a larger bundle is
 * not prepared, e.g. ResNet-50's) to N MiB, with a 10-minute bundle timeout.
 *
 * Warm-up: at least --warmup runs (default 2) and, for all but VGG16, runs
 * until --warmup-s seconds (default 3) have passed: V8 optimises the protocol
 * code only after it has run many times, so a small model's first dozen runs
 * are several times slower than a long-running server's (the latency of the
 * first run of each case is reported next to the median). Network A (light)
 * warms up for at least --light-warmup runs (default 1000, or --warmup if that
 * is given): its latency falls over the first thousands of predictions after
 * the parties start, most in the first ~500 (functions that run a few times
 * per prediction reach V8's optimising compiler only after hundreds of
 * predictions; client and parties alike). The medians of each 100 warm-up runs
 * are reported as its warm-up curve; the target is a long-running server's
 * latency, which 1000 warm-ups approach from above.
 *
 * Per model and batch: median and p90 latency after the warm-up, bytes per
 * party, rounds, time per layer (compute vs waiting), plaintext tfjs time on
 * the same input and the ratio, max output error vs plainForward. Network A
 * (light: a run takes milliseconds, so ten samples of a shared machine's noise
 * say little) has --light-reps timed runs (default 100, or --reps if that is
 * given), the seed CNNs --reps (default 10). VGG16 (heavy)
 * runs at batch 1 only, with --heavy-reps repetitions (default 1) after
 * --heavy-warmup warm-up runs (default 1: the first run after start-up also
 * builds the kept weight masks, parties/weight-masks.ts; its time is logged).
 *
 * Zoo rows (bench/zoo-models.ts): DenseNet-121, EfficientNet-B0, MobileNetV3-Small, U-Net 128
 * (../shared/fixtures/zoo, first golden X-ray), ResNet-50 (random weights); heavy (batch 1,
 * --heavy-reps); at the f of zoo-models.ts with the truncation and ring the importer's chooser
 * accepts there on the bench input (bench/zoo-precision.ts; printed in the row). Their section adds
 * rounds and bytes per layer kind (parties' run stats), the per-image target and the 4 GB peak-RSS
 * limit per party, met or not, and each party's CPU time per run with the share of the CPUs other
 * work took (grpc: bench/proc-cpu.ts).
 *
 * Cold start (grpc, unless --no-cold-start; bench/cold-start.ts): for
 * Network A and the seed CNN MaxPool among --model, fresh deployments with
 * the parties' start-up warm-up off and on: first prediction and first-100
 * median against the warm median (its own section of BENCHMARKS.md).
 *
 * Writes bench/results/run-<date>.json, the section between
 * <!-- bench:run:begin --> and <!-- bench:run:end --> in BENCHMARKS.md (a
 * selection of zoo models only: <!-- bench:zoo:begin --> ... end), and
 * bench/results/latency-per-layer.svg (unless --no-write).
 */
import '../runtime/install.js';
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { getKernels } from '../protocol/kernels/index.js';
import { secureForward } from '../protocol/layers/runner.js';
import { shareModel } from '../protocol/layers/share-model.js';
import { sizeOf } from '../protocol/layers/types.js';
import { plainForward } from '../protocol/reference/forward.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { networkA, seedCnn, seededPrg, uniform, vgg16 } from '../protocol/seed-models.js';
import { launchLocal, type Launched } from '../parties/launch.js';
import type { LayerRecord } from '../parties/party.js';
import { latencyStats, markdown, median, replaceSection, svgChart, type CaseResult, type RunMeta } from './report.js';
import { zooMarkdown } from './report-kinds.js';
import { RSS_LIMIT_BYTES, resnet50, ZOO_FIXTURES, ZOO_TARGET_MS, zooInput, zooModel } from './zoo-models.js';
import { tfjsPredictMsOrNaN } from './tfjs-time.js';
import { precisionLabel, zooPrecision, type PrecisionSettings } from './zoo-precision.js';
import { prepStats, waitPrepIdle, type PrepStats } from './prep-wait.js';
import { outputErrors, layerMedians, offlineMs, partyRun, warmupCurve } from './run-stats.js';
import { coldMarkdown, coldStart, writeColdSection } from './cold-start.js';
import { cpuWindow, type CpuWindowStats } from './proc-cpu.js';

interface ModelSpec {
  label: string; make: () => ModelIR<FloatTensor> | Promise<ModelIR<FloatTensor>>; fracBits: number; heavy?: boolean; light?: boolean;
  /** The model's own input for N images (default: uniform in [0, 1)). */
  input?: (N: number) => Float64Array;
  /** Zoo rows: the per-image target at batch 1 (ms). */
  targetMs?: number;
  /** Zoo rows: run at what the importer's chooser accepts at fracBits on the bench input and these (bench/zoo-precision.ts). */
  chooseOn?: () => ArrayLike<number>[];
}

const MODELS: Record<string, ModelSpec> = {
  networkA: { label: 'MNIST Network A (784-128-128-10)', make: () => networkA(), fracBits: 16, light: true },
  'cnn-maxpool': { label: 'seed CNN MaxPool 150x125x1', make: () => seedCnn('maxpool2d'), fracBits: 13 },
  'cnn-avgpool': { label: 'seed CNN AvgPool 150x125x1', make: () => seedCnn('avgpool2d'), fracBits: 13 },
  vgg16: { label: 'VGG16 + seed head 224x224x3', make: () => vgg16(), fracBits: 13, heavy: true },
  ...Object.fromEntries(Object.entries(ZOO_FIXTURES).map(([key, z]) => [key, { label: z.label, make: () => zooModel(key), fracBits: z.fracBits, heavy: true, input: (N: number) => zooInput(key, N), targetMs: ZOO_TARGET_MS[key], chooseOn: () => [zooInput(key, 1, 1)] }])),
  resnet50: { label: 'ResNet-50 (Keras layout, random weights) 224x224x3', make: () => resnet50(), fracBits: 13, heavy: true, targetMs: ZOO_TARGET_MS.resnet50, chooseOn: () => [] },
};
const ZOO_KEYS = [...Object.keys(ZOO_FIXTURES), 'resnet50'];

// ---- options -------------------------------------------------------------------

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
};
const flag = (name: string): boolean => argv.includes(name);
const quick = flag('--quick');
const noWrite = flag('--no-write');
const verbose = flag('--verbose');
const transport = (opt('--transport') ?? 'grpc') as 'grpc' | 'memory';
if (transport !== 'grpc' && transport !== 'memory') throw new Error(`--transport must be grpc or memory, got ${transport}`);
const modelKeys = (opt('--model') ?? (flag('--zoo') ? ZOO_KEYS.join(',') : quick ? 'networkA,cnn-avgpool' : 'networkA,cnn-maxpool,cnn-avgpool,vgg16')).split(',').map((s) => s.trim()).filter(Boolean);
for (const k of modelKeys) if (!MODELS[k]) throw new Error(`--model: unknown '${k}' (known: ${Object.keys(MODELS).join(', ')})`);
const batches = (opt('--batch') ?? (quick || flag('--zoo') ? '1' : '1,8')).split(',').map(Number);
for (const b of batches) if (!Number.isInteger(b) || b < 1 || b > 64) throw new Error(`--batch: ${b} is not an integer in 1..64`);
const reps = Number(opt('--reps') ?? (quick ? 3 : 10));
// An explicit --reps applies to Network A too, unless --light-reps is given.
const lightReps = Number(opt('--light-reps') ?? (opt('--reps') !== undefined ? reps : quick ? 3 : 100));
const warmup = Number(opt('--warmup') ?? (quick ? 1 : 2));
const warmupS = Number(opt('--warmup-s') ?? (quick ? 0 : 3));
// An explicit --warmup applies to Network A too, unless --light-warmup is given.
const lightWarmup = Number(opt('--light-warmup') ?? (opt('--warmup') !== undefined ? warmup : quick ? 1 : 1000));
if (!(warmupS >= 0 && warmupS <= 600)) throw new Error(`--warmup-s: bad value ${warmupS}`);
const prepMode = (opt('--prep') ?? 'wait') as 'wait' | 'off';
const meshLink = (['grpc', 'h2'] as const).find((k) => k === (opt('--link') ?? 'h2')) ?? (() => { throw new Error(`--link must be grpc or h2, got ${opt('--link')}`); })();
if (prepMode !== 'wait' && prepMode !== 'off') throw new Error(`--prep must be wait or off, got ${prepMode}`);
const prepMaxMiB = opt('--prep-max-mib') === undefined ? undefined : Number(opt('--prep-max-mib'));
if (prepMaxMiB !== undefined && !(Number.isInteger(prepMaxMiB) && prepMaxMiB >= 1 && prepMaxMiB <= 16384)) throw new Error(`--prep-max-mib: an integer in 1..16384, got ${opt('--prep-max-mib')}`);
const kernelSets = (opt('--kernels')?.split(',') ?? [undefined]) as ('cpu' | 'cuda' | undefined)[], jsonOut = opt('--json');
for (const k of kernelSets) if ((k !== undefined && k !== 'cpu' && k !== 'cuda') || (k && transport !== 'grpc')) throw new Error(`--kernels: a list of cpu and cuda, with --transport grpc; got '${k}'`);
const heavyReps = Number(opt('--heavy-reps') ?? 1);
const heavyWarmup = Number(opt('--heavy-warmup') ?? 1);
for (const [n, v] of [['--reps', reps], ['--light-reps', lightReps], ['--warmup', warmup], ['--light-warmup', lightWarmup], ['--heavy-reps', heavyReps], ['--heavy-warmup', heavyWarmup]] as const) if (!Number.isInteger(v) || v < (n.endsWith('warmup') ? 0 : 1)) throw new Error(`${n}: bad value ${v}`);

const log = (s: string): void => { process.stderr.write(`${s}\n`); };
let partyRuntime: 'bundle' | 'tsx' | undefined;

// ---- helpers ---------------------------------------------------------------------

/** The spec's own input, or a deterministic input in [0, 1) (seeded AES PRG; never Math.random). */
const inputFor = (spec: ModelSpec, model: ModelIR<FloatTensor>, N: number): Float64Array => spec.input?.(N) ?? uniform(seededPrg(11), N * sizeOf(model.inputShape), 0.5).map((v) => v + 0.5);

interface Rep { preprocessed?: boolean; cpu?: CpuWindowStats; ms: number; protocolMs: number; layers: LayerRecord[][]; bytes: number[]; messages: number[]; rounds: number; err: { abs: number; rel: number; prob: number } }

/** Warm-up runs still to do after `done` of them, `startedMs` after the case started: at least `min`, and (not heavy) until warmupS has passed. */
const warming = (spec: ModelSpec, done: number, min: number, startedMs: number): boolean => done < min || (!spec.heavy && performance.now() - startedMs < warmupS * 1000);

/**
 * The repetitions of one case: warm-up runs (at least `w`, and until --warmup-s has passed unless
 * heavy), then `R` timed runs. `once` runs one inference and says what to log after the time.
 */
async function repeat(key: string, spec: ModelSpec, N: number, w: number, R: number, once: () => Promise<{ rep: Rep; detail: string }>, onTimedStart?: () => Promise<void>): Promise<{ timed: Rep[]; warm: number; firstMs: number; curve: number[] }> {
  const timed: Rep[] = [], warmMs: number[] = [];
  const started = performance.now();
  let warm = 0, firstMs = NaN;
  for (let i = 0; ; i++) {
    const warmUp = timed.length === 0 && warming(spec, warm, w, started);
    if (!warmUp && timed.length >= R) break;
    if (!warmUp && timed.length === 0) await onTimedStart?.();
    const { rep, detail } = await once();
    if (i === 0) firstMs = rep.ms;
    if (!warmUp || warm < 3 || verbose) log(`${key} b${N} ${warmUp ? 'warm-up' : 'rep'} ${warmUp ? warm + 1 : timed.length + 1}: ${rep.ms.toFixed(1)} ms${detail}`);
    if (warmUp) { warm++; warmMs.push(rep.ms); } else timed.push(rep);
    if (warmUp && !warming(spec, warm, w, started)) log(`${key} b${N}: ${warm} warm-up runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const curve = warmupCurve(warmMs);
  if (curve.length) log(`${key} b${N}: warm-up curve (median of each 100 runs) ${curve.map((m) => m.toFixed(2)).join(', ')} ms`);
  return { timed, warm, firstMs, curve };
}

function summarize(key: string, spec: ModelSpec, N: number, w: number, timed: Rep[], tfjsMs: number, peakRssBytes: number[], firstMs: number, curve: number[] = []): CaseResult {
  const lat = latencyStats(timed.map((r) => r.ms));
  return {
    ...(spec.targetMs !== undefined ? { targetMs: spec.targetMs } : {}),
    key, model: key, label: spec.label, batch: N, transport, fracBits: spec.fracBits, warmup: w, reps: timed.length, firstMs,
    ...(curve.length ? { warmupCurveMs: curve } : {}),
    latencyMs: lat, perImageMs: lat.median / N, protocolMs: median(timed.map((r) => r.protocolMs)),
    bytesPerParty: timed[0]!.bytes, messagesPerParty: timed[0]!.messages, rounds: timed[0]!.rounds,
    layers: layerMedians(timed.map((r) => r.layers)),
    tfjsMs, ratio: lat.median / tfjsMs,
    maxAbsErr: Math.max(...timed.map((r) => r.err.abs)), maxAbsProbErr: Math.max(...timed.map((r) => r.err.prob)), maxRelErr: Math.max(...timed.map((r) => r.err.rel)),
    peakRssBytes,
    ...(timed[0]!.cpu ? { partyCpuMs: [0, 1, 2].map((p) => median(timed.map((r) => r.cpu!.partyMs[p]!))), othersCpuShare: median(timed.map((r) => r.cpu!.othersShare)) } : {}),
  };
}

/** Zoo rows: (f, truncation, ring) the importer's chooser accepts on the bench input (+ chooseOn); others: f, local, 32 bits. */
async function precisionFor(key: string, spec: ModelSpec, model: ModelIR<FloatTensor>): Promise<PrecisionSettings> {
  if (!spec.chooseOn) return { fracBits: spec.fracBits, truncation: 'local', compareBits: 32 };
  const t = performance.now(), extra = spec.chooseOn();
  const p = await zooPrecision(model, [inputFor(spec, model, 1), ...extra], spec.fracBits);
  log(`${key}: ${precisionLabel(p.settings)} (the importer's chooser on the bench input${extra.length ? ` and ${extra.length} more golden input(s)` : ''}, ${((performance.now() - t) / 1000).toFixed(1)} s):\n  ${p.lines.join('\n  ')}`);
  return p.settings;
}

// ---- grpc: three party processes -------------------------------------------------

/** A model and its precision settings, made once per model for all --kernels sets. */
const prepared = new Map<string, Promise<{ model: ModelIR<FloatTensor>; prec: PrecisionSettings }>>();
async function benchGrpc(key: string, spec: ModelSpec, Ns: number[], partyKernels?: 'cpu' | 'cuda'): Promise<CaseResult[]> {
  if (!prepared.has(key)) prepared.set(key, (async () => { const model = await spec.make(); return { model, prec: await precisionFor(key, spec, model) }; })());
  let model: ModelIR<FloatTensor>, prec: PrecisionSettings;
  try { ({ model, prec } = await prepared.get(key)!); } catch (e) { return Ns.map((N) => ({ ...failed(key, spec, N), error: `precision: ${(e as Error).message}` })); }
  const t0 = performance.now();
  let l: Launched;
  try {
    l = await launchLocal({
      plain: model, fracBits: prec.fracBits, truncation: prec.truncation, compareBits: prec.compareBits, logLevel: verbose ? 'info' : 'warn', meshLink,
      // windowMs 0: a session leaves at once (no batching window in the latency); one run at a time.
      batch: { windowMs: 0, maxBatch: Math.max(8, ...Ns), maxConcurrentRuns: 1 },
      sessions: { defaultDeadlineMs: 3_600_000, maxDeadlineMs: 3_600_000 },
      readyTimeoutMs: 900_000, ...(partyKernels ? { kernels: partyKernels } : {}),
      ...(prepMode === 'off' ? { preprocess: { enabled: false } } : prepMaxMiB !== undefined ? { preprocess: { maxBytes: prepMaxMiB * 2 ** 20, timeoutMs: 600_000 } } : {}),
      // VGG16: one run is longer than the start-up warm-up's budget (it would be cut and leave nothing); the first run builds the masks.
      ...(spec.heavy ? { warmup: { runs: 0 } } : {}),
      // Warnings and errors only, without the start-up/shut-down link chatter (a link lost during a session is kept: it says why).
      onLine: (p, line) => { if (verbose || (/"level":(4|5|6)\d/.test(line) && (!/cannot link to peer|peer link down/.test(line) || /"sessions":[1-9]/.test(line)))) log(`[P${p}] ${line.slice(0, 400)}`); },
    });
  } catch (e) {
    return Ns.map((N) => ({ ...failed(key, spec, N), error: `launch: ${(e as Error).message}` }));
  }
  log(`${key}: parties up in ${((performance.now() - t0) / 1000).toFixed(1)} s (${l.modelKind} model, party program: ${l.runtime}, mTLS ${l.certs ? 'on' : 'off'}, link ${meshLink})`);
  partyRuntime ??= l.runtime;
  // The SDK's default transport in Node (nodeRequest: node:http(s), no headers timeout), as an app would use it.
  const client = new PrivateInferenceClient({ parties: l.urls, token: l.token, timeoutMs: 3_600_000, expectedModelHash: l.modelHash });
  const out: CaseResult[] = [];
  try {
    for (const N of Ns) {
      const x = inputFor(spec, model, N);
      const want = plainForward(model, x, N).data;
      const w = spec.heavy ? heavyWarmup : spec.light ? lightWarmup : warmup, R = spec.heavy ? heavyReps : spec.light ? lightReps : reps;
      let rss = [0, 0, 0];
      let prep0: PrepStats | null = null;
      try {
        const { timed, warm, firstMs, curve } = await repeat(key, spec, N, w, R, async () => {
          const cw = cpuWindow(l.children.map((c) => c.pid));
          const t = performance.now();
          const r = N === 1
            ? await client.predict({ data: x, shape: model.inputShape }).then((p) => ({ logits: p.logits, sessionId: p.sessionId }))
            : await client.predict({ data: x, shape: [N, ...model.inputShape] }, { batch: true }).then((p) => ({ logits: p.logits.flat(), sessionId: p.sessionId }));
          const ms = performance.now() - t, cpu = cw.stop();
          const stats = await Promise.all(l.urls.map((u) => partyRun(u, l.token, r.sessionId)));
          rss = stats.map((s, p) => Math.max(rss[p]!, s.process.maxRssBytes));
          // The offline phase of the next run (if any) finishes before it starts, as after an idle moment.
          if (prepMode === 'wait') await waitPrepIdle(l.urls[0]);
          const rep: Rep = {
            preprocessed: stats.every((s) => s.run.preprocessed === true), cpu,
            ms, protocolMs: stats[0]!.run.ms, layers: stats.map((s) => s.run.layers ?? []),
            bytes: stats.map((s) => s.run.bytesSent), messages: stats.map((s) => s.run.messages ?? 0),
            rounds: Math.max(...stats.map((s) => s.run.rounds)), err: outputErrors(r.logits, want, N, model.outputActivation),
          };
          return { rep, detail: ` (P0 run ${rep.protocolMs.toFixed(1)} ms${rep.preprocessed ? ', preprocessed' : ''}; party CPU ${cpu.partyMs.map((v) => v.toFixed(0)).join(' / ')} ms, others ${(100 * cpu.othersShare).toFixed(0)}% of the CPUs), ${(rep.bytes.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(1)} MiB, ${rep.rounds} rounds, err ${rep.err.abs.toExponential(1)}` };
        }, async () => { if (prepMode === 'wait') prep0 = await prepStats(l.urls[0]); });
        const prep1 = prepMode === 'wait' ? await prepStats(l.urls[0]) : null;
        const tf = await tfjsPredictMsOrNaN(model, x, N, Math.min(R, 5), log);
        out.push({ ...summarize(key, spec, N, warm, timed, tf, rss, firstMs, curve), ...prec, ...(prep0 && prep1 ? { prep: { runs: timed.filter((r) => r.preprocessed).length, offlineMs: offlineMs(prep0, prep1) } } : {}) });
      } catch (e) {
        log(`${key} b${N} failed: ${(e as Error).stack ?? String(e)}`);
        out.push({ ...failed(key, spec, N), error: (e as Error).message });
        if (l.children.some((c) => c.exitCode !== null || c.signalCode !== null)) break;
      }
    }
  } finally {
    await l.stop();
  }
  return out;
}

// ---- memory: three parties in this process -------------------------------------

async function benchMemory(key: string, spec: ModelSpec, Ns: number[]): Promise<CaseResult[]> {
  const model = await spec.make();
  const k = getKernels();
  const prec = await precisionFor(key, spec, model), f = prec.fracBits;
  const parts = shareModel(k, model, f);
  const out: CaseResult[] = [];
  for (const N of Ns) {
    const x = inputFor(spec, model, N);
    const want = plainForward(model, x, N).data;
    const xs = shareFor3(encode(x, f));
    const w = spec.heavy ? heavyWarmup : spec.light ? lightWarmup : warmup, R = spec.heavy ? heavyReps : spec.light ? lightReps : reps;
    const { timed, warm, firstMs, curve } = await repeat(key, spec, N, w, R, async () => {
      const layers: LayerRecord[][] = [[], [], []];
      const t = performance.now();
      const r = await run3(async (ctx) => {
        const c = ctx.transport.counters;
        let last = { t: performance.now(), wait: c.waitMs ?? 0, bytes: c.bytesSent, msgs: c.messagesSent, depth: c.depth };
        return secureForward(ctx, parts[ctx.party], { shape: [N, ...model.inputShape], data: xs[ctx.party] }, {
          onNode: (name, index) => {
            const now = { t: performance.now(), wait: c.waitMs ?? 0, bytes: c.bytesSent, msgs: c.messagesSent, depth: c.depth };
            layers[ctx.party]!.push({ name, kind: model.nodes[index]!.kind, ms: now.t - last.t, waitMs: now.wait - last.wait, bytesSent: now.bytes - last.bytes, messages: now.msgs - last.msgs, rounds: now.depth - last.depth });
            last = now;
          },
        });
      }, { fracBits: f, truncation: prec.truncation, compareBits: prec.compareBits });
      const ms = performance.now() - t;
      const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), f);
      const rep: Rep = {
        ms, protocolMs: ms, layers, bytes: r.transports.map((tr) => tr.counters.bytesSent), messages: r.transports.map((tr) => tr.counters.messagesSent),
        rounds: r.rounds, err: outputErrors(got, want, N, model.outputActivation),
      };
      return { rep, detail: `, ${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${r.rounds} rounds, err ${rep.err.abs.toExponential(1)}` };
    });
    const tf = await tfjsPredictMsOrNaN(model, x, N, Math.min(R, 5), log);
    const rss = process.resourceUsage().maxRSS * 1024;
    out.push({ ...summarize(key, spec, N, warm, timed, tf, [rss], firstMs, curve), ...prec });
  }
  return out;
}

function failed(key: string, spec: ModelSpec, N: number): CaseResult {
  return {
    key, model: key, label: spec.label, batch: N, transport, fracBits: spec.fracBits, warmup: 0, reps: 0, firstMs: NaN,
    latencyMs: latencyStats([NaN]), perImageMs: NaN, protocolMs: NaN, bytesPerParty: [], messagesPerParty: [], rounds: 0, layers: [],
    tfjsMs: NaN, ratio: NaN, maxAbsErr: NaN, maxRelErr: NaN, peakRssBytes: [],
  };
}

// ---- main --------------------------------------------------------------------------

function sh(cmd: string): string {
  try { return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return ''; }
}

async function main(): Promise<void> {
  if ((opt('--security') ?? 'semi-honest') !== 'semi-honest') return (await import('./served-malicious.js')).benchServedMalicious(argv); // the served malicious mode vs the semi-honest one
  const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const meta: RunMeta = {
    date: new Date().toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    nproc: Number(sh('nproc')) || cpus().length,
    cpu: cpuModel,
    memGiB: totalmem() / 2 ** 30,
    node: process.version,
    kernels: kernelSets[0] ? `parties ${kernelSets.join(' then ')} (config kernels), client/bench ${getKernels().name}` : getKernels().name,
    commit: `${sh('git rev-parse --short HEAD') || 'unknown'}${sh('git status --porcelain --untracked-files=no') ? ' (+ uncommitted changes)' : ''}`,
    transport,
    loadavg: [loadavg()[0]!, NaN],
  };
  const tStart = performance.now();
  log(`bench: ${meta.command} — ${meta.nproc} x ${meta.cpu}, transport ${transport}, models ${modelKeys.join(', ')}, batches ${batches.join(', ')}, ${warmup}+${reps} reps (light: ${warmup}+${lightReps}) and warm-up for ${warmupS} s at least (heavy: ${heavyWarmup}+${heavyReps})`);
  const cases: CaseResult[] = [];
  for (const key of modelKeys) {
    const spec = MODELS[key]!;
    const Ns = spec.heavy ? batches.filter((b) => b === 1) : batches;
    if (Ns.length === 0) { log(`${key}: heavy model runs at batch 1 only; skipped`); continue; }
    const t = performance.now();
    for (const pk of kernelSets) {
      const rows = transport === 'grpc' ? await benchGrpc(key, spec, Ns, pk) : await benchMemory(key, spec, Ns);
      cases.push(...rows.map((c) => (pk ? { ...c, label: `${c.label} [parties' kernels: ${pk}]` } : c)));
      if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ meta, cases }, null, 2));
    }
    log(`${key}: done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  meta.loadavg = [meta.loadavg![0], loadavg()[0]!];
  meta.totalS = (performance.now() - tStart) / 1000;
  if (partyRuntime) meta.partyRuntime = partyRuntime;
  if (transport === 'grpc') { meta.prep = prepMode; meta.meshLink = meshLink; }
  const chartRel = 'bench/results/latency-per-layer.svg';
  const zooOnly = modelKeys.every((k) => ZOO_KEYS.includes(k));
  const md = zooOnly ? zooMarkdown(meta, cases, RSS_LIMIT_BYTES) : markdown(meta, cases, chartRel);
  process.stdout.write(`${md}\n`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ meta, cases }, null, 2));
  if (!noWrite) {
    const results = new URL('./results/', import.meta.url);
    mkdirSync(results, { recursive: true });
    const jsonFile = new URL(`run-${meta.date.replace(/[:.]/g, '-')}.json`, results);
    writeFileSync(jsonFile, JSON.stringify({ meta, cases }, null, 2));
    // The chart belongs to the seed models' section; a zoo selection leaves it as it is.
    if (!zooOnly) writeFileSync(new URL('latency-per-layer.svg', results), svgChart(meta, cases));
    const docUrl = new URL('../BENCHMARKS.md', import.meta.url);
    let doc = '# Benchmarks\n';
    try { doc = readFileSync(docUrl, 'utf8'); } catch { /* new file */ }
    const jsonRel = `bench/results/${jsonFile.pathname.split('/').pop()}`;
    const section = zooOnly ? 'zoo' : 'run';
    writeFileSync(docUrl, replaceSection(doc, `<!-- bench:${section}:begin -->`, `<!-- bench:${section}:end -->`, `${md}\n\nRaw numbers: \`${jsonRel}\`.`));
    log(`wrote ${jsonRel}, ${zooOnly ? '' : `${chartRel}, `}BENCHMARKS.md`);
  }
  // Cold start: fresh deployments, the parties' warm-up off and on (bench/cold-start.ts).
  const coldKeys = transport === 'grpc' && !flag('--no-cold-start') ? ['networkA', 'cnn-maxpool'].filter((k) => modelKeys.includes(k)) : [];
  if (coldKeys.length === 0) return;
  const load0 = loadavg()[0]!;
  const cold = coldMarkdown(await coldStart(coldKeys, quick ? { after: 200, clientWarmup: 50 } : {}), meta.command, meta.cpu, [load0, loadavg()[0]!]);
  process.stdout.write(`${cold}\n`);
  if (!noWrite) { writeColdSection(cold); log('wrote the cold-start section of BENCHMARKS.md'); }
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });

