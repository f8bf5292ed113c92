/**
 * Prepared write statements of the state writer, one per row operation of
 * row-ops.ts, over the schema of schema.ts. Prepared once per connection.
 * Query rows are updated by rowid (the writer remembers open queries,
 * open-queries.ts); the first response fills first_response_ts only while it
 * is NULL, as the paper's "if the response timestamp field is zero" rule says.
 * A response or end whose query is unknown inserts an orphan row through
 * insertQuery with the query's fields NULL.
 */
import type Database from 'better-sqlite3';
import type { Learnt } from './row-ops.js';

/**
 * Query rows one INSERT takes when a batch has that many new ones: one call into SQLite instead of
 * fifty (each call binds and steps a statement and returns a fresh result object). The values go in
 * as arguments, not as one array, which better-sqlite3 reads element by element through V8's
 * generic lookup (0.5–0.7 against 0.7–1.3 µs a row, measured alone; BENCHMARKS.md). 500 parameters
 * are far under SQLite's limit of 32,766.
 */
export const QUERY_INSERT_ROWS = 50;

const QUERY_COLUMNS = '(server_id, client_ip, client_port, seq, query_ts, keywords, max_results, first_response_ts, done_ts, results)';
/** Values per query row, in QUERY_COLUMNS' order. */
export const QUERY_COLUMN_COUNT = 10;
export type QueryValue = string | number | null;
const QUERY_ROW = `(${Array.from({ length: QUERY_COLUMN_COUNT }, () => '?').join(', ')})`;

export function prepareWriteStatements(db: Database.Database) {
  return {
    /** Creates or touches a server named by an explicit event; a 'policy' label is never downgraded. */
    upsertServerExplicit: db.prepare<[string, number, string, number, number, string], { id: number; learnt: Learnt }>(
      `INSERT INTO servers (ip, port, protocol, first_seen, last_seen, learnt) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (ip, port, protocol) DO UPDATE SET
         last_seen = max(last_seen, excluded.last_seen),
         first_seen = min(first_seen, excluded.first_seen),
         learnt = CASE WHEN learnt = 'policy' THEN learnt ELSE excluded.learnt END
       RETURNING id, learnt`,
    ),
    /** Creates a server implied by a query/session event (as 'port'), or finds it. */
    upsertServerImplicit: db.prepare<[string, number, string, number, number], { id: number; learnt: Learnt }>(
      `INSERT INTO servers (ip, port, protocol, first_seen, last_seen, learnt) VALUES (?, ?, ?, ?, ?, 'port')
       ON CONFLICT (ip, port, protocol) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen)
       RETURNING id, learnt`,
    ),
    touchServer: db.prepare<[number, number]>(`UPDATE servers SET last_seen = max(last_seen, ?) WHERE id = ?`),
    /** A query row with what the batch knows of it (its first response and end when they came in the same batch). */
    insertQuery: db.prepare<QueryValue[]>(`INSERT INTO queries ${QUERY_COLUMNS} VALUES ${QUERY_ROW}`),
    /** QUERY_INSERT_ROWS query rows, their values one row after another. */
    insertQueries: db.prepare<QueryValue[]>(
      `INSERT INTO queries ${QUERY_COLUMNS} VALUES ${Array.from({ length: QUERY_INSERT_ROWS }, () => QUERY_ROW).join(', ')}`,
    ),
    /** A query that arrives after an orphan response/end created its row fills in what it knows. */
    fillQuery: db.prepare<[string, number | null, number]>(
      `UPDATE queries SET keywords = coalesce(keywords, ?), max_results = coalesce(max_results, ?) WHERE id = ?`,
    ),
    setFirstResponse: db.prepare<[number, number]>(
      `UPDATE queries SET first_response_ts = ? WHERE id = ? AND first_response_ts IS NULL`,
    ),
    /** Tells a repeated response (row there, already answered) from a row retention removed. */
    queryRowExists: db.prepare<[number], { one: number }>(`SELECT 1 AS one FROM queries WHERE id = ?`),
    setDone: db.prepare<[number, number, string, number]>(
      `UPDATE queries SET done_ts = ?, results = ?, keywords = coalesce(keywords, ?) WHERE id = ?`,
    ),
    /** Opens (or touches) the open session of a client; login/shares details fill in when given. */
    upsertSession: db.prepare<[number, string, number, number, number, string | null, number | null]>(
      `INSERT INTO sessions (server_id, client_ip, client_port, open_ts, last_seen, nick, files)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (server_id, client_ip, client_port) WHERE close_ts IS NULL DO UPDATE SET
         last_seen = max(last_seen, excluded.last_seen),
         nick = coalesce(excluded.nick, nick),
         files = coalesce(excluded.files, files)`,
    ),
    /** A whole session row at once: a bulk load's held session (held-sessions.ts), at its close or the load's end. */
    insertSession: db.prepare<[number, string, number, number, number | null, number, string | null, number | null]>(
      `INSERT INTO sessions (server_id, client_ip, client_port, open_ts, close_ts, last_seen, nick, files)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    closeSession: db.prepare<[number, number, number, string, number]>(
      `UPDATE sessions SET close_ts = ?, last_seen = max(last_seen, ?)
       WHERE server_id = ? AND client_ip = ? AND client_port = ? AND close_ts IS NULL`,
    ),
    insertMetricWindow: db.prepare<
      [number, number, number, number | null, number | null, number | null, number | null, number, number]
    >(
      `INSERT INTO metric_windows (server_id, ts, window_ms, rt_avg, rt_p50, rt_p99, qr_avg, queries, answered)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
}

export type WriteStatements = ReturnType<typeof prepareWriteStatements>;
