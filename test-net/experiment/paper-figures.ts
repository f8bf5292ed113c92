/**
 * The paper's figures (seed 001 §5.3, Fig. 5–7) next to ours, and the
 * properties a run must have to count as reproducing the experiment (better
 * than the paper where the paper was weak: detection, outage, quality).
 * Pure: results in, check rows and table text out.
 */
import type { ExperimentResults } from './analyse.js';

/**
 * What the paper reports, in its own (uncompressed) seconds. The figures'
 * plotted values are not in the text we have; query rates are derived from
 * the setup (13 peers, one search every 2 s each, 7 on net A).
 */
export const PAPER = {
  activeAtS: 160,
  serviceStartedAtS: 170,
  /** "At 170 seconds the active router decided…" after becoming active at 160 s. */
  detectionDelayS: 10,
  /** Net B's peers lost their connections at 170 s and were back, on the proxy, at 220 s. */
  outageS: 50,
  /** Searches per second at the origin: 13 peers / 2 s before, 7 / 2 s (+ the proxy's forwards) after. */
  serverQueryRateBefore: 6.5,
  serverQueryRateAfter: 3.5,
  proxyQueryRateAfter: 3,
  resultsPerResponse: 'fewer after the switch, recovering as the cache fills (Fig. 6)',
  responseTime: 'longer after the switch (Fig. 7)',
} as const;

/** Detection must take less than this (the paper: ~10 s). Hold (1 s) + ticks + service start leave ample margin. */
export const MAX_DETECTION_DELAY_S = 3;
/** The origin's rate after the switch at most this fraction of before (net A alone is 7/13 ≈ 54 %). */
export const MAX_SERVER_RATE_RATIO = 0.6;
/** Longest outage of a redirected peer (the paper: ~50 s); ours reconnect at once after the reset. */
export const MAX_OUTAGE_S = 2;
/** Results per response on net B after the switch at least this fraction of before (the paper lost quality). */
export const MIN_RESULTS_RATIO = 0.9;

export interface PropertyCheck {
  name: string;
  pass: boolean;
  /** What was measured and what was required, for the printed table. */
  measured: string;
  required: string;
}

function fmt(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined ? 'n/a' : v.toFixed(digits);
}

/** The brief's pass criteria; a missing figure (null) fails its property. */
export function checkProperties(r: ExperimentResults): PropertyCheck[] {
  const rb = r.serverQueryRate.before;
  const ra = r.serverQueryRate.after;
  const qb = r.resultsPerResponseNetB.before;
  const qa = r.resultsPerResponseNetB.after;
  const pb = r.responseTimeNetBMs.before.p99;
  const pa = r.responseTimeNetBMs.after.p99;
  return [
    {
      name: 'detectionDelayS',
      pass: r.detectionDelayS !== null && r.detectionDelayS < MAX_DETECTION_DELAY_S,
      measured: fmtU(r.detectionDelayS, ' s'),
      required: `< ${MAX_DETECTION_DELAY_S} s`,
    },
    {
      name: 'serverQueryRate',
      pass: rb !== null && ra !== null && rb > 0 && ra <= MAX_SERVER_RATE_RATIO * rb,
      measured: `${fmt(ra, 1)} / ${fmt(rb, 1)} q/s = ${rb !== null && ra !== null && rb > 0 ? ((100 * ra) / rb).toFixed(0) : 'n/a'} %`,
      required: `after ≤ ${MAX_SERVER_RATE_RATIO * 100} % of before`,
    },
    {
      name: 'outageS.max',
      pass: r.outageS.max !== null && r.outageS.max < MAX_OUTAGE_S,
      measured: `${fmtU(r.outageS.max, ' s')} (median ${fmtU(r.outageS.median, ' s')})`,
      required: `< ${MAX_OUTAGE_S} s`,
    },
    {
      name: 'resultsPerResponseNetB',
      pass: qb !== null && qa !== null && qa >= MIN_RESULTS_RATIO * qb,
      measured: `${fmt(qa)} / ${fmt(qb)}`,
      required: `after ≥ ${MIN_RESULTS_RATIO * 100} % of before`,
    },
    {
      name: 'responseTimeNetBMs.p99',
      pass: pb !== null && pa !== null && pa <= pb,
      measured: `${fmtU(pa, ' ms', 0)} after, ${fmtU(pb, ' ms', 0)} before`,
      required: 'after ≤ before',
    },
    {
      name: 'rulesLeftAfterStop',
      pass: r.rulesLeftAfterStop === 0,
      measured: r.rulesLeftAfterStop === null ? 'n/a' : String(r.rulesLeftAfterStop),
      required: '= 0',
    },
  ];
}

/** A value with its unit, or just `n/a`. */
function fmtU(v: number | null | undefined, unit: string, digits = 2): string {
  return v === null || v === undefined ? 'n/a' : `${v.toFixed(digits)}${unit}`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** The before/after table next to the paper's, ours in compressed seconds with the paper's scaled alongside. */
export function comparisonTable(r: ExperimentResults): string {
  const k = r.timeCompression;
  const rows: string[][] = [
    ['figure', 'paper', `paper, time ×1/${k}`, 'ours'],
    ['router active at', `${PAPER.activeAtS} s`, `${PAPER.activeAtS / k} s`, fmtU(r.events.activeAtS, ' s', 1)],
    ['detection delay', `${PAPER.detectionDelayS} s`, `${PAPER.detectionDelayS / k} s`, fmtU(r.detectionDelayS, ' s')],
    ['outage of net B peers (max)', `~${PAPER.outageS} s`, `${PAPER.outageS / k} s`, fmtU(r.outageS.max, ' s')],
    ['origin query rate before', `${PAPER.serverQueryRateBefore}/s`, `${PAPER.serverQueryRateBefore * k}/s`, fmtU(r.serverQueryRate.before, '/s', 1)],
    ['origin query rate after', `${PAPER.serverQueryRateAfter}/s + fwd`, `${PAPER.serverQueryRateAfter * k}/s + fwd`, fmtU(r.serverQueryRate.after, '/s', 1)],
    ['proxy query rate after', `${PAPER.proxyQueryRateAfter}/s`, `${PAPER.proxyQueryRateAfter * k}/s`, fmtU(r.proxyQueryRate.after, '/s', 1)],
    ['results/response net B', 'fewer after', '', `${fmt(r.resultsPerResponseNetB.before)} → ${fmt(r.resultsPerResponseNetB.after)} (plain mean ${fmt(r.resultsPerResponseNetB.afterRaw)})`],
    [
      'response time net B p50',
      'longer after',
      '',
      `${fmtU(r.responseTimeNetBMs.before.p50, ' ms', 0)} → ${fmtU(r.responseTimeNetBMs.after.p50, ' ms', 0)}`,
    ],
    [
      'response time net B p99',
      'longer after',
      '',
      `${fmtU(r.responseTimeNetBMs.before.p99, ' ms', 0)} → ${fmtU(r.responseTimeNetBMs.after.p99, ' ms', 0)}`,
    ],
    ['rules left after stop', '-', '', r.rulesLeftAfterStop === null ? 'n/a' : String(r.rulesLeftAfterStop)],
  ];
  return table(rows);
}

export function propertiesTable(checks: readonly PropertyCheck[]): string {
  return table([['', 'property', 'measured', 'required'], ...checks.map((c) => [c.pass ? 'PASS' : 'FAIL', c.name, c.measured, c.required])]);
}
