import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { AnalyzerEvent } from '../../analyzers/events.js';
import { StateClosedError } from '../errors.js';
import { openState } from './index.js';
import type { OpenStateOptions, StateHandle } from './index.js';
import { makeTempDir } from './test-temp-dir.js';

const S: Endpoint = { ip: '10.0.0.1', port: 8888 };
const A: Endpoint = { ip: '10.0.0.2', port: 4000 };
const B: Endpoint = { ip: '10.0.0.3', port: 4001 };
const P = 'opennap';

const q = (client: Endpoint, seq: number, ts: number, keywords = ['song']): AnalyzerEvent => ({
  kind: 'query', protocol: P, server: S, ts, client, seq, keywords, maxResults: 10,
});
const fr = (client: Endpoint, seq: number, queryTs: number, ts: number): AnalyzerEvent => ({
  kind: 'first_response', protocol: P, server: S, ts, client, seq, queryTs,
});

let tmp: ReturnType<typeof makeTempDir>;
let state: StateHandle | undefined;
const open = (options: OpenStateOptions = {}): StateHandle => {
  state = openState(tmp.path('state.db'), { queryRateN: 4, ...options });
  return state;
};
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => {
  vi.useRealTimers();
  state?.close();
  state = undefined;
  tmp.remove();
});

