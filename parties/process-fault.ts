/**
 * The party process's policy for an unhandled promise rejection or an uncaught exception (parties/main.ts).
 *
 * Without a handler Node ends the process at once with a stack trace on stderr: every session in it dies with no
 * coded line, and the other parties see only a dropped link. With one that logs and carries on, the party would
 * keep serving in an unknown state (a half-updated session table, a run whose messages stopped, an accountant
 * whose write failed). A party does neither:
 *   1. one error line, code E_PROCESS_FAULT, with the event (unhandledRejection | uncaughtException), the party, and
 *      the error's code and class (an MpcError's message too: the registry's rule keeps values out of those; any
 *      other error's message is not logged, since a library's message may quote data);
 *   2. the party is not ready from then on (/readyz 503 E_PROCESS_FAULT; new sessions E_NOT_READY), and every session
 *      in flight fails with E_PROCESS_FAULT (its client's waiting request answers with the code);
 *   3. the server closes (answers written, links closed, the accountant flushed) within `graceMs` (3 s), and the
 *      process exits with status 70 (EX_SOFTWARE) whether the close finished or not, for the orchestrator to restart
 *      it (Compose `restart: unless-stopped`, a k8s StatefulSet's pods restart: deploy/README.md).
 * A second fault while exiting is logged the same way and changes nothing (the exit is already on its timer). The
 * handler itself never throws: a logger that fails or an error value whose class cannot be read is passed over.
 *
 * Test-only switch (SECURENN_TEST_FAULT, honoured only with NODE_ENV=test, refused otherwise): `rejection@input` or
 * `exception@input` makes the party raise that fault on the event loop's next turn after it accepts its first client
 * input, with the session in flight (test/e2e-process-fault.test.ts).
 */
import { isMpcError, MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { Logger } from './log.js';

export const FAULT_EXIT_STATUS = 70;
export const FAULT_ENV = 'SECURENN_TEST_FAULT';

export type FaultEvent = 'unhandledRejection' | 'uncaughtException';

/** The fields of the fault's log line: never an error message that could carry values. */
export function faultFields(event: FaultEvent, party: PartyId, e: unknown): Record<string, unknown> {
  const coded = isMpcError(e);
  const cls = e instanceof Error ? e.constructor.name : typeof e;
  return { code: 'E_PROCESS_FAULT', event, party, errorClass: cls, ...(coded ? { errorCode: e.code, err: e.message } : {}) };
}

export interface FaultTarget {
  party: PartyId;
  log: Logger;
  /** Mark the party not ready and fail its sessions in flight with the error. */
  fault(e: MpcError): void;
  /** Close the server (HTTP answers, links, accountant). */
  close(): Promise<void>;
}

export interface FaultPolicy {
  /** What the process handlers call (exported for the in-process test). */
  handle(event: FaultEvent, e: unknown): void;
  /** Remove the process handlers. */
  uninstall(): void;
  /** A fault was handled: the process is on its way to exit 70 (main.ts's signal handlers then leave the exit to it). */
  readonly faulted: boolean;
}

/**
 * Install the policy on `proc` (the process; a stand-in in the unit test). `exit` is process.exit unless a test
 * passes its own; `graceMs` bounds the close.
 */
export function installFaultPolicy(t: FaultTarget, opts: { proc?: NodeJS.EventEmitter; exit?: (code: number) => void; graceMs?: number } = {}): FaultPolicy {
  const proc = opts.proc ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const graceMs = opts.graceMs ?? 3_000;
  let exiting = false;
  // The handler never throws (a throw from a process handler would end the process with Node's status 7, the
  // sessions unfailed): an error value whose class cannot be read, or a logger that fails (a closed stdout), is
  // passed over and the policy goes on.
  const fieldsOf = (event: FaultEvent, e: unknown): Record<string, unknown> => {
    try { return faultFields(event, t.party, e); } catch { return { code: 'E_PROCESS_FAULT', event, party: t.party, errorClass: 'unknown' }; }
  };
  const logError = (fields: Record<string, unknown>, msg: string): void => { try { t.log.error(fields, msg); } catch { /* nothing to log to */ } };
  const handle = (event: FaultEvent, e: unknown): void => {
    const fields = fieldsOf(event, e);
    if (exiting) { logError({ ...fields, alreadyExiting: true }, 'process fault while exiting'); return; }
    exiting = true;
    logError(fields, `process fault (${event}): not ready, failing the sessions in flight, exiting with status ${FAULT_EXIT_STATUS} for a restart`);
    try {
      t.fault(new MpcError('E_PROCESS_FAULT', `P${t.party} met an internal fault (${event}) and is restarting; retry`, { party: t.party }));
    } catch { /* the exit below still happens */ }
    // Not unref'd: should the close hang with nothing else left to run, the timer still ends the process with 70
    // (an emptied event loop would otherwise end it with 0).
    const timer = setTimeout(() => exit(FAULT_EXIT_STATUS), graceMs);
    void Promise.resolve().then(() => t.close()).then(() => { clearTimeout(timer); exit(FAULT_EXIT_STATUS); }, () => { clearTimeout(timer); exit(FAULT_EXIT_STATUS); });
  };
  const onRejection = (reason: unknown) => handle('unhandledRejection', reason);
  const onException = (err: unknown) => handle('uncaughtException', err);
  proc.on('unhandledRejection', onRejection);
  proc.on('uncaughtException', onException);
  return { handle, uninstall() { proc.off('unhandledRejection', onRejection); proc.off('uncaughtException', onException); }, get faulted() { return exiting; } };
}

/** The test-only fault switch: which fault to raise after the first client input, or null; refused outside tests. */
export function testFaultSwitch(party: PartyId, env: NodeJS.ProcessEnv = process.env): 'rejection' | 'exception' | null {
  const raw = env[FAULT_ENV];
  if (raw === undefined || raw === '') return null;
  if (env.NODE_ENV !== 'test') throw new MpcError('E_BAD_ARGUMENT', `${FAULT_ENV} is a test-only switch (it makes a party fault); refused unless NODE_ENV=test`, { party, step: 'config' });
  const m = /^(rejection|exception)@input$/.exec(raw);
  if (!m) throw new MpcError('E_BAD_ARGUMENT', `${FAULT_ENV}: expected rejection@input or exception@input`, { party, step: 'config' });
  return m[1] as 'rejection' | 'exception';
}

/** Wrap the party's two input entry points so that the first accepted input raises `kind` on the next turn (tests). */
export function armTestFault(party: { createWithInput: (...a: never[]) => Promise<unknown>; putInput: (...a: never[]) => unknown }, kind: 'rejection' | 'exception'): void {
  let armed = true;
  const fire = (): void => {
    if (!armed) return;
    armed = false;
    setImmediate(() => {
      if (kind === 'rejection') void Promise.reject(new TypeError('test fault: an unhandled rejection'));
      else throw new TypeError('test fault: an uncaught exception');
    });
  };
  const cwi = party.createWithInput.bind(party);
  const put = party.putInput.bind(party);
  party.createWithInput = ((...a: never[]) => cwi(...a).then((r) => { fire(); return r; })) as typeof party.createWithInput;
  party.putInput = ((...a: never[]) => { const r = put(...a); fire(); return r; }) as typeof party.putInput;
}
