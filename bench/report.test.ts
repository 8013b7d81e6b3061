import { describe, expect, it } from 'vitest';
import { dominance, latencyStats, markdown, median, niceStep, percentile, replaceSection, svgChart, type CaseResult, type RunMeta } from './report.js';

const layer = (name: string, kind: string, ms: number, waitMs: number, bytes: number) => ({
  name, kind, bytesSent: 3 * bytes, rounds: 3,
  parties: [0, 1, 2].map((p) => ({ ms, waitMs: p === 0 ? waitMs : 0, computeMs: p === 0 ? ms - waitMs : ms, bytesSent: bytes })),
});

const meta: RunMeta = { date: '2026-01-02T03:04:05.000Z', command: 'npm run bench -- --model cnn-maxpool', nproc: 2, cpu: 'Test CPU', memGiB: 8, node: 'v20', kernels: 'native', commit: 'abc1234', transport: 'grpc' };

const kase: CaseResult = {
  key: 'cnn-maxpool', model: 'cnn-maxpool', label: 'seed CNN <MaxPool>', batch: 8, transport: 'grpc', fracBits: 13, warmup: 2, reps: 5, firstMs: 950,
  latencyMs: latencyStats([100, 120, 110, 400, 105]), perImageMs: 110 / 8, protocolMs: 90,
  bytesPerParty: [2 ** 21, 2 ** 21, 2 ** 10], messagesPerParty: [10, 10, 5], rounds: 7,
  layers: [layer('conv2d_0', 'conv2d', 30, 10, 1000), layer('maxpool2d_1', 'maxpool2d', 55, 40, 5000), layer('flatten_2', 'flatten', 0.01, 0, 0), layer('dense_3', 'dense', 5, 4.5, 100)],
  tfjsMs: 10, ratio: 11, maxAbsErr: 1.5e-3, maxRelErr: 2e-4, peakRssBytes: [3 * 2 ** 30, 2 ** 30, 2 ** 29],
};

describe('bench report helpers', () => {
  it('median and nearest-rank p90', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const xs = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(percentile(xs, 90)).toBe(9);
    expect(percentile(xs, 100)).toBe(10);
    expect(percentile([7], 90)).toBe(7);
    expect(latencyStats([5, 1, 3])).toMatchObject({ median: 3, p90: 5, min: 1, max: 5 });
  });

  it('tick steps are 1, 2 or 5 x 10^k', () => {
    expect(niceStep(23)).toBe(5);
    expect(niceStep(5310)).toBe(2000);
    expect(niceStep(0.9)).toBe(0.2);
  });

  it('replaces only the text between the markers, or appends a block', () => {
    const doc = 'head\n<!-- a -->\nold\n<!-- b -->\ntail\n';
    expect(replaceSection(doc, '<!-- a -->', '<!-- b -->', 'new')).toBe('head\n<!-- a -->\nnew\n<!-- b -->\ntail\n');
    expect(replaceSection('# T\n', '<!-- a -->', '<!-- b -->', 'x')).toBe('# T\n\n<!-- a -->\nx\n<!-- b -->\n');
  });

  it('markdown: summary row, machine, per-layer table with totals, what dominated', () => {
    const md = markdown(meta, [kase, { ...kase, key: 'x', batch: 1, error: 'E_DEADLINE | boom' }], 'bench/results/c.svg');
    expect(md).toContain('Command: `npm run bench -- --model cnn-maxpool`');
    expect(md).toContain('`nproc` = 2, CPU Test CPU');
    expect(md).toMatch(/\| seed CNN <MaxPool> \| 8 \| 2\+5 \| 110 ms \| 400 ms \| 13\.8 ms \| 950 ms \| 90\.0 ms \|/);
    expect(md).toContain('2.0 MiB / 2.0 MiB / 1.0 KiB');
    expect(md).toContain('3.00 GiB / 1.00 GiB / 512.0 MiB');
    expect(md).toContain('failed: E_DEADLINE / boom');
    expect(md).toMatch(/\| maxpool2d_1 \| maxpool2d \| 55\.0 ms \| 61% \| 15\.0 ms \| 40\.0 ms \|/);
    expect(md).toContain('| **total** | | 90.0 ms |');
    expect(md).toContain('7 (run)');
    expect(dominance(kase)).toMatch(/maxpool2d 61%, conv2d 33%/);
    expect(dominance(kase)).toContain('slowest layer maxpool2d_1');
    // compute: P0 35.5 ms + P1 and P2 90 ms each (in the fixture) over 90 ms of wall time.
    expect(dominance(kase, 2)).toContain('the three parties computed 216 ms together, 2.4x the wall time (nproc = 2)');
    expect(markdown(meta, [{ ...kase, peakRssBytes: [2 ** 30] }], 'c.svg')).toContain('1.00 GiB (one process)');
  });

  it('SVG: legend, axis, escaped labels, one compute and one wait bar per shown layer (flatten hidden)', () => {
    const svg = svgChart(meta, [kase]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('compute at P0');
    expect(svg).toContain('P0 waiting in recv');
    expect(svg).toContain('seed CNN &lt;MaxPool&gt;, batch 8');
    expect(svg).toContain('time per layer at P0');
    expect(svg).not.toContain('flatten_2');
    expect(svg.match(/<rect x="250"/g)?.length).toBe(3); // compute bars start at the axis
    expect(svg.match(/fill="#f0a33a"><title>/g)?.length).toBe(3);
    expect(svg).toContain('55.0 ms (73% wait)');
    expect(svg).toMatch(/>60 ms</); // last tick: 55 rounded up to a multiple of the 10 ms step
  });
});

