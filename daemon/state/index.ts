/**
 * The state database (daemon/state): opens the SQLite file, runs migrations,
 * and hands out the single batched writer and the reader over one connection.
 * `close()` flushes what is queued before closing the file.
 */
import type Database from 'better-sqlite3';
import { openDatabase } from './open-database.js';
import { resolveStateSettings } from './settings.js';
import type { StateSettings, StateSettingsInput } from './settings.js';
import { StateReader } from './state-reader.js';
import type { StateReaderOptions } from './state-reader.js';
import { StateWriter } from './state-writer.js';
import type { StateWriterOptions } from './state-writer.js';

export interface OpenStateOptions extends StateWriterOptions, StateReaderOptions {
  settings?: StateSettingsInput;
}

export interface StateHandle {
  db: Database.Database;
  settings: StateSettings;
  writer: StateWriter;
  reader: StateReader;
  close(): void;
}

export function openState(path: string, options: OpenStateOptions = {}): StateHandle {
  const settings = resolveStateSettings(options.settings);
  const db = openDatabase(path);
  const writer = new StateWriter(db, settings, options);
  const reader = new StateReader(db, options);
  return {
    db,
    settings,
    writer,
    reader,
    close() {
      if (!db.open) return;
      try {
        writer.close();
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
