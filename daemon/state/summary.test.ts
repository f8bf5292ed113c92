import { describe, expect, it } from 'vitest';
import { formatAddress, snapshotOfRows } from './summary.js';

describe('snapshotOfRows', () => {
  it('recomputes RT and QR from stored rows', () => {
    const rows = [
      { queryTs: 0, firstResponseTs: 50 }, // outside (0, 1000] as a query, its response at 50 is inside
      { queryTs: 100, firstResponseTs: 150 },
      { queryTs: 200, firstResponseTs: null },
      { queryTs: 300, firstResponseTs: 700 },
      { queryTs: 400, firstResponseTs: 300 }, // response before query: rejected
    ];
    const s = snapshotOfRows(rows, 1000, 1000, { queryRateN: 4, formula: 'paper' });
    expect(s.queries).toBe(4);
    expect(s.answered).toBe(2);
    expect(s.unanswered).toBe(2);
    expect(s.samples).toBe(3); // RT 50, 50, 400
    expect(s.rtAvgMs).toBe(500 / 3);
    expect(s.qrAvg).toBeCloseTo(4 / 0.3, 9); // queries 100..400
  });

  it('formats IPv4 and IPv6 addresses', () => {
    expect(formatAddress('10.0.0.1', 8888)).toBe('10.0.0.1:8888');
    expect(formatAddress('2001:db8::1', 7777)).toBe('[2001:db8::1]:7777');
  });
});
