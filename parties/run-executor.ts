/**
 * The run executor: what the three parties do alike once a run is planned.
 * secureForward on the run's sessions' inputs (concatenated in plan order;
 * P2 and any session lost here contribute zeros) over the run's
 * SessionTransport, then privateOutput (protocol/privacy) per group of
 * sessions with the same resolved policy, in plan order: clip, DP noise,
 * secure argmax, as the policy says; plain-logits sessions skip it. A PATE
 * ensemble runs secureForward once per teacher on the same input shares,
 * then pateAggregate per policy group. P0 and P1 keep their output shares
 * for GET output after the session's privacy charge is committed. Every run
 * leaves a record (no values) and metrics.
 */
import type { OutputMode } from '../protocol/api-contract.js';
import { createContext, withCompareBits, type PartyContext } from '../protocol/context.js';
import type { DealScript, PartyBundle } from '../protocol/correlated/dealer.js';
import type { PartySeeds } from '../protocol/correlated/prg.js';
import { MpcError } from '../protocol/errors.js';
import { secureForward } from '../protocol/layers/runner.js';
import { fuseOptions } from './fuse-knob.js';
import type { ShareTensor } from '../protocol/layers/types.js';
import { labelShapeOf } from '../protocol/output-kind.js';
import { pateAggregate, privateOutput, type ResolvedPolicy } from '../protocol/privacy/index.js';
import type { AShare, PartyId } from '../protocol/ring/types.js';
import { kernelsFor } from '../runtime/kernels.js';
import { errFields } from './log.js';
import { runSentinel } from './range-sentinel.js';
import { resolveModelPolicy } from './model-policy.js';
import { asMpcError, peersOf, sendAbort, type ActiveRun, type LayerRecord, type PartyCore, type PlanEntry, type RunRecord } from './party-core.js';
import type { PrepDriver } from './prep-driver.js';
import { isPlainLogits, policyKey } from './privacy.js';
import type { SessionTransport } from './session-transport.js';
import { bindingError, sameBinding } from './session-binding.js';
import { isTerminal, type Session } from './sessions.js';
import type { PlanMasks } from './weight-masks.js';

export class RunExecutor {
  /** Runs in progress at this party, by id. */
  readonly runs = new Map<string, ActiveRun>();
  /** Last runs (newest last), for tests and diagnostics; no values. */
  readonly runLog: RunRecord[] = [];

  /** `requeue`: P0 queues the sessions of a deferred run again (run-planner.ts). */
  constructor(private readonly c: PartyCore, private readonly prep: PrepDriver, private readonly requeue: (sessions: (Session | undefined)[]) => void) {}

  private get compareBits(): 32 | 64 { return this.c.opts.compareBits ?? 32; }
  private get compareRadix(): 2 | 4 { return this.c.opts.compareRadix ?? 4; }

  /** A peer stopped run `runId` ('abort', or 'defer' with `deferred`): close its view, once. */
  interrupt(runId: string, from: PartyId, err: MpcError, deferred = false): void {
    const run = this.runs.get(runId);
    if (!run || run.abortedBy) return;
    run.abortedBy = from;
    if (deferred) run.deferred = true;
    run.view.close(err);
  }

