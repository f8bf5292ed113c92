import { describe, expect, it } from 'vitest';
import { OpenQueries } from './open-queries.js';
import type { OpenQuery, OpenQueryDrop } from './open-queries.js';

const entry = (seq: number, queryTs: number): [string, OpenQuery] => {
  const key = OpenQueries.key(1, '10.0.0.2', 4000, seq);
  return [key, { key, queryTs, rowid: seq + 1, serverId: 1, clientIp: '10.0.0.2', clientPort: 4000, seq, keywords: null, maxResults: null, firstResponseTs: null, doneTs: null, results: null }];
};

function make(capacity: number): { open: OpenQueries; drops: Record<string, number> } {
  const drops: Record<string, number> = {};
  const open = new OpenQueries((reason: OpenQueryDrop, n: number) => void (drops[reason] = (drops[reason] ?? 0) + n), capacity);
  return { open, drops };
}

describe('OpenQueries', () => {
  it('finds a query only with its own query time (seq restarts per flow)', () => {
    const { open } = make(10);
    const [k, q] = entry(0, 100);
    open.set(k, q);
    expect(open.get(k, 100)).toBe(q);
    expect(open.get(k, 101)).toBeUndefined();
    open.delete(k);
    expect(open.get(k, 100)).toBeUndefined();
  });

  it('evicts the oldest beyond its capacity and counts evictions and replacements by reason', () => {
    const { open, drops } = make(3);
    for (let seq = 0; seq < 5; seq++) open.set(...entry(seq, 100 + seq));
    expect(open.size).toBe(3);
    expect(open.get(entry(0, 100)[0], 100)).toBeUndefined();
    expect(open.get(entry(1, 101)[0], 101)).toBeUndefined();
    expect(open.get(entry(4, 104)[0], 104)).toBeDefined();
    open.set(...entry(4, 999)); // a new flow's query with the same key
    expect(open.size).toBe(3);
    expect(drops).toEqual({ evicted: 2, replaced: 1 });
  });

  it('expires queries older than a time, counted', () => {
    const { open, drops } = make(10);
    for (let seq = 0; seq < 4; seq++) open.set(...entry(seq, 100 * seq));
    expect(open.expire(150)).toBe(2);
    expect(open.size).toBe(2);
    expect(drops).toEqual({ expired: 2 });
    expect(open.clear()).toBe(2);
  });
});
