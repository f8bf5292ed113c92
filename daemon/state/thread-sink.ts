/**
 * The state writer's batches written on a worker thread (writer-thread.ts),
 * so SQLite's time leaves the capture thread when a second core is free.
 * Batches go as compact columns (op-codec.ts), at most MAX_INFLIGHT_BATCHES at
 * once (the front's bounded queue absorbs the rest and counts what it drops).
 * `sync()` blocks on a shared control word (Atomics.wait), so `flush()` still
 * means "written" when it returns; counts and failed commits come back on a
 * port read synchronously (receiveMessageOnPort), never through the event loop.
 */
import Database from 'better-sqlite3';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { StateWriterThreadError } from '../errors.js';
import type { BatchWriterOptions, BatchWriterOutput } from './batch-writer.js';
import type { BatchSink } from './batch-sink.js';
import { encodeOps } from './op-codec.js';
import type { PruneReport } from './retention.js';
import type { RowOp } from './row-ops.js';
import type { StateSettings } from './settings.js';
import { CTRL_ACKED_BATCHES, CTRL_ACKED_OPS, CTRL_DONE_ID, CTRL_FATAL, CTRL_WORDS } from './writer-protocol.js';
import type { FromWriter, ToWriter, WriterThreadData } from './writer-protocol.js';

/** Batches handed to the thread and not yet written: enough to keep it busy, bounding memory to a few batches. */
export const MAX_INFLIGHT_BATCHES = 4;
/** Longest `sync()` waits for the thread: far beyond a few batches and a prune chunk; past it the thread is stuck. */
export const SYNC_TIMEOUT_MS = 60_000;

/** How the thread is started: the built entry by default; tests pass a bootstrap that can load TypeScript. */
export interface WriterThreadEntry {
  script: string | URL;
  eval: boolean;
}

export const DEFAULT_WRITER_THREAD_ENTRY: WriterThreadEntry = { script: new URL('./writer-thread.js', import.meta.url), eval: false };

export class ThreadSink implements BatchSink {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * Int32Array.BYTES_PER_ELEMENT));
  private readonly worker: Worker;
  private readonly replies: MessagePort;
  private postedOps = 0;
  private postedBatches = 0;
  private syncId = 0;
  private lastPrune: PruneReport | undefined;
  private dead: string | undefined;

  constructor(
    path: string,
    settings: StateSettings,
    private readonly out: BatchWriterOutput,
    entry: WriterThreadEntry = DEFAULT_WRITER_THREAD_ENTRY,
    options: BatchWriterOptions = {},
  ) {
    const { port1, port2 } = new MessageChannel();
    this.replies = port1;
    const workerData: WriterThreadData = {
      path,
      settings,
      heldSessionsCap: options.heldSessionsCap ?? 0,
      ctrl: this.ctrl.buffer as SharedArrayBuffer,
      replies: port2,
    };
    this.worker = new Worker(entry.script, { eval: entry.eval, workerData, transferList: [port2] });
    // Neither keeps the process alive: close() writes what is queued, like the inline writer's timer.
    this.worker.unref();
    this.replies.unref();
    this.worker.on('error', (err) => void (this.dead ??= err.message));
  }

  get inFlight(): number {
    return (this.postedOps - Atomics.load(this.ctrl, CTRL_ACKED_OPS)) | 0;
  }

  ready(): boolean {
    return ((this.postedBatches - Atomics.load(this.ctrl, CTRL_ACKED_BATCHES)) | 0) < MAX_INFLIGHT_BATCHES;
  }

  write(batch: RowOp[]): void {
    this.check();
    const ops = encodeOps(batch);
    this.worker.postMessage({ t: 'batch', ops } satisfies ToWriter, [ops.nums.buffer as ArrayBuffer]);
    this.postedOps = (this.postedOps + ops.n) | 0;
    this.postedBatches = (this.postedBatches + 1) | 0;
  }

  /** Blocks until the thread has taken `ready()` back to true (the front has a full batch to hand over). */
  waitReady(): void {
    if (!this.ready()) this.request({});
  }

  sync(): void {
    this.request({});
  }

  releaseHeldSessions(): void {
    this.request({ releaseHeld: true });
  }

  prune(nowTs: number): PruneReport {
    this.lastPrune = undefined;
    this.request({ pruneTs: nowTs });
    const report = this.lastPrune as PruneReport | undefined;
    if (report === undefined) throw new StateWriterThreadError('prune answered without a report');
    return report;
  }

  poll(): void {
    for (let m = receiveMessageOnPort(this.replies); m !== undefined; m = receiveMessageOnPort(this.replies)) {
      const r = m.message as FromWriter;
      for (const [name, n] of r.counts) this.out.bump(name, n);
      for (const e of r.errors) this.out.onError(new Database.SqliteError(e.message, e.code));
      if (r.prune !== undefined) this.lastPrune = r.prune;
      if (r.fatal !== undefined) this.dead ??= r.fatal;
    }
  }

  close(): void {
    if (this.dead !== undefined) {
      void this.worker.terminate();
      return;
    }
    this.request({ close: true });
  }

  private request(extra: { releaseHeld?: boolean; pruneTs?: number; close?: boolean }): void {
    this.check();
    const id = ++this.syncId;
    this.worker.postMessage({ t: 'sync', id, ...extra } satisfies ToWriter);
    const deadline = performance.now() + SYNC_TIMEOUT_MS;
    // Atomics.wait returns at once when the word already moved on; ids only grow, so compare, not match.
    while (Atomics.load(this.ctrl, CTRL_DONE_ID) !== id) {
      if (Atomics.load(this.ctrl, CTRL_FATAL) !== 0) break;
      const left = deadline - performance.now();
      if (left <= 0) throw new StateWriterThreadError(`no answer within ${SYNC_TIMEOUT_MS} ms`);
      Atomics.wait(this.ctrl, CTRL_DONE_ID, Atomics.load(this.ctrl, CTRL_DONE_ID), Math.min(left, 1000));
    }
    this.poll();
    this.check();
  }

  private check(): void {
    if (Atomics.load(this.ctrl, CTRL_FATAL) !== 0) this.poll();
    if (this.dead !== undefined || Atomics.load(this.ctrl, CTRL_FATAL) !== 0) {
      throw new StateWriterThreadError(this.dead ?? 'the thread stopped');
    }
  }
}
