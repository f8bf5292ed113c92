/**
 * The state database (daemon/state): opens the SQLite file, runs migrations,
 * and hands out the single batched writer and the reader over one connection.
 * `close()` flushes what is queued before closing the file. With `bulkLoad`
 * (replay into a fresh file) the secondary indexes the writer never searches
 * are built once at the end of the load instead of row by row (bulk-load.ts).
 */
import type Database from 'better-sqlite3';
import { StateSettingsError } from '../errors.js';
import { beginBulkLoad, ensureDeferredIndexes } from './bulk-load.js';
import { MAX_HELD_SESSIONS } from './held-sessions.js';
import { openDatabase } from './open-database.js';
import { resolveStateSettings } from './settings.js';
import type { StateSettings, StateSettingsInput } from './settings.js';
import { StateReader } from './state-reader.js';
import type { StateReaderOptions } from './state-reader.js';
import { StateWriter } from './state-writer.js';
import type { StateWriterOptions } from './state-writer.js';

export interface OpenStateOptions extends StateWriterOptions, StateReaderOptions {
  settings?: StateSettingsInput;
  /**
   * Loading a file nobody reads until the load ends (`replay`): when its query and session tables
   * are empty, the indexes the writer never searches are left out until `endBulkLoad` (or `close`) builds them,
   * and open sessions are held in memory until they close (held-sessions.ts).
   */
  bulkLoad?: boolean;
  /** Sessions a bulk load holds in memory at most (default MAX_HELD_SESSIONS; tests set it small). */
  heldSessionsCap?: number;
}

export interface StateHandle {
  db: Database.Database;
  settings: StateSettings;
  writer: StateWriter;
  reader: StateReader;
  /** Whether the deferred indexes (bulk-load.ts) are left out for a bulk load still under way. */
  readonly bulkLoading: boolean;
  /** Writes what is queued and the sessions held, and builds the indexes a bulk load left out; a no-op otherwise. */
  endBulkLoad(): void;
  close(): void;
}

export function openState(path: string, options: OpenStateOptions = {}): StateHandle {
  const settings = resolveStateSettings(options.settings);
  const db = openDatabase(path);
  let bulkLoading = false;
  try {
    // Before the writer exists, so a writer thread's connection never sees the indexes at all.
    bulkLoading = options.bulkLoad === true && beginBulkLoad(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const heldSessionsCap = options.heldSessionsCap ?? MAX_HELD_SESSIONS;
  if (!Number.isSafeInteger(heldSessionsCap) || heldSessionsCap < 0) {
    db.close();
    throw new StateSettingsError('heldSessionsCap', `${heldSessionsCap} is not a non-negative integer`);
  }
  const writer = new StateWriter(db, settings, options, { heldSessionsCap: bulkLoading ? heldSessionsCap : 0 });
  const reader = new StateReader(db, options);
  const buildLeftOutIndexes = (): void => {
    if (!bulkLoading) return;
    ensureDeferredIndexes(db);
    bulkLoading = false;
  };
  return {
    db,
    settings,
    writer,
    reader,
    get bulkLoading() {
      return bulkLoading;
    },
    endBulkLoad() {
      if (!bulkLoading) return;
      writer.releaseHeldSessions();
      buildLeftOutIndexes();
    },
    close() {
      if (!db.open) return;
      try {
        writer.close();
        // A load that ended early (an error) still leaves a file with its indexes.
        buildLeftOutIndexes();
      } finally {
        db.close();
      }
    },
  };
}

export { MIGRATIONS, latestVersion, migrate, schemaVersion } from './schema.js';
export type { Migration } from './schema.js';
export { openDatabase } from './open-database.js';
export { resolveStateSettings } from './settings.js';
export type { StateSettings, StateSettingsInput } from './settings.js';
export { StateWriter } from './state-writer.js';
export { StateReader } from './state-reader.js';
export type {
  CounterRow,
  EventLevel,
  EventRow,
  LogEventInput,
  MetricWindowRow,
  QueryRow,
  ServerRow,
  ServerSummary,
} from './state-reader.js';
export type { PruneReport } from './retention.js';
export { formatAddress } from './summary.js';
