import { describe, expect, it } from 'vitest';
import { AnswerMemo, MemoBudget } from './answer-memo.js';
import type { MemoAnswer } from './answer-memo.js';
import type { CacheEntry } from './result-cache.js';

const entryA: CacheEntry = { key: 'a', depositedAt: 0, results: [], bytes: 1 };
const entryB: CacheEntry = { key: 'a', depositedAt: 1, results: [], bytes: 1 };

function answer(size: number, generation = 0, entry: CacheEntry | undefined = entryA): MemoAnswer {
  return { bytes: Buffer.alloc(size), local: 0, cached: 0, generation, entry };
}

describe('AnswerMemo', () => {
  it.each([
    ['same generation and entry', 0, entryA, true],
    ['directory changed', 1, entryA, false],
    ['cache entry replaced', 0, entryB, false],
    ['cache entry gone', 0, undefined, false],
  ] as const)('valid only while nothing it was built from changed: %s', (_n, generation, entry, valid) => {
    const budget = new MemoBudget(1000);
    const m = new AnswerMemo(budget, 10, 1000);
    m.set('q', answer(10));
    expect(m.get('q', generation, entry) !== undefined).toBe(valid);
    if (!valid) {
      expect(m.size).toBe(0);
      expect(budget.used).toBe(0);
      expect(budget.evictions).toBe(1);
    }
  });

  it('keeps its own entry and byte caps, oldest out first', () => {
    const budget = new MemoBudget(10_000);
    const m = new AnswerMemo(budget, 2, 100);
    m.set('a', answer(10));
    m.set('b', answer(10));
    m.set('c', answer(10));
    expect([m.get('a', 0, entryA), m.get('b', 0, entryA), m.get('c', 0, entryA)].map((x) => x !== undefined)).toEqual([false, true, true]);
    m.set('d', answer(95));
    expect(m.size).toBe(1);
    expect(m.bytes).toBe(95);
    m.set('huge', answer(101)); // larger than the session's cap: not kept, nothing evicted
    expect(m.size).toBe(1);
    expect(budget.evictions).toBe(3);
  });

  it('shares one byte budget across sessions, refusing (and counting) beyond it, and gives bytes back on clear', () => {
    const budget = new MemoBudget(100);
    const s1 = new AnswerMemo(budget, 10, 100);
    const s2 = new AnswerMemo(budget, 10, 100);
    s1.set('a', answer(60));
    s2.set('a', answer(60));
    expect(budget.refused).toBe(1);
    expect(s2.size).toBe(0);
    s1.clear();
    expect(budget.used).toBe(0);
    s2.set('a', answer(60));
    expect(budget.used).toBe(60);
  });
});
