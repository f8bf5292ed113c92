// Unit tests of the experiment's time-series helpers (series.ts): interpolation, rates, bins, hand-computed.
import { describe, expect, it } from 'vitest';
import { binMeans, cleanCounter, counterAt, proxyCounter, rateBetween, rateSeries } from './series.js';

const S = [
  { at: 1000, value: 0 },
  { at: 2000, value: 10 },
  { at: 4000, value: 50 },
];

describe('counterAt', () => {
  it.each([
    [500, 0],
    [1000, 0],
    [1500, 5],
    [3000, 30],
    [4000, 50],
    [9000, 50],
  ])('at %i → %f', (t, want) => {
    expect(counterAt(S, t)).toBe(want);
  });
  it('is null without readings', () => {
    expect(counterAt([], 1)).toBeNull();
  });
  it('takes the later value for two readings at the same time', () => {
    expect(counterAt([{ at: 1, value: 1 }, { at: 1, value: 2 }, { at: 3, value: 4 }], 1)).toBe(1);
  });
});

describe('rateBetween', () => {
  it('is the counter increase per second', () => {
    expect(rateBetween(S, 1000, 4000)).toBeCloseTo(50 / 3, 9);
    expect(rateBetween(S, 2000, 4000)).toBe(20);
  });
  it('is 0 outside the readings and null for an empty span', () => {
    expect(rateBetween(S, 5000, 6000)).toBe(0);
    expect(rateBetween(S, 2000, 2000)).toBeNull();
    expect(rateBetween([], 0, 1000)).toBeNull();
  });
});

describe('cleanCounter', () => {
  it('sorts by time and drops readings that go backwards', () => {
    expect(cleanCounter([{ at: 3, value: 5 }, { at: 1, value: 1 }, { at: 2, value: 0 }, { at: 4, value: 6 }])).toEqual([
      { at: 1, value: 1 },
      { at: 3, value: 5 },
      { at: 4, value: 6 },
    ]);
  });
});

describe('rateSeries', () => {
  it('gives one point per whole bin with t in seconds from the origin', () => {
    expect(rateSeries(S, 1000, 4000, 1000)).toEqual([
      { t: 0, rate: 10 },
      { t: 1, rate: 20 },
      { t: 2, rate: 20 },
    ]);
  });
  it('is empty without readings or with a non-positive bin', () => {
    expect(rateSeries([], 0, 1000, 100)).toEqual([]);
    expect(rateSeries(S, 0, 1000, 0)).toEqual([]);
  });
});

describe('binMeans', () => {
  it('averages per bin and leaves empty bins out', () => {
    const pts = [
      { at: 1000, value: 2 },
      { at: 1999, value: 4 },
      { at: 3500, value: 10 },
      { at: 500, value: 99 },
    ];
    expect(binMeans(pts, 1000, 1000)).toEqual([
      { t: 0, value: 3, n: 2 },
      { t: 2, value: 10, n: 1 },
    ]);
  });
});

describe('proxyCounter', () => {
  it('anchors 0 at the service start when the first reading is later', () => {
    expect(proxyCounter([{ at: 5, value: 3 }], 2)).toEqual([{ at: 2, value: 0 }, { at: 5, value: 3 }]);
    expect(proxyCounter([{ at: 1, value: 3 }], 2)).toEqual([{ at: 1, value: 3 }]);
    expect(proxyCounter([], null)).toEqual([]);
  });
});