describe('StateWriter → StateReader round trip', () => {
  it('turns analyzer events into exact per-server summary figures', () => {
    const { writer, reader } = open();
    const events: AnalyzerEvent[] = [
      { kind: 'server_seen', protocol: P, server: S, ts: 1000, learnt: 'port' },
      { kind: 'session_open', protocol: P, server: S, ts: 1000, client: A },
      { kind: 'login', protocol: P, server: S, ts: 1010, client: A, nick: 'alice' },
      { kind: 'shares', protocol: P, server: S, ts: 1020, client: A, files: 12 },
      { kind: 'session_open', protocol: P, server: S, ts: 1500, client: B },
      q(A, 0, 2000, ['blue', 'moon']),
      q(A, 1, 2100),
      q(B, 0, 2200),
      q(B, 1, 2300),
      fr(A, 0, 2000, 2050), // RT 50
      fr(A, 1, 2100, 2250), // RT 150
      fr(B, 0, 2200, 2500), // RT 300; B1 stays unanswered
      fr(A, 0, 2000, 2070), // a later response packet for the same query: ignored (paper)
      { kind: 'query_done', protocol: P, server: S, ts: 2060, client: A, seq: 0, queryTs: 2000, results: 3, resultPayloads: [], keywords: ['blue', 'moon'] },
      { kind: 'session_close', protocol: P, server: S, ts: 3000, client: B },
    ];
    for (const e of events) expect(writer.enqueue(e)).toBe(true);
    // The three first responses came while their queries were queued: folded into those ops. A0's end
    // came after a repeated response, which is queued as an op, so the end queues behind it (in order).
    // A's login and shares folded into its queued session_open.
    expect(writer.queued).toBe(events.length - 5);
    expect(writer.flush()).toBe(events.length - 5);

    const [summary, ...others] = reader.serverSummary(10_000, 10_000);
    expect(others).toEqual([]);
    expect(summary).toMatchObject({
      address: '10.0.0.1:8888',
      protocol: 'opennap',
      learnt: 'port',
      clients: 2,
      queries: 4,
      answered: 3,
      unanswered: 1,
      rtP50Ms: 150,
      rtP99Ms: 300,
      firstSeen: 1000,
      lastSeen: 3000,
    });
    expect(summary?.rtAvgMs).toBeCloseTo(500 / 3, 9);
    expect(summary?.qrAvg).toBeCloseTo(4 / 0.3, 9); // N = 4 over 2000..2300

    const id = summary?.serverId ?? -1;
    const rows = reader.recentQueries(id, 0);
    expect(rows.map((r) => [r.client, r.seq, r.queryTs, r.firstResponseTs])).toEqual([
      ['10.0.0.2:4000', 0, 2000, 2050],
      ['10.0.0.2:4000', 1, 2100, 2250],
      ['10.0.0.3:4001', 0, 2200, 2500],
      ['10.0.0.3:4001', 1, 2300, null],
    ]);
    expect(rows[0]).toMatchObject({ doneTs: 2060, results: 3, maxResults: 10, keywords: ['blue', 'moon'] });
    expect(reader.queryTimestamps(id, 2050)).toEqual([2100, 2200, 2300]);
    expect(reader.responseTimes(id, 2100).map((s) => s.rtMs)).toEqual([150, 300]);
    // Four first responses / ends were folded into their query's insert (three in the queue, one in the
    // batch), and the login and shares into the session's.
    expect(writer.counters()).toMatchObject({
      'state.enqueued': events.length,
      'state.rows_folded': 6,
      'state.rows_written': events.length - 6,
      'state.response_repeated': 1,
    });

    // A window that starts after the queries: no queries, only client B's closed session does not overlap.
    const later = reader.serverSummary(1000, 10_000)[0];
    expect(later).toMatchObject({ queries: 0, clients: 1, rtAvgMs: null, qrAvg: null });
  });

  it('records responses and ends without a stored query, and closes without an open session, by name', () => {
    const { writer, reader } = open();
    writer.enqueue(fr(A, 7, 500, 600));
    writer.enqueue({ kind: 'query_done', protocol: P, server: S, ts: 700, client: A, seq: 8, queryTs: 650, results: 0, resultPayloads: [], keywords: [] });
    writer.enqueue({ kind: 'session_close', protocol: P, server: S, ts: 800, client: B });
    writer.flush();
    expect(writer.counters()).toMatchObject({
      'state.response_without_query': 1,
      'state.done_without_query': 1,
      'state.close_without_open': 1,
    });
    const [server] = reader.listServers();
    expect(server).toMatchObject({ learnt: 'port', firstSeen: 600, lastSeen: 800 }); // first event seen at 600
    // the query that arrives late fills in its keywords on the orphan row
    writer.enqueue(q(A, 7, 500, ['late']));
    writer.flush();
    const rows = reader.recentQueries(server?.id ?? -1, 0);
    expect(rows[0]).toMatchObject({ seq: 7, firstResponseTs: 600, keywords: ['late'] });
  });

  it('keeps a policy-named server labelled policy when traffic later shows it', () => {
    const { writer, reader } = open();
    writer.registerServer(S, P, 'policy', 100);
    writer.enqueue({ kind: 'server_seen', protocol: P, server: S, ts: 200, learnt: 'probe' });
    writer.enqueue({ kind: 'server_seen', protocol: P, server: B, ts: 300, learnt: 'probe' });
    writer.flush();
    expect(reader.listServers().map((s) => [s.address, s.learnt, s.firstSeen, s.lastSeen])).toEqual([
      ['10.0.0.1:8888', 'policy', 100, 200],
      ['10.0.0.3:4001', 'probe', 300, 300],
    ]);
  });

  it('follows a server label across batches, where the cached id skips unchanged labels', () => {
    const { writer, reader } = open();
    const label = (): string | undefined => reader.listServers()[0]?.learnt;
    writer.enqueue(q(A, 0, 100)); // implied by a query: 'port'
    writer.flush();
    expect(label()).toBe('port');
    writer.enqueue({ kind: 'server_seen', protocol: P, server: S, ts: 200, learnt: 'port' });
    writer.enqueue({ kind: 'server_seen', protocol: P, server: S, ts: 300, learnt: 'probe' });
    writer.flush();
    expect(label()).toBe('probe');
    writer.registerServer(S, P, 'policy', 400);
    writer.flush();
    writer.enqueue({ kind: 'server_seen', protocol: P, server: S, ts: 500, learnt: 'probe' });
    writer.flush();
    expect(reader.listServers().map((s) => [s.learnt, s.firstSeen, s.lastSeen])).toEqual([['policy', 100, 500]]);
  });

  it('counts invalid events and a failed row without losing the rest of the batch', () => {
    const { writer, reader } = open();
    expect(writer.enqueue({ ...q(A, 0, 1), ts: Number.NaN } as AnalyzerEvent)).toBe(false);
    writer.enqueue(q(A, 0, 1));
    const snap = { rtAvgMs: 1, rtP50Ms: 1, rtP99Ms: 1, qrAvg: 2, queries: 3, answered: 2, unanswered: 1, samples: 2, qrSamples: 1, truncated: false };
    writer.recordMetricWindow(9999, 5, 1000, snap); // no such server: foreign key fails for this row only
    writer.flush();
    const id = reader.listServers()[0]?.id ?? -1;
    writer.recordMetricWindow(id, 5, 1000, snap);
    writer.flush();
    expect(writer.counters()).toMatchObject({ 'state.invalid_event': 1, 'state.row_failed': 1 });
    expect(reader.queryTimestamps(id, 0)).toEqual([1]);
    expect(reader.metricWindows(id, 0)).toEqual([
      { serverId: id, ts: 5, windowMs: 1000, rtAvgMs: 1, rtP50Ms: 1, rtP99Ms: 1, qrAvg: 2, queries: 3, answered: 2 },
    ]);
  });
});

