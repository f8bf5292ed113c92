/**
 * Where the state writer's batches go: straight into SQLite on the calling
 * thread (InlineSink), or to the writer thread (thread-sink.ts). The front
 * (state-writer.ts: validation, bounded queue, timers, counters) is the same
 * for both, so callers see one StateWriter whichever is used.
 */
import type Database from 'better-sqlite3';
import { BatchWriter } from './batch-writer.js';
import type { BatchWriterOptions, BatchWriterOutput } from './batch-writer.js';
import type { PruneReport } from './retention.js';
import type { RowOp } from './row-ops.js';
import type { StateSettings } from './settings.js';

export interface BatchSink {
  /** True when it takes another batch now (false: the writer thread has its bound of batches in hand). */
  ready(): boolean;
  /** Ops handed over and not yet written. */
  readonly inFlight: number;
  write(batch: RowOp[]): void;
  /** Returns once `ready()` is true. */
  waitReady(): void;
  /** Returns once every batch handed over is written and its counts reported. */
  sync(): void;
  /** Writes the sessions a bulk load holds, still open, and ends the hold (after a sync; batch-writer.ts). */
  releaseHeldSessions(): void;
  /** Retention (after a sync); counted through the output like everything else. */
  prune(nowTs: number): PruneReport;
  /** Takes in counts and failures reported so far, without waiting. */
  poll(): void;
  close(): void;
}

/** The writer on the caller's thread and connection: every call is done when it returns. */
export class InlineSink implements BatchSink {
  readonly inFlight = 0;
  private readonly writer: BatchWriter;

  constructor(db: Database.Database, settings: StateSettings, out: BatchWriterOutput, options: BatchWriterOptions = {}) {
    this.writer = new BatchWriter(db, settings, out, options);
  }

  ready(): boolean {
    return true;
  }

  write(batch: RowOp[]): void {
    this.writer.write(batch);
  }

  waitReady(): void {}

  sync(): void {}

  releaseHeldSessions(): void {
    this.writer.releaseHeldSessions();
  }

  prune(nowTs: number): PruneReport {
    return this.writer.prune(nowTs);
  }

  poll(): void {}

  close(): void {}
}
