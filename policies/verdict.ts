/**
 * The verdict state machine of one (rule, server) pair, after the paper's
 * manager (section 5.2): a server is a bottleneck when RT_av > RT_thH or
 * QR_avg > QR_thH, and is handed back when below the low thresholds. Added
 * here: hysteresis (separate high/low), hold times before acting and before
 * releasing, and a cooldown after every decision so the router never flaps.
 *
 * Pure: the caller passes the metrics and the time (a monotonic clock in ms),
 * and keeps the returned state for the next tick.
 */
import type { ActionType, MetricName, Rule, Thresholds } from './types.js';

/** What the manager measured for the server over the rule's window. */
export interface VerdictMetrics {
  /** RT_av in ms; undefined when no query was answered in the window. */
  rtAvgMs?: number;
  /** QR_avg in queries/s; undefined when no N-query sample completed in the window. */
  qrAvg?: number;
  /** Samples behind the averages; 0 means nothing was measured and nothing changes. */
  samples: number;
}

/** The parts of a `Rule` the verdict reads (a full `Rule` fits). */
export type VerdictRule = Pick<Rule, 'name' | 'metric' | 'high' | 'low' | 'holdBeforeActMs' | 'holdBeforeReleaseMs' | 'cooldownMs'> & {
  action: { type: ActionType };
};

export interface VerdictState {
  /** The server as shown in reasons, e.g. "10.0.1.2:8888". */
  readonly server: string;
  /** The action is in force (the manager wants the redirect installed). */
  readonly active: boolean;
  /** While inactive: time of the first evaluation of the current unbroken run above high. */
  readonly aboveSince?: number;
  /** While active: time of the first evaluation of the current unbroken run below low. */
  readonly belowSince?: number;
  /** Time of the last activate or release: the cooldown runs from here. */
  readonly lastDecisionTs?: number;
  /** Time of the last evaluation, to notice a clock that went back. */
  readonly lastEvalTs?: number;
}

export type Decision = 'none' | 'activate' | 'release';

export interface Verdict {
  state: VerdictState;
  decision: Decision;
  reason: string;
}

/** Phase for status displays: idle, arming (above high, holding), active, disarming (below low, holding). */
export type VerdictPhase = 'idle' | 'arming' | 'active' | 'disarming';

export function initialVerdictState(server: string): VerdictState {
  return { server, active: false };
}

export function verdictPhase(state: VerdictState): VerdictPhase {
  if (state.active) return state.belowSince === undefined ? 'active' : 'disarming';
  return state.aboveSince === undefined ? 'idle' : 'arming';
}

type Field = keyof Thresholds;

const FIELDS: Record<MetricName, Field[]> = {
  'response-time': ['responseTimeMs'],
  'query-rate': ['queryRate'],
  both: ['responseTimeMs', 'queryRate'],
};

