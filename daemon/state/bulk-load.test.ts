import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { AnalyzerEvent } from '../../analyzers/events.js';
import { DEFERRED_INDEXES, beginBulkLoad, ensureDeferredIndexes, indexNames } from './bulk-load.js';
import { openState } from './index.js';
import type { OpenStateOptions } from './index.js';
import { openDatabase } from './open-database.js';
import { MIGRATIONS, migrate } from './schema.js';
import { makeTempDir } from './test-temp-dir.js';

const S: Endpoint = { ip: '10.0.0.1', port: 8888 };
const P = 'opennap';

let tmp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => tmp.remove());

/** Every index of the two tables as the migrations leave them, and the ones a bulk load keeps. */
const ALL = {
  queries: ['queries_server_fr', 'queries_server_ts'],
  sessions: ['sessions_end', 'sessions_open', 'sessions_server_open'],
};
const KEPT = { queries: [], sessions: ['sessions_open'] };
const indexesOf = (db: Database.Database) => ({ queries: indexNames(db, 'queries'), sessions: indexNames(db, 'sessions') });

/** The events of `n` clients' queries: each asked, answered after `rt` and ended after `done` ms, or left open. */
function conversation(steps: readonly { client: number; rt: number | null; done: number | null }[]): AnalyzerEvent[] {
  const events: { e: AnalyzerEvent; at: number; order: number }[] = [];
  const seqs = new Map<number, number>();
  const clients = new Map<number, Endpoint>();
  steps.forEach((s, i) => {
    const client: Endpoint = clients.get(s.client) ?? { ip: `10.0.1.${s.client}`, port: 4000 + s.client };
    if (!clients.has(s.client)) {
      clients.set(s.client, client);
      events.push({ e: { kind: 'session_open', protocol: P, server: S, client, ts: 1000 + i * 10 - 1 }, at: 1000 + i * 10 - 1, order: events.length });
      events.push({ e: { kind: 'shares', protocol: P, server: S, client, files: i, ts: 1000 + i * 10 - 1 }, at: 1000 + i * 10 - 1, order: events.length });
    }
    const seq = seqs.get(s.client) ?? 0;
    seqs.set(s.client, seq + 1);
    const ts = 1000 + i * 10;
    events.push({ e: { kind: 'query', protocol: P, server: S, ts, client, seq, keywords: ['k' + String(i % 3)], maxResults: 10 }, at: ts, order: events.length });
    if (s.rt !== null) {
      events.push({ e: { kind: 'first_response', protocol: P, server: S, ts: ts + s.rt, client, seq, queryTs: ts }, at: ts + s.rt, order: events.length });
      if (s.done !== null) {
        const e: AnalyzerEvent = { kind: 'query_done', protocol: P, server: S, ts: ts + s.rt + s.done, client, seq, queryTs: ts, results: 2, resultPayloads: [], keywords: ['k'] };
        events.push({ e, at: ts + s.rt + s.done, order: events.length });
      }
    }
  });
  // Odd clients leave after everything else; even ones stay connected.
  for (const [n, client] of clients) {
    if (n % 2 === 1) events.push({ e: { kind: 'session_close', protocol: P, server: S, client, ts: 100_000 + n }, at: 100_000 + n, order: events.length });
  }
  // Capture order: by time, ties in the order they were made (a query before its own answer).
  return events.sort((a, b) => a.at - b.at || a.order - b.order).map((x) => x.e);
}

/** Writes `events` into a fresh file and returns its query and session rows and summary (and the indexes seen while loading). */
function load(events: readonly AnalyzerEvent[], name: string, options: OpenStateOptions) {
  const state = openState(tmp.path(name), { queryRateN: 2, writeWhenFull: true, settings: { batchRows: 3 }, ...options });
  try {
    state.writer.registerServer(S, P, 'policy', 0);
    for (const e of events) state.writer.enqueue(e);
    state.writer.flush();
    const duringLoad = indexesOf(state.db);
    state.endBulkLoad();
    const rows = state.db.prepare('SELECT * FROM queries ORDER BY id').all();
    // Without ids: a bulk load writes a session's row at its close (held-sessions.ts).
    const sessions = state.db
      .prepare('SELECT server_id, client_ip, client_port, open_ts, close_ts, last_seen, nick, files FROM sessions ORDER BY server_id, client_ip, client_port, open_ts')
      .all();
    return { rows, sessions, summary: state.reader.serverSummary(100_000, 100_000), duringLoad, after: indexesOf(state.db) };
  } finally {
    state.close();
  }
}

