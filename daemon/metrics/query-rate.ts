/**
 * Query rate of a server, the paper's eq. (2) (Shi et al., section 5.2): every
 * N queries the count restarts and QR = N / (T_lq − T_fq), T_fq the first and
 * T_lq the N-th query's capture timestamp. (The paper prints the difference as
 * T_fq − T_lq, which would be negative; the intent is last minus first.)
 *
 * N or N−1: N queries span N−1 inter-arrival gaps, so N/(T_N − T_1) overstates
 * a steady rate by N/(N−1) (queries at 0,100,200,300 ms give 4/0.3 s = 13.3/s
 * where the true rate is 10/s). The paper's formula uses N and its thresholds
 * (QR_thH) were set against it, so `'paper'` (N) is the default; `'intervals'`
 * (N−1) is the unbiased estimator for policies that want it.
 *
 * Groups are disjoint, as in the paper: queries 1..N give a sample, the count
 * restarts, N+1..2N give the next. Out-of-order timestamps are tolerated by
 * taking the earliest and the latest of the group.
 */
import { MetricsConfigError } from '../errors.js';

export type QueryRateFormula = 'paper' | 'intervals';

/** One query-rate sample: `ts` is when it became known (latest query of its group). */
export interface QrSample {
  ts: number;
  /** Queries per second. */
  qr: number;
  spanMs: number;
}

/** Largest N accepted: beyond this a sample would take so long that QR_avg is stale by construction. */
export const QR_MAX_N = 100_000;

export function checkQueryRateN(n: number): void {
  if (!Number.isInteger(n) || n < 2 || n > QR_MAX_N) {
    throw new MetricsConfigError('queryRateN', `${n} is not an integer in [2, ${QR_MAX_N}]`);
  }
}

/** QR in queries per second for `n` queries spanning [firstTs, lastTs] ms; `null` when the span is not positive. */
export function queryRate(n: number, firstTs: number, lastTs: number, formula: QueryRateFormula = 'paper'): number | null {
  const spanMs = lastTs - firstTs;
  if (!Number.isFinite(spanMs) || spanMs <= 0) return null;
  const count = formula === 'paper' ? n : n - 1;
  return (count * 1000) / spanMs;
}

export type QueryRateStep =
  | { kind: 'pending'; count: number }
  | { kind: 'sample'; sample: QrSample }
  /** The N queries shared one timestamp: the rate is undefined, the group is dropped and counted. */
  | { kind: 'error'; event: 'metrics.qr_zero_span' | 'metrics.qr_not_finite' };

/** Incremental QR: feed query timestamps one by one; every N-th returns a sample. */
export class QueryRateEstimator {
  private count = 0;
  private first = Infinity;
  private last = -Infinity;

  constructor(
    readonly n: number,
    readonly formula: QueryRateFormula = 'paper',
  ) {
    checkQueryRateN(n);
  }

  /** Queries counted towards the group in progress. */
  get pending(): number {
    return this.count;
  }

  push(ts: number): QueryRateStep {
    // A non-finite timestamp would poison min/max for the whole group; it is not counted.
    if (!Number.isFinite(ts)) return { kind: 'error', event: 'metrics.qr_not_finite' };
    this.count += 1;
    if (ts < this.first) this.first = ts;
    if (ts > this.last) this.last = ts;
    if (this.count < this.n) return { kind: 'pending', count: this.count };
    const first = this.first;
    const last = this.last;
    this.reset();
    const qr = queryRate(this.n, first, last, this.formula);
    if (qr === null) return { kind: 'error', event: 'metrics.qr_zero_span' };
    return { kind: 'sample', sample: { ts: last, qr, spanMs: last - first } };
  }

  reset(): void {
    this.count = 0;
    this.first = Infinity;
    this.last = -Infinity;
  }
}
