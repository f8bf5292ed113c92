/**
 * Retention of the state database: deletes rows older than each table's
 * retention and, independently of age, the oldest rows beyond each table's
 * row cap (a flood can fill the file faster than age alone would bound it).
 * Each call deletes at most `pruneChunkRows` rows per table and reason, so the
 * timer-driven caller never blocks capture for long; `more` says to call again.
 */
import type Database from 'better-sqlite3';
import type { StateSettings } from './settings.js';

export type PrunedTable = 'queries' | 'metric_windows' | 'events' | 'sessions';

export interface PruneReport {
  /** Rows deleted per table because they aged out. */
  age: Record<PrunedTable, number>;
  /** Rows deleted per table because the table exceeded its row cap. */
  cap: Record<PrunedTable, number>;
  /** True when a chunk limit was reached: more rows are due. */
  more: boolean;
}

/**
 * Ids of rows that aged out, per table (`?` is the cut-off time). Queries are found per server
 * through queries_server_ts (one range scan per server), the index the readers need anyway, so no
 * cross-server time index has to be kept up on every insert. Sessions end at close, or at last
 * activity if never closed (the sessions_end expression index).
 */
const AGED_IDS: Record<PrunedTable, string> = {
  queries: 'SELECT q.id FROM servers s JOIN queries q ON q.server_id = s.id AND q.query_ts < ?',
  metric_windows: 'SELECT id FROM metric_windows WHERE ts < ?',
  events: 'SELECT id FROM events WHERE ts < ?',
  sessions: 'SELECT id FROM sessions WHERE coalesce(close_ts, last_seen) < ?',
};

/** The age DELETE of a table (exported for the query-plan test). */
export function agedDeleteSql(table: PrunedTable): string {
  return `DELETE FROM ${table} WHERE id IN (${AGED_IDS[table]} LIMIT ?)`;
}

export const PRUNED_TABLES: readonly PrunedTable[] = ['queries', 'metric_windows', 'events', 'sessions'];

function limits(settings: StateSettings, table: PrunedTable): { retentionMs: number; maxRows: number } {
  switch (table) {
    case 'queries':
      return { retentionMs: settings.retentionMs.queries, maxRows: settings.maxRows.queries };
    case 'metric_windows':
      return { retentionMs: settings.retentionMs.metricWindows, maxRows: settings.maxRows.metricWindows };
    case 'events':
      return { retentionMs: settings.retentionMs.events, maxRows: settings.maxRows.events };
    case 'sessions':
      return { retentionMs: settings.retentionMs.sessions, maxRows: settings.maxRows.sessions };
  }
}

export function pruneState(db: Database.Database, nowTs: number, settings: StateSettings): PruneReport {
  const chunk = settings.pruneChunkRows;
  const report: PruneReport = {
    age: { queries: 0, metric_windows: 0, events: 0, sessions: 0 },
    cap: { queries: 0, metric_windows: 0, events: 0, sessions: 0 },
    more: false,
  };
  db.transaction(() => {
    for (const table of PRUNED_TABLES) {
      const { retentionMs, maxRows } = limits(settings, table);
      // Table and column names come from the constants above, never from input.
      const byAge = db
        .prepare<[number, number]>(agedDeleteSql(table))
        .run(nowTs - retentionMs, chunk);
      report.age[table] = byAge.changes;
      // Ids grow monotonically (INTEGER PRIMARY KEY = max + 1), so ids above max − cap are the newest `cap` rows.
      const byCap = db
        .prepare<[number, number]>(
          `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table}
             WHERE id <= (SELECT max(id) FROM ${table}) - ? ORDER BY id LIMIT ?)`,
        )
        .run(maxRows, chunk);
      report.cap[table] = byCap.changes;
      if (byAge.changes >= chunk || byCap.changes >= chunk) report.more = true;
    }
  })();
  return report;
}
