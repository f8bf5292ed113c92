// Verdict state machine: timelines tick by tick, and properties over random metric series
// (never flaps faster than the cooldown, never activates below high, holds are honoured).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, initialVerdictState, verdictPhase } from './verdict.js';
import type { Decision, VerdictMetrics, VerdictPhase, VerdictRule, VerdictState } from './verdict.js';

const SERVER = '10.0.1.2:8888';

const qrRule: VerdictRule = {
  name: 'overload',
  metric: 'query-rate',
  high: { queryRate: 10 },
  low: { queryRate: 5 },
  holdBeforeActMs: 1000,
  holdBeforeReleaseMs: 10_000,
  cooldownMs: 30_000,
  action: { type: 'cache-proxy' },
};

/** [time, metrics, expected decision, expected phase after, reason fragment?] */
type Step = [number, VerdictMetrics, Decision, VerdictPhase, string?];

function run(rule: VerdictRule, steps: Step[]): void {
  let state: VerdictState = initialVerdictState(SERVER);
  for (const [t, metrics, decision, phase, reason] of steps) {
    const v = evaluate(state, metrics, t, rule);
    const label = `t=${t}: ${v.reason}`;
    expect(v.decision, label).toBe(decision);
    expect(verdictPhase(v.state), label).toBe(phase);
    if (reason !== undefined) expect(v.reason, label).toBe(reason);
    state = v.state;
  }
}

const qr = (v: number | undefined): VerdictMetrics => ({ qrAvg: v, samples: 3 });
const none: VerdictMetrics = { samples: 0 };

describe('evaluate: timelines', () => {
  it('acts after the hold, releases after the release hold and the cooldown, re-acts only after the cooldown', () => {
    run(qrRule, [
      [0, qr(12), 'none', 'arming', `${SERVER} QR_avg 12 > 10 for 0.0 s of 1.0 s: holding`],
      [500, qr(12), 'none', 'arming'],
      [1000, qr(12.34), 'activate', 'active', `${SERVER} QR_avg 12.3 > 10 for 1.0 s: start cache-proxy`],
      [1500, qr(4), 'none', 'disarming'],
      [11_500, qr(4), 'none', 'disarming', `${SERVER} QR_avg 4 < 5 for 10.0 s: cooling down 19.5 s more`],
      [31_000, qr(4), 'release', 'idle', `${SERVER} QR_avg 4 < 5 for 29.5 s: stop cache-proxy`],
      [31_500, qr(20), 'none', 'arming'],
      [32_500, qr(20), 'none', 'arming', `${SERVER} QR_avg 20 > 10 for 1.0 s: cooling down 28.5 s more`],
      [61_000, qr(20), 'activate', 'active'],
    ]);
  });

  it('stays put inside the hysteresis band', () => {
    run(qrRule, [
      [0, qr(8), 'none', 'idle', `${SERVER} QR_avg 8 <= 10: no action`],
      [1000, qr(10), 'none', 'idle'], // equal to high is not above it
      [2000, qr(11), 'none', 'arming'],
      [3000, qr(11), 'activate', 'active'],
      [4000, qr(4.9), 'none', 'disarming'],
      [5000, qr(7), 'none', 'active', `${SERVER} QR_avg 7 not below 5: keep cache-proxy`],
      [40_000, qr(7), 'none', 'active'],
      [41_000, qr(5), 'none', 'active'], // equal to low is not below it
    ]);
  });

  it('a dip below high restarts the hold', () => {
    run(qrRule, [
      [0, qr(11), 'none', 'arming'],
      [900, qr(9), 'none', 'idle'],
      [1000, qr(11), 'none', 'arming'],
      [1900, qr(11), 'none', 'arming'],
      [2000, qr(11), 'activate', 'active'],
    ]);
  });

  it('no samples changes nothing, not even the hold', () => {
    const s0 = evaluate(initialVerdictState(SERVER), qr(12), 0, qrRule).state;
    const v = evaluate(s0, none, 500, qrRule);
    expect(v).toEqual({ state: s0, decision: 'none', reason: `${SERVER} no samples: no change` });
    expect(evaluate(s0, { qrAvg: 50, samples: 0 }, 5000, qrRule).decision).toBe('none');
    expect(evaluate(s0, qr(12), 1000, qrRule).decision).toBe('activate');
  });

  it('acts on the first tick when the hold is zero', () => {
    run({ ...qrRule, holdBeforeActMs: 0 }, [[0, qr(10.5), 'activate', 'active', `${SERVER} QR_avg 10.5 > 10 for 0.0 s: start cache-proxy`]]);
  });

  it('response-time: an unknown RT_av never acts and never releases', () => {
    const rtRule: VerdictRule = { ...qrRule, metric: 'response-time', high: { responseTimeMs: 250 }, low: { responseTimeMs: 100 }, action: { type: 'load-balance' } };
    run(rtRule, [
      [0, { samples: 2 }, 'none', 'idle', `${SERVER} RT_av unknown <= 250 ms: no action`],
      [1000, { rtAvgMs: 312.44, samples: 2 }, 'none', 'arming'],
      [2000, { rtAvgMs: 300, samples: 2 }, 'activate', 'active', `${SERVER} RT_av 300 ms > 250 ms for 1.0 s: start load-balance`],
      [3000, { samples: 2 }, 'none', 'active', `${SERVER} RT_av unknown not below 100 ms: keep load-balance`],
      [4000, { rtAvgMs: 50, samples: 2 }, 'none', 'disarming'],
      [40_000, { rtAvgMs: 50, samples: 2 }, 'release', 'idle', `${SERVER} RT_av 50 ms < 100 ms for 36.0 s: stop load-balance`],
    ]);
  });

  it('both: either high triggers, release needs both low', () => {
    const both: VerdictRule = { ...qrRule, metric: 'both', high: { queryRate: 10, responseTimeMs: 500 }, low: { queryRate: 5, responseTimeMs: 200 }, cooldownMs: 0, holdBeforeReleaseMs: 0 };
    run(both, [
      [0, { qrAvg: 2, rtAvgMs: 600, samples: 1 }, 'none', 'arming', `${SERVER} RT_av 600 ms > 500 ms for 0.0 s of 1.0 s: holding`],
      [1000, { qrAvg: 12, rtAvgMs: 600, samples: 1 }, 'activate', 'active', `${SERVER} RT_av 600 ms > 500 ms, QR_avg 12 > 10 for 1.0 s: start cache-proxy`],
      [2000, { qrAvg: 2, samples: 1 }, 'none', 'active', `${SERVER} RT_av unknown not below 200 ms: keep cache-proxy`],
      [3000, { qrAvg: 2, rtAvgMs: 250, samples: 1 }, 'none', 'active'],
      [4000, { qrAvg: 2, rtAvgMs: 150, samples: 1 }, 'release', 'idle', `${SERVER} RT_av 150 ms < 200 ms and QR_avg 2 < 5 for 0.0 s: stop cache-proxy`],
    ]);
  });

  it('a clock that goes back keeps the elapsed hold instead of skipping or losing it', () => {
    run(qrRule, [
      [10_000, qr(12), 'none', 'arming'],
      [10_600, qr(12), 'none', 'arming'],
      [5000, qr(12), 'none', 'arming'], // jumped back 5.6 s: treated as no time passing
      [5399, qr(12), 'none', 'arming'],
      [5400, qr(12), 'activate', 'active'],
    ]);
  });

  it('ignores a non-finite time and non-finite metric values', () => {
    const s = initialVerdictState(SERVER);
    expect(evaluate(s, qr(50), Number.NaN, qrRule)).toEqual({ state: s, decision: 'none', reason: `${SERVER} invalid evaluation time: no change` });
    expect(evaluate(s, qr(Number.POSITIVE_INFINITY), 0, { ...qrRule, holdBeforeActMs: 0 }).decision).toBe('none');
  });
});

