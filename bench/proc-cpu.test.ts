import { describe, expect, it } from 'vitest';
import { cpuWindow, machineBusyMs, processCpuMs } from './proc-cpu.js';

const linux = process.platform === 'linux';

/**
 * Keeps this thread busy until `ms` of wall time have passed AND this process has run `ms` on the CPU by its own
 * count (process.cpuUsage). Wall time alone was not enough on a loaded machine: at load 8 on 2 cores, 150 ms of wall
 * time gave this process 0 to 20 ms of CPU in 15 of 400 tries, and the checks below (> 20 ms) failed by chance.
 */
function burn(ms: number): number {
  const t0 = performance.now(), c0 = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 1000; i++) x = (x * 31 + 7) % 1000003;
    const c = process.cpuUsage(c0);
    if (performance.now() - t0 >= ms && (c.user + c.system) / 1000 >= ms) return x;
  }
}

describe.runIf(linux)('party CPU from /proc (bench/proc-cpu.ts)', () => {
  it('processCpuMs grows by about the CPU this process burns; unknown pids give NaN', () => {
    const a = processCpuMs(process.pid);
    burn(150);
    const b = processCpuMs(process.pid);
    expect(a).toBeGreaterThan(0);
    // The 150 ms of CPU burn() waits for, counted by /proc in clock ticks (10 ms), and never more than wall time allows plus a tick.
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
