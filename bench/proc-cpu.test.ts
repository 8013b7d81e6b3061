import { describe, expect, it } from 'vitest';
import { cpuWindow, machineBusyMs, processCpuMs } from './proc-cpu.js';

const linux = process.platform === 'linux';

/** Keeps this thread busy for about `ms` of wall time. */
function burn(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x = (x * 31 + 7) % 1000003;
  return x;
}

describe.runIf(linux)('party CPU from /proc (bench/proc-cpu.ts)', () => {
  it('processCpuMs grows by about the CPU this process burns; unknown pids give NaN', () => {
    const a = processCpuMs(process.pid);
    burn(150);
    const b = processCpuMs(process.pid);
    expect(a).toBeGreaterThan(0);
    // At least part of the 150 ms was on the CPU (the machine may be shared), and never more than wall time allows plus a tick.
    expect(b - a).toBeGreaterThan(20);
    expect(b - a).toBeLessThan(2000);
    expect(processCpuMs(undefined)).toBeNaN();
    expect(processCpuMs(2 ** 30)).toBeNaN();
    expect(machineBusyMs()).toBeGreaterThan(0);
  });

  it('cpuWindow counts the listed processes, not this one, and the others share stays in [0, 1]', () => {
    const w = cpuWindow([process.pid, undefined]);
    burn(150);
    const s = w.stop();
    expect(s.partyMs[0]).toBeGreaterThan(20);
    expect(s.partyMs[1]).toBeNaN();
    expect(s.wallMs).toBeGreaterThanOrEqual(150);
    expect(s.othersShare).toBeGreaterThanOrEqual(0);
    expect(s.othersShare).toBeLessThanOrEqual(1);
  });
});