// ---- properties over random series ----

const METRICS = ['response-time', 'query-rate', 'both'] as const;

const ruleArb = fc
  .record({
    metric: fc.constantFrom(...METRICS),
    qrLow: fc.double({ min: 0.1, max: 50, noNaN: true }),
    qrGap: fc.double({ min: 0.1, max: 50, noNaN: true }),
    rtLow: fc.double({ min: 1, max: 500, noNaN: true }),
    rtGap: fc.double({ min: 1, max: 500, noNaN: true }),
    holdBeforeActMs: fc.integer({ min: 0, max: 5000 }),
    holdBeforeReleaseMs: fc.integer({ min: 0, max: 5000 }),
    cooldownMs: fc.integer({ min: 0, max: 20_000 }),
  })
  .map((r): VerdictRule => ({
    name: 'p',
    metric: r.metric,
    high: { queryRate: r.qrLow + r.qrGap, responseTimeMs: r.rtLow + r.rtGap },
    low: { queryRate: r.qrLow, responseTimeMs: r.rtLow },
    holdBeforeActMs: r.holdBeforeActMs,
    holdBeforeReleaseMs: r.holdBeforeReleaseMs,
    cooldownMs: r.cooldownMs,
    action: { type: 'cache-proxy' },
  }));

type Level = 'high' | 'mid' | 'low' | 'unknown';

