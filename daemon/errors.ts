/**
 * Daemon-wide operational errors: state database (daemon/state), metric math
 * (daemon/metrics), status endpoint and start-up. (CLI usage errors are
 * commander's InvalidArgumentError: exit code 2.) Every class carries a stable `code` string so
 * callers and tests match on it, never on the message (fastify-style: all
 * codes in one place, listed in `STATE_METRICS_ERROR_CODES`).
 */

/** Whether `err` is a SQLite error whose code (better-sqlite3's `code`, e.g. SQLITE_BUSY_SNAPSHOT) starts with one of `prefixes`. */
export function isSqliteError(err: unknown, ...prefixes: string[]): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && prefixes.some((p) => code.startsWith(p));
}

/** Base class: a named error with a stable machine-readable code. */
export abstract class ActiveRouterError extends Error {
  abstract readonly code: string;
}

/** The SQLite file could not be opened or configured (path, permissions, corrupt file). */
export class StateOpenError extends ActiveRouterError {
  readonly code = 'STATE_OPEN_FAILED';
  override readonly name = 'StateOpenError';
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot open state database ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A schema migration failed; the database stays at `fromVersion` (each step is one transaction). */
export class StateMigrationError extends ActiveRouterError {
  readonly code = 'STATE_MIGRATION_FAILED';
  override readonly name = 'StateMigrationError';
  constructor(
    readonly fromVersion: number,
    readonly toVersion: number,
    cause: unknown,
  ) {
    super(
      `state schema migration ${fromVersion} -> ${toVersion} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** The file was written by a newer daemon; refusing to touch it rather than guess. */
export class StateSchemaTooNewError extends ActiveRouterError {
  readonly code = 'STATE_SCHEMA_TOO_NEW';
  override readonly name = 'StateSchemaTooNewError';
  constructor(
    readonly fileVersion: number,
    readonly knownVersion: number,
  ) {
    super(`state database schema version ${fileVersion} is newer than this daemon knows (${knownVersion})`);
  }
}

/** The migration list itself is malformed (versions not 1..n in order): a programming error caught at start. */
export class StateMigrationListError extends ActiveRouterError {
  readonly code = 'STATE_MIGRATION_LIST_INVALID';
  override readonly name = 'StateMigrationListError';
}

/** A state setting (retention, caps, batch size) is out of its allowed range. */
export class StateSettingsError extends ActiveRouterError {
  readonly code = 'STATE_SETTINGS_INVALID';
  override readonly name = 'StateSettingsError';
  constructor(
    readonly setting: string,
    detail: string,
  ) {
    super(`invalid state setting ${setting}: ${detail}`);
  }
}

/** The writer or reader was used after `close()`. */
export class StateClosedError extends ActiveRouterError {
  readonly code = 'STATE_CLOSED';
  override readonly name = 'StateClosedError';
  constructor() {
    super('state database is closed');
  }
}

/** A metric parameter (N of the query rate, a percentile, a window, a ring capacity) is out of range. */
export class MetricsConfigError extends ActiveRouterError {
  readonly code = 'METRICS_CONFIG_INVALID';
  override readonly name = 'MetricsConfigError';
  constructor(
    readonly parameter: string,
    detail: string,
  ) {
    super(`invalid metrics parameter ${parameter}: ${detail}`);
  }
}

/** The status endpoint cannot listen where the policy says (address in use, not local, bad socket path). */
export class StatusListenError extends ActiveRouterError {
  readonly code = 'STATUS_LISTEN_FAILED';
  override readonly name = 'StatusListenError';
}

/** The daemon could not start: capture, database, actuators or status endpoint failed. */
export class DaemonStartError extends ActiveRouterError {
  readonly code = 'DAEMON_START_FAILED';
  override readonly name = 'DaemonStartError';
}

/** Every code above, documented: errors.test.ts fails when a class has a code missing here. */
export const STATE_METRICS_ERROR_CODES: Readonly<Record<string, string>> = {
  STATE_WRITER_THREAD_FAILED: 'the state writer thread died or stopped answering',
  STATE_OPEN_FAILED: 'the state database file could not be opened or configured',
  STATE_MIGRATION_FAILED: 'a schema migration step failed and was rolled back',
  STATE_SCHEMA_TOO_NEW: 'the database file has a schema version newer than this daemon',
  STATE_MIGRATION_LIST_INVALID: 'the built-in migration list is not numbered 1..n',
  STATE_SETTINGS_INVALID: 'a state setting (retention, row cap, batch, queue) is out of range',
  STATE_CLOSED: 'the state database was used after close()',
  METRICS_CONFIG_INVALID: 'a metrics parameter (N, percentile, window, capacity) is out of range',
  STATUS_LISTEN_FAILED: 'the status endpoint could not listen where the policy says',
  DAEMON_START_FAILED: 'the daemon could not start (capture, database, actuators or status endpoint)',
};

/** The state writer thread stopped answering or died; rows handed to it may be lost. */
export class StateWriterThreadError extends ActiveRouterError {
  readonly code = 'STATE_WRITER_THREAD_FAILED';
  override readonly name = 'StateWriterThreadError';
  constructor(detail: string) {
    super(`state writer thread failed: ${detail}`);
  }
}
