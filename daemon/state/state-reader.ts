/**
 * Reads of the state database for the manager, the CLI and the status
 * endpoint, plus the two small direct writes that are not analyzer traffic:
 * the operator event log and saved counters. Shares the writer's connection
 * (Node runs both on one thread; WAL lets other processes read meanwhile) and
 * sees rows once the writer has flushed them. Result sizes are bounded.
 */
import type Database from 'better-sqlite3';
import { StateClosedError } from '../errors.js';
import { DEFAULT_QUERY_RATE_N } from '../metrics/server-metrics-window.js';
import type { QueryRateFormula } from '../metrics/query-rate.js';
import { responseTime } from '../metrics/response-time.js';
import type { RtSample } from '../metrics/response-time.js';
import { checkWindowMs } from '../metrics/window.js';
import type { MetricsSnapshot } from '../metrics/window.js';
import type { Learnt } from './row-ops.js';
import { formatAddress, snapshotOfRows } from './summary.js';

/** Most rows one read returns (newest kept): a 10-minute window at ~160 queries/s fits; more is a flood. */
export const MAX_READ_ROWS = 100_000;
/** Most log events one `events()` call returns. */
export const MAX_EVENTS_READ = 10_000;
/** Longest message and JSON detail stored per logged event. */
export const MAX_EVENT_MESSAGE_CHARS = 1024;
export const MAX_EVENT_JSON_CHARS = 16_384;

export interface ServerRow {
  id: number;
  address: string;
  ip: string;
  port: number;
  protocol: string;
  learnt: Learnt;
  firstSeen: number;
  lastSeen: number;
}

export interface ServerSummary {
  serverId: number;
  address: string;
  protocol: string;
  learnt: Learnt;
  /** Distinct client endpoints with a query in the window or a session overlapping it. */
  clients: number;
  queries: number;
  answered: number;
  unanswered: number;
  rtAvgMs: number | null;
  rtP50Ms: number | null;
  rtP99Ms: number | null;
  qrAvg: number | null;
  firstSeen: number;
  lastSeen: number;
}

export interface QueryRow {
  id: number;
  client: string;
  seq: number;
  queryTs: number;
  firstResponseTs: number | null;
  doneTs: number | null;
  results: number | null;
  maxResults: number | null;
  keywords: string[];
}

/** One stored metric snapshot of a server (the snapshot's fields that are kept). */
export type MetricWindowRow = { serverId: number; ts: number; windowMs: number } & Pick<
  MetricsSnapshot,
  'rtAvgMs' | 'rtP50Ms' | 'rtP99Ms' | 'qrAvg' | 'queries' | 'answered'
>;

export type EventLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEventInput {
  ts: number;
  level: EventLevel;
  /** Stable snake_case kind, e.g. `rule_installed`. */
  kind: string;
  serverId?: number | null;
  message: string;
  data?: unknown;
}

export interface EventRow {
  id: number;
  ts: number;
  level: EventLevel;
  kind: string;
  serverId: number | null;
  message: string;
  data: unknown;
}

export interface CounterRow {
  name: string;
  value: number;
  updated: number;
}

export interface StateReaderOptions {
  /** N and formula of the query rate in summaries; match the policy's. */
  queryRateN?: number;
  formula?: QueryRateFormula;
}

interface ServerDbRow {
  id: number;
  ip: string;
  port: number;
  protocol: string;
  learnt: Learnt;
  first_seen: number;
  last_seen: number;
}

function parseKeywords(text: string | null): string[] {
  if (text === null) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return [];
  }
}

export class StateReader {
  private readonly queryRateN: number;
  private readonly formula: QueryRateFormula;

  constructor(
    private readonly db: Database.Database,
    options: StateReaderOptions = {},
  ) {
    this.queryRateN = options.queryRateN ?? DEFAULT_QUERY_RATE_N;
    this.formula = options.formula ?? 'paper';
  }

  listServers(): ServerRow[] {
    const rows = this.open()
      .prepare<[], ServerDbRow>(`SELECT id, ip, port, protocol, learnt, first_seen, last_seen FROM servers ORDER BY id`)
      .all();
    return rows.map((r) => ({
      id: r.id,
      address: formatAddress(r.ip, r.port),
      ip: r.ip,
      port: r.port,
      protocol: r.protocol,
      learnt: r.learnt,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
    }));
  }