  /**
   * Common to the three parties: run secureForward on the concatenated batch; returns whether the run
   * succeeded at this party. dealing: the run's shape key and this party's part of its bundle, if preprocessed.
   */
  async execute(runId: string, view: SessionTransport, plan: PlanEntry[], deadlineMs: number, masks: PlanMasks | null, getSeeds: () => Promise<PartySeeds>, dealing: { key: string; bundle?: PartyBundle }): Promise<'done' | 'failed' | 'deferred'> {
    const model = this.c.model!;
    const run: ActiveRun = { view, abortedBy: null };
    const layers: LayerRecord[] = [];
    this.runs.set(runId, run);
    const t0 = performance.now();
    const images = plan.reduce((a, p) => a + p.batch, 0);
    const sessions = plan.map((e) => this.c.store.get(e.id));
    const timer = setTimeout(() => {
      const err = new MpcError('E_DEADLINE', `run ${runId} passed its deadline of ${deadlineMs} ms`, { party: this.c.party });
      for (const p of peersOf(this.c.party)) sendAbort(this.c, p, runId, 'E_DEADLINE');
      run.abortedBy ??= this.c.party;
      view.close(err);
    }, deadlineMs);
    timer.unref();
    try {
      // Inputs in plan order; P2 (and any session this party lost) contributes zeros.
      const input = new BigUint64Array(images * model.inputSize);
      let off = 0;
      plan.forEach((e, i) => {
        const s = sessions[i];
        if (s && s.batch !== e.batch) this.c.store.fail(s, new MpcError('E_SHAPE', `session ${s.id}: batch ${s.batch} here, ${e.batch} in the plan`));
        // The same session id for different requests at P0 and here (or created here by another caller): never one session.
        else if (s && !isTerminal(s) && !sameBinding(s.binding, e.bind)) {
          this.c.store.fail(s, bindingError(s.id, this.c.party));
          // The other two parties fail their session of that id in this run too: no output share of it anywhere.
          for (const p of peersOf(this.c.party)) { try { this.c.mesh.sendControl(p, 'unbound', { runId, sessionId: s.id }); } catch { /* link down: the run fails anyway */ } }
        }
        else if (s && this.c.party !== 2 && s.input && !isTerminal(s)) input.set(s.input, off);
        else if (s && this.c.party !== 2 && !isTerminal(s)) this.c.store.fail(s, new MpcError('E_PROTOCOL_DESYNC', `session ${s.id} was planned before its input arrived at P${this.c.party}`));
        if (s) this.c.store.markRunning(s, runId);
        off += e.batch * model.inputSize;
      });
      const policies = plan.map((e, i) => this.plannedPolicy(e, sessions[i]));
      const weightMasks = this.c.weightMasks.session(runId, masks, model.info.modelHash);
      // P2 records the jobs it deals in a live run (not a build run: its triples draw a fresh B) to prepare later runs of this shape.
      const script: DealScript | undefined = this.c.party === 2 && !dealing.bundle && !masks?.build && this.prep.opts.enabled ? [] : undefined;
      const ctx = createContext(this.c.party, view, await getSeeds(), {
        fracBits: model.info.fracBits, truncation: model.truncation, compareBits: this.compareBits, compareRadix: this.compareRadix, kernels: kernelsFor(this.c.opts.kernels), ...(weightMasks ? { weightMasks } : {}),
        ...(dealing.bundle ? { bundle: dealing.bundle } : {}), ...(script ? { dealScript: script } : {}),
      });
      // The range sentinel (range-sentinel.ts; the planner gives such a run one session): samples every 32-bit comparison.
      const sentinel = runSentinel(ctx, model.info.rangeSentinel === true);
      const onNode = this.c.opts.onNode;
      // Per-layer stats: deltas of the view's counters and of the clock between consecutive nodes.
      const c = view.counters;
      let last = { t: performance.now(), wait: c.waitMs ?? 0, bytes: c.bytesSent, msgs: c.messagesSent, depth: c.depth };
      const mark = (name: string, kind: string): void => {
        const now = { t: performance.now(), wait: c.waitMs ?? 0, bytes: c.bytesSent, msgs: c.messagesSent, depth: c.depth };
        layers.push({ name, kind, ms: now.t - last.t, waitMs: now.wait - last.wait, bytesSent: now.bytes - last.bytes, messages: now.msgs - last.msgs, rounds: now.depth - last.depth });
        last = now;
      };
      // One forward per model: the model itself, or each teacher of an ensemble (layer names prefixed t<i>/).
      const nets = model.teachers ?? [model.model];
      const outs: ShareTensor[] = [];
      for (const [t, net] of nets.entries()) {
        const prefix = model.teachers ? `t${t}/` : '';
        const onLayer = (name: string, index: number): void => {
          mark(prefix + name, net.nodes[index]?.kind ?? '');
          onNode?.(this.c.party, runId, prefix + name, index);
        };
        outs.push(await secureForward(sentinel.ctx, net, { shape: [images, ...model.info.inputShape], data: input as AShare }, { onNode: onLayer, weightKeyPrefix: prefix, ...fuseOptions() }));
      }
      this.c.weightMasks.built(masks);
      // Let the forward's last messages leave before this party's own work on the output (Node's HTTP/2 writes go out
      // when the event loop turns: the peers would otherwise wait for this party's output, store and HTTP answer).
      await new Promise<void>((resolve) => setImmediate(resolve));
      const outputs = await this.privateOutputs(sentinel.ctx, outs, plan, policies);
      // Clip, noise and secure argmax (or the ensemble's vote) count as one more "layer" of the run's stats.
      if (model.teachers) mark('pate', 'privacy');
      else if (policies.some((p) => !isPlainLogits(p))) mark('privateOutput', 'privacy');
      // This party's share of s (P0, P1: sent to the client with the output share; never to a peer).
      const sentinelShare = await sentinel.finish();
      if (sentinelShare) mark('rangeSentinel', 'sentinel');
      for (let i = 0; i < plan.length; i++) {
        const s = sessions[i];
        if (!s || isTerminal(s)) continue;
        // The privacy charge is settled before any output share can leave this party.
        const r = this.c.store.takeReservation(s);
        if (r) {
          try { await r.commit(); } catch (err) { this.c.store.fail(s, asMpcError(err)); continue; }
        }
        const o = outputs[i]!;
        this.c.store.complete(s, this.c.party === 2 ? undefined : o.data, o.shape, o.mode, this.c.party === 2 ? undefined : sentinelShare ?? undefined);
      }
      this.record(runId, plan, images, t0, view, null, layers, dealing.bundle !== undefined);
      this.c.weightMasks.ended(runId, masks, true);
      if (script) this.prep.held!.record(dealing.key, script);
      return 'done';
    } catch (e) {
      // A deferred run keeps the weight masks it did not build (every party still holds them); a failed one builds again.
      this.c.weightMasks.ended(runId, masks, run.deferred === true && !masks?.build);
      if (run.deferred) {
        // The sessions wait again; P0 plans them once both reports are in. The run's masks and triples are its own and
        // never used again; what P0 (or P1, if P2 deferred) sent is dropped unread.
        for (const s of sessions) if (s && s.state === 'running' && s.runId === runId) this.c.store.unmarkRunning(s);
        this.c.metrics.runs.inc({ result: 'deferred' });
        // P0 queues them again once this run is out of `runs` (the finally below).
        if (this.c.party === 0) queueMicrotask(() => this.requeue(sessions));
        return 'deferred';
      }
      const err = asMpcError(e);
      // The others hear of it, on E_PEER_UNAVAILABLE too: one pair's link can drop while both keep their links to the
      // third party (the P0<->P1 data link alone), which would otherwise wait for its deadline. A peer whose link is
      // down is skipped (sendAbort).
      if (run.abortedBy === null) {
        for (const p of peersOf(this.c.party)) sendAbort(this.c, p, runId, err.code);
      }
      for (const s of sessions) if (s) this.c.store.fail(s, err);
      this.record(runId, plan, images, t0, view, err, layers, dealing.bundle !== undefined);
      return 'failed';
    } finally {
      clearTimeout(timer);
      view.close();
      this.runs.delete(runId);
    }
  }

