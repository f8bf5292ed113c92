/**
 * The single writer of the state database. Analyzer events (analyzers/events.ts)
 * are validated and queued in memory (bounded; overflow is counted and dropped,
 * so the capture loop never waits on the disk), then handed in batches to a
 * sink (batch-sink.ts) that writes each in one transaction (batch-writer.ts):
 * every `batchRows` queued rows or every `flushIntervalMs`, whichever comes
 * first, yielding to the event loop between batches. The sink writes on this
 * thread, or with `thread` on a worker thread (thread-sink.ts); `flush()`
 * returns once everything queued is written either way.
 */
import type Database from 'better-sqlite3';
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { AnalyzerEvent, FirstResponseEvent, QueryDoneEvent } from '../../analyzers/events.js';
import { StateClosedError, StateSettingsError } from '../errors.js';
import type { MetricsSnapshot } from '../metrics/window.js';
import { InlineSink } from './batch-sink.js';
import type { BatchWriterOptions } from './batch-writer.js';
import type { BatchSink } from './batch-sink.js';
import { BoundedQueue } from './bounded-queue.js';
import type { PruneReport } from './retention.js';
import { isCount, isTs, rowOpOf } from './row-ops.js';
import type { Learnt, RowOp } from './row-ops.js';
import type { StateSettings } from './settings.js';
import { DEFAULT_WRITER_THREAD_ENTRY, ThreadSink } from './thread-sink.js';
import type { WriterThreadEntry } from './thread-sink.js';

export { MAX_SERVER_ID_CACHE } from './batch-writer.js';

export interface StateWriterOptions {
  /** Told about a failed batch commit (disk full, I/O error); the writer itself goes on. */
  onError?: (err: unknown) => void;
  /**
   * Write a batch inside `enqueue` as soon as one is full (replay: no timer runs, and a burst such as
   * the end of a capture closing every flow must not overflow the queue). The live daemon leaves it
   * off so the capture loop never waits on the disk.
   */
  writeWhenFull?: boolean;
  /**
   * Write on a worker thread with its own connection to the file (not for `:memory:`): SQLite's
   * time leaves the capture thread, which pays only for encoding batches. Pays off with a second
   * core; on one core it costs a little more than writing inline. `true` starts the built entry.
   */
  thread?: boolean | WriterThreadEntry;
}

type QueryRowOp = Extract<RowOp, { op: 'query' }>;
type SessionRowOp = Extract<RowOp, { op: 'session_open' | 'session_update' }>;

/** Whether an op and an event (or two ops) name the same server of the same protocol. */
function sameServer(a: { protocol: string; server: Endpoint }, b: { protocol: string; server: Endpoint }): boolean {
  return a.protocol === b.protocol && a.server.ip === b.server.ip && a.server.port === b.server.port;
}

