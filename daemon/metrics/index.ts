/**
 * The metric math of the paper's section 5.2 (response time, query rate, their
 * windowed averages and percentiles): pure functions and small bounded state,
 * re-exported for the manager and the state reader.
 */
export { responseTime } from './response-time.js';
export type { ResponseTimeResult, RtSample } from './response-time.js';
export { distribution, mean, percentile, percentileSorted } from './percentile.js';
export type { Distribution } from './percentile.js';
export { QR_MAX_N, QueryRateEstimator, checkQueryRateN, queryRate } from './query-rate.js';
export type { QrSample, QueryRateFormula, QueryRateStep } from './query-rate.js';
export { RING_MAX_CAPACITY, Ring } from './ring.js';
export { checkWindowMs, inWindow, snapshotOf } from './window.js';
export type { MetricsSnapshot, WindowInput } from './window.js';
export {
  DEFAULT_QR_RING,
  DEFAULT_QUERY_RATE_N,
  DEFAULT_QUERY_RING,
  DEFAULT_RT_RING,
  ServerMetricsWindow,
} from './server-metrics-window.js';
export type { ServerMetricsCounter, ServerMetricsWindowOptions } from './server-metrics-window.js';