  /**
   * The policy a plan entry runs under: resolved from this party's model
   * policy and the request options P0 forwarded, and checked against P0's
   * key (the whole run is refused if they differ: the parties would fall out
   * of step) and against this party's own session (a client that sent
   * different options to the parties gets E_PROTOCOL_DESYNC).
   */
  private plannedPolicy(e: PlanEntry, s: Session | undefined): ResolvedPolicy {
    let p: ResolvedPolicy;
    try {
      p = resolveModelPolicy(this.c.model!, e.privacy);
    } catch (err) {
      throw new MpcError('E_PROTOCOL_DESYNC', `P${this.c.party} refuses the privacy options of a session in the plan`, { party: this.c.party, cause: err }); // no id: every session of the run gets this error
    }
    if (policyKey(p) !== e.policy) throw new MpcError('E_PROTOCOL_DESYNC', `P${this.c.party} resolves another privacy policy than P0 for a session in the plan (do the model manifests differ?)`, { party: this.c.party });
    if (s?.policy && policyKey(s.policy) !== e.policy) this.c.store.fail(s, new MpcError('E_PROTOCOL_DESYNC', `session ${s.id}: the client sent different privacy options to the parties`, { party: this.c.party }));
    return p;
  }

  /**
   * Per session (plan order), this party's output share: the logits slice
   * for plain-logits sessions; otherwise privateOutput, once per group of
   * sessions with the same policy (groups in order of first appearance, the
   * same at the three parties). Label modes are stored in the shape
   * labelShapeOf gives (protocol/output-kind.ts): [N] / [N, 2] (label, bucket)
   * for a class, one decision (and bucket) per label or pixel otherwise. An ensemble (outs: one per teacher) runs
   * pateAggregate per group instead; its policy is always a label mode.
   */
  private async privateOutputs(runCtx: PartyContext, outs: ShareTensor[], plan: PlanEntry[], policies: ResolvedPolicy[]): Promise<{ data: BigUint64Array; shape: number[]; mode: OutputMode }[]> {
    const model = this.c.model!;
    // mpc-import bounds the logits for the comparison ring when the model's own policy compares them (a label mode:
    // its comparesOutput), and records for every model whether a label mode's comparisons of the logits fit the 32-bit
    // ring (manifest outputCompareBits, model-import/output-bound.ts: the sound bound, else the samples with the range
    // margin). A label mode the request alone asks for compares on the party's ring where that says 32, else on the
    // 64-bit ring (older bundles without the field, a PATE ensemble's teachers): on the 32-bit one, logits more than
    // 2^31 ring units apart gave wrong labels. (privateOutput compares on 64 bits with DP whatever the context.)
    const ownLabel = model.policy !== undefined && model.policy.outputMode !== 'logits';
    const bounded = !model.teachers && (ownLabel || model.outputCompareBits === 32);
    const ctx = bounded ? runCtx : withCompareBits(runCtx, 64);
    const C = model.outputSize;
    const out = outs[0]!;
    const first: number[] = [];
    let row = 0;
    for (const e of plan) { first.push(row); row += e.batch; }
    const res: { data: BigUint64Array; shape: number[]; mode: OutputMode }[] = new Array(plan.length);
    const logitsOf = (data: BigUint64Array, n: number) => ({ data, shape: [n, ...model.info.outputShape], mode: 'logits' as const });
    const groups = new Map<string, number[]>();
    plan.forEach((e, i) => {
      if (isPlainLogits(policies[i]!)) res[i] = logitsOf(out.data.slice(first[i]! * C, (first[i]! + e.batch) * C), e.batch);
      else groups.set(e.policy, [...(groups.get(e.policy) ?? []), i]);
    });
    /** The group's rows of one forward's output, in plan order. */
    const gather = (o: ShareTensor, idx: number[], rows: number): BigUint64Array => {
      const x = new BigUint64Array(rows * C);
      let r = 0;
      for (const i of idx) { x.set(o.data.subarray(first[i]! * C, (first[i]! + plan[i]!.batch) * C), r * C); r += plan[i]!.batch; }
      return x;
    };
    for (const idx of groups.values()) {
      const rows = idx.reduce((a, i) => a + plan[i]!.batch, 0);
      const policy = policies[idx[0]!]!;
      if (model.teachers) {
        // PATE: a single-logit (sigmoid) teacher votes over the two logits [0, x], as privateOutput does.
        const n = Math.max(C, 2);
        const votes = outs.map((o) => {
          const x = gather(o, idx, rows);
          if (C !== 1) return x as AShare;
          const two = new BigUint64Array(2 * rows);
          for (let j = 0; j < rows; j++) two[2 * j + 1] = x[j]!;
          return two as AShare;
        });
        const label = await pateAggregate(ctx, votes, rows, n, { noise: policy.noise });
        let r = 0;
        for (const i of idx) { res[i] = { data: label.slice(r, r + plan[i]!.batch), shape: [plan[i]!.batch], mode: 'label' }; r += plan[i]!.batch; }
        continue;
      }
      const x = gather(out, idx, rows);
      const y = await privateOutput(ctx, { shape: [rows, C], data: x as AShare }, policy);
      // Label modes: P decisions per image (1 for a class; output-kind.ts labelShapeOf gives each image's shape).
      const P = y.mode === 'label' ? y.label.length / rows : 0;
      let r = 0;
      for (const i of idx) {
        const n = plan[i]!.batch;
        if (y.mode === 'logits') res[i] = logitsOf(y.logits.slice(r * C, (r + n) * C), n);
        else {
          const mode = y.confidence ? 'label+confidence' : 'label';
          const shape = [n, ...labelShapeOf(model.info.outputShape, policy.decision, mode)];
          if (y.confidence) {
            const both = new BigUint64Array(2 * n * P);
            for (let j = 0; j < n * P; j++) { both[2 * j] = y.label[r * P + j]!; both[2 * j + 1] = y.confidence[r * P + j]!; }
            res[i] = { data: both, shape, mode };
          } else res[i] = { data: y.label.slice(r * P, (r + n) * P), shape, mode };
        }
        r += n;
      }
    }
    return res;
  }