describe('bulk load (replay into a fresh file)', () => {
  it('names the deferred indexes exactly as the migrations create them', () => {
    const db = openDatabase(tmp.path('state.db'));
    const names = DEFERRED_INDEXES.map((i) => i.name);
    const sql = db
      .prepare<[], { name: string; tbl_name: string; sql: string }>(`SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name`)
      .all()
      .filter((r) => names.includes(r.name));
    db.close();
    const normal = (s: string) => s.replace(/\s+/g, ' ').trim();
    expect(sql.map((r) => ({ table: r.tbl_name, name: r.name, sql: normal(r.sql) }))).toEqual(
      [...DEFERRED_INDEXES].sort((a, b) => a.name.localeCompare(b.name)).map((i) => ({ table: i.table, name: i.name, sql: normal(i.sql) })),
    );
  });

  it('writes the same rows and summary as a load that keeps its indexes, and builds them at the end', () => {
    const step = fc.record({
      client: fc.integer({ min: 1, max: 4 }),
      rt: fc.option(fc.integer({ min: 1, max: 80 }), { nil: null }),
      done: fc.option(fc.integer({ min: 0, max: 80 }), { nil: null }),
    });
    let run = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const events = conversation(steps);
        run++;
        const plain = load(events, `plain-${run}.db`, {});
        const bulk = load(events, `bulk-${run}.db`, { bulkLoad: true });
        expect(plain.duringLoad).toEqual(ALL);
        expect(bulk.duringLoad).toEqual(KEPT);
        expect(bulk.after).toEqual(ALL);
        expect(bulk.rows).toEqual(plain.rows);
        expect(bulk.sessions).toEqual(plain.sessions);
        expect(bulk.summary).toEqual(plain.summary);
      }),
      { numRuns: 40 },
    );
  });

  it('leaves the indexes of a file that already has query rows', () => {
    const path = tmp.path('state.db');
    const first = openState(path, { queryRateN: 2 });
    first.writer.enqueue({ kind: 'query', protocol: P, server: S, ts: 1, client: { ip: '10.0.1.1', port: 4001 }, seq: 0, keywords: ['a'], maxResults: 1 });
    first.close();
    const again = openState(path, { queryRateN: 2, bulkLoad: true });
    expect(again.bulkLoading).toBe(false);
    expect(indexesOf(again.db)).toEqual(ALL);
    again.close();
  });

  it('leaves the indexes of a file that already has sessions but no query rows', () => {
    const path = tmp.path('state.db');
    const first = openState(path, { queryRateN: 2 });
    first.writer.enqueue({ kind: 'session_open', protocol: P, server: S, ts: 1, client: { ip: '10.0.1.1', port: 4001 } });
    first.close();
    const again = openState(path, { queryRateN: 2, bulkLoad: true });
    expect(again.bulkLoading).toBe(false);
    expect(indexesOf(again.db)).toEqual(ALL);
    again.close();
  });

  it('builds the indexes on close when the load ends without endBulkLoad', () => {
    const path = tmp.path('state.db');
    const state = openState(path, { queryRateN: 2, bulkLoad: true });
    expect(state.bulkLoading).toBe(true);
    state.writer.enqueue({ kind: 'query', protocol: P, server: S, ts: 1, client: { ip: '10.0.1.1', port: 4001 }, seq: 0, keywords: ['a'], maxResults: 1 });
    state.close();
    const db = new Database(path, { readonly: true });
    expect(indexesOf(db)).toEqual(ALL);
    expect(db.prepare('SELECT count(*) AS n FROM queries').get()).toEqual({ n: 1 });
    db.close();
  });

  it('gets the indexes back when a file left mid-load is opened again', () => {
    const path = tmp.path('state.db');
    const raw = new Database(path);
    migrate(raw, MIGRATIONS);
    expect(beginBulkLoad(raw)).toBe(true);
    raw.close(); // the process died here
    const db = openDatabase(path);
    expect(indexesOf(db)).toEqual(ALL);
    expect(ensureDeferredIndexes(db)).toEqual([]);
    db.close();
  });

  it('still opens a file left mid-load while another connection holds the write lock', () => {
    const path = tmp.path('state.db');
    const loader = new Database(path);
    loader.pragma('journal_mode = WAL');
    migrate(loader, MIGRATIONS);
    beginBulkLoad(loader);
    loader.prepare('BEGIN IMMEDIATE').run();
    try {
      // The reader cannot build the indexes now (SQLITE_BUSY after its busy timeout), and opens anyway.
      const reader = openDatabase(path);
      expect(indexesOf(reader)).toEqual(KEPT);
      reader.close();
    } finally {
      loader.prepare('ROLLBACK').run();
      loader.close();
    }
  });
});
