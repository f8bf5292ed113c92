import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsConfigError } from '../errors.js';
import { Ring } from './ring.js';

describe('Ring', () => {
  it('keeps insertion order and reports what it overwrites when full', () => {
    const r = new Ring<number>(3);
    expect([r.push(1), r.push(2), r.push(3)]).toEqual([undefined, undefined, undefined]);
    expect(r.push(4)).toBe(1);
    expect(r.push(5)).toBe(2);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.length).toBe(3);
    r.clear();
    expect(r.toArray()).toEqual([]);
    r.push(9);
    expect(r.toArray()).toEqual([9]);
  });

  it('forEach visits what the iterator does, in the same order, across wrap-arounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer(), { maxLength: 40 }), (capacity, pushes) => {
        const r = new Ring<number>(capacity);
        for (const p of pushes) r.push(p);
        const seen: number[] = [];
        r.forEach((x) => seen.push(x));
        expect(seen).toEqual([...r]);
        expect(seen).toEqual(pushes.slice(-capacity));
      }),
    );
  });

  it.each([0, -1, 1.5, 1e6])('rejects capacity %s', (c) => {
    expect(() => new Ring(c)).toThrow(MetricsConfigError);
  });
});
