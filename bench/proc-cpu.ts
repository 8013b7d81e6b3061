/**
 * CPU time of the party processes over one prediction, and how much of the
 * machine other work took meanwhile (Linux /proc; elsewhere NaN). On a shared
 * machine a run's wall time depends on the load, its CPU time much less: the
 * zoo rows (bench/run.ts, report-kinds.ts) report both.
 *
 *   const w = cpuWindow(pids);  ... one prediction ...;  const s = w.stop();
 *   s.partyMs[p]: utime + stime of party p in the window, ms
 *   s.othersShare: the machine's busy CPU time in the window less the parties'
 *     and this process's, over (wall x CPUs): 0 = the machine had nothing else
 *     to do, 0.5 = other work kept half of its CPUs busy
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

let ticksPerS: number | undefined;
function clkTck(): number {
  if (ticksPerS === undefined) {
    try { ticksPerS = Number(execSync('getconf CLK_TCK', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()) || 100; } catch { ticksPerS = 100; }
  }
  return ticksPerS;
}

/** utime + stime of a process, ms (fields 14 and 15 of /proc/<pid>/stat); NaN if unreadable. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    // The command name (field 2) may hold spaces: split after its closing parenthesis.
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / clkTck();
  } catch { return NaN; }
}

/** Busy (not idle or iowait) CPU time of the whole machine, ms, from the first line of /proc/stat; NaN if unreadable. */
export function machineBusyMs(): number {
  try {
    const v = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const busy = v[0]! + v[1]! + v[2]! + v[5]! + v[6]! + v[7]!;
    return (busy * 1000) / clkTck();
  } catch { return NaN; }
}

const selfMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

export interface CpuWindowStats { partyMs: number[]; othersShare: number; wallMs: number }

/** Starts a window over the given party processes; stop() returns their CPU time in it and the others' share of the machine. */
export function cpuWindow(pids: readonly (number | undefined)[], nCpus = cpus().length): { stop(): CpuWindowStats } {
  const p0 = pids.map(processCpuMs), m0 = machineBusyMs(), s0 = selfMs(), t0 = performance.now();
  return {
    stop() {
      const partyMs = pids.map((pid, i) => processCpuMs(pid) - p0[i]!);
      const wallMs = performance.now() - t0;
      const others = machineBusyMs() - m0 - partyMs.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) - (selfMs() - s0);
      return { partyMs, othersShare: Math.max(0, others) / (wallMs * nCpus), wallMs };
    },
  };
}
