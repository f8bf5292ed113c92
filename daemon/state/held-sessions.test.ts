import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { AnalyzerEvent } from '../../analyzers/events.js';
import { StateSettingsError } from '../errors.js';
import { HeldSessions } from './held-sessions.js';
import { openState } from './index.js';
import type { OpenStateOptions } from './index.js';
import { makeTempDir } from './test-temp-dir.js';

const P = 'opennap';
const SERVERS: Endpoint[] = [
  { ip: '10.0.0.1', port: 8888 },
  { ip: '10.0.0.2', port: 7777 },
];
const CLIENTS: Endpoint[] = [
  { ip: '10.0.1.1', port: 4001 },
  { ip: '10.0.1.2', port: 4002 },
  { ip: '10.0.1.1', port: 4003 },
];

let tmp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => tmp.remove());

type Step = { kind: 'session_open' | 'login' | 'shares' | 'session_close'; server: number; client: number; dt: number; n: number };

/** Session events in capture order (time never goes back), each with the endpoint objects the analyzer would share. */
function eventsOf(steps: readonly Step[]): AnalyzerEvent[] {
  let ts = 1000;
  return steps.map((s) => {
    ts += s.dt;
    const base = { protocol: P, server: SERVERS[s.server]!, client: CLIENTS[s.client]!, ts };
    if (s.kind === 'login') return { ...base, kind: 'login', nick: `nick${s.n}` };
    if (s.kind === 'shares') return { ...base, kind: 'shares', files: s.n };
    return { ...base, kind: s.kind };
  });
}

/** Loads `events` into a fresh file; returns its session rows (without ids: a held session gets its id at its close). */
function load(events: readonly AnalyzerEvent[], name: string, options: OpenStateOptions, batchRows: number) {
  const state = openState(tmp.path(name), { queryRateN: 2, writeWhenFull: true, settings: { batchRows }, ...options });
  try {
    for (const e of events) state.writer.enqueue(e);
    state.writer.flush();
    state.endBulkLoad();
    const sessions = state.db
      .prepare(
        `SELECT v.ip || ':' || v.port AS server, s.client_ip, s.client_port, s.open_ts, s.close_ts, s.last_seen, s.nick, s.files
         FROM sessions s JOIN servers v ON v.id = s.server_id
         ORDER BY server, client_ip, client_port, open_ts, close_ts IS NULL, close_ts`,
      )
      .all();
    const clients = state.reader.serverSummary(100_000, 100_000).map((r) => [r.address, r.clients]);
    return { sessions, clients, counters: state.writer.counters() };
  } finally {
    state.close();
  }
}

describe('held sessions (bulk load)', () => {
  it('write the same session rows as a load that writes every session as it comes', () => {
    const step = fc.record({
      kind: fc.constantFrom<Step['kind']>('session_open', 'login', 'shares', 'session_close'),
      server: fc.integer({ min: 0, max: SERVERS.length - 1 }),
      client: fc.integer({ min: 0, max: CLIENTS.length - 1 }),
      dt: fc.integer({ min: 0, max: 3 }),
      n: fc.integer({ min: 0, max: 9 }),
    });
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 30 }),
        fc.integer({ min: 1, max: 6 }),
        // 0: nothing held; small caps: the load fills the hold and the rest goes to SQL.
        fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        (steps, batchRows, heldSessionsCap) => {
          const events = eventsOf(steps);
          run++;
          const plain = load(events, `plain-${run}.db`, {}, batchRows);
          const bulk = load(events, `bulk-${run}.db`, { bulkLoad: true, heldSessionsCap }, batchRows);
          expect(bulk.sessions).toEqual(plain.sessions);
          expect(bulk.clients).toEqual(plain.clients);
          expect(bulk.counters['state.close_without_open']).toBe(plain.counters['state.close_without_open']);
          expect(bulk.counters['state.row_failed']).toBeUndefined();
          expect(bulk.counters['state.enqueued']).toBe(plain.counters['state.enqueued']);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes a session once, at its close, and the ones still open at the end of the load', () => {
    const state = openState(tmp.path('state.db'), { queryRateN: 2, writeWhenFull: true, settings: { batchRows: 2 }, bulkLoad: true });
    try {
      const [S] = SERVERS;
      const [A, B] = CLIENTS;
      state.writer.enqueue({ kind: 'session_open', protocol: P, server: S!, client: A!, ts: 1 });
      state.writer.enqueue({ kind: 'session_open', protocol: P, server: S!, client: B!, ts: 2 });
      state.writer.enqueue({ kind: 'login', protocol: P, server: S!, client: A!, ts: 3, nick: 'alice' });
      state.writer.enqueue({ kind: 'session_close', protocol: P, server: S!, client: A!, ts: 9 });
      state.writer.flush();
      // Both batches are written; the sessions are not in the file yet, but A's closed row is.
      expect(state.db.prepare('SELECT client_port, open_ts, close_ts, nick FROM sessions').all()).toEqual([
        { client_port: A!.port, open_ts: 1, close_ts: 9, nick: 'alice' },
      ]);
      state.endBulkLoad();
      expect(state.db.prepare('SELECT client_port, open_ts, close_ts FROM sessions ORDER BY id').all()).toEqual([
        { client_port: A!.port, open_ts: 1, close_ts: 9 },
        { client_port: B!.port, open_ts: 2, close_ts: null },
      ]);
      expect(state.writer.counters()).toMatchObject({ 'state.held_sessions_written': 1, 'state.rows_written': 1 });
      // The load is over: a session now goes into the file as it comes.
      state.writer.enqueue({ kind: 'session_open', protocol: P, server: S!, client: CLIENTS[2]!, ts: 20 });
      state.writer.flush();
      expect(state.db.prepare('SELECT count(*) AS n FROM sessions WHERE close_ts IS NULL').get()).toEqual({ n: 2 });
    } finally {
      state.close();
    }
  });

  it('writes the held sessions on close when the load ends without endBulkLoad', () => {
    const path = tmp.path('state.db');
    const state = openState(path, { queryRateN: 2, bulkLoad: true });
    state.writer.enqueue({ kind: 'session_open', protocol: P, server: SERVERS[0]!, client: CLIENTS[0]!, ts: 1 });
    state.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT open_ts, close_ts FROM sessions').all()).toEqual([{ open_ts: 1, close_ts: null }]);
    db.close();
  });

  it('drops the held sessions, counted, when a commit fails, and then writes sessions as they come', () => {
    const onError = vi.fn();
    const state = openState(tmp.path('state.db'), { queryRateN: 2, bulkLoad: true, onError });
    try {
      const [S] = SERVERS;
      const [A, B] = CLIENTS;
      state.writer.enqueue({ kind: 'session_open', protocol: P, server: S!, client: A!, ts: 1 });
      state.writer.flush();
      state.db.pragma('busy_timeout = 0');
      const other = new Database(tmp.path('state.db'));
      other.exec('BEGIN IMMEDIATE');
      state.writer.enqueue({ kind: 'session_open', protocol: P, server: S!, client: B!, ts: 2 });
      state.writer.flush();
      other.exec('ROLLBACK');
      other.close();
      expect(onError).toHaveBeenCalledTimes(1);
      expect(state.writer.counters()).toMatchObject({ 'state.flush_failed': 1, 'state.rows_lost': 1, 'state.held_sessions_lost': 1 });
      state.writer.enqueue({ kind: 'session_open', protocol: P, server: S!, client: A!, ts: 3 });
      state.writer.flush();
      expect(state.db.prepare('SELECT client_port, open_ts FROM sessions').all()).toEqual([{ client_port: A!.port, open_ts: 3 }]);
    } finally {
      state.close();
    }
  });

  it('refuses a cap that is not a non-negative integer', () => {
    expect(() => openState(tmp.path('a.db'), { bulkLoad: true, heldSessionsCap: -1 })).toThrow(StateSettingsError);
    expect(() => openState(tmp.path('b.db'), { bulkLoad: true, heldSessionsCap: 1.5 })).toThrow(StateSettingsError);
  });
});

