/**
 * The party program: `tsx parties/main.ts --party <0|1|2> --config <deploy.json> [--insecure-local]`
 * (or PARTY_ID / PARTY_CONFIG in the environment). See config.ts.
 */
import { isMpcError } from '../protocol/errors.js';
import { loadConfig } from './config.js';
import { armTestFault, FAULT_EXIT_STATUS, installFaultPolicy, testFaultSwitch } from './process-fault.js';
import { createPartyServer } from './server.js';

async function main(): Promise<void> {
  let cfg;
  try {
    cfg = loadConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`party: ${isMpcError(e) ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const srv = createPartyServer(cfg);
  // An unhandled rejection or uncaught exception: one coded line, not ready, sessions failed, exit 70 (process-fault.ts).
  const faults = installFaultPolicy({ party: srv.party.party, log: srv.app.log, fault: (e) => srv.party.fault(e), close: () => srv.close() });
  const testFault = testFaultSwitch(srv.party.party);
  if (testFault) armTestFault(srv.party as never, testFault);
  // HTTP first: /healthz answers (and /readyz says why not ready) while a large model loads.
  const { httpPort } = await srv.listen();
  const { grpcPort } = await srv.start();
  if (srv.party.modelError) {
    srv.app.log.error({ code: srv.party.modelError.code }, 'cannot serve without a model; exiting');
    await srv.close();
    process.exit(1);
  }
  srv.app.log.info({ httpPort, grpcPort, insecureLocal: cfg.insecureLocal }, 'party started');
  let stopping = false;
  const stop = (signal: string) => {
    // After a process fault the fault policy closes the server and exits 70 (within its grace): a signal then changes
    // nothing, so the orchestrator still sees the fault's status, not 0.
    if (stopping || faults.faulted) return;
    stopping = true;
    srv.app.log.info({ signal }, 'shutting down');
    const t = setTimeout(() => process.exit(1), 5_000);
    t.unref();
    void srv.close().then(() => process.exit(faults.faulted ? FAULT_EXIT_STATUS : 0), () => process.exit(faults.faulted ? FAULT_EXIT_STATUS : 1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The launcher (npm start) closes our stdin when it goes away.
  if (process.env.PARTY_EXIT_WITH_PARENT === '1') process.stdin.on('end', () => stop('parent-exit')).resume();
}

main().catch((e: unknown) => {
  process.stderr.write(`party: fatal: ${isMpcError(e) ? `${e.code} ${e.message}` : String(e)}\n`);
  process.exit(1);
});
