import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsConfigError } from '../errors.js';
import { QueryRateEstimator, queryRate } from './query-rate.js';
import type { QueryRateStep } from './query-rate.js';

describe('queryRate (paper eq. 2: QR = N / (T_N − T_1))', () => {
  it.each([
    // queries at t = 0, 100, 200, 300 ms, N = 4: 4 / 0.3 s (paper) vs 3 / 0.3 s (intervals)
    { n: 4, first: 0, last: 300, formula: 'paper' as const, want: 4 / 0.3 },
    { n: 4, first: 0, last: 300, formula: 'intervals' as const, want: 3 / 0.3 },
    { n: 10, first: 5000, last: 6000, formula: 'paper' as const, want: 10 },
    { n: 2, first: 0, last: 0.5, formula: 'paper' as const, want: 4000 },
  ])('N=$n over [$first, $last] ms ($formula) = $want q/s', ({ n, first, last, formula, want }) => {
    expect(queryRate(n, first, last, formula)).toBeCloseTo(want, 9);
  });

  it('is null for a zero or negative span', () => {
    expect(queryRate(4, 100, 100)).toBeNull();
    expect(queryRate(4, 100, 50)).toBeNull();
  });
});

describe('QueryRateEstimator', () => {
  it('emits one sample per N queries over disjoint groups', () => {
    const e = new QueryRateEstimator(4);
    const steps = [0, 100, 200, 300, 1000, 1050, 1100, 1150].map((t) => e.push(t));
    expect(steps.map((s) => s.kind)).toEqual(['pending', 'pending', 'pending', 'sample', 'pending', 'pending', 'pending', 'sample']);
    const samples = steps.flatMap((s) => (s.kind === 'sample' ? [s.sample] : []));
    expect(samples[0]?.ts).toBe(300);
    expect(samples[0]?.spanMs).toBe(300);
    expect(samples[0]?.qr).toBeCloseTo(13.3333333, 6);
    // second group 1000..1150: 4 / 0.15 s; the 700 ms gap between groups is not measured (paper: count restarts)
    expect(samples[1]?.qr).toBeCloseTo(4 / 0.15, 9);
    expect(e.pending).toBe(0);
  });

  it('uses the earliest and latest timestamps of a group when they arrive out of order', () => {
    const e = new QueryRateEstimator(3);
    e.push(200);
    e.push(0);
    const step = e.push(100);
    expect(step).toEqual({ kind: 'sample', sample: { ts: 200, qr: 15, spanMs: 200 } });
  });

  it('drops a zero-span group with a named event and starts a new group', () => {
    const e = new QueryRateEstimator(2);
    e.push(5);
    expect(e.push(5)).toEqual({ kind: 'error', event: 'metrics.qr_zero_span' });
    expect(e.pending).toBe(0);
  });

  it('does not count non-finite timestamps', () => {
    const e = new QueryRateEstimator(2);
    e.push(0);
    expect(e.push(Number.NaN)).toEqual({ kind: 'error', event: 'metrics.qr_not_finite' });
    expect(e.pending).toBe(1);
  });

  it.each([1, 0, 2.5, Number.NaN, 1e9])('rejects N = %s with MetricsConfigError', (n) => {
    expect(() => new QueryRateEstimator(n)).toThrow(MetricsConfigError);
  });

  it('for evenly spaced queries, paper QR = intervals QR · N/(N−1) = N/(N−1) · 1000/gap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 50 }), fc.double({ min: 0.01, max: 10_000, noNaN: true }), (n, gap) => {
        const paper = new QueryRateEstimator(n, 'paper');
        const intervals = new QueryRateEstimator(n, 'intervals');
        let p: QueryRateStep = { kind: 'pending', count: 0 };
        let q: QueryRateStep = { kind: 'pending', count: 0 };
        for (let i = 0; i < n; i++) {
          p = paper.push(i * gap);
          q = intervals.push(i * gap);
        }
        if (p.kind !== 'sample' || q.kind !== 'sample') throw new Error('expected samples');
        expect(q.sample.qr).toBeCloseTo(1000 / gap, 6);
        expect(p.sample.qr / q.sample.qr).toBeCloseTo(n / (n - 1), 9);
      }),
    );
  });

  it('emits exactly floor(k/N) samples-or-zero-span results for k finite timestamps, never throwing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), fc.array(fc.double({ min: 0, max: 1e13, noNaN: true })), (n, ts) => {
        const e = new QueryRateEstimator(n);
        let done = 0;
        for (const t of ts) {
          const s = e.push(t);
          if (s.kind === 'sample') {
            done += 1;
            expect(s.sample.qr).toBeGreaterThan(0);
          } else if (s.kind === 'error') {
            expect(s.event).toBe('metrics.qr_zero_span');
            done += 1;
          }
        }
        expect(done).toBe(Math.floor(ts.length / n));
      }),
    );
  });
});
