/**
 * The SQLite side of the state writer: writes one batch of row ops in one
 * IMMEDIATE transaction through prepared statements, on the connection it is
 * given. A query's row is written once, at the end of the batch it arrived
 * in, with its first response and end when they came in the same batch (the
 * usual case); later ones update it by the rowid remembered in OpenQueries.
 * A row that fails a constraint is counted and skipped; a batch whose commit
 * fails is counted as lost, never retried. In a bulk load, sessions are held
 * in memory until they close (held-sessions.ts). Runs on the capture thread
 * (StateWriter) or on the writer thread (writer-thread.ts) alike.
 */
import type Database from 'better-sqlite3';
import type { Endpoint } from '../../analyzers/analyzer.js';
import { EndpointMap } from '../endpoint-map.js';
import { isSqliteError } from '../errors.js';
import { HeldSessions } from './held-sessions.js';
import { OpenQueries } from './open-queries.js';
import type { OpenQuery, OpenQueryDrop } from './open-queries.js';
import { pruneState } from './retention.js';
import type { PruneReport, PrunedTable } from './retention.js';
import type { Learnt, RowOp } from './row-ops.js';
import type { StateSettings } from './settings.js';
import { QUERY_COLUMN_COUNT, QUERY_INSERT_ROWS, prepareWriteStatements } from './statements.js';
import type { QueryValue } from './statements.js';
import type { WriteStatements } from './statements.js';

/** Server ids cached in memory: one per (protocol, ip, port); beyond this the cache is reset (counted). */
export const MAX_SERVER_ID_CACHE = 65_536;

const isConstraintError = (err: unknown): boolean => isSqliteError(err, 'SQLITE_CONSTRAINT');

/** A server row as the batch writer last wrote it (servers are never deleted, so this stays true). */
interface CachedServer {
  id: number;
  learnt: Learnt;
}

type QueryOp = Extract<RowOp, { op: 'query' | 'first_response' | 'query_done' }>;

export interface BatchWriterOptions {
  /**
   * Sessions held in memory until they close (held-sessions.ts), at most this many: a bulk load
   * says MAX_HELD_SESSIONS; 0 (the default) writes every session as it comes, as the live daemon must.
   */
  heldSessionsCap?: number;
}

/** Where the batch writer's counts and failures go (the StateWriter's counters, or the thread's replies). */
export interface BatchWriterOutput {
  bump(name: string, n?: number): void;
  onError(err: unknown): void;
}

/** Writes the values of `q`'s row into `v` from `at`, in the order of the query inserts' columns (statements.ts). */
function queryValues(q: OpenQuery, v: QueryValue[], at: number): void {
  v[at] = q.serverId;
  v[at + 1] = q.clientIp;
  v[at + 2] = q.clientPort;
  v[at + 3] = q.seq;
  v[at + 4] = q.queryTs;
  v[at + 5] = q.keywords;
  v[at + 6] = q.maxResults;
  v[at + 7] = q.firstResponseTs;
  v[at + 8] = q.doneTs;
  v[at + 9] = q.results;
}

/** The newest time an op stands for (with what the front folded into it), for the server's last_seen. */
function newestTs(op: Exclude<RowOp, { op: 'metric_window' }>): number {
  switch (op.op) {
    case 'query':
      return Math.max(op.ts, op.firstResponseTs ?? op.ts, op.doneTs ?? op.ts);
    case 'session_open':
    case 'session_update':
      return Math.max(op.ts, op.lastSeen);
    default:
      return op.ts;
  }
}

export class BatchWriter {
  private readonly stmts: WriteStatements;
  /**
   * Server ids by protocol, ip and port (the hot path builds no key string, and holds nothing per flow),
   * with the `learnt` label the row holds.
   */
  private readonly serverIds = new EndpointMap<CachedServer>();
  private readonly openQueries: OpenQueries;
  private readonly heldSessions: HeldSessions;
  /** The values of one multi-row query insert, reused from chunk to chunk, and of a single-row one. */
  private readonly chunkValues: QueryValue[] = new Array<QueryValue>(QUERY_INSERT_ROWS * QUERY_COLUMN_COUNT).fill(null);
  private readonly rowValues: QueryValue[] = new Array<QueryValue>(QUERY_COLUMN_COUNT).fill(null);

