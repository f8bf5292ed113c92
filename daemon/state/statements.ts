/**
 * Prepared write statements of the state writer, one per row operation of
 * row-ops.ts, over the schema of schema.ts. Prepared once per connection.
 * Query rows are identified by (server, client ip, client port, seq, query
 * time); the first response fills first_response_ts only while it is NULL,
 * as the paper's "if the response timestamp field is zero" rule says.
 */
import type Database from 'better-sqlite3';

export function prepareWriteStatements(db: Database.Database) {
  return {
    /** Creates or touches a server named by an explicit event; a 'policy' label is never downgraded. */
    upsertServerExplicit: db.prepare<[string, number, string, number, number, string], { id: number }>(
      `INSERT INTO servers (ip, port, protocol, first_seen, last_seen, learnt) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (ip, port, protocol) DO UPDATE SET
         last_seen = max(last_seen, excluded.last_seen),
         first_seen = min(first_seen, excluded.first_seen),
         learnt = CASE WHEN learnt = 'policy' THEN learnt ELSE excluded.learnt END
       RETURNING id`,
    ),
    /** Creates a server implied by a query/session event (as 'port'), or finds it. */
    upsertServerImplicit: db.prepare<[string, number, string, number, number], { id: number }>(
      `INSERT INTO servers (ip, port, protocol, first_seen, last_seen, learnt) VALUES (?, ?, ?, ?, ?, 'port')
       ON CONFLICT (ip, port, protocol) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen)
       RETURNING id`,
    ),
    touchServer: db.prepare<[number, number]>(`UPDATE servers SET last_seen = max(last_seen, ?) WHERE id = ?`),
    /** A query row; if an orphan response created it first, the query fills in what it knows. */
    upsertQuery: db.prepare<[number, string, number, number, number, string, number | null]>(
      `INSERT INTO queries (server_id, client_ip, client_port, seq, query_ts, keywords, max_results)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (server_id, client_ip, client_port, seq, query_ts) DO UPDATE SET
         keywords = coalesce(keywords, excluded.keywords),
         max_results = coalesce(max_results, excluded.max_results)`,
    ),
    /** A query whose first response and end arrived in the same batch: one row write instead of three. */
    upsertQueryFull: db.prepare<[number, string, number, number, number, string, number | null, number | null, number | null, number | null]>(
      `INSERT INTO queries (server_id, client_ip, client_port, seq, query_ts, keywords, max_results, first_response_ts, done_ts, results)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (server_id, client_ip, client_port, seq, query_ts) DO UPDATE SET
         keywords = coalesce(keywords, excluded.keywords),
         max_results = coalesce(max_results, excluded.max_results),
         first_response_ts = coalesce(first_response_ts, excluded.first_response_ts),
         done_ts = coalesce(excluded.done_ts, done_ts),
         results = coalesce(excluded.results, results)`,
    ),
    setFirstResponse: db.prepare<[number, number, string, number, number, number]>(
      `UPDATE queries SET first_response_ts = ?
       WHERE server_id = ? AND client_ip = ? AND client_port = ? AND seq = ? AND query_ts = ?
         AND first_response_ts IS NULL`,
    ),
    /** A response whose query row is missing (queue overflow, pruned, capture started mid-query). */
    insertOrphanResponse: db.prepare<[number, string, number, number, number, number]>(
      `INSERT INTO queries (server_id, client_ip, client_port, seq, query_ts, first_response_ts)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    setDone: db.prepare<[number, number, string, number, string, number, number, number]>(
      `UPDATE queries SET done_ts = ?, results = ?, keywords = coalesce(keywords, ?)
       WHERE server_id = ? AND client_ip = ? AND client_port = ? AND seq = ? AND query_ts = ?`,
    ),
    insertOrphanDone: db.prepare<[number, string, number, number, number, number, number, string]>(
      `INSERT INTO queries (server_id, client_ip, client_port, seq, query_ts, done_ts, results, keywords)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
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
