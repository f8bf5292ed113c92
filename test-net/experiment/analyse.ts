/**
 * From what the experiment recorded to the figures of results.json (seed 001
 * §5.3: load moved off the origin, Fig. 5; results per response, Fig. 6;
 * response time, Fig. 7; plus how fast and how cleanly the router acted).
 * Pure: every input is data, every time is epoch ms passed in.
 *
 * Windows: "before" runs from the end of the warm-up (and not before every
 * peer has sent its first search) to the switch (the
 * daemon's `rules_applied`, or the router's activation when no switch
 * happened); "after" from the switch to the end of the peers' run. Nothing
 * after the switch is left out: the proxy's cold start is part of what net
 * B's peers experience, as in the paper's Fig. 6.
 */
import { JUMP_TAG, NAT_CHAIN, SUB_CHAIN_PATTERN } from '../../daemon/actuators/rule-text.js';
import { distribution, mean } from '../../daemon/metrics/percentile.js';
import type { SearchLogRecord } from '../../opennap/search-log.js';
import type { TimelineEntry } from './daemon-status.js';
import { sameServer } from './daemon-status.js';
import type { CounterSample } from './series.js';
import { cleanCounter, proxyCounter, rateBetween } from './series.js';

export interface PeerLog {
  /** Test-bed host name, e.g. `peer8`. */
  host: string;
  group: 'A' | 'B';
  records: readonly SearchLogRecord[];
}

export interface AnalysisInput {
  /** When the peers were started and when their run ended (epoch ms). */
  runStartedAt: number;
  runEndedAt: number;
  warmupMs: number;
  /** The origin server's address (timeline entries of other servers are ignored). */
  origin: string;
  /** When the router turned active (the daemon's `activeAt`), null without daemon. */
  activeAt: number | null;
  timeline: readonly TimelineEntry[];
  /** The origin's own cumulative search counter over time. */
  originSearches: readonly CounterSample[];
  /** The proxy's cumulative `searches` over time (from the daemon's status). */
  proxySearches: readonly CounterSample[];
  peers: readonly PeerLog[];
  /** Lines of ours left in the router's iptables after the daemon stopped; null when not checked. */
  rulesLeftAfterStop: number | null;
  timeCompression: number;
}

export interface Percentiles {
  p50: number | null;
  p99: number | null;
}

export interface Window {
  /** Seconds since the peers started. */
  fromS: number;
  toS: number;
}

export interface PeerOutage {
  host: string;
  /** Seconds from the last answer before the switch to the first answer after it; null when one of them is missing. */
  outageS: number | null;
  lastAnswerBeforeS: number | null;
  firstAnswerAfterS: number | null;
  /** Searches of this peer that ended with their connection closing under them (the reset). */
  interrupted: number;
}

export interface ExperimentResults {
  timeCompression: number;
  /** Event times, seconds since the peers started (null when they did not happen). */
  events: {
    activeAtS: number | null;
    crossedAtS: number | null;
    serviceStartedAtS: number | null;
    rulesAppliedAtS: number | null;
    flowsResetAtS: number | null;
  };
  /** Service started minus the moment the metric crossed its threshold while the router was active. */
  detectionDelayS: number | null;
  outageS: { median: number | null; max: number | null; perPeer: PeerOutage[] };
  serverQueryRate: { before: number | null; after: number | null };
  proxyQueryRate: { after: number | null };
  /**
   * Mean results per answered search of net B. `after` is weighted by the
   * keyword mix of `before` (each keyword's mean after the switch, weighted by
   * its share of searches before it): with Zipf-drawn keywords the plain mean
   * moves by several percent from the mix alone. `afterRaw` is the plain mean.
   */
  resultsPerResponseNetB: { before: number | null; after: number | null; afterRaw: number | null };
  responseTimeNetBMs: { before: Percentiles; after: Percentiles };
  rulesLeftAfterStop: number | null;
  windows: { before: Window; after: Window };
  searches: {
    netA: { sent: number; answered: number };
    netB: { sent: number; answered: number; interrupted: number; timedOut: number };
  };
}

function firstAtOrAfter(timeline: readonly TimelineEntry[], kind: TimelineEntry['kind'], t: number): TimelineEntry | undefined {
  return timeline.find((e) => e.kind === kind && e.ts >= t);
}

/**
 * The crossing that led to the service start: the latest `crossed` at or
 * before it. When that crossing happened before the router turned active
 * (the load was already high while it was a plain router), the metric first
 * counts as crossed "while active" at the activation itself.
 */
