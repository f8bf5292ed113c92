import { describe, expect, it } from 'vitest';
import { ServerMetricsWindow } from './server-metrics-window.js';

describe('ServerMetricsWindow', () => {
  it('feeds queries and responses into a hand-checked snapshot', () => {
    const w = new ServerMetricsWindow({ queryRateN: 4 });
    const queryTimes = [0, 100, 200, 300, 400, 450, 500, 550];
    const steps = queryTimes.map((t) => w.recordQuery(t));
    expect(steps.filter((s) => s.kind === 'sample')).toHaveLength(2);
    w.recordResponse(0, 40);
    w.recordResponse(100, 120);
    w.recordResponse(200, 260);
    w.recordResponse(300, 400);
    const snap = w.snapshot(1000, 1000); // window (0, 1000]: the query at t = 0 is outside
    // QR samples: 4 / 0.3 s = 13.33 (at 300), 4 / 0.15 s = 26.67 (at 550); mean 20
    expect(snap.qrAvg).toBeCloseTo(20, 9);
    expect(snap.queries).toBe(7);
    expect(snap.answered).toBe(3); // queries 100, 200, 300 (the one at 0 is outside)
    expect(snap.unanswered).toBe(4);
    // RT samples by response time, all in (0, 1000]: 40, 20, 60, 100
    expect(snap.samples).toBe(4);
    expect(snap.rtAvgMs).toBe(55);
    expect(snap.rtP50Ms).toBe(40);
    expect(snap.rtP99Ms).toBe(100);
    expect(snap.truncated).toBe(false);
  });

  it('takes a new N: the group in progress starts again, samples already taken stay', () => {
    const w = new ServerMetricsWindow({ queryRateN: 4 });
    const kinds = (times: number[]) => times.map((t) => w.recordQuery(t).kind);
    expect(kinds([0, 100, 200, 300])).toEqual(['pending', 'pending', 'pending', 'sample']); // 4 / 0.3 s
    expect(kinds([400, 500])).toEqual(['pending', 'pending']);
    w.setQueryRateN(2);
    expect(kinds([600, 700])).toEqual(['pending', 'sample']); // 2 / 0.1 s: 400 and 500 no longer count
    expect(w.snapshot(1000, 2000).qrAvg).toBeCloseTo((4 / 0.3 + 2 / 0.1) / 2, 9);
    expect(() => w.setQueryRateN(1)).toThrow();
    expect(kinds([800, 900])).toEqual(['pending', 'sample']); // the refused N changed nothing
  });

  it('counts bad samples by name and keeps them out of the figures', () => {
    const w = new ServerMetricsWindow({ queryRateN: 2 });
    expect(w.recordResponse(100, 50)).toEqual({ kind: 'error', event: 'metrics.rt_negative' });
    w.recordQuery(Number.NaN);
    w.recordQuery(7);
    w.recordQuery(7); // zero span: no QR sample, but both are real queries
    expect(w.counters()).toEqual({ 'metrics.rt_negative': 1, 'metrics.qr_not_finite': 1, 'metrics.qr_zero_span': 1 });
    const snap = w.snapshot(10, 100);
    expect(snap.queries).toBe(2);
    expect(snap.samples).toBe(0);
    expect(snap.qrAvg).toBeNull();
  });

  it('counts evictions and marks a window that reaches into evicted history as truncated', () => {
    const w = new ServerMetricsWindow({ queryRateN: 2, queryRing: 4, rtRing: 2, qrRing: 2 });
    for (let t = 0; t < 6; t++) w.recordQuery(t * 10); // 0..50, ring keeps 20..50
    w.recordResponse(0, 5);
    w.recordResponse(10, 15);
    w.recordResponse(20, 25); // evicts the (0, 5) sample
    expect(w.counters()).toEqual({ 'metrics.query_evicted': 2, 'metrics.rt_evicted': 1, 'metrics.qr_evicted': 1 });
    // evicted history reaches up to t = 10 (queries 0 and 10, RT (0, 5), QR sample at 10 gone), so a window from before 10 is partial
    expect(w.snapshot(50, 100).truncated).toBe(true);
    const recent = w.snapshot(50, 40); // (10, 50]: nothing evicted there
    expect(recent.truncated).toBe(false);
    expect(recent.queries).toBe(4);
    expect(recent.samples).toBe(2); // responses at 15 and 25
    expect(recent.qrSamples).toBe(2); // QR samples at 30 and 50
  });
});