export class StateWriter {
  private readonly queue: BoundedQueue<RowOp>;
  /**
   * Query ops still queued, by the event's client endpoint (the analyzer hands every event of a flow
   * the same object): a query's first response and end usually come within its batch and are folded
   * into its op, so a query costs the capture thread and the writer one op instead of three. Emptied
   * whenever ops leave the queue; a query no longer here is matched by the batch writer instead.
   */
  private queuedQueries = new Map<Endpoint, QueryRowOp[]>();
  /**
   * The same for sessions: the newest queued open/update op of a client endpoint, into which its
   * login and shares events fold (a session's shares come in several events), until it closes.
   */
  private queuedSessions = new Map<Endpoint, SessionRowOp>();
  private readonly sink: BatchSink;
  private readonly counts = new Map<string, number>();
  /**
   * `state.enqueued`, and `state.rows_folded` by folding at enqueue (the batch writer counts its own
   * folds): bumped per event, so kept as plain numbers (a Map update per event cost more than the
   * fold itself) and merged in by `counters()`.
   */
  private enqueuedCount = 0;
  private foldedAtEnqueue = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    db: Database.Database,
    private readonly settings: StateSettings,
    private readonly options: StateWriterOptions = {},
    /** For the batch writer: held sessions in a bulk load (openState sets them; index.ts). */
    batchOptions: BatchWriterOptions = {},
  ) {
    this.queue = new BoundedQueue<RowOp>(settings.queueCap);
    const out = { bump: (name: string, n?: number) => this.bump(name, n), onError: (err: unknown) => this.options.onError?.(err) };
    const thread = options.thread;
    // The thread opens the file itself: an in-memory database would be a different, empty one there.
    if (thread !== undefined && thread !== false && db.memory) throw new StateSettingsError('thread', 'needs a database file, not :memory:');
    this.sink =
      thread === undefined || thread === false
        ? new InlineSink(db, settings, out, batchOptions)
        : new ThreadSink(db.name, settings, out, thread === true ? DEFAULT_WRITER_THREAD_ENTRY : thread, batchOptions);
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
    if ((event.kind === 'first_response' || event.kind === 'query_done') && this.foldIntoQueued(event)) return true;
    const result = rowOpOf(event);
    if (result.kind === 'error') {
      this.bump(result.event);
      return false;
    }
    if (result.truncated) this.bump('state.field_truncated');
    if (result.op.op === 'session_update' && this.foldSessionUpdate(result.op)) return true;
    return this.push(result.op);
  }

  /** Records a server named by the policy (or learnt otherwise) before any traffic is seen. */
  registerServer(server: Endpoint, protocol: string, learnt: Learnt, ts: number): boolean {
    // Validated as a server_seen event would be; the endpoint is copied since the caller may reuse it.
    const event: AnalyzerEvent = { kind: 'server_seen', protocol, server: { ip: server.ip, port: server.port }, ts, learnt: 'port' };
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
    const { rtAvgMs, rtP50Ms, rtP99Ms, qrAvg, queries, answered } = snapshot;
    return this.push({ op: 'metric_window', serverId, ts, windowMs, rtAvgMs, rtP50Ms, rtP99Ms, qrAvg, queries, answered });
  }

  /** Rows not yet written: queued here, or handed to the writer thread. */
  get queued(): number {
    return this.queue.length + this.sink.inFlight;
  }

  /** Writes everything queued now, in transactions of `batchRows`; returns the rows taken off the queue. */
  flush(): number {
    if (this.closed) throw new StateClosedError();
    let taken = 0;
    while (this.queue.length > 0) taken += this.writeBatch(true);
    this.sink.sync();
    return taken;
  }

  /**
   * Flushes, then writes the sessions a bulk load held in memory and still open (held-sessions.ts),
   * and ends the hold; a no-op after that, or outside a bulk load.
   */
  releaseHeldSessions(): void {
    this.flush();
    this.sink.releaseHeldSessions();
  }

  /** Flushes, then deletes rows past retention or row caps (one chunk per table); counted by table and reason. */
  prune(nowTs: number): PruneReport {
    this.flush();
    return this.sink.prune(nowTs);
  }

  /** Counted writes, drops and oddities by stable name. */
  counters(): Record<string, number> {
    this.sink.poll();
    const out = Object.fromEntries(this.counts);
    if (this.enqueuedCount > 0) out['state.enqueued'] = this.enqueuedCount;
    if (this.foldedAtEnqueue > 0) out['state.rows_folded'] = (out['state.rows_folded'] ?? 0) + this.foldedAtEnqueue;
    return out;
  }

  /** Stops timers and writes what is queued; later enqueues are counted as `state.enqueue_after_close`. */
  close(): void {
    if (this.closed) return;
    this.stop();
    try {
      this.releaseHeldSessions();
    } finally {
      this.closed = true;
      this.sink.close();
    }
  }

  /**
   * Folds a first response or end into its query's op while that is still queued; false when there
   * is none (or the fields fail the checks rowOpOf makes), and the event goes the usual way.
   */
  private foldIntoQueued(event: FirstResponseEvent | QueryDoneEvent): boolean {
    if (this.closed) return false;
    const queued = this.queuedQueries.get(event.client);
    if (queued === undefined || !isTs(event.ts)) return false;
    const done = event.kind === 'query_done';
    if (done && !isCount(event.results)) return false;
    for (let i = 0; i < queued.length; i++) {
      const q = queued[i]!;
      // A validated query op matched on seq and query time has already checked those fields of the event.
      if (q.seq !== event.seq || q.ts !== event.queryTs || !sameServer(q, event)) continue;
      // After its end nothing folds into a query; nor after a repeated response, which goes into the
      // queue as an op of its own: an end folded now would overtake it.
      if (done || q.firstResponseTs !== null) {
        queued.splice(i, 1);
        if (queued.length === 0) this.queuedQueries.delete(event.client);
      }
      if (done) {
        q.doneTs = event.ts;
        q.results = event.results;
      } else if (q.firstResponseTs !== null) {
        return false;
      } else {
        q.firstResponseTs = event.ts;
      }
      this.enqueuedCount++;
      this.foldedAtEnqueue++;
      return true;
    }
    return false;
  }

  /** Folds a session's login/shares into its still queued open/update op (the upsert keeps the newest of each field). */
  private foldSessionUpdate(op: SessionRowOp): boolean {
    if (this.closed) return false;
    const q = this.queuedSessions.get(op.client);
    if (q === undefined || !sameServer(q, op)) return false;
    if (op.nick !== null) q.nick = op.nick;
    if (op.files !== null) q.files = op.files;
    if (op.lastSeen > q.lastSeen) q.lastSeen = op.lastSeen;
    this.enqueuedCount++;
    this.foldedAtEnqueue++;
    return true;
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
    if (op.op === 'query') {
      const queued = this.queuedQueries.get(op.client);
      if (queued === undefined) this.queuedQueries.set(op.client, [op]);
      else queued.push(op);
    } else if (op.op === 'session_open' || op.op === 'session_update') {
      this.queuedSessions.set(op.client, op);
    } else if (op.op === 'session_close') {
      this.queuedSessions.delete(op.client);
    }
    this.enqueuedCount++;
    if (this.options.writeWhenFull === true) {
      if (this.queue.length >= this.settings.batchRows) this.writeBatch(true);
      return true;
    }
    // A full batch is written on the next turn of the event loop, not inside the caller's stack.
    if (this.queue.length >= this.settings.batchRows && this.timer !== undefined && this.immediate === undefined) {
      this.immediate = setImmediate(() => this.drainStep());
    }
    return true;
  }

  private drainStep(): void {
    this.immediate = undefined;
    this.sink.poll();
    if (this.closed || this.queue.length === 0) return;
    // The writer thread has its bound of batches in hand: the queue absorbs a burst (the next tick
    // tries again), and only past half its cap does the capture thread wait for the writer (the time
    // writing inline would take anyway) rather than let the queue overflow.
    if (!this.sink.ready() && this.queue.length < Math.max(this.settings.batchRows, this.settings.queueCap / 2)) return;
    this.writeBatch(true);
    if (this.queue.length > 0) this.immediate = setImmediate(() => this.drainStep());
  }

  /** Hands the sink one batch off the front of the queue (waiting for it first when `wait`); returns its size. */
  private writeBatch(wait: boolean): number {
    if (wait) this.sink.waitReady();
    const batch = this.queue.take(this.settings.batchRows);
    // The ops leave (the thread sink encodes them now): nothing may fold into them any more.
    if (this.queuedQueries.size > 0) this.queuedQueries = new Map();
    if (this.queuedSessions.size > 0) this.queuedSessions = new Map();
    this.sink.write(batch);
    return batch.length;
  }

  private bump(name: string, n = 1): void {
    if (n === 0) return;
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }
}