/** Evaluates one tick. With no samples (or an invalid time) nothing changes. */
export function evaluate(state: VerdictState, metrics: VerdictMetrics, nowTs: number, rule: VerdictRule): Verdict {
  const s = state.server;
  if (!Number.isFinite(nowTs)) return { state, decision: 'none', reason: `${s} invalid evaluation time: no change` };
  if (!(metrics.samples > 0)) return { state, decision: 'none', reason: `${s} no samples: no change` };

  const st = rebase(state, nowTs);
  const values: Record<Field, number | undefined> = {
    responseTimeMs: finite(metrics.rtAvgMs),
    queryRate: finite(metrics.qrAvg),
  };
  const fields = FIELDS[rule.metric];
  const action = rule.action.type;

  if (!st.active) {
    // Either metric above its high threshold triggers (the paper's OR for metric: both).
    const over = fields.filter((f) => exceeds(values[f], rule.high[f]));
    if (over.length === 0) {
      const text = fields.map((f) => cmp(f, values[f], '<=', rule.high[f])).join(', ');
      return { state: { ...st, aboveSince: undefined }, decision: 'none', reason: `${s} ${text}: no action` };
    }
    const since = st.aboveSince ?? nowTs;
    const held = nowTs - since;
    const text = `${over.map((f) => cmp(f, values[f], '>', rule.high[f])).join(', ')} for ${secs(held)}`;
    const next: VerdictState = { ...st, aboveSince: since };
    if (held < rule.holdBeforeActMs) {
      return { state: next, decision: 'none', reason: `${s} ${text} of ${secs(rule.holdBeforeActMs)}: holding` };
    }
    const wait = cooldownLeft(st, nowTs, rule);
    if (wait > 0) return { state: next, decision: 'none', reason: `${s} ${text}: cooling down ${secs(wait)} more` };
    return {
      state: { server: s, active: true, lastDecisionTs: nowTs, lastEvalTs: nowTs },
      decision: 'activate',
      reason: `${s} ${text}: start ${action}`,
    };
  }

  // Release only when every metric the rule reads is known and below its low threshold.
  const notLow = fields.filter((f) => !below(values[f], rule.low[f]));
  if (notLow.length > 0) {
    const text = notLow.map((f) => cmp(f, values[f], 'not below', rule.low[f])).join(', ');
    return { state: { ...st, belowSince: undefined }, decision: 'none', reason: `${s} ${text}: keep ${action}` };
  }
  const since = st.belowSince ?? nowTs;
  const held = nowTs - since;
  const text = `${fields.map((f) => cmp(f, values[f], '<', rule.low[f])).join(' and ')} for ${secs(held)}`;
  const next: VerdictState = { ...st, belowSince: since };
  if (held < rule.holdBeforeReleaseMs) {
    return { state: next, decision: 'none', reason: `${s} ${text} of ${secs(rule.holdBeforeReleaseMs)}: holding` };
  }
  const wait = cooldownLeft(st, nowTs, rule);
  if (wait > 0) return { state: next, decision: 'none', reason: `${s} ${text}: cooling down ${secs(wait)} more` };
  return {
    state: { server: s, active: false, lastDecisionTs: nowTs, lastEvalTs: nowTs },
    decision: 'release',
    reason: `${s} ${text}: stop ${action}`,
  };
}

/**
 * A clock that went back (the caller should pass a monotonic one, but a VM
 * migration or a replay can still do it) shifts every stored time back by the
 * same amount: elapsed holds and cooldowns are kept, never skipped.
 */
function rebase(state: VerdictState, nowTs: number): VerdictState {
  const last = state.lastEvalTs;
  if (last === undefined || nowTs >= last) return { ...state, lastEvalTs: nowTs };
  const d = last - nowTs;
  const shift = (t: number | undefined): number | undefined => (t === undefined ? undefined : t - d);
  return {
    server: state.server,
    active: state.active,
    aboveSince: shift(state.aboveSince),
    belowSince: shift(state.belowSince),
    lastDecisionTs: shift(state.lastDecisionTs),
    lastEvalTs: nowTs,
  };
}

function cooldownLeft(state: VerdictState, nowTs: number, rule: VerdictRule): number {
  if (state.lastDecisionTs === undefined) return 0;
  return Math.max(0, state.lastDecisionTs + rule.cooldownMs - nowTs);
}

function exceeds(value: number | undefined, threshold: number | undefined): boolean {
  return value !== undefined && threshold !== undefined && value > threshold;
}

function below(value: number | undefined, threshold: number | undefined): boolean {
  return value !== undefined && threshold !== undefined && value < threshold;
}

function finite(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

/** "QR_avg 12.3 > 10", "RT_av 312.4 ms > 250 ms", "RT_av unknown not below 100 ms". */
function cmp(f: Field, value: number | undefined, op: string, threshold: number | undefined): string {
  const unit = f === 'queryRate' ? '' : ' ms';
  const label = f === 'queryRate' ? 'QR_avg' : 'RT_av';
  const v = value === undefined ? 'unknown' : `${round1(value)}${unit}`;
  const t = threshold === undefined ? 'unset' : `${round1(threshold)}${unit}`;
  return `${label} ${v} ${op} ${t}`;
}

function round1(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
