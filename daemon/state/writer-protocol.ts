/**
 * Messages and shared control words between the state writer's front
 * (thread-sink.ts) and the writer thread (writer-thread.ts). Batches and
 * requests go one way, in order; the thread answers on a separate port the
 * front reads synchronously (receiveMessageOnPort), and bumps the control
 * words below so the front can block on them with Atomics.wait.
 */
import type { MessagePort } from 'node:worker_threads';
import type { EncodedOps } from './op-codec.js';
import type { PruneReport } from './retention.js';
import type { StateSettings } from './settings.js';

/** Int32 control words in the shared buffer. Counters wrap (Int32 arithmetic): only differences are used. */
export const CTRL_DONE_ID = 0;
export const CTRL_ACKED_OPS = 1;
export const CTRL_ACKED_BATCHES = 2;
/** Set to 1 by the thread just before it dies of an unexpected error. */
export const CTRL_FATAL = 3;
export const CTRL_WORDS = 4;

export interface WriterThreadData {
  path: string;
  settings: StateSettings;
  /** BatchWriterOptions.heldSessionsCap: a bulk load's held sessions (held-sessions.ts). */
  heldSessionsCap: number;
  ctrl: SharedArrayBuffer;
  replies: MessagePort;
}

export type ToWriter =
  | { t: 'batch'; ops: EncodedOps }
  /**
   * Answer once everything before it is written; `releaseHeld` also writes the held sessions,
   * `pruneTs` also prunes, `close` closes the file.
   */
  | { t: 'sync'; id: number; releaseHeld?: boolean; pruneTs?: number; close?: boolean };

export interface FromWriter {
  /** Counter increments since the previous reply. */
  counts: [string, number][];
  /** Failed commits: SQLite's message and code, rebuilt as a SqliteError on the other side. */
  errors: { message: string; code: string }[];
  id?: number;
  prune?: PruneReport;
  fatal?: string;
}