  /** Per-server metrics over the window (now − windowMs, now]. */
  serverSummary(windowMs: number, nowTs: number): ServerSummary[] {
    checkWindowMs(windowMs);
    const db = this.open();
    const since = nowTs - windowMs;
    // The window's rows in two index-only range scans, newest first: queries made in the window, and
    // queries made before it but answered in it (their RT ends in the window). One OR query would
    // merge two scans and then sort them; these need neither.
    const askedStmt = db.prepare<[number, number, number, number], { q: number; fr: number | null }>(
      `SELECT query_ts AS q, first_response_ts AS fr FROM queries
       WHERE server_id = ? AND query_ts > ? AND query_ts <= ? ORDER BY query_ts DESC LIMIT ?`,
    );
    const answeredStmt = db.prepare<[number, number, number, number, number], { q: number; fr: number | null }>(
      `SELECT query_ts AS q, first_response_ts AS fr FROM queries
       WHERE server_id = ? AND first_response_ts > ? AND first_response_ts <= ? AND query_ts <= ?
       ORDER BY first_response_ts DESC LIMIT ?`,
    );
    const clientsStmt = db.prepare<[number, number, number, number, number, number], { n: number }>(
      `SELECT count(*) AS n FROM (
         SELECT client_ip, client_port FROM queries WHERE server_id = ? AND query_ts > ? AND query_ts <= ?
         UNION
         SELECT client_ip, client_port FROM sessions
         WHERE server_id = ? AND open_ts <= ? AND (close_ts IS NULL OR close_ts > ?))`,
    );
    // Exact counts come from SQL; the timing statistics from the newest MAX_READ_ROWS rows.
    const countStmt = db.prepare<[number, number, number], { n: number; a: number }>(
      `SELECT count(*) AS n, count(first_response_ts) AS a FROM queries WHERE server_id = ? AND query_ts > ? AND query_ts <= ?`,
    );
    return this.listServers().map((s) => {
      const counts = countStmt.get(s.id, since, nowTs) ?? { n: 0, a: 0 };
      const rows = askedStmt.all(s.id, since, nowTs, MAX_READ_ROWS).map((r) => ({ queryTs: r.q, firstResponseTs: r.fr }));
      if (rows.length < MAX_READ_ROWS) {
        for (const r of answeredStmt.all(s.id, since, nowTs, since, MAX_READ_ROWS - rows.length)) {
          rows.push({ queryTs: r.q, firstResponseTs: r.fr });
        }
      }
      const snap = snapshotOfRows(rows, nowTs, windowMs, { queryRateN: this.queryRateN, formula: this.formula });
      const clients = clientsStmt.get(s.id, since, nowTs, s.id, nowTs, since)?.n ?? 0;
      return {
        serverId: s.id,
        address: s.address,
        protocol: s.protocol,
        learnt: s.learnt,
        clients,
        queries: counts.n,
        answered: counts.a,
        unanswered: counts.n - counts.a,
        rtAvgMs: snap.rtAvgMs,
        rtP50Ms: snap.rtP50Ms,
        rtP99Ms: snap.rtP99Ms,
        qrAvg: snap.qrAvg,
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
      };
    });
  }

  /** Query rows of a server with query time after `sinceTs`, oldest first (at most `limit`, the newest ones). */
  recentQueries(serverId: number, sinceTs: number, limit = MAX_READ_ROWS): QueryRow[] {
    const rows = this.open()
      .prepare<
        [number, number, number],
        {
          id: number;
          client_ip: string;
          client_port: number;
          seq: number;
          query_ts: number;
          first_response_ts: number | null;
          done_ts: number | null;
          results: number | null;
          max_results: number | null;
          keywords: string | null;
        }
      >(
        `SELECT * FROM (SELECT id, client_ip, client_port, seq, query_ts, first_response_ts, done_ts, results, max_results, keywords
           FROM queries WHERE server_id = ? AND query_ts > ? ORDER BY query_ts DESC, id DESC LIMIT ?)
         ORDER BY query_ts, id`,
      )
      .all(serverId, sinceTs, Math.min(limit, MAX_READ_ROWS));
    return rows.map((r) => ({
      id: r.id,
      client: formatAddress(r.client_ip, r.client_port),
      seq: r.seq,
      queryTs: r.query_ts,
      firstResponseTs: r.first_response_ts,
      doneTs: r.done_ts,
      results: r.results,
      maxResults: r.max_results,
      keywords: parseKeywords(r.keywords),
    }));
  }