  private record(runId: string, plan: PlanEntry[], images: number, t0: number, view: SessionTransport, err: MpcError | null, layers: LayerRecord[], preprocessed: boolean): void {
    const ms = performance.now() - t0;
    const c = view.counters;
    const rec: RunRecord = { runId, sessions: plan.map((p) => p.id), images, ok: err === null, ms, bytesSent: c.bytesSent, rounds: c.depth, messages: c.messagesSent, waitMs: c.waitMs ?? 0, layers, preprocessed, ...(err ? { code: err.code } : {}) };
    this.runLog.push(rec);
    if (this.runLog.length > 200) this.runLog.shift();
    const m = this.c.metrics;
    m.runs.inc({ result: err ? 'failed' : 'ok' });
    // The output mode is the first field of the policy key P0 put in the plan (privacy.ts policyKey).
    const modes = new Set(plan.map((e) => e.policy.split('|')[0] || 'logits'));
    const output = modes.size === 1 ? [...modes][0]! : 'mixed';
    m.runDuration.observe({ model: (this.c.model?.info.modelHash ?? 'none').slice(0, 12), output, result: err ? 'failed' : 'ok' }, ms / 1000);
    if (!err) for (const l of layers) if (l.kind !== 'privacy') m.layerDuration.observe({ kind: l.kind || 'unknown' }, l.ms / 1000);
    m.batchImages.observe({}, images);
    m.batchSessions.observe({}, plan.length);
    if (!err) {
      m.inferences.inc({}, images);
      m.runBytes.observe({}, c.bytesSent);
      m.imageBytes.observe({}, c.bytesSent / images);
      m.runRounds.observe({}, c.depth);
    } else m.errors.inc({ code: err.code, source: 'run' });
    const fields = { run: runId, sessions: plan.length, images, ms: Math.round(ms), bytesSent: c.bytesSent, messages: c.messagesSent, rounds: c.depth };
    if (err) this.c.log.warn({ ...fields, ...errFields(err) }, 'run failed');
    else this.c.log.info(fields, 'run done');
  }

  /** The record of the run that served session `id` at this party (newest first), if still in the log. */
  runOf(id: string): RunRecord | undefined {
    const sid = id.toLowerCase();
    for (let i = this.runLog.length - 1; i >= 0; i--) if (this.runLog[i]!.sessions.includes(sid)) return this.runLog[i];
    return undefined;
  }

}