  constructor(
    private readonly db: Database.Database,
    private readonly settings: StateSettings,
    private readonly out: BatchWriterOutput,
    options: BatchWriterOptions = {},
  ) {
    this.stmts = prepareWriteStatements(db);
    this.openQueries = new OpenQueries((reason: OpenQueryDrop, n: number) => this.out.bump(`state.open_query_${reason}`, n));
    this.heldSessions = new HeldSessions(options.heldSessionsCap ?? 0, () => this.out.bump('state.held_sessions_full'));
  }

  /**
   * Writes the held sessions still open as open rows, in one transaction, and ends the hold (the bulk
   * load is over: from now on every session is written as it comes). Counted as
   * `state.held_sessions_written`, or `state.held_sessions_lost` when the commit fails.
   */
  releaseHeldSessions(): void {
    const open = this.heldSessions.drain();
    if (open.length === 0) return;
    let failed = 0;
    try {
      this.db
        .transaction(() => {
          for (const h of open) {
            try {
              this.stmts.insertSession.run(h.serverId, h.ip, h.port, h.openTs, null, h.lastSeen, h.nick, h.files);
            } catch (err) {
              if (!isConstraintError(err)) throw err;
              failed++;
            }
          }
        })
        .immediate();
    } catch (err) {
      this.out.bump('state.held_sessions_lost', open.length);
      this.out.onError(err);
      return;
    }
    this.out.bump('state.row_failed', failed);
    this.out.bump('state.held_sessions_written', open.length - failed);
  }

  /** Deletes rows past retention or row caps (one chunk per table); counted by table and reason. */
  prune(nowTs: number): PruneReport {
    const report = pruneState(this.db, nowTs, this.settings);
    // Rows past retention are gone: their open queries would only turn later responses into misses.
    this.openQueries.expire(nowTs - this.settings.retentionMs.queries);
    for (const table of Object.keys(report.age) as PrunedTable[]) {
      this.out.bump(`state.pruned_age.${table}`, report.age[table]);
      this.out.bump(`state.pruned_cap.${table}`, report.cap[table]);
    }
    return report;
  }

  /** Writes one batch in one transaction; returns the ops taken (all of them, written, folded, failed or lost). */
  write(batch: readonly RowOp[]): number {
    const local = new Map<string, number>();
    const count = (name: string): void => void local.set(name, (local.get(name) ?? 0) + 1);
    /** Query rows first seen in this batch, inserted at its end in arrival order. */
    const pending: OpenQuery[] = [];
    let folded = 0;
    try {
      // IMMEDIATE takes the write lock up front, so a busy file fails the whole batch, not row by row.
      this.db
        .transaction(() => {
          const touched = new Map<number, number>();
          for (const op of batch) {
            try {
              if (this.apply(op, touched, pending, count)) folded++;
            } catch (err) {
              // A constraint failure (e.g. a metric window for a server id that does not exist) undoes only
              // this statement and the batch goes on; anything else (busy, full, I/O) fails the batch.
              if (!isConstraintError(err)) throw err;
              count('state.row_failed');
            }
          }
          this.insertQueries(pending, count);
          for (const [id, ts] of touched) this.stmts.touchServer.run(ts, id);
        })
        .immediate();
    } catch (err) {
      // The commit failed: nothing of this batch is in the file, and cached server ids and remembered
      // query rowids may name rolled-back rows.
      this.serverIds.clear();
      this.out.bump('state.open_query_dropped', this.openQueries.clear());
      // Held sessions may name a server row that was just rolled back (and whose id the next new server
      // gets): they go too, and the hold ends.
      this.out.bump('state.held_sessions_lost', this.heldSessions.drain().length);
      this.out.bump('state.flush_failed');
      this.out.bump('state.rows_lost', batch.length);
      this.out.onError(err);
      return batch.length;
    }
    for (const [name, n] of local) this.out.bump(name, n);
    this.out.bump('state.batches');
    // A first response or end folded into its query's insert is written as part of that row; a held
    // session's open and updates, as part of the row its close (or the load's end) writes.
    this.out.bump('state.rows_folded', folded);
    this.out.bump('state.rows_written', batch.length - folded - (local.get('state.row_failed') ?? 0));
    return batch.length;
  }

  /** Inserts the batch's new query rows in arrival order, QUERY_INSERT_ROWS per statement while there are that many. */
  private insertQueries(pending: readonly OpenQuery[], count: (name: string) => void): void {
    let i = 0;
    for (; i + QUERY_INSERT_ROWS <= pending.length; i += QUERY_INSERT_ROWS) {
      if (this.insertQueryChunk(pending, i)) continue;
      // A row broke a constraint and the statement left nothing behind: row by row, so only that row is lost.
      for (let j = i; j < i + QUERY_INSERT_ROWS; j++) this.insertQuery(pending[j]!, count);
    }
    for (; i < pending.length; i++) this.insertQuery(pending[i]!, count);
  }