describe('HeldSessions', () => {
  const touch = (ip: string, port: number, ts: number, extra: { nick?: string; files?: number; lastSeen?: number } = {}) => ({
    client: { ip, port },
    ts,
    lastSeen: extra.lastSeen ?? ts,
    nick: extra.nick ?? null,
    files: extra.files ?? null,
  });

  it('folds touches as the session upsert does, and takes a session out at its close', () => {
    const held = new HeldSessions(8);
    expect(held.touch(1, touch('10.0.1.1', 4000, 5))).toBe(true);
    expect(held.touch(1, touch('10.0.1.1', 4000, 7, { nick: 'bob', lastSeen: 8 }))).toBe(true);
    expect(held.touch(1, touch('10.0.1.1', 4000, 9, { files: 3, lastSeen: 6 }))).toBe(true);
    // Another server's session of the same client endpoint is its own.
    expect(held.touch(2, touch('10.0.1.1', 4000, 10))).toBe(true);
    expect(held.size).toBe(2);
    expect(held.take(1, '10.0.1.1', 4000)).toEqual({ serverId: 1, ip: '10.0.1.1', port: 4000, openTs: 5, lastSeen: 8, nick: 'bob', files: 3 });
    expect(held.take(1, '10.0.1.1', 4000)).toBeUndefined();
    expect(held.size).toBe(1);
  });

  it('turns new sessions away for good once full, and says so once', () => {
    const onFull = vi.fn();
    const held = new HeldSessions(2, onFull);
    expect(held.touch(1, touch('a', 1, 1))).toBe(true);
    expect(held.touch(1, touch('a', 2, 2))).toBe(true);
    expect(held.touch(1, touch('a', 3, 3))).toBe(false);
    expect(held.touch(1, touch('a', 1, 4))).toBe(true); // still held: folded
    expect(held.take(1, 'a', 2)?.openTs).toBe(2);
    // Room again, but a session may already be open in the file: no new one is held.
    expect(held.touch(1, touch('a', 4, 5))).toBe(false);
    expect(onFull).toHaveBeenCalledTimes(1);
  });

  it('drains the open sessions by open time and holds nothing after', () => {
    const held = new HeldSessions(8);
    held.touch(1, touch('b', 1, 20));
    held.touch(2, touch('a', 1, 10));
    held.touch(1, touch('a', 1, 30));
    expect(held.drain().map((h) => h.openTs)).toEqual([10, 20, 30]);
    expect(held.size).toBe(0);
    expect(held.touch(1, touch('c', 1, 40))).toBe(false);
    expect(new HeldSessions(0).touch(1, touch('a', 1, 1))).toBe(false);
  });
});
