import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsConfigError } from '../errors.js';
import { distribution, mean, percentile } from './percentile.js';

describe('percentile (nearest rank: value at rank ceil(p/100·n))', () => {
  // Hand-computed: n = 10 values 10..100 (shuffled).
  const ten = [70, 10, 100, 40, 20, 90, 30, 60, 80, 50];
  it.each([
    { p: 0, want: 10 }, // minimum by definition
    { p: 1, want: 10 }, // ceil(0.1) = 1
    { p: 10, want: 10 }, // ceil(1) = 1
    { p: 11, want: 20 }, // ceil(1.1) = 2
    { p: 50, want: 50 }, // ceil(5) = 5
    { p: 51, want: 60 }, // ceil(5.1) = 6
    { p: 99, want: 100 }, // ceil(9.9) = 10
    { p: 100, want: 100 },
  ])('p$p of 10..100 is $want', ({ p, want }) => {
    expect(percentile(ten, p)).toBe(want);
  });

  it('p50 and p99 of [15, 20, 35, 40, 50] are 35 and 50 (ranks 3 and 5)', () => {
    expect(percentile([50, 15, 40, 20, 35], 50)).toBe(35);
    expect(percentile([50, 15, 40, 20, 35], 99)).toBe(50);
  });

  it('p99 of 1..200 is 198 (rank ceil(198) = 198)', () => {
    const values = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(percentile(values, 99)).toBe(198);
  });

  it('is null for no values and throws a named error for p outside [0, 100]', () => {
    expect(percentile([], 50)).toBeNull();
    expect(() => percentile([1], 101)).toThrow(MetricsConfigError);
    expect(() => percentile([1], Number.NaN)).toThrow(MetricsConfigError);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('returns an observed value with at least p% of values ≤ it and fewer than p% below it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 100 }),
        (values, p) => {
          const v = percentile(values, p);
          expect(v).not.toBeNull();
          expect(values).toContain(v);
          const atOrBelow = values.filter((x) => x <= (v as number)).length;
          const below = values.filter((x) => x < (v as number)).length;
          expect(atOrBelow / values.length).toBeGreaterThanOrEqual(p / 100);
          expect(below / values.length).toBeLessThan(p / 100);
        },
      ),
    );
  });
});

describe('mean and distribution', () => {
  it('computes mean, p50 and p99 together', () => {
    expect(mean([])).toBeNull();
    expect(mean([100, 200, 600])).toBe(300);
    expect(distribution([100, 600, 200])).toEqual({ count: 3, avg: 300, p50: 200, p99: 600 });
    expect(distribution([])).toEqual({ count: 0, avg: null, p50: null, p99: null });
  });
});