  /** One multi-row insert of pending[from, from + QUERY_INSERT_ROWS); false when a row broke a constraint. */
  private insertQueryChunk(pending: readonly OpenQuery[], from: number): boolean {
    const v = this.chunkValues;
    for (let r = 0; r < QUERY_INSERT_ROWS; r++) queryValues(pending[from + r]!, v, r * QUERY_COLUMN_COUNT);
    let last: number;
    try {
      last = Number(this.stmts.insertQueries.run(...v).lastInsertRowid);
    } catch (err) {
      if (!isConstraintError(err)) throw err;
      return false;
    }
    // The rows went in one after another, each taking the next rowid (max + 1: the table has no
    // AUTOINCREMENT and is nowhere near the largest rowid), so the last one's rowid gives them all.
    for (let r = 0; r < QUERY_INSERT_ROWS; r++) {
      const q = pending[from + r]!;
      q.rowid = last - QUERY_INSERT_ROWS + 1 + r;
      q.keywords = null;
    }
    return true;
  }

  private insertQuery(q: OpenQuery, count: (name: string) => void): void {
    try {
      queryValues(q, this.rowValues, 0);
      const info = this.stmts.insertQuery.run(...this.rowValues);
      q.rowid = Number(info.lastInsertRowid);
      q.keywords = null;
    } catch (err) {
      if (!isConstraintError(err)) throw err;
      count('state.row_failed');
      if (this.openQueries.get(q.key, q.queryTs) === q) this.openQueries.delete(q.key);
    }
  }

  /** Applies one op inside the batch's transaction; true when it was folded into a pending query row. */
  private apply(op: RowOp, touched: Map<number, number>, pending: OpenQuery[], count: (name: string) => void): boolean {
    if (op.op === 'metric_window') {
      this.stmts.insertMetricWindow.run(op.serverId, op.ts, op.windowMs, op.rtAvgMs, op.rtP50Ms, op.rtP99Ms, op.qrAvg, op.queries, op.answered);
      return false;
    }
    const id = this.serverId(op.protocol, op.server, op.ts, op.op === 'server' ? op.learnt : null);
    const seen = newestTs(op);
    if ((touched.get(id) ?? -Infinity) < seen) touched.set(id, seen);
    const s = this.stmts;
    switch (op.op) {
      case 'server':
        return false;
      case 'query':
      case 'first_response':
      case 'query_done':
        return this.applyQuery(op, id, pending, count);
      case 'session_open':
      case 'session_update':
        // Held until its close: folded into the one row written then.
        if (this.heldSessions.touch(id, op)) return true;
        s.upsertSession.run(id, op.client.ip, op.client.port, op.ts, op.lastSeen, op.nick, op.files);
        return false;
      case 'session_close': {
        const h = this.heldSessions.take(id, op.client.ip, op.client.port);
        if (h !== undefined) {
          s.insertSession.run(id, h.ip, h.port, h.openTs, op.ts, Math.max(h.lastSeen, op.ts), h.nick, h.files);
        } else if (s.closeSession.run(op.ts, op.ts, id, op.client.ip, op.client.port).changes === 0) {
          count('state.close_without_open');
        }
        return false;
      }
    }
  }

  /** A first response whose query row is not known: kept as a row of its own, counted. */
  private orphanResponse(key: string, serverId: number, op: QueryOp, queryTs: number, pending: OpenQuery[], count: (name: string) => void): void {
    const orphan = this.newOpenQuery(key, serverId, op, queryTs);
    orphan.firstResponseTs = op.ts;
    this.openQueries.set(key, orphan);
    pending.push(orphan);
    count('state.response_without_query');
  }

