import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  StateMigrationError,
  StateMigrationListError,
  StateOpenError,
  StateSchemaTooNewError,
} from '../errors.js';
import { CACHE_SIZE_KIB, PAGE_SIZE_BYTES, WAL_AUTOCHECKPOINT_PAGES, openDatabase } from './open-database.js';
import { MIGRATIONS, latestVersion, migrate, schemaVersion } from './schema.js';
import type { Migration } from './schema.js';
import { makeTempDir } from './test-temp-dir.js';

let tmp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => tmp.remove());

const tables = (db: Database.Database): string[] =>
  db
    .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
    .all()
    .map((r) => r.name);

describe('openDatabase + migrations', () => {
  it('creates the schema from an empty file, in WAL mode with synchronous=NORMAL and foreign keys on', () => {
    const db = openDatabase(tmp.path('state.db'));
    expect(schemaVersion(db)).toBe(latestVersion());
    expect(tables(db)).toEqual(['counters', 'events', 'metric_windows', 'queries', 'servers', 'sessions']);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_AUTOCHECKPOINT_PAGES);
    expect(db.pragma('cache_size', { simple: true })).toBe(-CACHE_SIZE_KIB);
    expect(db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE_BYTES);
    db.close();
  });

  it('keeps the page size of a file created with another one, and writes to it as usual', () => {
    const path = tmp.path('state.db');
    const old = new Database(path);
    old.pragma('page_size = 4096');
    old.pragma('journal_mode = WAL');
    old.close();
    const db = openDatabase(path);
    expect(db.pragma('page_size', { simple: true })).toBe(4096);
    expect(schemaVersion(db)).toBe(latestVersion());
    db.prepare(`INSERT INTO counters (name, value, updated) VALUES ('x', 1, 2)`).run();
    expect(db.prepare(`SELECT value FROM counters WHERE name = 'x'`).get()).toEqual({ value: 1 });
    db.close();
  });

  it('re-opens an existing file without re-applying migrations and keeps its rows', () => {
    const path = tmp.path('state.db');
    const db1 = openDatabase(path);
    db1.prepare(`INSERT INTO counters (name, value, updated) VALUES ('x', 1, 2)`).run();
    db1.close();
    const db2 = new Database(path);
    expect(migrate(db2)).toEqual([]);
    expect(db2.prepare(`SELECT value FROM counters WHERE name = 'x'`).get()).toEqual({ value: 1 });
    db2.close();
  });

  it('applies only the missing steps when a newer migration is added', () => {
    const path = tmp.path('state.db');
    openDatabase(path).close();
    const v = latestVersion() + 1;
    const next: Migration[] = [...MIGRATIONS, { version: v, name: 'test column', sql: 'ALTER TABLE servers ADD COLUMN note TEXT' }];
    const db = new Database(path);
    expect(migrate(db, next)).toEqual([v]);
    expect(schemaVersion(db)).toBe(v);
    expect(migrate(db, next)).toEqual([]);
    db.close();
  });

  it('brings a file of schema 1 (as in the field) to the current schema, keeping its rows and dropping the query key index', () => {
    const path = tmp.path('state.db');
    const v1 = new Database(path);
    expect(migrate(v1, MIGRATIONS.slice(0, 1))).toEqual([1]);
    v1.prepare(`INSERT INTO servers (ip, port, protocol, first_seen, last_seen, learnt) VALUES ('10.0.0.1', 8888, 'opennap', 1, 1, 'port')`).run();
    v1.prepare(`INSERT INTO queries (server_id, client_ip, client_port, seq, query_ts) VALUES (1, '10.0.0.2', 4000, 0, 5)`).run();
    v1.close();
    const db = openDatabase(path);
    expect(schemaVersion(db)).toBe(latestVersion());
    const indexes = db
      .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'queries' ORDER BY name`)
      .all()
      .map((r) => r.name);
    expect(indexes).toEqual(['queries_server_fr', 'queries_server_ts']);
    expect(db.prepare(`SELECT seq, query_ts FROM queries`).all()).toEqual([{ seq: 0, query_ts: 5 }]);
    db.close();
  });

  it('refuses a file from a newer schema', () => {
    const path = tmp.path('state.db');
    const db = new Database(path);
    db.pragma(`user_version = ${latestVersion() + 1}`);
    db.close();
    expect(() => openDatabase(path)).toThrow(StateSchemaTooNewError);
  });

  it('rolls a failing step back and leaves the previous version', () => {
    const db = new Database(tmp.path('state.db'));
    const v = latestVersion() + 1;
    const broken: Migration[] = [...MIGRATIONS, { version: v, name: 'broken', sql: 'CREATE TABLE t (a); SELECT nope FROM nowhere;' }];
    let caught: unknown;
    try {
      migrate(db, broken);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StateMigrationError);
    expect((caught as StateMigrationError).code).toBe('STATE_MIGRATION_FAILED');
    expect(schemaVersion(db)).toBe(latestVersion());
    expect(tables(db)).not.toContain('t');
    db.close();
  });

  it('rejects a migration list that is not numbered 1..n', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [{ version: 2, name: 'gap', sql: '' }])).toThrow(StateMigrationListError);
    db.close();
  });

  it('names an unopenable path with StateOpenError', () => {
    expect(() => openDatabase(tmp.path('no/such/dir/state.db'))).toThrow(StateOpenError);
  });
});
