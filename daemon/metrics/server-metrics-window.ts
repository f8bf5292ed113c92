/**
 * Per-server live metrics for the manager: bounded rings of recent query
 * timestamps, RT samples and QR samples, fed one event at a time, answering
 * `snapshot(now, windowMs)` (RT_av, p50, p99, QR_avg, counts). Follows the
 * paper's section 5.2 through response-time.ts, query-rate.ts and window.ts.
 * Rings overwrite their oldest entry when full; evictions are counted and a
 * snapshot whose window reaches into evicted history says `truncated`.
 */
import { QueryRateEstimator } from './query-rate.js';
import type { QrSample, QueryRateFormula, QueryRateStep } from './query-rate.js';
import { responseTime } from './response-time.js';
import type { ResponseTimeResult, RtSample } from './response-time.js';
import { Ring } from './ring.js';
import { snapshotOf } from './window.js';
import type { MetricsSnapshot } from './window.js';

/** Query timestamps kept: 4096 covers a 30 s window at ~130 queries/s, about what one OpenNap server sustains. */
export const DEFAULT_QUERY_RING = 4096;
/** RT samples kept: same reasoning as the query ring (one sample per answered query). */
export const DEFAULT_RT_RING = 4096;
/** QR samples kept: one per N queries, so 256 covers 256·N queries, far more than any window needs. */
export const DEFAULT_QR_RING = 256;
/** Default N of QR = N / (T_N − T_1): small enough to react within seconds at tens of queries/s. */
export const DEFAULT_QUERY_RATE_N = 10;

export interface ServerMetricsWindowOptions {
  queryRateN?: number;
  formula?: QueryRateFormula;
  queryRing?: number;
  rtRing?: number;
  qrRing?: number;
}

/** Stable names of what this window counts. */
export type ServerMetricsCounter =
  | 'metrics.query_evicted'
  | 'metrics.rt_evicted'
  | 'metrics.qr_evicted'
  | 'metrics.rt_negative'
  | 'metrics.rt_not_finite'
  | 'metrics.qr_zero_span'
  | 'metrics.qr_not_finite';

export class ServerMetricsWindow {
  private estimator: QueryRateEstimator;
  private readonly queryTs: Ring<number>;
  private readonly rt: Ring<RtSample>;
  private readonly qr: Ring<QrSample>;
  /** Latest timestamp among evicted entries: history at or before it is incomplete. */
  private evictedUpTo = -Infinity;
  private readonly counts = new Map<ServerMetricsCounter, number>();

  constructor(options: ServerMetricsWindowOptions = {}) {
    this.estimator = new QueryRateEstimator(options.queryRateN ?? DEFAULT_QUERY_RATE_N, options.formula ?? 'paper');
    this.queryTs = new Ring<number>(options.queryRing ?? DEFAULT_QUERY_RING);
    this.rt = new Ring<RtSample>(options.rtRing ?? DEFAULT_RT_RING);
    this.qr = new Ring<QrSample>(options.qrRing ?? DEFAULT_QR_RING);
  }

  /**
   * A new N for QR = N / (T_N − T_1) (a policy reload): the group in progress starts again with it;
   * QR samples already taken stay, being rates all the same. Throws on an N out of range, changing nothing.
   */
  setQueryRateN(n: number): void {
    if (n === this.estimator.n) return;
    this.estimator = new QueryRateEstimator(n, this.estimator.formula);
  }

  /** A query was seen at `ts`; returns the QR step (a sample every N queries). */
  recordQuery(ts: number): QueryRateStep {
    const step = this.estimator.push(ts);
    if (step.kind === 'error') this.bump(step.event);
    // A non-finite timestamp is no query time at all; a zero-span group still consists of real queries.
    if (step.kind === 'error' && step.event === 'metrics.qr_not_finite') return step;
    const evictedQuery = this.queryTs.push(ts);
    if (evictedQuery !== undefined) this.evicted('metrics.query_evicted', evictedQuery);
    if (step.kind === 'sample') {
      const evictedQr = this.qr.push(step.sample);
      if (evictedQr !== undefined) this.evicted('metrics.qr_evicted', evictedQr.ts);
    }
    return step;
  }

  /** The first response to the query sent at `queryTs` was seen at `firstResponseTs`. */
  recordResponse(queryTs: number, firstResponseTs: number): ResponseTimeResult {
    const result = responseTime(queryTs, firstResponseTs);
    if (result.kind === 'error') {
      this.bump(result.event);
      return result;
    }
    const evictedRt = this.rt.push(result.sample);
    // An evicted RT sample leaves both its query time (for `answered`) and its response time (for RT stats) uncovered.
    if (evictedRt !== undefined) this.evicted('metrics.rt_evicted', Math.max(evictedRt.queryTs, evictedRt.responseTs));
    return result;
  }

  snapshot(nowTs: number, windowMs: number): MetricsSnapshot {
    return snapshotOf(
      { queryTs: this.queryTs, rt: this.rt, qr: this.qr, truncated: this.evictedUpTo > nowTs - windowMs },
      nowTs,
      windowMs,
    );
  }

  /** Counted oddities and evictions by stable name (only non-zero ones). */
  counters(): Partial<Record<ServerMetricsCounter, number>> {
    return Object.fromEntries(this.counts);
  }

  private evicted(name: ServerMetricsCounter, ts: number): void {
    this.bump(name);
    if (ts > this.evictedUpTo) this.evictedUpTo = ts;
  }

  private bump(name: ServerMetricsCounter): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }
}
