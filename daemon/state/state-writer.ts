/**
 * The single writer of the state database. Analyzer events (analyzers/events.ts)
 * are validated and queued in memory (bounded; overflow is counted and dropped,
 * so the capture loop never waits on the disk), then written in batched
 * transactions through prepared statements: every `batchRows` queued rows or
 * every `flushIntervalMs`, whichever comes first, yielding to the event loop
 * between batches. A row that fails is counted and skipped; a batch whose
 * commit fails is counted as lost, never retried forever.
 */
import type Database from 'better-sqlite3';
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { AnalyzerEvent } from '../../analyzers/events.js';
import { StateClosedError } from '../errors.js';
import type { MetricsSnapshot } from '../metrics/window.js';
import { BoundedQueue } from './bounded-queue.js';
import { pruneState } from './retention.js';
import type { PruneReport, PrunedTable } from './retention.js';
import { rowOpOf } from './row-ops.js';
import type { Learnt, RowOp, ServerKey } from './row-ops.js';
import type { StateSettings } from './settings.js';
import { prepareWriteStatements } from './statements.js';
import type { WriteStatements } from './statements.js';

/** Server ids cached in memory: one per (protocol, ip, port); beyond this the cache is reset (counted). */
export const MAX_SERVER_ID_CACHE = 65_536;

function isConstraintError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
}

export interface StateWriterOptions {
  /** Told about a failed batch commit (disk full, I/O error); the writer itself goes on. */
  onError?: (err: unknown) => void;
}