  /** Query times of a server after `sinceTs`, ascending (for QR). */
  queryTimestamps(serverId: number, sinceTs: number): number[] {
    return this.open()
      .prepare<[number, number, number], { t: number }>(
        `SELECT t FROM (SELECT query_ts AS t FROM queries WHERE server_id = ? AND query_ts > ?
           ORDER BY query_ts DESC LIMIT ?) ORDER BY t`,
      )
      .all(serverId, sinceTs, MAX_READ_ROWS)
      .map((r) => r.t);
  }

  /** RT samples of a server whose first response came after `sinceTs`, by response time. */
  responseTimes(serverId: number, sinceTs: number): RtSample[] {
    const rows = this.open()
      .prepare<[number, number, number], { q: number; fr: number }>(
        `SELECT q, fr FROM (SELECT query_ts AS q, first_response_ts AS fr FROM queries
           WHERE server_id = ? AND first_response_ts > ? ORDER BY first_response_ts DESC LIMIT ?) ORDER BY fr`,
      )
      .all(serverId, sinceTs, MAX_READ_ROWS);
    const out: RtSample[] = [];
    for (const r of rows) {
      const rt = responseTime(r.q, r.fr);
      if (rt.kind === 'ok') out.push(rt.sample);
    }
    return out;
  }

  metricWindows(serverId: number, sinceTs: number): MetricWindowRow[] {
    return this.open()
      .prepare<[number, number, number], MetricWindowRow>(
        `SELECT * FROM (SELECT server_id AS serverId, ts, window_ms AS windowMs, rt_avg AS rtAvgMs, rt_p50 AS rtP50Ms,
             rt_p99 AS rtP99Ms, qr_avg AS qrAvg, queries, answered
           FROM metric_windows WHERE server_id = ? AND ts > ? ORDER BY ts DESC LIMIT ?) ORDER BY ts`,
      )
      .all(serverId, sinceTs, MAX_READ_ROWS);
  }

  /** Appends to the operator event log (written at once: low volume, wanted visible immediately). */
  logEvent(e: LogEventInput): number {
    let json: string | null = null;
    if (e.data !== undefined) {
      try {
        json = JSON.stringify(e.data) ?? null;
      } catch {
        json = JSON.stringify({ unserializable: true });
      }
      if (json !== null && json.length > MAX_EVENT_JSON_CHARS) json = JSON.stringify({ truncated: true, chars: json.length });
    }
    const info = this.open()
      .prepare<[number, string, string, number | null, string, string | null]>(
        `INSERT INTO events (ts, level, kind, server_id, message, json) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(e.ts, e.level, e.kind, e.serverId ?? null, e.message.slice(0, MAX_EVENT_MESSAGE_CHARS), json);
    return Number(info.lastInsertRowid);
  }

  /** The newest `limit` log events, newest first. */
  events(limit = 100): EventRow[] {
    const rows = this.open()
      .prepare<
        [number],
        { id: number; ts: number; level: EventLevel; kind: string; server_id: number | null; message: string; json: string | null }
      >(`SELECT id, ts, level, kind, server_id, message, json FROM events ORDER BY ts DESC, id DESC LIMIT ?`)
      .all(Math.max(0, Math.min(Math.trunc(limit), MAX_EVENTS_READ)));
    return rows.map((r) => ({
      id: r.id,
      ts: r.ts,
      level: r.level,
      kind: r.kind,
      serverId: r.server_id,
      message: r.message,
      data: r.json === null ? null : (JSON.parse(r.json) as unknown),
    }));
  }

  /** Saves counter values (e.g. the writer's and analyzers' counters) in one transaction. */
  saveCounters(record: Readonly<Record<string, number>>, ts: number): void {
    const db = this.open();
    const stmt = db.prepare<[string, number, number]>(
      `INSERT INTO counters (name, value, updated) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated`,
    );
    db.transaction(() => {
      for (const [name, value] of Object.entries(record)) if (Number.isFinite(value)) stmt.run(name, value, ts);
    })();
  }

  counters(): CounterRow[] {
    return this.open().prepare<[], CounterRow>(`SELECT name, value, updated FROM counters ORDER BY name`).all();
  }

  private open(): Database.Database {
    if (!this.db.open) throw new StateClosedError();
    return this.db;
  }
}
