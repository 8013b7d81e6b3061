/**
 * The benchmarks' view of the offline phase (parties/preprocessing.ts): wait
 * until P0 has no preprocessing in flight (the next run of a shape seen
 * before then finds its bundle ready, as after an idle moment in service),
 * and read P0's preprocessing counters from /metrics.
 */
const num = (text: string, re: RegExp): number => Number(re.exec(text)?.[1] ?? 0);

export interface PrepStats { ready: number; made: number; seconds: number }

export async function prepStats(p0Url: string): Promise<PrepStats & { inFlight: number }> {
  const r = await fetch(`${p0Url}/metrics`);
  if (!r.ok) throw new Error(`GET ${p0Url}/metrics: ${r.status}`);
  const t = await r.text();
  return {
    inFlight: num(t, /^mpc_prep_in_flight (\d+)$/m),
    ready: num(t, /^mpc_prep_bundles_ready (\d+)$/m),
    made: num(t, /^mpc_prep_duration_seconds_count (\d+)$/m),
    seconds: num(t, /^mpc_prep_duration_seconds_sum ([\d.e+-]+)$/m),
  };
}

/** Poll P0 until no preprocessing is in flight (at most timeoutMs); returns its stats then. */
export async function waitPrepIdle(p0Url: string, timeoutMs = 120_000): Promise<PrepStats> {
  const t0 = Date.now();
  for (;;) {
    const s = await prepStats(p0Url);
    if (s.inFlight === 0) return s;
    if (Date.now() - t0 > timeoutMs) throw new Error(`preprocessing still in flight after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
