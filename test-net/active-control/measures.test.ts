// Unit tests of the active-control measures (measures.ts): table-driven, with a property test for the gap.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SearchLogRecord } from '../../opennap/search-log.js';
import { answerTimes, counterRate, keywordMatchedResults, sentIn, longestSilenceMs, originSearchesOf, peerNumberOfNick, peerReconnectsOf, reconnectGap, resultsInWindow } from './measures.js';

function rec(sentAt: number, firstResultAt: number | null, results: number, endedBy: SearchLogRecord['endedBy'] = 'end'): SearchLogRecord {
  return { peer: 'p', keywords: ['k'], sentAt, firstResultAt, results, endedBy };
}

describe('reconnectGap', () => {
  const log = [rec(0, 10, 1), rec(200, 210, 1), rec(400, null, 0, 'closed'), rec(600, 900, 2), rec(800, 805, 1), rec(300, 350, 0, 'timeout')];
  it.each([
    { at: 500, want: { lastBefore: 210, firstAfter: 805, gapMs: 595 } },
    { at: 210, want: { lastBefore: 210, firstAfter: 805, gapMs: 595 } },
    { at: 5, want: { lastBefore: null, firstAfter: 10, gapMs: null } },
    { at: 2000, want: { lastBefore: 900, firstAfter: null, gapMs: null } },
  ])('switch at $at', ({ at, want }) => {
    expect(reconnectGap(log, at)).toEqual(want);
  });

  it('ignores timed-out and closed searches as answers', () => {
    expect(answerTimes(log)).toEqual([10, 210, 805, 900]);
  });

  it('gap is never negative and brackets the switch', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ s: fc.nat(10_000), d: fc.nat(500) }), { maxLength: 50 }), fc.nat(10_000), (xs, at) => {
        const g = reconnectGap(xs.map((x) => rec(x.s, x.s + x.d, 1)), at);
        if (g.gapMs !== null) {
          expect(g.gapMs).toBeGreaterThan(0);
          expect(g.lastBefore).toBeLessThanOrEqual(at);
          expect(g.firstAfter).toBeGreaterThan(at);
        }
      }),
    );
  });
});

describe('longestSilenceMs', () => {
  it.each([
    { from: 0, to: 1000, answers: [100, 300, 900], want: 600 },
    { from: 0, to: 1000, answers: [500], want: 500 },
    { from: 0, to: 1000, answers: [50, 60], want: 940 },
    { from: 0, to: 1000, answers: [1500], want: null },
  ])('$answers in [$from, $to]', ({ from, to, answers, want }) => {
    expect(longestSilenceMs(answers.map((t) => rec(t - 1, t, 1)), from, to)).toBe(want);
  });
});

describe('resultsInWindow', () => {
  const log = [rec(0, 1, 4), rec(100, 101, 2), rec(200, null, 0, 'timeout'), rec(300, null, 0, 'closed'), rec(400, 401, 6)];
  it.each([
    { from: 0, to: 1000, want: { searches: 4, timedOut: 1, results: 12, mean: 3 } },
    { from: 100, to: 400, want: { searches: 2, timedOut: 1, results: 2, mean: 1 } },
    { from: 500, to: 600, want: { searches: 0, timedOut: 0, results: 0, mean: null } },
  ])('[$from, $to)', ({ from, to, want }) => {
    expect(resultsInWindow(log, from, to)).toEqual(want);
  });
});

describe('counterRate', () => {
  const s = [
    { at: 0, value: 0 },
    { at: 1000, value: 30 },
    { at: 2000, value: 60 },
    { at: 3000, value: 62 },
  ];
  it.each([
    { from: 0, to: 2000, want: 30 },
    { from: 2000, to: 3000, want: 2 },
    { from: 0, to: 3000, want: 62 / 3 },
    { from: 2500, to: 3500, want: null },
  ])('[$from, $to]', ({ from, to, want }) => {
    expect(counterRate(s, from, to)).toBe(want);
  });

  it('a counter that went back (restart) gives null', () => {
    expect(counterRate([{ at: 0, value: 10 }, { at: 1000, value: 2 }], 0, 1000)).toBeNull();
  });
});

describe('line parsers', () => {
  it.each([
    { line: 'users=5 files=100 connections=5 searches=1234 searches/s=30 results=9', want: 1234 },
    { line: 'opennap server listening on 10.201.1.10:8888', want: null },
    { line: 'searches/s=30', want: null },
  ])('originSearchesOf($line)', ({ line, want }) => {
    expect(originSearchesOf(line)).toBe(want);
  });

  it.each([
    { line: 'connects=2 reconnects=1 login-failures=1 log-dropped=0 duration=20.0 s out=x', want: 1 },
    { line: 'peers=1 searches=10', want: null },
  ])('peerReconnectsOf($line)', ({ line, want }) => {
    expect(peerReconnectsOf(line)).toBe(want);
  });

  it.each([
    { nick: 'peer8_0', want: 8 },
    { nick: 'peer13_0_2', want: 13 },
    { nick: 'peerB0', want: null },
    { nick: 'probeA', want: null },
  ])('peerNumberOfNick($nick)', ({ nick, want }) => {
    expect(peerNumberOfNick(nick)).toBe(want);
  });
});

describe('keywordMatchedResults', () => {
  const kw = (word: string, results: number, endedBy: SearchLogRecord['endedBy'] = 'end', sentAt = 0): SearchLogRecord => ({ ...rec(sentAt, sentAt + 1, results, endedBy), keywords: [word] });
  const before = [kw('a', 20), kw('a', 20), kw('b', 2), kw('c', 6), kw('c', 0, 'closed')];
  it.each([
    { name: 'same answers', after: [kw('a', 20), kw('b', 2), kw('b', 2)], want: { matched: 3, unmatched: 0, actual: 24, expected: 24, ratio: 1 } },
    // A different keyword mix leaves the ratio alone where plain means would differ a lot.
    { name: 'other mix, same answers', after: [kw('b', 2), kw('b', 2), kw('b', 2), kw('c', 6)], want: { matched: 4, unmatched: 0, actual: 12, expected: 12, ratio: 1 } },
    { name: 'half the results', after: [kw('a', 10), kw('c', 3)], want: { matched: 2, unmatched: 0, actual: 13, expected: 26, ratio: 0.5 } },
    { name: 'unseen keyword and a closed search left out', after: [kw('z', 50), kw('a', 0, 'closed'), kw('a', 20)], want: { matched: 1, unmatched: 1, actual: 20, expected: 20, ratio: 1 } },
    { name: 'nothing matched', after: [kw('z', 5)], want: { matched: 0, unmatched: 1, actual: 0, expected: 0, ratio: null } },
  ])('$name', ({ after, want }) => {
    expect(keywordMatchedResults(before, after)).toEqual(want);
  });

  it('sentIn takes [from, to)', () => {
    const xs = [kw('a', 1, 'end', 0), kw('a', 1, 'end', 100), kw('a', 1, 'end', 200)];
    expect(sentIn(xs, 100, 200).map((r) => r.sentAt)).toEqual([100]);
  });
});
