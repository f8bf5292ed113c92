/**
 * The measures the active-control test asserts on (issue 5, "Done when"),
 * computed from the peers' search logs (opennap/search-log.ts) and from
 * cumulative counters sampled over time. Pure: records and times in, numbers
 * out; no clock, no I/O.
 *
 * An "answer" is a search that ended with its 202 (`endedBy: 'end'`); its
 * time is `firstResultAt` (first 201, or the 202 when there were none), the
 * moment the peer saw the server respond.
 */
import type { SearchLogRecord } from '../../opennap/search-log.js';
import type { CounterSample } from '../experiment/series.js';

export interface ReconnectGap {
  /** Last answer at or before the switch time; null when the peer had none. */
  readonly lastBefore: number | null;
  /** First answer after the switch time; null when none came. */
  readonly firstAfter: number | null;
  /** firstAfter − lastBefore in ms; null when either is missing. */
  readonly gapMs: number | null;
}

/** Answer times of a peer's searches, ascending. */
export function answerTimes(records: readonly SearchLogRecord[]): number[] {
  const out: number[] = [];
  for (const r of records) if (r.endedBy === 'end' && r.firstResultAt !== null) out.push(r.firstResultAt);
  return out.sort((a, b) => a - b);
}

/** Last answer before `switchAt` to first answer after it: how long the peer went without an answer across a switch. */
export function reconnectGap(records: readonly SearchLogRecord[], switchAt: number): ReconnectGap {
  let lastBefore: number | null = null;
  let firstAfter: number | null = null;
  for (const t of answerTimes(records)) {
    if (t <= switchAt) lastBefore = t;
    else if (firstAfter === null) firstAfter = t;
  }
  return { lastBefore, firstAfter, gapMs: lastBefore !== null && firstAfter !== null ? firstAfter - lastBefore : null };
}

/** Longest time without an answer inside [from, to], counting from `from` and up to `to`; null when no answer lies inside. */
export function longestSilenceMs(records: readonly SearchLogRecord[], from: number, to: number): number | null {
  const inside = answerTimes(records).filter((t) => t >= from && t <= to);
  if (inside.length === 0) return null;
  let longest = 0;
  let prev = from;
  for (const t of inside) {
    longest = Math.max(longest, t - prev);
    prev = t;
  }
  return Math.max(longest, to - prev);
}

export interface ResultsSummary {
  /** Searches sent in the window that ended with their 202 or timed out (closed ones are the reconnect, measured apart). */
  readonly searches: number;
  readonly timedOut: number;
  readonly results: number;
  /** results / searches; null when there were none. */
  readonly mean: number | null;
}

/** Mean results per search for searches sent in [from, to). */
export function resultsInWindow(records: readonly SearchLogRecord[], from: number, to: number): ResultsSummary {
  let searches = 0;
  let timedOut = 0;
  let results = 0;
  for (const r of records) {
    if (r.sentAt < from || r.sentAt >= to || r.endedBy === 'closed') continue;
    searches++;
    if (r.endedBy === 'timeout') timedOut++;
    results += r.results;
  }
  return { searches, timedOut, results, mean: searches === 0 ? null : results / searches };
}

export interface MatchedResults {
  /** Searches after whose keywords were also searched before (the ones compared). */
  readonly matched: number;
  /** Searches after with keywords never searched before (left out). */
  readonly unmatched: number;
  /** Results the matched searches got. */
  readonly actual: number;
  /** Results they would have got at the "before" mean of their own keywords. */
  readonly expected: number;
  /** actual / expected; null when nothing matched. */
  readonly ratio: number | null;
}

/**
 * Results after versus before, keyword by keyword: each "after" search is
 * compared with the mean of the "before" searches for the same keywords.
 * With the paper's Zipf keywords (2 to 20 matching files each) the plain
 * means of two windows differ by several percent from the keyword mix alone;
 * matching per keyword removes that, so the ratio shows what the takeover
 * changed. Searches that closed under a reset are left out (see resultsInWindow).
 */
export function keywordMatchedResults(before: readonly SearchLogRecord[], after: readonly SearchLogRecord[]): MatchedResults {
  const key = (r: SearchLogRecord): string => r.keywords.join(' ');
  const sums = new Map<string, { n: number; results: number }>();
  for (const r of before) {
    if (r.endedBy === 'closed') continue;
    const s = sums.get(key(r)) ?? { n: 0, results: 0 };
    s.n++;
    s.results += r.results;
    sums.set(key(r), s);
  }
  let matched = 0;
  let unmatched = 0;
  let actual = 0;
  let expected = 0;
  for (const r of after) {
    if (r.endedBy === 'closed') continue;
    const s = sums.get(key(r));
    if (s === undefined) {
      unmatched++;
      continue;
    }
    matched++;
    actual += r.results;
    expected += s.results / s.n;
  }
  return { matched, unmatched, actual, expected, ratio: matched === 0 || expected === 0 ? null : actual / expected };
}

/** The records whose search was sent in [from, to). */
export function sentIn(records: readonly SearchLogRecord[], from: number, to: number): SearchLogRecord[] {
  return records.filter((r) => r.sentAt >= from && r.sentAt < to);
}

export type { CounterSample } from '../experiment/series.js';

/**
 * Rate of a cumulative counter over [from, to]: (last − first) / time between
 * them, using the samples inside the window. Null with fewer than two samples
 * or no time between them. A counter that went back (a restart) gives null.
 */
export function counterRate(samples: readonly CounterSample[], from: number, to: number): number | null {
  const inside = samples.filter((s) => s.at >= from && s.at <= to).sort((a, b) => a.at - b.at);
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (first === undefined || last === undefined || last.at <= first.at || last.value < first.value) return null;
  return ((last.value - first.value) * 1000) / (last.at - first.at);
}

/** The cumulative `searches=N` of an `opennap serve` stats line: the experiment's parser. */
export { parseOriginSearches as originSearchesOf } from '../experiment/origin-stats.js';

/** `reconnects=N` of a peers summary line (formatSummary in daemon/cli/opennap-command.ts); null for other lines. */
export function peerReconnectsOf(line: string): number | null {
  const m = /(?:^|\s)reconnects=(\d+)(?:\s|$)/.exec(line);
  return m === null ? null : Number(m[1]);
}

/** The peer number N of a nick made with `--nick-prefix peerN_` (`peerN_0`, or `peerN_0_K` after a re-login); null otherwise. */
export function peerNumberOfNick(nick: string): number | null {
  const m = /^peer(\d+)_\d+(?:_\d+)?$/.exec(nick);
  return m === null ? null : Number(m[1]);
}
