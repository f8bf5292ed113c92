/**
 * Response time of one query, the paper's eq. (1) (Shi et al., section 5.2):
 * RT = T_fr − T_q, first response packet minus query packet, both capture
 * timestamps in milliseconds. Pure: bad timestamps become a named result.
 */

/** One answered query: when it was sent, when its first response was seen, and the difference. */
export interface RtSample {
  queryTs: number;
  responseTs: number;
  rtMs: number;
}

export type ResponseTimeResult =
  | { kind: 'ok'; sample: RtSample }
  /** `metrics.rt_not_finite`: a timestamp is NaN/±Infinity. `metrics.rt_negative`: the response precedes the query. */
  | { kind: 'error'; event: 'metrics.rt_not_finite' | 'metrics.rt_negative' };

export function responseTime(queryTs: number, firstResponseTs: number): ResponseTimeResult {
  if (!Number.isFinite(queryTs) || !Number.isFinite(firstResponseTs)) {
    return { kind: 'error', event: 'metrics.rt_not_finite' };
  }
  const rtMs = firstResponseTs - queryTs;
  // A response cannot precede its query; if capture timestamps say so (clock step,
  // mismatched pairing) the sample is rejected, not clamped, so RT_av stays honest.
  if (rtMs < 0) return { kind: 'error', event: 'metrics.rt_negative' };
  return { kind: 'ok', sample: { queryTs, responseTs: firstResponseTs, rtMs } };
}
