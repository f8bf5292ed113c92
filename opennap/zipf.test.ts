// Unit tests of the weighted (Zipf-like) sampler and of the seeded PRNG it draws from (random.ts).
import { describe, expect, it } from 'vitest';
import { RandomRangeError, ZipfWeightsError } from './errors.js';
import { Random, createRandom } from './random.js';
import type { Rng } from './random.js';
import { ZipfSampler, zipfWeights } from './zipf.js';

/** An Rng that returns the given values in turn: lets a test put u exactly on a boundary. */
function fixedRng(values: number[]): Rng {
  let i = 0;
  return { next: () => values[i++ % values.length] as number };
}

describe('Random (xoshiro128**)', () => {
  it('matches the reference xoshiro128** outputs from state {1,2,3,4}', () => {
    // Reference values of Vigna's xoshiro128starstar.c for s = {1, 2, 3, 4}.
    const r = Random.fromState(1, 2, 3, 4);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([11520, 0, 5927040, 70819200]);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const sa = Array.from({ length: 20 }, () => a.nextUint32());
    const sb = Array.from({ length: 20 }, () => b.nextUint32());
    const sc = Array.from({ length: 20 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it('next() stays in [0, 1)', () => {
    const r = new Random(7);
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = r.next();
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(hi - lo).toBeGreaterThan(0.99);
  });

  it('int(n) covers exactly 0 … n-1', () => {
    const r = new Random(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(r.int(7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(r.int(1)).toBe(0);
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 32 + 1])('int(%s) throws RandomRangeError', (n) => {
    const r = new Random(1);
    expect(() => r.int(n)).toThrow(RandomRangeError);
  });

  it('pick() of an empty array throws a coded error', () => {
    const r = new Random(1);
    try {
      r.pick([]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RandomRangeError);
      expect((e as RandomRangeError).code).toBe('opennap.random_range');
    }
  });

  it('shuffle() returns a permutation and leaves its input alone', () => {
    const r = new Random(5);
    const input = Array.from({ length: 50 }, (_, i) => i);
    const copy = input.slice();
    const out = r.shuffle(input);
    expect(input).toEqual(copy);
    expect(out.slice().sort((x, y) => x - y)).toEqual(input);
    expect(out).not.toEqual(input);
  });
});

describe('ZipfSampler', () => {
  it.each([
    ['empty', []],
    ['negative', [1, -1]],
    ['NaN', [1, Number.NaN]],
    ['infinite', [Infinity]],
    ['all zero', [0, 0, 0]],
  ])('rejects %s weights with ZipfWeightsError', (_name, weights) => {
    expect(() => new ZipfSampler(weights, new Random(1))).toThrow(ZipfWeightsError);
  });

  it.each([
    // weights [1,2,3]: cumulative [1,3,6]; u = next()·6 picks the first cumulative above u.
    [0, 0],
    [0.16, 0],
    [1 / 6, 1],
    [0.49, 1],
    [0.5, 2],
    [0.9999999999999999, 2],
  ])('next() = %s picks index %s', (u, expected) => {
    expect(new ZipfSampler([1, 2, 3], fixedRng([u])).sample()).toBe(expected);
  });

  it('never draws a zero-weight index, even at the top of the range', () => {
    expect(new ZipfSampler([1, 0], fixedRng([0.9999999999999999])).sample()).toBe(0);
    expect(new ZipfSampler([0, 1], fixedRng([0])).sample()).toBe(1);
    const s = new ZipfSampler([0, 1, 0, 2, 0], new Random(9));
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) seen.add(s.sample());
    expect([...seen].sort()).toEqual([1, 3]);
  });

  it('draws each index with probability weight / total (seeded, within 5 sigma)', () => {
    const weights = zipfWeights(10);
    const s = new ZipfSampler(weights, new Random(11));
    const n = 50_000;
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) counts[s.sample()]!++;
    for (let i = 0; i < 10; i++) {
      const p = s.probability(i);
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs((counts[i] as number) - n * p)).toBeLessThan(5 * sigma);
    }
  });

  it('probabilities sum to 1 and follow the weights', () => {
    const s = new ZipfSampler([2, 1, 1], new Random(1));
    expect(s.size).toBe(3);
    expect(s.probability(0)).toBeCloseTo(0.5);
    expect(s.probability(1)).toBeCloseTo(0.25);
    expect(s.probability(3)).toBe(0);
    expect(s.probability(0) + s.probability(1) + s.probability(2)).toBeCloseTo(1);
  });

  it('zipfWeights gives 1/r^s', () => {
    expect(zipfWeights(4)).toEqual([1, 1 / 2, 1 / 3, 1 / 4]);
    expect(zipfWeights(3, 2)).toEqual([1, 1 / 4, 1 / 9]);
    expect(zipfWeights(0)).toEqual([]);
  });

  it('is deterministic for a seed', () => {
    const a = new ZipfSampler(zipfWeights(50), new Random(4));
    const b = new ZipfSampler(zipfWeights(50), new Random(4));
    expect(Array.from({ length: 100 }, () => a.sample())).toEqual(Array.from({ length: 100 }, () => b.sample()));
  });
});
