/**
 * Opens the state SQLite file (better-sqlite3) the way the daemon needs it:
 * WAL so readers never block the writer, synchronous=NORMAL (durable across
 * process crashes, may lose the last commits on power loss: acceptable for
 * traffic statistics), foreign keys on, 8 KiB pages, a longer WAL between
 * checkpoints and a smaller page cache (all measured, see the constants), then migrations, and
 * the indexes a bulk load that never finished left out (bulk-load.ts).
 */
import Database from 'better-sqlite3';
import { StateOpenError, isSqliteError } from '../errors.js';
import { ensureDeferredIndexes } from './bulk-load.js';
import { MIGRATIONS, migrate } from './schema.js';
import type { Migration } from './schema.js';

/** How long a statement waits for another connection's lock (e.g. `active-router status`) before failing. */
export const BUSY_TIMEOUT_MS = 1000;
/**
 * Page size of a new file (SQLite's default is 4096). Every commit writes each dirty page to the WAL
 * (two write calls each) and a batch dirties the right edges of the tables and indexes it appends to;
 * with 8 KiB pages a batch writes about half as many frames (`strace -c`: 24,838 pwrite64 against 45,288).
 * Measured on the benchmark capture's recorded events (state side alone, 8 interleaved runs): 1.11 s
 * best / 1.59 s median against 1.45 / 1.80 s with 4 KiB; 16 KiB was no better than 8. A file created
 * with another page size keeps it (WAL mode cannot change it), so this applies to new files only.
 */
export const PAGE_SIZE_BYTES = 8192;
/**
 * WAL pages between automatic checkpoints (SQLite's default is 1000 pages of 4 KiB = 4 MB; this is
 * 40 MB with our pages). The writer rewrites the same right-edge pages of the query table and its
 * indexes in every batch; a longer WAL generation copies each such page back to the file once
 * instead of many times, and checkpoints (with their fsyncs, inside a commit on the capture thread)
 * run a tenth as often: ~5-10 % of a replay's time. 80 MB measured no faster than 40.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 5_000;
/** After a checkpoint the WAL file is truncated to this, so the 40 MB generation does not stay on disk. */
export const JOURNAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;
/**
 * Page cache per connection, in KiB (negative = KiB for SQLite). better-sqlite3 builds with 16 MB;
 * the writer's working set is the right edges of a few indexes plus the open-session index (~3 MB
 * at 100,000 sessions), and readers scan index ranges once, so 8 MB costs no measurable time and
 * keeps 8 MB out of the peak RSS budget of issue 3.
 */
export const CACHE_SIZE_KIB = 8 * 1024;

export interface OpenDatabaseOptions {
  migrations?: readonly Migration[];
  /**
   * Build the indexes a bulk load left out (default true). The writer thread says false: it writes
   * for the connection that opened the file, whose bulk load leaves them out on purpose.
   */
  repairIndexes?: boolean;
}

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    // Before anything is written (a no-op on an existing file).
    db.pragma(`page_size = ${PAGE_SIZE_BYTES}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    db.pragma(`cache_size = -${CACHE_SIZE_KIB}`);
    // temp_store stays the default (file, spilled only past the page cache): the summary's temporary
    // b-trees are small, and MEMORY would only move them into the RSS the budget counts.
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
  if (options.migrations === undefined && options.repairIndexes !== false) {
    try {
      ensureDeferredIndexes(db);
    } catch (err) {
      // A replay is loading the file right now and holds the write lock: it builds them itself at
      // its end. Without them reads are slower, not wrong, so the file still opens.
      if (!isSqliteError(err, 'SQLITE_BUSY', 'SQLITE_LOCKED')) {
        db.close();
        throw new StateOpenError(path, err);
      }
    }
  }
  return db;
}
