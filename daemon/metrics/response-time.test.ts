import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { responseTime } from './response-time.js';

describe('responseTime (paper eq. 1: RT = T_fr − T_q)', () => {
  it.each([
    { q: 1000, fr: 1250, rt: 250 },
    { q: 0, fr: 0, rt: 0 },
    { q: 1_700_000_000_000.5, fr: 1_700_000_000_003.25, rt: 2.75 },
  ])('query $q, first response $fr → $rt ms', ({ q, fr, rt }) => {
    expect(responseTime(q, fr)).toEqual({ kind: 'ok', sample: { queryTs: q, responseTs: fr, rtMs: rt } });
  });

  it.each([
    { q: 100, fr: 99, event: 'metrics.rt_negative' },
    { q: Number.NaN, fr: 1, event: 'metrics.rt_not_finite' },
    { q: 1, fr: Number.POSITIVE_INFINITY, event: 'metrics.rt_not_finite' },
  ])('rejects q=$q fr=$fr as $event', ({ q, fr, event }) => {
    expect(responseTime(q, fr)).toEqual({ kind: 'error', event });
  });

  it('never throws, and any ok result is non-negative', () => {
    fc.assert(
      fc.property(fc.double(), fc.double(), (q, fr) => {
        const r = responseTime(q, fr);
        if (r.kind === 'ok') expect(r.sample.rtMs).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