  private applyQuery(op: QueryOp, serverId: number, pending: OpenQuery[], count: (name: string) => void): boolean {
    const key = OpenQueries.key(serverId, op.client.ip, op.client.port, op.seq);
    const queryTs = op.op === 'query' ? op.ts : op.queryTs;
    const q = this.openQueries.get(key, queryTs);
    const s = this.stmts;
    if (op.op === 'query') {
      if (q === undefined) {
        const fresh = this.newOpenQuery(key, serverId, op, queryTs);
        fresh.keywords = op.keywords;
        fresh.maxResults = op.maxResults;
        fresh.firstResponseTs = op.firstResponseTs;
        fresh.doneTs = op.doneTs;
        fresh.results = op.results;
        // A query that came with its end is over: nothing will update its row.
        if (op.doneTs === null) this.openQueries.set(key, fresh);
        pending.push(fresh);
        return false;
      }
      if (q.rowid === 0) {
        // The same query seen twice, or after an orphan response in this batch: fill in, as an upsert would.
        q.keywords ??= op.keywords;
        q.maxResults ??= op.maxResults;
      } else {
        s.fillQuery.run(op.keywords, op.maxResults, q.rowid);
      }
      // What the front folded into this op goes the way the separate ops would have (rare: a repeat).
      const { protocol, server, client, seq } = op;
      if (op.firstResponseTs !== null) {
        this.applyQuery({ op: 'first_response', protocol, server, ts: op.firstResponseTs, client, seq, queryTs }, serverId, pending, count);
      }
      if (op.doneTs !== null) {
        const done: QueryOp = { op: 'query_done', protocol, server, ts: op.doneTs, client, seq, queryTs, results: op.results ?? 0, keywords: op.keywords };
        this.applyQuery(done, serverId, pending, count);
      }
      return false;
    }
    if (op.op === 'first_response') {
      if (q === undefined) {
        // Paper: time it only against its query; a response without one is kept as an orphan row.
        this.orphanResponse(key, serverId, op, queryTs, pending, count);
        return false;
      }
      if (q.rowid === 0) {
        if (q.firstResponseTs !== null) {
          count('state.response_repeated');
          return false;
        }
        q.firstResponseTs = op.ts;
        return true;
      }
      // Paper: a response for a query whose response time is already filled is ignored.
      if (s.setFirstResponse.run(op.ts, q.rowid).changes > 0) return false;
      if (s.queryRowExists.get(q.rowid) !== undefined) {
        count('state.response_repeated');
        return false;
      }
      // The row was pruned meanwhile: what is left is an orphan response.
      this.openQueries.delete(key);
      this.orphanResponse(key, serverId, op, queryTs, pending, count);
      return false;
    }
    // query_done: the query is over, nothing updates its row after this.
    if (q !== undefined) this.openQueries.delete(key);
    if (q !== undefined && q.rowid === 0 && q.doneTs === null) {
      q.doneTs = op.ts;
      q.results = op.results;
      q.keywords ??= op.keywords;
      return true;
    }
    if (q !== undefined && q.rowid !== 0 && s.setDone.run(op.ts, op.results, op.keywords, q.rowid).changes > 0) return false;
    const orphan = this.newOpenQuery(key, serverId, op, queryTs);
    orphan.doneTs = op.ts;
    orphan.results = op.results;
    orphan.keywords = op.keywords;
    pending.push(orphan);
    count('state.done_without_query');
    return false;
  }

  private newOpenQuery(key: string, serverId: number, op: QueryOp, queryTs: number): OpenQuery {
    return {
      key,
      queryTs,
      rowid: 0,
      serverId,
      clientIp: op.client.ip,
      clientPort: op.client.port,
      seq: op.seq,
      keywords: null,
      maxResults: null,
      firstResponseTs: null,
      doneTs: null,
      results: null,
      stamp: 0,
    };
  }

  private serverId(protocol: string, server: Endpoint, ts: number, learnt: Learnt | null): number {
    const cached = this.serverIds.get(protocol, server.ip, server.port);
    // An explicit event upserts only when it would change the label ('policy' is never downgraded):
    // every session's confirmation names its server again, and the upsert cost 8 µs each time.
    // last_seen is kept by the batch's touch either way.
    if (cached !== undefined && (learnt === null || cached.learnt === learnt || cached.learnt === 'policy')) return cached.id;
    const row =
      learnt === null
        ? this.stmts.upsertServerImplicit.get(server.ip, server.port, protocol, ts, ts)
        : this.stmts.upsertServerExplicit.get(server.ip, server.port, protocol, ts, ts, learnt);
    // RETURNING always yields the row of an upsert; a missing row would be a SQLite bug, surfaced as a batch failure.
    if (row === undefined) throw new Error('server upsert returned no id');
    if (cached === undefined && this.serverIds.size >= MAX_SERVER_ID_CACHE) {
      this.serverIds.clear();
      this.out.bump('state.server_cache_reset');
    }
    this.serverIds.set(protocol, server.ip, server.port, { id: row.id, learnt: row.learnt });
    return row.id;
  }
}
