/**
 * Per-server metrics from stored query rows, with the same pure functions the
 * manager uses live (daemon/metrics): RT from each row's query and first
 * response times, QR by feeding the window's query times in order to a fresh
 * QueryRateEstimator (so QR groups start at the window's first query), then
 * the window snapshot. Pure: rows and `now` come in as arguments.
 */
import { QueryRateEstimator } from '../metrics/query-rate.js';
import type { QrSample, QueryRateFormula } from '../metrics/query-rate.js';
import { responseTime } from '../metrics/response-time.js';
import type { RtSample } from '../metrics/response-time.js';
import { inWindow, snapshotOf } from '../metrics/window.js';
import type { MetricsSnapshot } from '../metrics/window.js';

export interface QueryTimes {
  queryTs: number;
  firstResponseTs: number | null;
}

export interface SummaryMetricsOptions {
  queryRateN: number;
  formula: QueryRateFormula;
}

export function snapshotOfRows(
  rows: readonly QueryTimes[],
  nowTs: number,
  windowMs: number,
  options: SummaryMetricsOptions,
): MetricsSnapshot {
  const rt: RtSample[] = [];
  for (const row of rows) {
    if (row.firstResponseTs === null) continue;
    const r = responseTime(row.queryTs, row.firstResponseTs);
    if (r.kind === 'ok') rt.push(r.sample);
  }
  const queryTs = rows.map((r) => r.queryTs).filter((ts) => inWindow(ts, nowTs, windowMs));
  queryTs.sort((a, b) => a - b);
  const estimator = new QueryRateEstimator(options.queryRateN, options.formula);
  const qr: QrSample[] = [];
  for (const ts of queryTs) {
    const step = estimator.push(ts);
    if (step.kind === 'sample') qr.push(step.sample);
  }
  return snapshotOf({ queryTs, rt, qr }, nowTs, windowMs);
}

/** `IP:PORT`, with IPv6 in brackets (RFC 3986) so the port stays unambiguous. */
export function formatAddress(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
