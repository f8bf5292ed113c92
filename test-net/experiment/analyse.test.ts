// Unit tests of the experiment's analysis (analyse.ts): hand-computed runs, each figure checked by value.
import { describe, expect, it } from 'vitest';
import type { SearchLogRecord } from '../../opennap/search-log.js';
import { allSearching, analyse, mixAdjustedResults, countRulesLeft, detectionDelay, median, peerOutage, runEnd } from './analyse.js';
import type { AnalysisInput, PeerLog } from './analyse.js';
import type { TimelineEntry } from './daemon-status.js';

const T0 = 1_700_000_000_000;
const at = (s: number): number => T0 + s * 1000;

function ev(s: number, kind: TimelineEntry['kind'], server = '10.201.1.10:8888'): TimelineEntry {
  return { ts: at(s), kind, server, detail: '' };
}

function rec(sentS: number, results: number, rtMs: number | null, endedBy: SearchLogRecord['endedBy'] = 'end'): SearchLogRecord {
  return { peer: 'x', keywords: ['k'], sentAt: at(sentS), firstResultAt: rtMs === null ? null : at(sentS) + rtMs, results, endedBy };
}

/** A B peer searching once a second from 0 to 19 s; before 10 s: 10 results in 5 ms, after: 8 results in 20 ms. */
function bPeer(host: string, gapAfter: readonly number[]): PeerLog {
  const records: SearchLogRecord[] = [];
  for (let s = 0; s < 20; s++) {
    if (gapAfter.includes(s)) records.push(rec(s, 0, null, 'closed'));
    else if (s < 10) records.push(rec(s, 10, 5));
    else records.push(rec(s, 8, 20));
  }
  return { host, group: 'B', records };
}

function baseInput(): AnalysisInput {
  const origin = Array.from({ length: 21 }, (_, k) => ({ at: at(k), value: k <= 10 ? 60 * k : 600 + 30 * (k - 10) }));
  return {
    runStartedAt: T0,
    runEndedAt: at(20),
    warmupMs: 2000,
    origin: '10.201.1.10',
    activeAt: at(8),
    timeline: [ev(5, 'crossed'), ev(9.5, 'service_started'), ev(10, 'rules_applied'), ev(10.1, 'flows_reset'), ev(3, 'crossed', '10.201.1.99:8888')],
    originSearches: origin,
    proxySearches: [
      { at: at(11), value: 30 },
      { at: at(20), value: 300 },
    ],
    peers: [
      // peer8: its search at 10 s is cut by the reset, the next is answered at 11.02 s.
      bPeer('peer8', [10]),
      bPeer('peer9', []),
      { host: 'peer1', group: 'A', records: [rec(0.5, 99, 1), rec(15, 99, 1)] },
    ],
    rulesLeftAfterStop: 0,
    timeCompression: 10,
  };
}

