/**
 * Bulk loading of a fresh state file (`active-router replay`): the secondary
 * indexes the writer never searches are dropped while the rows go in and
 * built once at the end, as database imports do. For the query table's two
 * time indexes, keeping them current row by row cost a replay about 1.1 µs per
 * index per row, and every commit rewrote their hot pages; for the sessions'
 * open-time and end indexes, each open and close rewrote pages all over both,
 * a fifth to a third of the writer's time on the benchmark capture (BENCHMARKS.md).
 * One sort at the end costs less. The writer updates query rows by rowid and
 * finds open sessions through `sessions_open`, which stays; readers and
 * retention need the others, so nothing else runs on the file until
 * `endBulkLoad`. A file left without them (the process died mid-load) gets
 * them back when it is next opened (`ensureDeferredIndexes`, open-database.ts).
 */
import type Database from 'better-sqlite3';

export interface DeferredIndex {
  table: 'queries' | 'sessions';
  name: string;
  sql: string;
}

/**
 * The indexes a bulk load leaves out, as the latest migration leaves them (schema.ts: migration 1
 * for the sessions', 2 for the queries'; migrations are never edited, so this repeats their text, and
 * bulk-load.test.ts checks the two agree).
 */
export const DEFERRED_INDEXES: readonly DeferredIndex[] = [
  { table: 'queries', name: 'queries_server_ts', sql: 'CREATE INDEX queries_server_ts ON queries (server_id, query_ts, first_response_ts)' },
  {
    table: 'queries',
    name: 'queries_server_fr',
    sql: 'CREATE INDEX queries_server_fr ON queries (server_id, first_response_ts, query_ts) WHERE first_response_ts IS NOT NULL',
  },
  { table: 'sessions', name: 'sessions_server_open', sql: 'CREATE INDEX sessions_server_open ON sessions (server_id, open_ts)' },
  { table: 'sessions', name: 'sessions_end', sql: 'CREATE INDEX sessions_end ON sessions (coalesce(close_ts, last_seen))' },
];

/**
 * Drops the deferred indexes when the query and session tables are both empty (a file this load just
 * created, or one that never saw traffic); true when it did. A file with rows keeps them: rebuilding
 * indexes over rows already there would cost more than it saves.
 */
export function beginBulkLoad(db: Database.Database): boolean {
  if (db.prepare('SELECT 1 FROM queries UNION ALL SELECT 1 FROM sessions LIMIT 1').get() !== undefined) return false;
  db.transaction(() => {
    for (const index of DEFERRED_INDEXES) db.exec(`DROP INDEX IF EXISTS ${index.name}`);
  })();
  return true;
}

/** Names of the indexes `table` has now, sorted. */
export function indexNames(db: Database.Database, table: DeferredIndex['table']): string[] {
  return db
    .prepare<[string], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name`)
    .all(table)
    .map((r) => r.name);
}

/** Creates whichever deferred index is missing (one sort of its table each); returns the names created. */
export function ensureDeferredIndexes(db: Database.Database): string[] {
  const present = new Set([...indexNames(db, 'queries'), ...indexNames(db, 'sessions')]);
  const missing = DEFERRED_INDEXES.filter((index) => !present.has(index.name));
  if (missing.length > 0) {
    db.transaction(() => {
      for (const index of missing) db.exec(index.sql);
    })();
  }
  return missing.map((index) => index.name);
}
