/**
 * The party's command line (`--party N --config FILE [--insecure-local]`) and the coded error every config check
 * throws (E_BAD_ARGUMENT, "config: ..."); parties/config.ts re-exports parseArgs.
 */
import { parseArgs as parseCliArgs } from 'node:util';
import { MpcError } from '../protocol/errors.js';

export function bad(msg: string): never { throw new MpcError('E_BAD_ARGUMENT', `config: ${msg}`); }

/** `--party N --config FILE [--insecure-local]` (node:util parseArgs, strict: anything else is refused). */
export function parseArgs(argv: string[]): { party?: string; config?: string; insecureLocal: boolean } {
  let v;
  try {
    ({ values: v } = parseCliArgs({ args: argv, strict: true, allowPositionals: false, options: { party: { type: 'string' }, config: { type: 'string' }, 'insecure-local': { type: 'boolean' } } }));
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    const arg = /'([^']+)'/.exec(m)?.[1] ?? m.split('\n')[0];
    const code = (e as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') bad(`unknown argument '${arg}' (usage: --party 0|1|2 --config FILE [--insecure-local])`);
    bad(m.split('\n')[0]!);
  }
  return { ...(v.party !== undefined ? { party: v.party } : {}), ...(v.config !== undefined ? { config: v.config } : {}), insecureLocal: v['insecure-local'] === true };
}
