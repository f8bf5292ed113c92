/**
 * Windowed metrics over samples (ARCHITECTURE.md "The metrics"): RT_av, p50,
 * p99 and QR_avg of one server over the window (now − windowMs, now], open at
 * the old end and closed at `now`. Pure: `now` is an argument.
 *
 * What falls in the window:
 * - `queries`: queries whose query timestamp is in the window;
 * - `answered`: those of them whose first response was seen by `now`;
 * - RT statistics and `samples`: RT samples whose *response* time is in the
 *   window, so a slow answer counts when it shows the server's current state;
 * - `qrAvg`: arithmetic mean of the QR samples (each taken at its group's last
 *   query) in the window; null when no group completed in the window.
 */
import { MetricsConfigError } from '../errors.js';
import { distribution } from './percentile.js';
import type { QrSample } from './query-rate.js';
import type { RtSample } from './response-time.js';

export interface MetricsSnapshot {
  rtAvgMs: number | null;
  rtP50Ms: number | null;
  rtP99Ms: number | null;
  /** Mean QR over the window, queries per second. */
  qrAvg: number | null;
  queries: number;
  answered: number;
  unanswered: number;
  /** RT samples the RT statistics were computed from. */
  samples: number;
  /** QR samples QR_avg was computed from. */
  qrSamples: number;
  /** True when a bound evicted history that fell inside the window: the figures cover only part of it. */
  truncated: boolean;
}

export function checkWindowMs(windowMs: number): void {
  if (!Number.isFinite(windowMs) || windowMs <= 0) throw new MetricsConfigError('windowMs', `${windowMs} is not a positive number`);
}

/** True when `ts` lies in (now − windowMs, now]. */
export function inWindow(ts: number, nowTs: number, windowMs: number): boolean {
  return ts > nowTs - windowMs && ts <= nowTs;
}

/** Samples read in order: an array, or a metrics Ring (both have forEach; a Ring's is a plain loop). */
export interface SampleSource<T> {
  forEach(fn: (item: T) => void): void;
}

export interface WindowInput {
  queryTs: SampleSource<number>;
  rt: SampleSource<RtSample>;
  qr: SampleSource<QrSample>;
  truncated?: boolean;
}

export function snapshotOf(input: WindowInput, nowTs: number, windowMs: number): MetricsSnapshot {
  checkWindowMs(windowMs);
  let queries = 0;
  input.queryTs.forEach((ts) => {
    if (inWindow(ts, nowTs, windowMs)) queries += 1;
  });
  let answered = 0;
  const rts: number[] = [];
  input.rt.forEach((s) => {
    if (s.responseTs > nowTs) return;
    if (inWindow(s.queryTs, nowTs, windowMs)) answered += 1;
    if (inWindow(s.responseTs, nowTs, windowMs)) rts.push(s.rtMs);
  });
  const qrs: number[] = [];
  input.qr.forEach((s) => {
    if (inWindow(s.ts, nowTs, windowMs)) qrs.push(s.qr);
  });
  const rt = distribution(rts);
  const qr = distribution(qrs);
  // Rings are sized independently, so an answered query may outlive its query record; never report < 0.
  const unanswered = Math.max(0, queries - answered);
  return {
    rtAvgMs: rt.avg,
    rtP50Ms: rt.p50,
    rtP99Ms: rt.p99,
    qrAvg: qr.avg,
    queries,
    answered,
    unanswered,
    samples: rt.count,
    qrSamples: qr.count,
    truncated: input.truncated ?? false,
  };
}