describe('StateWriter open queries (rows updated by rowid)', () => {
  const done = (client: Endpoint, seq: number, queryTs: number, ts: number, results: number): AnalyzerEvent => ({
    kind: 'query_done', protocol: P, server: S, ts, client, seq, queryTs, results, resultPayloads: [], keywords: ['song'],
  });

  it('updates a query written in an earlier batch, ignores a repeated response, and forgets it once done', () => {
    const { writer, reader } = open();
    writer.enqueue(q(A, 0, 100));
    writer.enqueue(q(B, 0, 100)); // same seq and time, other client: its own row
    writer.flush();
    writer.enqueue(fr(A, 0, 100, 130));
    writer.flush();
    writer.enqueue(fr(A, 0, 100, 140)); // paper: the first response time is kept
    writer.enqueue(done(A, 0, 100, 150, 7));
    writer.flush();
    const id = reader.listServers()[0]?.id ?? -1;
    expect(reader.recentQueries(id, 0).map((r) => [r.client, r.firstResponseTs, r.doneTs, r.results])).toEqual([
      ['10.0.0.2:4000', 130, 150, 7],
      ['10.0.0.3:4001', null, null, null],
    ]);
    expect(writer.counters()).toMatchObject({ 'state.response_repeated': 1 });
    // After its end nothing updates that row: a later response is an orphan row, counted.
    writer.enqueue(fr(A, 0, 100, 160));
    writer.flush();
    expect(writer.counters()).toMatchObject({ 'state.response_without_query': 1 });
    expect(reader.recentQueries(id, 0)).toHaveLength(3);
  });

  it('inserts a batch of new queries fifty rows to a statement, and later responses update the right rows', () => {
    const { writer, reader, db } = open();
    // A query the database refuses (a constraint, as a trigger raises it) sits in the second chunk of fifty.
    db.exec(`CREATE TRIGGER refuse_seq_77 BEFORE INSERT ON queries WHEN NEW.seq = 77 AND NEW.first_response_ts IS NULL BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    const n = 123; // two full chunks and a tail of 23 written row by row
    for (let i = 0; i < n; i++) writer.enqueue(q(A, i, 1000 + i));
    writer.flush();
    for (let i = 0; i < n; i++) writer.enqueue(fr(A, i, 1000 + i, 1000 + i + 0.25));
    writer.flush();
    const id = reader.listServers()[0]?.id ?? -1;
    const rows = reader.recentQueries(id, 0);
    expect(rows).toHaveLength(n);
    // Every row but the refused one got its own response; that one's response became an orphan row.
    for (const r of rows) expect(r.firstResponseTs).toBe(r.queryTs + 0.25);
    expect(rows.filter((r) => r.seq === 77).map((r) => r.keywords)).toEqual([[]]);
    expect(rows.filter((r) => r.seq !== 77).every((r) => r.seq === r.queryTs - 1000 && r.keywords[0] === 'song')).toBe(true);
    expect(writer.counters()).toMatchObject({ 'state.row_failed': 1, 'state.response_without_query': 1 });
  });

  it('tells a query of a new flow from an old one with the same client endpoint and seq', () => {
    const { writer, reader } = open();
    writer.enqueue(q(A, 0, 100));
    writer.flush();
    writer.enqueue(q(A, 0, 500)); // the client reconnected from the same port: seq restarts
    writer.enqueue(fr(A, 0, 500, 520));
    writer.flush();
    writer.enqueue(fr(A, 0, 100, 600)); // the old query is no longer remembered
    writer.flush();
    const id = reader.listServers()[0]?.id ?? -1;
    expect(reader.recentQueries(id, 0).map((r) => [r.queryTs, r.firstResponseTs])).toEqual([
      [100, null],
      [100, 600],
      [500, 520],
    ]);
    // Replaced twice: the new flow's query replaced the old one, then the orphan row replaced it in turn.
    expect(writer.counters()).toMatchObject({ 'state.open_query_replaced': 2, 'state.response_without_query': 1 });
  });

  it('turns a response to a query whose row retention removed into an orphan row, and forgets expired queries', () => {
    const { writer, reader } = open({ settings: { retentionMs: { queries: 1000 } } });
    writer.enqueue(q(A, 0, 100));
    writer.enqueue(q(A, 1, 5000));
    writer.flush();
    writer.prune(2000); // deletes the row of query 0 and forgets it
    expect(writer.counters()).toMatchObject({ 'state.pruned_age.queries': 1, 'state.open_query_expired': 1 });
    writer.enqueue(fr(A, 0, 100, 2100));
    writer.enqueue(fr(A, 1, 5000, 5100));
    writer.flush();
    const id = reader.listServers()[0]?.id ?? -1;
    expect(reader.recentQueries(id, 0).map((r) => [r.queryTs, r.firstResponseTs])).toEqual([
      [100, 2100],
      [5000, 5100],
    ]);
    expect(writer.counters()['state.response_without_query']).toBe(1);
  });

  it('folds a first response and end into their query while it is queued, and only then', () => {
    const { writer, reader } = open();
    const copyOfA = { ...A }; // same endpoint, another object: not the flow that queued the query
    writer.enqueue(q(A, 0, 100));
    writer.enqueue(q(A, 1, 110));
    writer.enqueue(fr(A, 0, 100, 120)); // folded
    writer.enqueue(fr(A, 5, 105, 125)); // no such query queued: an op of its own (an orphan row)
    writer.enqueue(done(A, 0, 100, 130, -1)); // a bad count is not folded: rowOpOf refuses it, counted
    writer.enqueue(done(A, 0, 100, 140, 4)); // folded
    writer.enqueue(fr(copyOfA, 1, 110, 150)); // not the same object: left to the batch writer, which folds it
    expect(writer.queued).toBe(4);
    writer.flush();
    writer.enqueue(done(A, 1, 110, 160, 2)); // its query has left the queue: updates its row by rowid
    expect(writer.queued).toBe(1);
    writer.flush();
    const id = reader.listServers()[0]?.id ?? -1;
    expect(reader.recentQueries(id, 0).map((r) => [r.queryTs, r.firstResponseTs, r.doneTs, r.results])).toEqual([
      [100, 120, 140, 4],
      [105, 125, null, null],
      [110, 150, 160, 2],
    ]);
    expect(writer.counters()).toMatchObject({
      'state.enqueued': 7,
      'state.rows_folded': 3,
      'state.rows_written': 4,
      'state.invalid_event': 1,
      'state.response_without_query': 1,
    });
  });

  it("folds a session's login and shares into its queued open, and keeps each session's own row", () => {
    const { writer, reader, db } = open();
    const ev = (kind: 'session_open' | 'session_close', ts: number): AnalyzerEvent => ({ kind, protocol: P, server: S, ts, client: A });
    const shares = (files: number, ts: number): AnalyzerEvent => ({ kind: 'shares', protocol: P, server: S, ts, client: A, files });
    writer.enqueue(ev('session_open', 1000));
    writer.enqueue({ kind: 'login', protocol: P, server: S, ts: 1010, client: A, nick: 'alice' });
    writer.enqueue(shares(12, 1020));
    writer.enqueue(shares(15, 1030));
    expect(writer.queued).toBe(1);
    writer.flush();
    writer.enqueue(shares(20, 1040)); // the open has left the queue: an upsert of its own
    writer.enqueue(ev('session_close', 1050));
    writer.enqueue(shares(21, 1060)); // after the close: not folded into the closed session
    writer.enqueue(ev('session_open', 2000)); // the client's next connection
    writer.enqueue({ kind: 'login', protocol: P, server: S, ts: 2010, client: A, nick: 'alice2' });
    writer.flush();
    const rows = db.prepare('SELECT open_ts, last_seen, close_ts, nick, files FROM sessions ORDER BY id').all();
    expect(rows).toEqual([
      { open_ts: 1000, last_seen: 1050, close_ts: 1050, nick: 'alice', files: 20 },
      { open_ts: 1060, last_seen: 2010, close_ts: null, nick: 'alice2', files: 21 },
    ]);
    expect(reader.listServers()[0]?.lastSeen).toBe(2010);
    expect(writer.counters()).toMatchObject({ 'state.enqueued': 9, 'state.rows_folded': 4, 'state.rows_written': 5 });
  });

  it('writes batches inside enqueue when asked (replay), so a burst beyond the queue cap is not dropped', () => {
    const { writer, reader } = open({ settings: { queueCap: 10, batchRows: 10 }, writeWhenFull: true });
    for (let i = 0; i < 35; i++) expect(writer.enqueue(q(A, i, 100 + i))).toBe(true);
    expect(writer.queued).toBe(5);
    writer.flush();
    expect(writer.counters()['state.queue_overflow']).toBeUndefined();
    expect(reader.queryTimestamps(reader.listServers()[0]?.id ?? -1, 0)).toHaveLength(35);
  });
});

describe('StateWriter queue and batching', () => {
  it('counts queue overflow and drops only the excess', () => {
    const { writer, reader } = open({ settings: { queueCap: 5, batchRows: 5 } });
    const accepted = [0, 1, 2, 3, 4, 5, 6].map((i) => writer.enqueue(q(A, i, 100 + i)));
    expect(accepted).toEqual([true, true, true, true, true, false, false]);
    expect(writer.counters()['state.queue_overflow']).toBe(2);
    writer.flush();
    expect(reader.queryTimestamps(reader.listServers()[0]?.id ?? -1, 0)).toHaveLength(5);
  });

  it('writes on the interval and as soon as a full batch is queued, in transactions of batchRows', () => {
    vi.useFakeTimers();
    const { writer } = open({ settings: { batchRows: 10, flushIntervalMs: 100 } });
    writer.start();
    writer.enqueue(q(A, 0, 1));
    vi.advanceTimersByTime(99);
    expect(writer.queued).toBe(1);
    vi.advanceTimersByTime(1);
    expect(writer.queued).toBe(0);
    for (let i = 1; i <= 25; i++) writer.enqueue(q(A, i, 1 + i));
    expect(writer.queued).toBe(25); // never written inside enqueue
    // the scheduled immediate drains it one batch per turn of the event loop
    const left: number[] = [];
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersToNextTimer(); // the pending immediate, due before the next interval tick
      left.push(writer.queued);
    }
    expect(left).toEqual([15, 5, 0]);
    expect(writer.counters()).toMatchObject({ 'state.batches': 4, 'state.rows_written': 26 });
  });

  it('counts a batch lost when the file is locked by another writer, and recovers', () => {
    const onError = vi.fn();
    const { writer, reader, db } = open({ onError });
    db.pragma('busy_timeout = 0');
    const other = new Database(tmp.path('state.db'));
    other.exec('BEGIN IMMEDIATE');
    writer.enqueue(q(A, 0, 1));
    writer.enqueue(q(A, 1, 2));
    writer.flush();
    expect(writer.counters()).toMatchObject({ 'state.flush_failed': 1, 'state.rows_lost': 2 });
    expect(onError).toHaveBeenCalledTimes(1);
    other.exec('ROLLBACK');
    other.close();
    writer.enqueue(q(A, 2, 3));
    writer.flush();
    expect(reader.queryTimestamps(reader.listServers()[0]?.id ?? -1, 0)).toEqual([3]);
  });

  it('flushes on close, keeps the rows across re-open, and refuses work after close', () => {
    const first = open();
    first.writer.enqueue(q(A, 0, 42));
    first.close();
    expect(first.writer.enqueue(q(A, 1, 43))).toBe(false);
    expect(first.writer.counters()['state.enqueue_after_close']).toBe(1);
    expect(() => first.writer.flush()).toThrow(StateClosedError);
    expect(() => first.reader.listServers()).toThrow(StateClosedError);
    const second = open();
    expect(second.reader.queryTimestamps(second.reader.listServers()[0]?.id ?? -1, 0)).toEqual([42]);
  });
});

describe('retention', () => {
  it('prunes rows past retention and beyond row caps, in chunks, counted by table and reason', () => {
    const { writer, reader } = open({
      settings: { retentionMs: { queries: 1000, events: 1000 }, maxRows: { queries: 3 }, pruneChunkRows: 2 },
    });
    for (let i = 0; i < 8; i++) writer.enqueue(q(A, i, 9000 + i * 100)); // 9000..9700
    writer.flush();
    reader.logEvent({ ts: 100, level: 'info', kind: 'old', message: 'old' });
    reader.logEvent({ ts: 9500, level: 'info', kind: 'new', message: 'new' });
    // now 10_150: queries before 9150 (9000, 9100) are too old; then the cap keeps the newest 3
    const r1 = writer.prune(10_150);
    expect(r1.age).toMatchObject({ queries: 2, events: 1 });
    expect(r1.cap.queries).toBe(2); // chunk limit of 2 reached
    expect(r1.more).toBe(true);
    const r2 = writer.prune(10_150);
    expect(r2.cap.queries).toBe(1);
    expect(r2.more).toBe(false);
    const id = reader.listServers()[0]?.id ?? -1;
    expect(reader.queryTimestamps(id, 0)).toEqual([9500, 9600, 9700]);
    expect(reader.events().map((e) => e.kind)).toEqual(['new']);
    expect(writer.counters()).toMatchObject({
      'state.pruned_age.queries': 2,
      'state.pruned_cap.queries': 3,
      'state.pruned_age.events': 1,
    });
  });
});

describe('event log and counters', () => {
  it('logs events newest first with bounded detail and saves counters', () => {
    const { reader } = open();
    reader.logEvent({ ts: 1, level: 'info', kind: 'daemon_started', message: 'started' });
    reader.logEvent({ ts: 2, level: 'warn', kind: 'bottleneck', message: 'server busy', data: { rtAvgMs: 900 } });
    reader.logEvent({ ts: 3, level: 'error', kind: 'huge', message: 'x', data: 'y'.repeat(20_000) });
    const events = reader.events(10);
    expect(events.map((e) => [e.kind, e.level, e.serverId])).toEqual([
      ['huge', 'error', null],
      ['bottleneck', 'warn', null],
      ['daemon_started', 'info', null],
    ]);
    expect(events[1]?.data).toEqual({ rtAvgMs: 900 });
    expect(events[0]?.data).toMatchObject({ truncated: true });
    expect(reader.events(1)).toHaveLength(1);

    reader.saveCounters({ 'state.rows_written': 10, 'opennap.length_mismatch': 2 }, 100);
    reader.saveCounters({ 'state.rows_written': 12 }, 200);
    expect(reader.counters()).toEqual([
      { name: 'opennap.length_mismatch', value: 2, updated: 100 },
      { name: 'state.rows_written', value: 12, updated: 200 },
    ]);
  });
});
