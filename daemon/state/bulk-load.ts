/**
 * Bulk loading of a fresh state file (`active-router replay`): the query
 * table's two time indexes are dropped while the rows go in and built once at
 * the end, as database imports do. Keeping them current row by row cost a
 * replay about 1.1 µs per index per row, and every commit rewrote their hot
 * pages (BENCHMARKS.md); one sort at the end costs less than both. The
 * writer only updates query rows by rowid, so it needs neither index while
 * loading; readers and retention do, so nothing else runs on the file until
 * `endBulkLoad`. A file left without them (the process died mid-load) gets
 * them back when it is next opened (`ensureQueryIndexes`, open-database.ts).
 */
import type Database from 'better-sqlite3';

/**
 * The query table's secondary indexes as the latest migration leaves them (schema.ts, migration 2:
 * migrations are never edited, so this repeats its text; bulk-load.test.ts checks the two agree).
 */
export const QUERY_TIME_INDEXES: readonly { name: string; sql: string }[] = [
  { name: 'queries_server_ts', sql: 'CREATE INDEX queries_server_ts ON queries (server_id, query_ts, first_response_ts)' },
  {
    name: 'queries_server_fr',
    sql: 'CREATE INDEX queries_server_fr ON queries (server_id, first_response_ts, query_ts) WHERE first_response_ts IS NOT NULL',
  },
];

/**
 * Drops the query time indexes when the query table is empty (a file this load just created, or one
 * with no query rows); true when it did. A table with rows keeps them: rebuilding indexes over rows
 * already there would cost more than it saves.
 */
export function beginBulkLoad(db: Database.Database): boolean {
  if (db.prepare('SELECT 1 FROM queries LIMIT 1').get() !== undefined) return false;
  db.transaction(() => {
    for (const index of QUERY_TIME_INDEXES) db.exec(`DROP INDEX IF EXISTS ${index.name}`);
  })();
  return true;
}

/** Names of the indexes the query table has now, sorted. */
export function queryIndexNames(db: Database.Database): string[] {
  return db
    .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'queries' ORDER BY name`)
    .all()
    .map((r) => r.name);
}

/** Creates whichever query time index is missing (one sort of the table each); returns the names created. */
export function ensureQueryIndexes(db: Database.Database): string[] {
  const present = new Set(queryIndexNames(db));
  const missing = QUERY_TIME_INDEXES.filter((index) => !present.has(index.name));
  if (missing.length > 0) {
    db.transaction(() => {
      for (const index of missing) db.exec(index.sql);
    })();
  }
  return missing.map((index) => index.name);
}
