import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpenQueries } from './open-queries.js';
import type { OpenQuery, OpenQueryDrop } from './open-queries.js';

const entry = (seq: number, queryTs: number): [string, OpenQuery] => {
  const key = OpenQueries.key(1, '10.0.0.2', 4000, seq);
  return [key, { key, queryTs, rowid: seq + 1, serverId: 1, clientIp: '10.0.0.2', clientPort: 4000, seq, keywords: null, maxResults: null, firstResponseTs: null, doneTs: null, results: null, stamp: 0 }];
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

describe('OpenQueries against a model', () => {
  type Op = { kind: 'set'; seq: number; ts: number } | { kind: 'delete'; seq: number } | { kind: 'expire'; before: number } | { kind: 'clear' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('set' as const), seq: fc.integer({ min: 0, max: 20 }), ts: fc.integer({ min: 0, max: 50 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), seq: fc.integer({ min: 0, max: 20 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), before: fc.integer({ min: 0, max: 50 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  );

  it('keeps, replaces, evicts (oldest first), expires and counts as a plain insertion-ordered map would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(opArb, { maxLength: 3000 }), (capacity, ops) => {
        const { open, drops } = make(capacity);
        // The model: entries in insertion order (a re-set key moves to the end), and its drop counts.
        let model: [string, OpenQuery][] = [];
        const want: Record<string, number> = {};
        const drop = (reason: string, n: number): void => {
          if (n > 0) want[reason] = (want[reason] ?? 0) + n;
        };
        for (const op of ops) {
          if (op.kind === 'set') {
            const [k, q] = entry(op.seq, op.ts);
            open.set(k, q);
            const at = model.findIndex(([mk]) => mk === k);
            if (at >= 0) {
              model.splice(at, 1);
              drop('replaced', 1);
            } else if (model.length >= capacity) {
              model.shift();
              drop('evicted', 1);
            }
            model.push([k, q]);
          } else if (op.kind === 'delete') {
            const [k] = entry(op.seq, 0);
            open.delete(k);
            model = model.filter(([mk]) => mk !== k);
          } else if (op.kind === 'expire') {
            const before = model.length;
            model = model.filter(([, q]) => q.queryTs >= op.before);
            expect(open.expire(op.before)).toBe(before - model.length);
            drop('expired', before - model.length);
          } else {
            expect(open.clear()).toBe(model.length);
            model = [];
          }
          expect(open.size).toBe(model.length);
        }
        for (const [k, q] of model) expect(open.get(k, q.queryTs)).toBe(q);
        expect(drops).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('a full map evicts in order after many entries came and went (the order is compacted on the way)', () => {
    const { open, drops } = make(100);
    // Many short-lived queries (set, then ended), then a run of ones that never end.
    for (let seq = 0; seq < 10_000; seq++) {
      const [k, q] = entry(seq, seq);
      open.set(k, q);
      if (seq % 3 !== 0) open.delete(k);
    }
    expect(open.size).toBe(100);
    // The live ones are the newest 100 of those that were not ended: seqs divisible by 3, the last 100 of them.
    const kept = Array.from({ length: 100 }, (_, i) => 9999 - 3 * (99 - i));
    for (const seq of kept) expect(open.get(entry(seq, seq)[0], seq)).toBeDefined();
    expect(drops.evicted).toBe(Math.ceil(10_000 / 3) - 100);
  });
});
