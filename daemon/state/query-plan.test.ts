// Guards the indexes of schema migration 2: every statement the reader, the writer and retention
// prepare (captured from the real code, not copied) must find its rows of the big tables through an
// index or the rowid, never by scanning them; the summary's per-server count must read the index alone.
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { beginBulkLoad } from './bulk-load.js';
import { PRUNED_TABLES } from './retention.js';
import { prepareWriteStatements } from './statements.js';
import { useTempState } from './test-temp-dir.js';

const temp = useTempState();
afterEach(() => {
  vi.restoreAllMocks();
});

/** The SQL of every statement `run` prepares on `db`. */
function preparedBy(db: Database.Database, run: () => void): string[] {
  const seen: string[] = [];
  const original = db.prepare.bind(db);
  const spy = vi.spyOn(db, 'prepare').mockImplementation(((sql: string) => {
    seen.push(sql);
    return original(sql);
  }) as typeof db.prepare);
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return seen;
}

function plan(db: Database.Database, sql: string): string[] {
  // Our SQL has no '?' inside literals, so this counts its anonymous parameters.
  const params = (sql.match(/\?/g) ?? []).map(() => 1);
  return db
    .prepare<number[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((r) => r.detail);
}

const BIG_TABLES = /\b(?:SCAN|SEARCH) (queries|sessions|metric_windows)\b/;

/** True when a plan step touching a big table is an index or rowid search. */
function indexed(detail: string): boolean {
  if (!BIG_TABLES.test(detail)) return true;
  // A bare `SEARCH t` is SQLite's min/max optimisation (one probe at the end of the rowid tree).
  return /^SEARCH \w+(?: USING (?:COVERING INDEX|INDEX|INTEGER PRIMARY KEY)|$)/.test(detail);
}

describe('query plans over schema 2', () => {
  it('reads every reader statement through an index', () => {
    const { db, reader, writer } = temp.state;
    writer.enqueue({ kind: 'query', protocol: 'opennap', server: { ip: '10.0.0.1', port: 8888 }, ts: 5, client: { ip: '10.0.0.2', port: 4000 }, seq: 0, keywords: ['a'], maxResults: 1 });
    writer.flush();
    const sqls = preparedBy(db, () => {
      reader.serverSummary(1000, 10);
      reader.recentQueries(1, 0);
      reader.queryTimestamps(1, 0);
      reader.responseTimes(1, 0);
      reader.metricWindows(1, 0);
    });
    expect(sqls.length).toBeGreaterThanOrEqual(8);
    for (const sql of sqls) {
      const steps = plan(db, sql);
      expect(steps.filter((d) => !indexed(d)), sql).toEqual([]);
    }
    const count = sqls.find((s) => s.includes('count(first_response_ts)'));
    expect(count).toBeDefined();
    expect(plan(db, count ?? '')).toEqual([expect.stringContaining('USING COVERING INDEX queries_server_ts')]);
  });

  it('finds the rows the writer updates by rowid or index', () => {
    const sqls = preparedBy(temp.state.db, () => void prepareWriteStatements(temp.state.db));
    const updates = sqls.filter((s) => /^\s*(UPDATE|SELECT)/.test(s));
    expect(updates.length).toBeGreaterThanOrEqual(5);
    for (const sql of updates) expect(plan(temp.state.db, sql).filter((d) => !indexed(d)), sql).toEqual([]);
    const byRowid = updates.filter((s) => s.includes('queries'));
    for (const sql of byRowid) expect(plan(temp.state.db, sql).join(' '), sql).toContain('INTEGER PRIMARY KEY');
  });

  it('finds them the same way while a bulk load has left out the deferred indexes', () => {
    const db = temp.state.db;
    expect(beginBulkLoad(db)).toBe(true);
    // Preparing at all shows the session upsert still has its conflict target (sessions_open).
    const sqls = preparedBy(db, () => void prepareWriteStatements(db));
    const updates = sqls.filter((s) => /^\s*(UPDATE|SELECT)/.test(s));
    expect(updates.some((s) => s.includes('sessions'))).toBe(true);
    for (const sql of updates) expect(plan(db, sql).filter((d) => !indexed(d)), sql).toEqual([]);
  });

  it('prunes every table by age and by cap through an index or the rowid', () => {
    const sqls = preparedBy(temp.state.db, () => void temp.state.writer.prune(1e12));
    expect(sqls.length).toBe(PRUNED_TABLES.length * 2);
    for (const sql of sqls) {
      const steps = plan(temp.state.db, sql);
      expect(steps.filter((d) => !indexed(d)), sql).toEqual([]);
    }
    const queriesAge = sqls.find((s) => s.includes('q.query_ts < ?')) ?? '';
    expect(plan(temp.state.db, queriesAge).join(' ')).toContain('queries_server_ts');
  });
});