export class StateWriter {
  private readonly queue: BoundedQueue<RowOp>;
  private readonly stmts: WriteStatements;
  private readonly serverIds = new Map<string, number>();
  private readonly counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    private readonly settings: StateSettings,
    private readonly options: StateWriterOptions = {},
  ) {
    this.queue = new BoundedQueue<RowOp>(settings.queueCap);
    this.stmts = prepareWriteStatements(db);
  }

  /** Starts the flush timer (unref'd: it never keeps the process alive on its own). */
  start(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setInterval(() => this.drainStep(), this.settings.flushIntervalMs);
    this.timer.unref();
  }

  /** Stops the timers; queued rows stay queued until `flush()`. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** Queues one analyzer event; false when it was dropped (invalid, queue full, closed), and counted why. */
  enqueue(event: AnalyzerEvent): boolean {
    const result = rowOpOf(event);
    if (result.kind === 'error') {
      this.bump(result.event);
      return false;
    }
    if (result.truncated) this.bump('state.field_truncated');
    return this.push(result.op);
  }

  /** Records a server named by the policy (or learnt otherwise) before any traffic is seen. */
  registerServer(server: Endpoint, protocol: string, learnt: Learnt, ts: number): boolean {
    const event: AnalyzerEvent = { kind: 'server_seen', protocol, server, ts, learnt: 'port' };
    const result = rowOpOf(event);
    if (result.kind === 'error' || result.op.op !== 'server') {
      this.bump('state.invalid_event');
      return false;
    }
    return this.push({ ...result.op, learnt });
  }

  /** Stores one metric snapshot of a server (the manager's tick). */
  recordMetricWindow(serverId: number, ts: number, windowMs: number, snapshot: MetricsSnapshot): boolean {
    if (!Number.isSafeInteger(serverId) || !Number.isFinite(ts) || !Number.isFinite(windowMs)) {
      this.bump('state.invalid_event');
      return false;
    }
    return this.push({ op: 'metric_window', serverId, ts, windowMs, snapshot });
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Writes everything queued now, in transactions of `batchRows`; returns the rows taken off the queue. */
  flush(): number {
    if (this.closed) throw new StateClosedError();
    let taken = 0;
    while (this.queue.length > 0) taken += this.writeBatch(this.queue.take(this.settings.batchRows));
    return taken;
  }

  /** Flushes, then deletes rows past retention or row caps (one chunk per table); counted by table and reason. */
  prune(nowTs: number): PruneReport {
    this.flush();
    const report = pruneState(this.db, nowTs, this.settings);
    for (const table of Object.keys(report.age) as PrunedTable[]) {
      this.bump(`state.pruned_age.${table}`, report.age[table]);
      this.bump(`state.pruned_cap.${table}`, report.cap[table]);
    }
    return report;
  }

  /** Counted writes, drops and oddities by stable name. */
  counters(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Stops timers and writes what is queued; later enqueues are counted as `state.enqueue_after_close`. */
  close(): void {
    if (this.closed) return;
    this.stop();
    this.flush();
    this.closed = true;
  }

  private push(op: RowOp): boolean {
    if (this.closed) {
      this.bump('state.enqueue_after_close');
      return false;
    }
    if (!this.queue.push(op)) {
      this.bump('state.queue_overflow');
      return false;
    }
    this.bump('state.enqueued');
    // A full batch is written on the next turn of the event loop, not inside the caller's stack.
    if (this.queue.length >= this.settings.batchRows && this.timer !== undefined && this.immediate === undefined) {
      this.immediate = setImmediate(() => this.drainStep());
    }
    return true;
  }

  private drainStep(): void {
    this.immediate = undefined;
    if (this.closed || this.queue.length === 0) return;
    this.writeBatch(this.queue.take(this.settings.batchRows));
    if (this.queue.length > 0) this.immediate = setImmediate(() => this.drainStep());
  }

  /**
   * Folds a query's first response and end into its own insert when they are
   * in the same batch (the usual case: answers take milliseconds, batches
   * 100 ms), so most queries cost one row write instead of an insert and two
   * updates. Order is kept for everything else.
   */
  private coalesce(ops: RowOp[]): RowOp[] {
    const open = new Map<string, Extract<RowOp, { op: 'query' }>>();
    const keyOf = (server: { protocol: string; ip: string; port: number }, k: { clientIp: string; clientPort: number; seq: number; queryTs: number }): string =>
      `${server.protocol}|${server.ip}|${server.port}|${k.clientIp}|${k.clientPort}|${k.seq}|${k.queryTs}`;
    const out: RowOp[] = [];
    let folded = 0;
    for (const op of ops) {
      if (op.op === 'query') {
        const copy = { ...op };
        open.set(keyOf(op.server, op.key), copy);
        out.push(copy);
        continue;
      }
      if (op.op === 'first_response' || op.op === 'query_done') {
        const q = open.get(keyOf(op.server, op.key));
        if (q && op.op === 'first_response' && q.firstResponseTs === undefined && q.done === undefined) {
          q.firstResponseTs = op.ts;
          folded++;
          continue;
        }
        if (q && op.op === 'query_done' && q.done === undefined) {
          q.done = { ts: op.ts, results: op.results };
          folded++;
          continue;
        }
      }
      out.push(op);
    }
    if (folded > 0) this.bump('state.rows_folded', folded);
    return out;
  }

  private writeBatch(batch: RowOp[]): number {
    const ops = this.coalesce(batch);
    const local = new Map<string, number>();
    const count = (name: string): void => void local.set(name, (local.get(name) ?? 0) + 1);
    try {
      // IMMEDIATE takes the write lock up front, so a busy file fails the whole batch, not row by row.
      this.db
        .transaction(() => {
          const touched = new Map<number, number>();
          for (const op of ops) {
            try {
              this.apply(op, touched, count);
            } catch (err) {
              // A constraint failure (e.g. a metric window for a server id that does not exist) undoes only
              // this statement and the batch goes on; anything else (busy, full, I/O) fails the batch.
              if (!isConstraintError(err)) throw err;
              count('state.row_failed');
            }
          }
          for (const [id, ts] of touched) this.stmts.touchServer.run(ts, id);
        })
        .immediate();
    } catch (err) {
      // The commit failed: nothing of this batch is in the file, and cached server ids may name rolled-back rows.
      this.serverIds.clear();
      this.bump('state.flush_failed');
      this.bump('state.rows_lost', batch.length);
      this.options.onError?.(err);
      return batch.length;
    }
    for (const [name, n] of local) this.bump(name, n);
    this.bump('state.batches');
    this.bump('state.rows_written', ops.length - (local.get('state.row_failed') ?? 0));
    return batch.length;
  }

  private apply(op: RowOp, touched: Map<number, number>, count: (name: string) => void): void {
    if (op.op === 'metric_window') {
      const s = op.snapshot;
      this.stmts.insertMetricWindow.run(
        op.serverId,
        op.ts,
        op.windowMs,
        s.rtAvgMs,
        s.rtP50Ms,
        s.rtP99Ms,
        s.qrAvg,
        s.queries,
        s.answered,
      );
      return;
    }
    const id = this.serverId(op.server, op.ts, op.op === 'server' ? op.learnt : null);
    if ((touched.get(id) ?? -Infinity) < op.ts) touched.set(id, op.ts);
    const s = this.stmts;
    switch (op.op) {
      case 'server':
        return;
      case 'query': {
        const k = op.key;
        if (op.firstResponseTs !== undefined || op.done !== undefined) {
          s.upsertQueryFull.run(id, k.clientIp, k.clientPort, k.seq, k.queryTs, op.keywords, op.maxResults, op.firstResponseTs ?? null, op.done?.ts ?? null, op.done?.results ?? null);
        } else {
          s.upsertQuery.run(id, k.clientIp, k.clientPort, k.seq, k.queryTs, op.keywords, op.maxResults);
        }
        return;
      }
      case 'first_response': {
        const k = op.key;
        if (s.setFirstResponse.run(op.ts, id, k.clientIp, k.clientPort, k.seq, k.queryTs).changes > 0) return;
        const inserted = s.insertOrphanResponse.run(id, k.clientIp, k.clientPort, k.seq, k.queryTs, op.ts).changes;
        // Paper: a response for a query whose response time is already filled is ignored.
        count(inserted > 0 ? 'state.response_without_query' : 'state.response_repeated');
        return;
      }
      case 'query_done': {
        const k = op.key;
        if (s.setDone.run(op.ts, op.results, op.keywords, id, k.clientIp, k.clientPort, k.seq, k.queryTs).changes > 0) {
          return;
        }
        s.insertOrphanDone.run(id, k.clientIp, k.clientPort, k.seq, k.queryTs, op.ts, op.results, op.keywords);
        count('state.done_without_query');
        return;
      }
      case 'session_open':
        s.upsertSession.run(id, op.clientIp, op.clientPort, op.ts, op.ts, null, null);
        return;
      case 'session_update':
        s.upsertSession.run(id, op.clientIp, op.clientPort, op.ts, op.ts, op.nick, op.files);
        return;
      case 'session_close':
        if (s.closeSession.run(op.ts, op.ts, id, op.clientIp, op.clientPort).changes === 0) {
          count('state.close_without_open');
        }
        return;
    }
  }

  private serverId(server: ServerKey, ts: number, learnt: Learnt | null): number {
    const key = `${server.protocol}\u0000${server.ip}\u0000${server.port}`;
    const cached = this.serverIds.get(key);
    if (cached !== undefined && learnt === null) return cached;
    const row =
      learnt === null
        ? this.stmts.upsertServerImplicit.get(server.ip, server.port, server.protocol, ts, ts)
        : this.stmts.upsertServerExplicit.get(server.ip, server.port, server.protocol, ts, ts, learnt);
    // RETURNING always yields the row of an upsert; a missing row would be a SQLite bug, surfaced as a batch failure.
    if (row === undefined) throw new Error('server upsert returned no id');
    if (this.serverIds.size >= MAX_SERVER_ID_CACHE) {
      this.serverIds.clear();
      this.bump('state.server_cache_reset');
    }
    this.serverIds.set(key, row.id);
    return row.id;
  }

  private bump(name: string, n = 1): void {
    if (n === 0) return;
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }
}