/** Metric series as runs of a level (above high, between, below low, unknown), so holds and cooldowns really get exercised. */
const seriesArb = fc.array(
  fc.record({
    qr: fc.constantFrom<Level>('high', 'high', 'mid', 'low', 'low', 'unknown'),
    rt: fc.constantFrom<Level>('high', 'mid', 'low', 'low', 'unknown'),
    len: fc.integer({ min: 1, max: 12 }),
    dt: fc.integer({ min: 0, max: 3000 }),
    noSamples: fc.boolean(),
    jitter: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  { maxLength: 40 },
);

function levelValue(level: Level, low: number | undefined, high: number | undefined, jitter: number): number | undefined {
  if (level === 'unknown' || low === undefined || high === undefined) return undefined;
  if (level === 'high') return high + 0.001 + jitter * high;
  if (level === 'low') return low * (0.999 - jitter * 0.9);
  return low + (high - low) * (0.001 + jitter * 0.998);
}

/** Expands runs into timed ticks; a run with noSamples has samples = 0 on every other tick. */
function expand(rule: VerdictRule, series: Array<{ qr: Level; rt: Level; len: number; dt: number; noSamples: boolean; jitter: number }>): Array<{ t: number; m: VerdictMetrics }> {
  const out: Array<{ t: number; m: VerdictMetrics }> = [];
  let t = 0;
  for (const run of series) {
    for (let i = 0; i < run.len; i++) {
      t += run.dt;
      const samples = run.noSamples && i % 2 === 1 ? 0 : 1 + i;
      out.push({
        t,
        m: {
          samples,
          qrAvg: levelValue(run.qr, rule.low.queryRate, rule.high.queryRate, run.jitter),
          rtAvgMs: levelValue(run.rt, rule.low.responseTimeMs, rule.high.responseTimeMs, run.jitter),
        },
      });
    }
  }
  return out;
}

const fieldsOf = (r: VerdictRule): Array<'queryRate' | 'responseTimeMs'> =>
  r.metric === 'both' ? ['queryRate', 'responseTimeMs'] : r.metric === 'query-rate' ? ['queryRate'] : ['responseTimeMs'];
const valueOf = (m: VerdictMetrics, f: 'queryRate' | 'responseTimeMs'): number | undefined => (f === 'queryRate' ? m.qrAvg : m.rtAvgMs);
const isAbove = (r: VerdictRule, m: VerdictMetrics): boolean =>
  fieldsOf(r).some((f) => {
    const v = valueOf(m, f);
    const h = r.high[f];
    return v !== undefined && h !== undefined && v > h;
  });
const isAllBelow = (r: VerdictRule, m: VerdictMetrics): boolean =>
  fieldsOf(r).every((f) => {
    const v = valueOf(m, f);
    const l = r.low[f];
    return v !== undefined && l !== undefined && v < l;
  });

describe('evaluate: properties', () => {
  it('alternates, never flaps faster than the cooldown, acts only above high after the hold, releases only below low', () => {
    fc.assert(
      fc.property(ruleArb, seriesArb, (rule, series) => {
        let state = initialVerdictState(SERVER);
        let lastDecision: { kind: Decision; t: number } | undefined;
        // Since the last sample tick that was not above high (or the last decision): first above tick.
        let runStart: number | undefined;
        for (const { t, m } of expand(rule, series)) {
          const v = evaluate(state, m, t, rule);
          if (m.samples === 0) {
            expect(v.decision).toBe('none');
            expect(v.state).toBe(state);
            continue;
          }
          if (!state.active) runStart = isAbove(rule, m) ? (runStart ?? t) : undefined;
          if (v.decision !== 'none') {
            expect(v.decision).toBe(lastDecision?.kind === 'activate' ? 'release' : 'activate');
            if (lastDecision !== undefined) expect(t - lastDecision.t).toBeGreaterThanOrEqual(rule.cooldownMs);
            lastDecision = { kind: v.decision, t };
          }
          if (v.decision === 'activate') {
            expect(isAbove(rule, m)).toBe(true);
            expect(runStart).toBeDefined();
            expect(t - (runStart ?? t)).toBeGreaterThanOrEqual(rule.holdBeforeActMs);
            runStart = undefined;
          }
          if (v.decision === 'release') {
            expect(isAllBelow(rule, m)).toBe(true);
            runStart = undefined;
          }
          expect(v.state.active).toBe(lastDecision?.kind === 'activate');
          state = v.state;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('with arbitrary (even backward) times it still alternates and only acts above high / releases below low', () => {
    fc.assert(
      fc.property(ruleArb, seriesArb, fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 1 }), (rule, series, times) => {
        let state = initialVerdictState(SERVER);
        let active = false;
        expand(rule, series).forEach(({ m }, i) => {
          const t = times[i % times.length] ?? 0;
          const v = evaluate(state, m, t, rule);
          if (v.decision === 'activate') {
            expect(active).toBe(false);
            expect(isAbove(rule, m)).toBe(true);
            active = true;
          } else if (v.decision === 'release') {
            expect(active).toBe(true);
            expect(isAllBelow(rule, m)).toBe(true);
            active = false;
          }
          state = v.state;
        });
      }),
      { numRuns: 300 },
    );
  });
});
