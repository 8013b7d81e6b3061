/**
 * Runtime metrics of the party process, named as prom-client's default
 * metrics are (so the usual Node.js dashboards read them): resident memory,
 * heap, event-loop lag, GC pauses, CPU time. On the project's own registry
 * (metrics.ts): no dependency for a dozen gauges.
 */
import { monitorEventLoopDelay, performance, PerformanceObserver, type EntryType } from 'node:perf_hooks';
import { Collected, Histogram, type Registry } from './metrics.js';

/** Register the runtime metrics on `r`; returns a stop function (ends the event-loop and GC observers). */
export function registerRuntimeMetrics(r: Registry): () => void {
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const gc = r.register(new Histogram('nodejs_gc_duration_seconds', 'Garbage collection pauses, by kind (minor, major, incremental, weakcb).', [0.001, 0.01, 0.1, 1, 2, 5]));
  const kinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb', 15: 'all' };
  let obs: PerformanceObserver | null = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      gc.observe({ kind: kinds[kind] ?? 'other' }, e.duration / 1000);
    }
  });
  obs.observe({ entryTypes: ['gc' as EntryType] });
  const s = (ns: number) => ns / 1e9;
  // One process.memoryUsage() (it reads the resident size from the OS too) serves the three heap gauges of a scrape.
  let mem: NodeJS.MemoryUsage | null = null, memAt = -Infinity;
  const memory = (): NodeJS.MemoryUsage => { const t = performance.now(); if (mem === null || t - memAt > 10) { mem = process.memoryUsage(); memAt = t; } return mem; };
  r.register(new Collected('process_resident_memory_bytes', 'Resident memory size in bytes.', 'gauge', () => [[{}, process.memoryUsage.rss()]]));
  r.register(new Collected('process_cpu_seconds_total', 'User and system CPU time spent in seconds.', 'counter', () => { const u = process.cpuUsage(); return [[{}, (u.user + u.system) / 1e6]]; }));
  r.register(new Collected('process_start_time_seconds', 'Start time of the process since the Unix epoch in seconds.', 'gauge', () => [[{}, Math.round(Date.now() / 1000 - process.uptime())]]));
  r.register(new Collected('nodejs_heap_size_used_bytes', 'V8 heap used in bytes.', 'gauge', () => [[{}, memory().heapUsed]]));
  r.register(new Collected('nodejs_heap_size_total_bytes', 'V8 heap size in bytes.', 'gauge', () => [[{}, memory().heapTotal]]));
  r.register(new Collected('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript (Buffers among them) in bytes.', 'gauge', () => [[{}, memory().external]]));
  r.register(new Collected('nodejs_eventloop_lag_p50_seconds', 'Median event-loop delay since the process started, in seconds.', 'gauge', () => [[{}, s(loop.percentile(50))]]));
  r.register(new Collected('nodejs_eventloop_lag_p99_seconds', '99th percentile of the event-loop delay since the process started, in seconds.', 'gauge', () => [[{}, s(loop.percentile(99))]]));
  r.register(new Collected('nodejs_eventloop_lag_max_seconds', 'Largest event-loop delay since the process started, in seconds.', 'gauge', () => [[{}, s(loop.max)]]));
  return () => { loop.disable(); obs?.disconnect(); obs = null; };
}