describe('analyse', () => {
  const r = analyse(baseInput());

  it('dates the events relative to the peers’ start', () => {
    expect(r.events).toEqual({ activeAtS: 8, crossedAtS: 8, serviceStartedAtS: 9.5, rulesAppliedAtS: 10, flowsResetAtS: 10.1 });
  });

  it('measures detection from the activation when the load was already high before it', () => {
    expect(r.detectionDelayS).toBeCloseTo(1.5, 9);
  });

  it('splits before/after at the switch, after the warm-up', () => {
    expect(r.windows).toEqual({ before: { fromS: 2, toS: 10 }, after: { fromS: 10, toS: 20 } });
  });

  it('computes the origin rate from its counter: 60/s before, 30/s after', () => {
    expect(r.serverQueryRate.before).toBeCloseTo(60, 9);
    expect(r.serverQueryRate.after).toBeCloseTo(30, 9);
  });

  it('anchors the proxy counter at 0 at its start: (300 - 10) / 10 s', () => {
    // counter at 10 s interpolated between (9.5 s, 0) and (11 s, 30) = 10.
    expect(r.proxyQueryRate.after).toBeCloseTo(29, 9);
  });

  it('measures each B peer’s outage from its last answer before to its first answer after', () => {
    expect(r.outageS.perPeer.map((p) => [p.host, p.outageS, p.interrupted])).toEqual([
      ['peer8', (at(11) + 20 - (at(9) + 5)) / 1000, 1],
      ['peer9', (at(10) + 20 - (at(9) + 5)) / 1000, 0],
    ]);
    expect(r.outageS.max).toBeCloseTo(2.015, 9);
    expect(r.outageS.median).toBeCloseTo(1.515, 9);
  });

  it('takes results and response time of net B only, answered searches only', () => {
    expect(r.resultsPerResponseNetB).toEqual({ before: 10, after: 8, afterRaw: 8 });
    expect(r.responseTimeNetBMs).toEqual({ before: { p50: 5, p99: 5 }, after: { p50: 20, p99: 20 } });
  });

  it('weights results after the switch by the keyword mix before it', () => {
    const k = (sentS: number, kw: string, results: number): SearchLogRecord => ({ ...rec(sentS, results, 1), keywords: [kw] });
    // Before: 3 searches of "pop" (20 results) and 1 of "rare" (2). After: 1 "pop", 3 "rare": same answers per keyword.
    const records = [k(1, 'pop', 20), k(2, 'pop', 20), k(3, 'pop', 20), k(4, 'rare', 2), k(11, 'pop', 20), k(12, 'rare', 2), k(13, 'rare', 2), k(14, 'rare', 2)];
    expect(mixAdjustedResults(records, at(0), at(10), at(10), at(20))).toBeCloseTo((3 * 20 + 1 * 2) / 4);
    // The plain mean after would be (20 + 6) / 4 = 6.5 for the same service.
  });

  it('counts searches per net', () => {
    expect(r.searches).toEqual({ netA: { sent: 2, answered: 2 }, netB: { sent: 40, answered: 39, interrupted: 1, timedOut: 0 } });
    expect(r.rulesLeftAfterStop).toBe(0);
    expect(r.timeCompression).toBe(10);
  });

  it('starts "before" only once the last peer searches', () => {
    const input = baseInput();
    const late: PeerLog = { host: 'peer2', group: 'A', records: [rec(4, 1, 1), rec(12, 1, 1)] };
    const out = analyse({ ...input, peers: [...input.peers, late] });
    expect(out.windows.before).toEqual({ fromS: 4, toS: 10 });
    expect(out.resultsPerResponseNetB.before).toBe(10);
  });

  it('leaves the outage unknown (max null) when a peer gets no answer after the switch', () => {
    const input = baseInput();
    const dead = bPeer('peer10', [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const out = analyse({ ...input, peers: [...input.peers, dead] });
    expect(out.outageS.perPeer.find((p) => p.host === 'peer10')?.outageS).toBeNull();
    expect(out.outageS.max).toBeNull();
    expect(out.outageS.median).toBeNull();
  });

  it('without a daemon: no events, "before" spans the whole run, after-figures are empty', () => {
    const out = analyse({ ...baseInput(), activeAt: null, timeline: [], proxySearches: [], rulesLeftAfterStop: null });
    expect(out.detectionDelayS).toBeNull();
    expect(out.windows).toEqual({ before: { fromS: 2, toS: 20 }, after: { fromS: 20, toS: 20 } });
    expect(out.serverQueryRate.after).toBeNull();
    expect(out.proxyQueryRate.after).toBeNull();
    expect(out.outageS.max).toBeNull();
    expect(out.resultsPerResponseNetB.after).toBeNull();
  });
});

describe('detectionDelay', () => {
  const cases: { name: string; timeline: TimelineEntry[]; activeS: number | null; want: number | null }[] = [
    { name: 'crossed after activation', timeline: [ev(8.5, 'crossed'), ev(9.7, 'service_started')], activeS: 8, want: 1.2 },
    { name: 'crossed before activation: counted from it', timeline: [ev(2, 'crossed'), ev(9, 'service_started')], activeS: 8, want: 1 },
    { name: 'latest crossing before the start counts', timeline: [ev(8.2, 'crossed'), ev(8.4, 'released'), ev(9, 'crossed'), ev(9.5, 'service_started')], activeS: 8, want: 0.5 },
    { name: 'no crossing', timeline: [ev(9, 'service_started')], activeS: 8, want: null },
    { name: 'no service', timeline: [ev(9, 'crossed')], activeS: 8, want: null },
    { name: 'a service before activation is not the one', timeline: [ev(1, 'crossed'), ev(2, 'service_started')], activeS: 8, want: null },
    { name: 'no activation time', timeline: [ev(1, 'crossed'), ev(3, 'service_started')], activeS: null, want: 2 },
  ];
  it.each(cases)('$name', ({ timeline, activeS, want }) => {
    const d = detectionDelay(timeline, activeS === null ? null : at(activeS));
    if (want === null) expect(d.delayS).toBeNull();
    else expect(d.delayS).toBeCloseTo(want, 9);
  });
});

describe('peerOutage', () => {
  it('treats an origin answer arriving after the switch to a search sent before it as "before"', () => {
    const o = peerOutage('p', [rec(9.9, 3, 300), rec(10.5, 3, 10)], at(10), T0);
    expect(o.outageS).toBeCloseTo((at(10.5) + 10 - (at(9.9) + 300)) / 1000, 9);
    expect(o.lastAnswerBeforeS).toBeCloseTo(10.2, 9);
  });
  it('ignores timed-out searches', () => {
    const o = peerOutage('p', [rec(9, 3, 5), rec(10, 0, 10_000, 'timeout'), rec(12, 3, 5)], at(10), T0);
    expect(o.outageS).toBeCloseTo(3, 9);
  });
});

describe('median, runEnd, countRulesLeft', () => {
  it.each([
    [[], null],
    [[3], 3],
    [[4, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ] as [number[], number | null][])('median(%j) = %s', (xs, want) => {
    expect(median(xs)).toBe(want);
  });

  it('ends the run at the earliest last search among the peers', () => {
    expect(runEnd([{ host: 'a', group: 'A', records: [rec(1, 0, 1), rec(19, 0, 1)] }, { host: 'b', group: 'B', records: [rec(18, 0, 1)] }], 0)).toBe(at(18));
    expect(runEnd([{ host: 'a', group: 'A', records: [] }], 42)).toBe(42);
  });

  it('finds when every peer searches: the latest first search', () => {
    expect(allSearching([{ host: 'a', group: 'A', records: [rec(3, 0, 1), rec(1, 0, 1)] }, { host: 'b', group: 'B', records: [rec(2, 0, 1)] }], 0)).toBe(at(2));
    expect(allSearching([], 7)).toBe(7);
  });

  it('counts our chains, jumps and tagged rules in iptables-save output', () => {
    const save = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':ACTIVE_ROUTER - [0:0]',
      ':AR-D-0123456789abcdef - [0:0]',
      '-A PREROUTING -m comment --comment active-router -j ACTIVE_ROUTER',
      '-A AR-D-0123456789abcdef -p tcp -j DNAT --to-destination 10.201.2.1:9888',
      '-A POSTROUTING -j MASQUERADE',
      'COMMIT',
    ].join('\n');
    expect(countRulesLeft(save)).toBe(4);
    expect(countRulesLeft('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n')).toBe(0);
  });
});