describe('zoo section (report-kinds.ts)', () => {
  it('sums rounds, bytes and time per layer kind, and says whether the target and the RSS limit are met', async () => {
    const { byKind, zooMarkdown } = await import('./report-kinds.js');
    const layers = [layer('c1', 'conv2d', 30, 10, 1000), layer('c2', 'conv2d', 10, 1, 500), layer('p', 'maxpool2d', 5, 1, 200)];
    expect(byKind(layers)).toEqual([
      { kind: 'conv2d', layers: 2, rounds: 6, bytesSent: 4500, ms: 40 },
      { kind: 'maxpool2d', layers: 1, rounds: 3, bytesSent: 600, ms: 5 },
    ]);
    const md = zooMarkdown(meta, [{ ...kase, batch: 1, perImageMs: 110, targetMs: 100, layers }, { ...kase, key: 'x', label: 'fast', batch: 1, perImageMs: 50, targetMs: 100, peakRssBytes: [1, 1, 1], layers }], 2 ** 31);
    expect(md).toMatch(/\| seed CNN <MaxPool> \| 1 \|.*< 100 ms: \*\*not met\*\*.*3\.00 GiB \/ 1\.00 GiB \/ 512\.0 MiB: \*\*not met\*\*/);
    expect(md).toMatch(/\| fast \| 1 \|.*< 100 ms: met .*1 B \/ 1 B \/ 1 B: met/);
    expect(md).toContain('| conv2d | 2 | 6 | 4.4 KiB | 40.0 ms |');
    // A zoo row names the configuration it ran in (bench/zoo-precision.ts); a row without one (seed models) does not.
    const zoo = zooMarkdown(meta, [{ ...kase, batch: 1, layers, fracBits: 16, truncation: 'exact', compareBits: 64, maxAbsErr: 4.6e-3, maxAbsProbErr: 8e-5 }], 2 ** 31);
    expect(zoo).toMatch(/\| seed CNN <MaxPool> \(f = 16, exact truncation, 64-bit ring\) \| 1 \|/);
    expect(zoo).toMatch(/\| 4\.6e-3 \(8\.0e-5\) \|\n/);
    expect(md).not.toContain('truncation');
  });

  it('a missed target is "not shown" when other work took the CPUs, with the CPU floor; CPU columns', async () => {
    const { cpuFloorMs, targetVerdict, zooMarkdown } = await import('./report-kinds.js');
    const base = { ...kase, batch: 1, perImageMs: 9000, targetMs: 8000 };
    // Floor: the largest party (6 s) or the three parties' 14 s over 2 CPUs (7 s), whichever is larger.
    expect(cpuFloorMs({ partyCpuMs: [6000, 5000, 3000], batch: 1 }, 2)).toBe(7000);
    expect(cpuFloorMs({ partyCpuMs: [6000, 1000, 1000], batch: 2 }, 2)).toBe(3000);
    expect(cpuFloorMs({ batch: 1 }, 2)).toBeNaN();
    expect(cpuFloorMs({ partyCpuMs: [NaN, 1, 1], batch: 1 }, 2)).toBeNaN();
    expect(targetVerdict({ ...base, partyCpuMs: [6000, 5000, 3000], othersCpuShare: 0.4 }, 2)).toBe('< 8000 ms: not shown (machine loaded; CPU floor 7000 ms is under it)');
    expect(targetVerdict({ ...base, partyCpuMs: [9000, 5000, 3000], othersCpuShare: 0.4 }, 2)).toBe('< 8000 ms: not shown (machine loaded; CPU floor 9000 ms is over it)');
    expect(targetVerdict({ ...base, partyCpuMs: [6000, 5000, 3000], othersCpuShare: 0.02 }, 2)).toBe('< 8000 ms: **not met**; CPU floor 7000 ms is under it');
    expect(targetVerdict({ ...base, othersCpuShare: 0.5 }, 2)).toBe('< 8000 ms: not shown (machine loaded)');
    expect(targetVerdict({ ...base, perImageMs: 7000, othersCpuShare: 0.9 }, 2)).toBe('< 8000 ms: met');
    const md = zooMarkdown(meta, [{ ...base, partyCpuMs: [6000, 5000, 3000], othersCpuShare: 0.25 }], 2 ** 33);
    expect(md).toMatch(/\| 9000 ms \| < 8000 ms: not shown \(machine loaded; CPU floor 7000 ms is under it\) \| 6000 ms \/ 5000 ms \/ 3000 ms \| 7000 ms \| 25% \|/);
    expect(zooMarkdown(meta, [base], 2 ** 33)).toMatch(/\*\*not met\*\* \| – \| – \| – \|/);
  });
});