export function detectionDelay(timeline: readonly TimelineEntry[], activeAt: number | null): { crossedAt: number | null; serviceAt: number | null; delayS: number | null } {
  const from = activeAt ?? Number.NEGATIVE_INFINITY;
  const service = firstAtOrAfter(timeline, 'service_started', from);
  if (service === undefined) return { crossedAt: null, serviceAt: null, delayS: null };
  const crossings = timeline.filter((e) => e.kind === 'crossed' && e.ts <= service.ts);
  const last = crossings[crossings.length - 1];
  if (last === undefined) return { crossedAt: null, serviceAt: service.ts, delayS: null };
  const crossedAt = activeAt === null ? last.ts : Math.max(last.ts, activeAt);
  return { crossedAt, serviceAt: service.ts, delayS: (service.ts - crossedAt) / 1000 };
}

function answered(r: SearchLogRecord): r is SearchLogRecord & { firstResultAt: number } {
  return r.endedBy === 'end' && r.firstResultAt !== null;
}

/**
 * One peer's outage around the switch: the last answer to a search sent
 * before `switchAt` (which only the origin can have given: it came over the
 * connection that existed then) to the first answer to a search sent after.
 */
export function peerOutage(host: string, records: readonly SearchLogRecord[], switchAt: number, origin: number): PeerOutage {
  let lastBefore: number | null = null;
  let firstAfter: number | null = null;
  let interrupted = 0;
  for (const r of records) {
    if (r.endedBy === 'closed' && r.sentAt >= switchAt - 1000) interrupted++;
    if (!answered(r)) continue;
    if (r.sentAt < switchAt) lastBefore = lastBefore === null ? r.firstResultAt : Math.max(lastBefore, r.firstResultAt);
    else firstAfter = firstAfter === null ? r.firstResultAt : Math.min(firstAfter, r.firstResultAt);
  }
  const rel = (t: number | null): number | null => (t === null ? null : (t - origin) / 1000);
  return {
    host,
    outageS: lastBefore === null || firstAfter === null ? null : (firstAfter - lastBefore) / 1000,
    lastAnswerBeforeS: rel(lastBefore),
    firstAnswerAfterS: rel(firstAfter),
    interrupted,
  };
}

/** Median of numbers (mean of the middle two for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return null;
  const mid = n >> 1;
  return n % 2 === 1 ? (s[mid] ?? null) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function inWindow(r: SearchLogRecord, from: number, to: number): boolean {
  return r.sentAt >= from && r.sentAt < to;
}

function qos(records: readonly SearchLogRecord[], from: number, to: number): { results: number | null; rt: Percentiles } {
  const ok = records.filter((r) => answered(r) && inWindow(r, from, to)) as (SearchLogRecord & { firstResultAt: number })[];
  const d = distribution(ok.map((r) => r.firstResultAt - r.sentAt));
  return { results: mean(ok.map((r) => r.results)), rt: { p50: d.p50, p99: d.p99 } };
}

/**
 * Results per response after the switch, for the keyword mix seen before it:
 * Σ_k share_before(k) · mean_after(k), over keywords searched in both windows.
 */
export function mixAdjustedResults(records: readonly SearchLogRecord[], beforeFrom: number, beforeTo: number, afterFrom: number, afterTo: number): number | null {
  const byKey = (from: number, to: number): Map<string, number[]> => {
    const m = new Map<string, number[]>();
    for (const r of records) {
      if (!answered(r) || !inWindow(r, from, to)) continue;
      const k = [...r.keywords].sort().join(' ');
      const list = m.get(k) ?? [];
      list.push(r.results);
      m.set(k, list);
    }
    return m;
  };
  const before = byKey(beforeFrom, beforeTo);
  const after = byKey(afterFrom, afterTo);
  let weight = 0;
  let sum = 0;
  for (const [k, b] of before) {
    const a = after.get(k);
    if (!a || a.length === 0) continue;
    weight += b.length;
    sum += b.length * (a.reduce((x, y) => x + y, 0) / a.length);
  }
  return weight > 0 ? sum / weight : null;
}

