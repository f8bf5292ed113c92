import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsConfigError } from '../errors.js';
import { inWindow, snapshotOf } from './window.js';

const rt = (queryTs: number, responseTs: number) => ({ queryTs, responseTs, rtMs: responseTs - queryTs });

describe('inWindow: (now − window, now]', () => {
  it.each([
    { ts: 1000, want: true },
    { ts: 0, want: false }, // the old edge is open
    { ts: 0.001, want: true },
    { ts: 1000.5, want: false }, // the future is not in the window
  ])('ts $ts in (0, 1000] is $want', ({ ts, want }) => {
    expect(inWindow(ts, 1000, 1000)).toBe(want);
  });
});

describe('snapshotOf', () => {
  it('computes hand-checked RT_av, p50, p99, QR_avg and counts', () => {
    // window (1000, 2000]
    const snap = snapshotOf(
      {
        queryTs: [900, 1100, 1200, 1300, 1400, 1900],
        rt: [
          rt(900, 1050), // query before the window, answered inside: RT counts, 'answered' does not
          rt(1100, 1200), // 100
          rt(1200, 1500), // 300
          rt(1300, 1350), // 50
          rt(1900, 2100), // answered after now: ignored entirely
        ],
        qr: [
          { ts: 950, qr: 99, spanMs: 1 },
          { ts: 1400, qr: 10, spanMs: 1 },
          { ts: 2000, qr: 20, spanMs: 1 },
        ],
      },
      2000,
      1000,
    );
    expect(snap).toEqual({
      rtAvgMs: (150 + 100 + 300 + 50) / 4,
      rtP50Ms: 100, // sorted 50,100,150,300: rank ceil(2) = 2
      rtP99Ms: 300,
      qrAvg: 15,
      queries: 5,
      answered: 3,
      unanswered: 2,
      samples: 4,
      qrSamples: 2,
      truncated: false,
    });
  });

  it('is all nulls and zeros for an empty window', () => {
    expect(snapshotOf({ queryTs: [], rt: [], qr: [] }, 0, 10)).toEqual({
      rtAvgMs: null,
      rtP50Ms: null,
      rtP99Ms: null,
      qrAvg: null,
      queries: 0,
      answered: 0,
      unanswered: 0,
      samples: 0,
      qrSamples: 0,
      truncated: false,
    });
  });

  it('rejects a non-positive window', () => {
    expect(() => snapshotOf({ queryTs: [], rt: [], qr: [] }, 0, 0)).toThrow(MetricsConfigError);
  });

  it('keeps answered + unanswered = queries when every answer has its query, and p50 ≤ p99', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ q: fc.integer({ min: 0, max: 10_000 }), rt: fc.option(fc.integer({ min: 0, max: 3000 })) })),
        fc.integer({ min: 0, max: 12_000 }),
        fc.integer({ min: 1, max: 12_000 }),
        (qs, now, win) => {
          const snap = snapshotOf(
            {
              queryTs: qs.map((x) => x.q),
              rt: qs.flatMap((x) => (x.rt === null ? [] : [rt(x.q, x.q + x.rt)])),
              qr: [],
            },
            now,
            win,
          );
          expect(snap.answered + snap.unanswered).toBe(snap.queries);
          if (snap.rtP50Ms !== null && snap.rtP99Ms !== null) expect(snap.rtP50Ms).toBeLessThanOrEqual(snap.rtP99Ms);
        },
      ),
    );
  });
});
