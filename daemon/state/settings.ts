/**
 * Settings of the state database: retention per table, row caps, and the
 * writer's batching and queue bounds. Every default is a named constant with
 * its reason; `resolveStateSettings` validates overrides (StateSettingsError).
 */
import { StateSettingsError } from '../errors.js';

/** Query rows are the bulk of the file and only recent windows matter to the manager: one hour. */
export const DEFAULT_QUERIES_RETENTION_MS = 60 * 60 * 1000;
/** Metric windows are small (one row per server per tick) and useful for a day of plots: 24 hours. */
export const DEFAULT_METRIC_WINDOWS_RETENTION_MS = 24 * 60 * 60 * 1000;
/** The event log is for operators looking back over incidents: seven days. */
export const DEFAULT_EVENTS_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Sessions are kept a day after they end (by close time, or last activity when never closed). */
export const DEFAULT_SESSIONS_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Row caps hold under floods that retention by age cannot: ~1M query rows is ~200 MB with indexes. */
export const DEFAULT_MAX_QUERY_ROWS = 1_000_000;
/** 500k metric windows = one server at one tick per second for ~6 days, or 60 servers for a day at 10 s. */
export const DEFAULT_MAX_METRIC_WINDOW_ROWS = 500_000;
/** 100k log events: far beyond what an operator reads, small on disk. */
export const DEFAULT_MAX_EVENT_ROWS = 100_000;
/** 200k sessions: the clients of a large OpenNap network seen by one router. */
export const DEFAULT_MAX_SESSION_ROWS = 200_000;

/** Rows per transaction: large enough to amortise the commit, small enough to block the loop only ~ms. */
export const DEFAULT_BATCH_ROWS = 1000;
/** Longest a queued row waits before it is written (and becomes visible to readers). */
export const DEFAULT_FLUSH_INTERVAL_MS = 100;
/** Queue bound: 100k compact row ops (~20 MB) absorb ~1 s of a hard flood while the disk catches up. */
export const DEFAULT_QUEUE_CAP = 100_000;
/** Rows one prune call deletes per table and reason, so pruning never stalls capture for long. */
export const DEFAULT_PRUNE_CHUNK_ROWS = 10_000;

export interface StateSettings {
  retentionMs: { queries: number; metricWindows: number; events: number; sessions: number };
  maxRows: { queries: number; metricWindows: number; events: number; sessions: number };
  batchRows: number;
  flushIntervalMs: number;
  queueCap: number;
  pruneChunkRows: number;
}

export interface StateSettingsInput {
  retentionMs?: Partial<StateSettings['retentionMs']>;
  maxRows?: Partial<StateSettings['maxRows']>;
  batchRows?: number;
  flushIntervalMs?: number;
  queueCap?: number;
  pruneChunkRows?: number;
}

function positive(name: string, v: number, integer: boolean): number {
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new StateSettingsError(name, `${v} is not a positive ${integer ? 'integer' : 'number'}`);
  }
  return v;
}

export function resolveStateSettings(input: StateSettingsInput = {}): StateSettings {
  const r = input.retentionMs ?? {};
  const m = input.maxRows ?? {};
  const settings: StateSettings = {
    retentionMs: {
      queries: positive('retentionMs.queries', r.queries ?? DEFAULT_QUERIES_RETENTION_MS, false),
      metricWindows: positive('retentionMs.metricWindows', r.metricWindows ?? DEFAULT_METRIC_WINDOWS_RETENTION_MS, false),
      events: positive('retentionMs.events', r.events ?? DEFAULT_EVENTS_RETENTION_MS, false),
      sessions: positive('retentionMs.sessions', r.sessions ?? DEFAULT_SESSIONS_RETENTION_MS, false),
    },
    maxRows: {
      queries: positive('maxRows.queries', m.queries ?? DEFAULT_MAX_QUERY_ROWS, true),
      metricWindows: positive('maxRows.metricWindows', m.metricWindows ?? DEFAULT_MAX_METRIC_WINDOW_ROWS, true),
      events: positive('maxRows.events', m.events ?? DEFAULT_MAX_EVENT_ROWS, true),
      sessions: positive('maxRows.sessions', m.sessions ?? DEFAULT_MAX_SESSION_ROWS, true),
    },
    batchRows: positive('batchRows', input.batchRows ?? DEFAULT_BATCH_ROWS, true),
    flushIntervalMs: positive('flushIntervalMs', input.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS, false),
    queueCap: positive('queueCap', input.queueCap ?? DEFAULT_QUEUE_CAP, true),
    pruneChunkRows: positive('pruneChunkRows', input.pruneChunkRows ?? DEFAULT_PRUNE_CHUNK_ROWS, true),
  };
  if (settings.queueCap < settings.batchRows) {
    throw new StateSettingsError('queueCap', `${settings.queueCap} is smaller than batchRows ${settings.batchRows}`);
  }
  return settings;
}
