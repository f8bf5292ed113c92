import { describe, expect, it } from 'vitest';
import { LatencyRing } from './latency-ring.js';

describe('LatencyRing', () => {
  it.each([
    [[], 0.5, 0],
    [[5], 0.99, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5, 5],
    [[10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 0.99, 10],
    [[3, 1, 2], 0, 1],
  ])('values %j, p%s → %s', (values, p, expected) => {
    const r = new LatencyRing(100);
    for (const v of values) r.record(v);
    expect(r.percentile(p)).toBe(expected);
  });

  it('keeps only the last N values', () => {
    const r = new LatencyRing(3);
    for (const v of [100, 100, 100, 1, 2, 3]) r.record(v);
    expect(r.count).toBe(3);
    expect(r.percentile(1)).toBe(3);
  });
});
