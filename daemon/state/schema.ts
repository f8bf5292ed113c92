/**
 * The state database schema as numbered migrations, tracked in SQLite's
 * `PRAGMA user_version` (0 = empty file). Each step runs in its own
 * transaction with the version bump, so a failed step leaves the file at the
 * previous version. Tables follow the brief and the paper's section 5.2: the
 * server list and one query-response timestamp table (`queries`, keyed by
 * server), plus metric windows, sessions, an event log and saved counters.
 * A migration, once released, is never edited (files exist in the field): a
 * change is a new step.
 * Times are milliseconds since the epoch (REAL: capture timestamps are fractional).
 */
import type Database from 'better-sqlite3';
import { StateMigrationError, StateMigrationListError, StateSchemaTooNewError } from '../errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE servers (
  id INTEGER PRIMARY KEY,
  ip TEXT NOT NULL,
  port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  protocol TEXT NOT NULL,
  first_seen REAL NOT NULL,
  last_seen REAL NOT NULL,
  learnt TEXT NOT NULL CHECK (learnt IN ('port', 'probe', 'policy')),
  UNIQUE (ip, port, protocol)
) STRICT;

-- The paper's query-response timestamp table, one for all servers.
CREATE TABLE queries (
  id INTEGER PRIMARY KEY,
  server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  client_ip TEXT NOT NULL,
  client_port INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  query_ts REAL NOT NULL,
  first_response_ts REAL,
  done_ts REAL,
  results INTEGER,
  max_results INTEGER,
  keywords TEXT -- JSON array of lower-cased keywords
) STRICT;
-- Identity of a query for first_response/query_done updates (seq alone restarts per flow).
CREATE UNIQUE INDEX queries_key ON queries (server_id, client_ip, client_port, seq, query_ts);
-- Window scans per server by query time and by response time (summary, manager).
CREATE INDEX queries_server_ts ON queries (server_id, query_ts);
CREATE INDEX queries_server_fr ON queries (server_id, first_response_ts) WHERE first_response_ts IS NOT NULL;
-- Retention by age across servers.
CREATE INDEX queries_ts ON queries (query_ts);

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  client_ip TEXT NOT NULL,
  client_port INTEGER NOT NULL,
  open_ts REAL NOT NULL,
  close_ts REAL,
  last_seen REAL NOT NULL,
  nick TEXT,
  files INTEGER
) STRICT;
-- At most one open session per (server, client endpoint).
CREATE UNIQUE INDEX sessions_open ON sessions (server_id, client_ip, client_port) WHERE close_ts IS NULL;
CREATE INDEX sessions_server_open ON sessions (server_id, open_ts);
CREATE INDEX sessions_end ON sessions (coalesce(close_ts, last_seen));

CREATE TABLE metric_windows (
  id INTEGER PRIMARY KEY,
  server_id INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  ts REAL NOT NULL,
  window_ms REAL NOT NULL,
  rt_avg REAL,
  rt_p50 REAL,
  rt_p99 REAL,
  qr_avg REAL,
  queries INTEGER NOT NULL,
  answered INTEGER NOT NULL
) STRICT;
CREATE INDEX metric_windows_server_ts ON metric_windows (server_id, ts);
CREATE INDEX metric_windows_ts ON metric_windows (ts);

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  ts REAL NOT NULL,
  level TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  kind TEXT NOT NULL,
  server_id INTEGER REFERENCES servers (id) ON DELETE SET NULL,
  message TEXT NOT NULL,
  json TEXT
) STRICT;
CREATE INDEX events_ts ON events (ts);

CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value REAL NOT NULL,
  updated REAL NOT NULL
) STRICT;
`,
  },
  {
    version: 2,
    name: 'query rows updated by rowid',
    // The writer now remembers the rowid of each open query (state-writer.ts, open-queries.ts) and
    // updates by it, so the 5-column unique key (with a TEXT column, the costliest index of the
    // hottest table) only slowed every insert. Retention by age walks queries_server_ts per server
    // (retention.ts), so the cross-server queries_ts index is dropped too. The two per-server time
    // indexes carry the other time column, so the summary's counts and RT rows are read from the
    // index alone, without a table lookup per row. Every reader keeps an index-backed plan
    // (query-plan.test.ts).
    sql: `
DROP INDEX queries_key;
DROP INDEX queries_ts;
DROP INDEX queries_server_ts;
DROP INDEX queries_server_fr;
CREATE INDEX queries_server_ts ON queries (server_id, query_ts, first_response_ts);
CREATE INDEX queries_server_fr ON queries (server_id, first_response_ts, query_ts) WHERE first_response_ts IS NOT NULL;
`,
  },
];

export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.length;
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StateMigrationListError(`migration #${i} has version ${m.version}, expected ${i + 1}`);
    }
  });
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings the file up to the last migration; returns the versions applied (empty when already current). */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  checkList(migrations);
  const known = latestVersion(migrations);
  const current = schemaVersion(db);
  if (current > known) throw new StateSchemaTooNewError(current, known);
  const applied: number[] = [];
  for (const m of migrations.slice(current)) {
    try {
      db.transaction(() => {
        db.exec(m.sql);
        // user_version takes no bound parameter; m.version is an integer from our own list.
        db.pragma(`user_version = ${m.version}`);
      })();
    } catch (err) {
      throw new StateMigrationError(m.version - 1, m.version, err);
    }
    applied.push(m.version);
  }
  return applied;
}