export function analyse(input: AnalysisInput): ExperimentResults {
  const t0 = input.runStartedAt;
  const rel = (t: number | null): number | null => (t === null ? null : (t - t0) / 1000);
  const timeline = input.timeline.filter((e) => sameServer(e.server, input.origin)).sort((a, b) => a.ts - b.ts);

  const det = detectionDelay(timeline, input.activeAt);
  const from = det.serviceAt ?? input.activeAt ?? Number.NEGATIVE_INFINITY;
  const rulesApplied = firstAtOrAfter(timeline, 'rules_applied', from);
  const flowsReset = firstAtOrAfter(timeline, 'flows_reset', from);
  // The switch: when new connections start landing on the proxy.
  const switchAt = rulesApplied?.ts ?? det.serviceAt ?? input.activeAt ?? input.runEndedAt;

  // Measure "before" only once every peer is searching: 13 node processes take seconds to start on 2 cores.
  const beforeFrom = Math.max(t0 + input.warmupMs, allSearching(input.peers, t0));
  const beforeTo = Math.max(beforeFrom, Math.min(switchAt, input.runEndedAt));
  const afterFrom = beforeTo;
  const afterTo = input.runEndedAt;

  const origin = cleanCounter(input.originSearches);
  const proxy = proxyCounter(input.proxySearches, det.serviceAt);

  const netB = input.peers.filter((p) => p.group === 'B');
  const netA = input.peers.filter((p) => p.group === 'A');
  const bRecords = netB.flatMap((p) => p.records);
  const aRecords = netA.flatMap((p) => p.records);

  const hasSwitch = rulesApplied !== undefined || det.serviceAt !== null;
  const perPeer = netB.map((p) =>
    hasSwitch ? peerOutage(p.host, p.records, switchAt, t0) : { host: p.host, outageS: null, lastAnswerBeforeS: null, firstAnswerAfterS: null, interrupted: 0 },
  );
  const outages = perPeer.map((p) => p.outageS);
  const known = outages.filter((v): v is number => v !== null);
  const allKnown = known.length === outages.length && outages.length > 0;

  const before = qos(bRecords, beforeFrom, beforeTo);
  const after = qos(bRecords, afterFrom, afterTo);

  return {
    timeCompression: input.timeCompression,
    events: {
      activeAtS: rel(input.activeAt),
      crossedAtS: rel(det.crossedAt),
      serviceStartedAtS: rel(det.serviceAt),
      rulesAppliedAtS: rel(rulesApplied?.ts ?? null),
      flowsResetAtS: rel(flowsReset?.ts ?? null),
    },
    detectionDelayS: det.delayS,
    // A peer that never got an answer after the switch has an unbounded outage: max is then null (fails the check).
    outageS: { median: allKnown ? median(known) : null, max: allKnown ? Math.max(...known) : null, perPeer },
    serverQueryRate: { before: rateBetween(origin, beforeFrom, beforeTo), after: rateBetween(origin, afterFrom, afterTo) },
    proxyQueryRate: { after: hasSwitch && proxy.length > 0 ? rateBetween(proxy, afterFrom, afterTo) : null },
    resultsPerResponseNetB: { before: before.results, after: mixAdjustedResults(bRecords, beforeFrom, beforeTo, afterFrom, afterTo), afterRaw: after.results },
    responseTimeNetBMs: { before: before.rt, after: after.rt },
    rulesLeftAfterStop: input.rulesLeftAfterStop,
    windows: {
      before: { fromS: (beforeFrom - t0) / 1000, toS: (beforeTo - t0) / 1000 },
      after: { fromS: (afterFrom - t0) / 1000, toS: (afterTo - t0) / 1000 },
    },
    searches: {
      netA: { sent: aRecords.length, answered: aRecords.filter(answered).length },
      netB: {
        sent: bRecords.length,
        answered: bRecords.filter(answered).length,
        interrupted: bRecords.filter((r) => r.endedBy === 'closed').length,
        timedOut: bRecords.filter((r) => r.endedBy === 'timeout').length,
      },
    },
  };
}

/** Lines of ours in `iptables-save` output: anything tagged `active-router`, our chains, and rules in them. */
export function countRulesLeft(iptablesSave: string): number {
  const sub = new RegExp(SUB_CHAIN_PATTERN.source.replace(/^\^/, '\\b').replace(/\$$/, '\\b'));
  return iptablesSave.split('\n').filter((l) => l.includes(JUMP_TAG) || l.includes(NAT_CHAIN) || sub.test(l)).length;
}

/**
 * End of the measured run: the earliest of the peers' last searches (after
 * it, some peer has stopped and the load falls for reasons of our own), or
 * `fallback` when no peer logged anything.
 */
export function runEnd(peers: readonly PeerLog[], fallback: number): number {
  const lasts = peers.map((p) => p.records.reduce((m, r) => Math.max(m, r.sentAt), Number.NEGATIVE_INFINITY)).filter((t) => Number.isFinite(t));
  return lasts.length === 0 ? fallback : Math.min(...lasts);
}

/** When the last peer sent its first search (every peer searching from then on), or `fallback` without records. */
export function allSearching(peers: readonly PeerLog[], fallback: number): number {
  const firsts = peers.map((p) => p.records.reduce((m, r) => Math.min(m, r.sentAt), Number.POSITIVE_INFINITY)).filter((t) => Number.isFinite(t));
  return firsts.length === 0 ? fallback : Math.max(...firsts);
}
