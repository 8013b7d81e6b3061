import { describe, expect, it } from 'vitest';
import { Counter, Histogram } from './metrics.js';

describe('metrics label values (Prometheus text format 0.0.4)', () => {
  it('escapes backslash, newline and double quote, and leaves plain values as they are', () => {
    const c = new Counter('t_total', 'test');
    c.inc({ route: '/v1/sessions/:id/input', status: 200 });
    c.inc({ route: 'a\\b', why: 'line1\nline2', q: 'say "x"' }, 2);
    c.inc({ route: '/v1/sessions/:id/input', status: 200 });
    expect(c.render().split('\n')).toEqual([
      '# HELP t_total test',
      '# TYPE t_total counter',
      't_total{route="/v1/sessions/:id/input",status="200"} 2',
      't_total{route="a\\\\b",why="line1\\nline2",q="say \\"x\\""} 2',
    ]);
    expect(c.get({ route: 'a\\b', why: 'line1\nline2', q: 'say "x"' })).toBe(2);
  });

  it('keeps one series per label set in a histogram, escaped the same way', () => {
    const h = new Histogram('h_seconds', 'test', [0.1, 1]);
    h.observe({ kind: 'dense' }, 0.05);
    h.observe({ kind: 'dense' }, 0.5);
    h.observe({ kind: 'x"y' }, 2);
    expect(h.count({ kind: 'dense' })).toBe(2);
    const text = h.render();
    expect(text).toContain('h_seconds_bucket{kind="dense",le="0.1"} 1');
    expect(text).toContain('h_seconds_bucket{kind="dense",le="1"} 2');
    expect(text).toContain('h_seconds_count{kind="x\\"y"} 1');
  });

  it('renders a histogram series line by line: buckets (cumulative), +Inf, sum, count; with and without labels', () => {
    const h = new Histogram('r_seconds', 'test', [0.5, 2.5]);
    h.observe({}, 1);
    h.observe({ kind: 'relu', party: 1 }, 0.25);
    h.observe({ kind: 'relu', party: 1 }, 3);
    expect(h.render().split('\n')).toEqual([
      '# HELP r_seconds test',
      '# TYPE r_seconds histogram',
      'r_seconds_bucket{le="0.5"} 0',
      'r_seconds_bucket{le="2.5"} 1',
      'r_seconds_bucket{le="+Inf"} 1',
      'r_seconds_sum 1',
      'r_seconds_count 1',
      'r_seconds_bucket{kind="relu",party="1",le="0.5"} 1',
      'r_seconds_bucket{kind="relu",party="1",le="2.5"} 1',
      'r_seconds_bucket{kind="relu",party="1",le="+Inf"} 2',
      'r_seconds_sum{kind="relu",party="1"} 3.25',
      'r_seconds_count{kind="relu",party="1"} 2',
    ]);
  });
});
