/**
 * Opens the state SQLite file (better-sqlite3) the way the daemon needs it:
 * WAL so readers never block the writer, synchronous=NORMAL (durable across
 * process crashes, may lose the last commits on power loss: acceptable for
 * traffic statistics), foreign keys on, then migrations.
 */
import Database from 'better-sqlite3';
import { StateOpenError } from '../errors.js';
import { MIGRATIONS, migrate } from './schema.js';
import type { Migration } from './schema.js';

/** How long a statement waits for another connection's lock (e.g. `active-router status`) before failing. */
export const BUSY_TIMEOUT_MS = 1000;

export interface OpenDatabaseOptions {
  migrations?: readonly Migration[];
}

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (err) {
    db?.close();
    throw new StateOpenError(path, err);
  }
  try {
    migrate(db, options.migrations ?? MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
