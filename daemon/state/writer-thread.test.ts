// The writer thread behind the same StateWriter surface: exact round trip, synchronous flush and
// prune, counts and failed commits reported back, bounded hand-over. Vitest runs TypeScript
// sources, which a worker thread cannot load by itself: the test starts it through a small module
// hook that transpiles our .ts files with the project's own TypeScript (no new dependency).
import Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { AnalyzerEvent } from '../../analyzers/events.js';
import { StateClosedError } from '../errors.js';
import { indexNames } from './bulk-load.js';
import { openState } from './index.js';
import type { OpenStateOptions, StateHandle } from './index.js';
import { makeTempDir } from './test-temp-dir.js';
import type { WriterThreadEntry } from './thread-sink.js';

const TYPESCRIPT = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;
const ENTRY = new URL('./writer-thread.ts', import.meta.url).href;

const HOOKS = `
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from ${JSON.stringify(TYPESCRIPT)};
export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && /^\\.\\.?\\//.test(specifier) && context.parentURL?.endsWith('.ts')) {
    const url = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = ts.transpileModule(readFileSync(fileURLToPath(url), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  return { format: 'module', source, shortCircuit: true };
}`;

const TS_ENTRY: WriterThreadEntry = {
  eval: true,
  script: `import('node:module').then((m) => {
    m.register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});
    return import(${JSON.stringify(ENTRY)});
  });`,
};

const S: Endpoint = { ip: '10.0.0.1', port: 8888 };
const A: Endpoint = { ip: '10.0.0.2', port: 4000 };
const P = 'opennap';
const q = (client: Endpoint, seq: number, ts: number): AnalyzerEvent => ({
  kind: 'query', protocol: P, server: S, ts, client, seq, keywords: ['song'], maxResults: 10,
});
const fr = (client: Endpoint, seq: number, queryTs: number, ts: number): AnalyzerEvent => ({
  kind: 'first_response', protocol: P, server: S, ts, client, seq, queryTs,
});

let tmp: ReturnType<typeof makeTempDir>;
let state: StateHandle | undefined;
const open = (options: OpenStateOptions = {}): StateHandle => {
  state = openState(tmp.path('state.db'), { queryRateN: 4, thread: TS_ENTRY, ...options });
  return state;
};
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => {
  state?.close();
  state = undefined;
  tmp.remove();
});

describe('StateWriter on a worker thread', () => {
  it('writes what an inline writer writes, and flush() returns only once it is in the file', () => {
    const { writer, reader } = open({ settings: { batchRows: 7 } });
    for (let i = 0; i < 50; i++) {
      writer.enqueue(q(A, i, 1000 + i * 10));
      if (i % 5 !== 0) writer.enqueue(fr(A, i, 1000 + i * 10, 1003 + i * 10));
    }
    writer.enqueue({ kind: 'session_open', protocol: P, server: S, ts: 900, client: A });
    writer.enqueue({ kind: 'login', protocol: P, server: S, ts: 901, client: A, nick: 'alice' });
    writer.flush();
    expect(writer.queued).toBe(0);
    const [summary] = reader.serverSummary(10_000, 2000);
    expect(summary).toMatchObject({ queries: 50, answered: 40, clients: 1, rtP50Ms: 3 });
    const c = writer.counters();
    expect((c['state.rows_written'] ?? 0) + (c['state.rows_folded'] ?? 0)).toBe(92);
    expect(c['state.enqueued']).toBe(92);
  });

  it('bulk loads a fresh file: no query time indexes while the thread writes, built at the end, sessions held until they close', () => {
    const handle = open({ settings: { batchRows: 7 }, bulkLoad: true });
    expect(handle.bulkLoading).toBe(true);
    // Sessions are held on the thread until they close or the load ends (held-sessions.ts).
    const B: Endpoint = { ip: '10.0.0.3', port: 4001 };
    handle.writer.enqueue({ kind: 'session_open', protocol: P, server: S, ts: 990, client: A });
    handle.writer.enqueue({ kind: 'session_open', protocol: P, server: S, ts: 991, client: B });
    for (let i = 0; i < 50; i++) handle.writer.enqueue(q(A, i, 1000 + i * 10));
    handle.writer.enqueue({ kind: 'login', protocol: P, server: S, ts: 1600, client: B, nick: 'bob' });
    handle.writer.enqueue({ kind: 'session_close', protocol: P, server: S, ts: 1700, client: B });
    handle.writer.flush();
    expect(handle.db.prepare('SELECT client_port, open_ts, close_ts, nick FROM sessions').all()).toEqual([
      { client_port: 4001, open_ts: 991, close_ts: 1700, nick: 'bob' },
    ]);
    for (let i = 0; i < 50; i += 2) handle.writer.enqueue(fr(A, i, 1000 + i * 10, 1004 + i * 10)); // updates by rowid
    expect(indexNames(handle.db, 'queries')).toEqual([]);
    handle.endBulkLoad();
    expect(indexNames(handle.db, 'queries')).toEqual(['queries_server_fr', 'queries_server_ts']);
    const [summary] = handle.reader.serverSummary(10_000, 2000);
    expect(summary).toMatchObject({ queries: 50, answered: 25, rtP50Ms: 4, clients: 2 });
    expect(handle.db.prepare('SELECT client_port, close_ts FROM sessions ORDER BY id').all()).toEqual([
      { client_port: 4001, close_ts: 1700 },
      { client_port: 4000, close_ts: null },
    ]);
    expect(handle.writer.counters()['state.held_sessions_written']).toBe(1);
  });

  it('updates rows written in an earlier batch, prunes synchronously and records metric windows', () => {
    const { writer, reader } = open({ settings: { retentionMs: { queries: 1000 } } });
    writer.enqueue(q(A, 0, 100));
    writer.enqueue(q(A, 1, 5000));
    writer.flush();
    writer.enqueue(fr(A, 1, 5000, 5040));
    writer.enqueue(fr(A, 1, 5000, 5050)); // repeated: ignored
    const report = writer.prune(2000);
    expect(report.age.queries).toBe(1);
    const id = reader.listServers()[0]?.id ?? -1;
    expect(reader.responseTimes(id, 0).map((s) => s.rtMs)).toEqual([40]);
    const snap = { rtAvgMs: 1, rtP50Ms: null, rtP99Ms: 1, qrAvg: 2, queries: 3, answered: 2, unanswered: 1, samples: 2, qrSamples: 1, truncated: false };
    writer.recordMetricWindow(id, 5, 1000, snap);
    writer.flush();
    expect(reader.metricWindows(id, 0)).toEqual([
      { serverId: id, ts: 5, windowMs: 1000, rtAvgMs: 1, rtP50Ms: null, rtP99Ms: 1, qrAvg: 2, queries: 3, answered: 2 },
    ]);
    expect(writer.counters()).toMatchObject({ 'state.response_repeated': 1, 'state.pruned_age.queries': 1, 'state.open_query_expired': 1 });
  });

  it('reports a commit that failed on the thread as a SqliteError, counted, and goes on', () => {
    const onError = vi.fn();
    const { writer, reader } = open({ onError });
    writer.enqueue(q(A, 0, 1));
    writer.flush(); // the thread has its connection and the server row
    const other = new Database(tmp.path('state.db'));
    other.exec('BEGIN IMMEDIATE');
    writer.enqueue(q(A, 1, 2));
    writer.flush(); // waits out the thread's busy timeout, then loses the batch
    other.exec('ROLLBACK');
    other.close();
    expect(writer.counters()).toMatchObject({ 'state.flush_failed': 1, 'state.rows_lost': 1 });
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ name: 'SqliteError', code: 'SQLITE_BUSY' });
    writer.enqueue(q(A, 2, 3));
    writer.flush();
    expect(reader.queryTimestamps(reader.listServers()[0]?.id ?? -1, 0)).toEqual([1, 3]);
  });

  it('on its timer, waits for the thread rather than overflow the queue when batches come faster than it writes', async () => {
    const { writer, reader } = open({ settings: { batchRows: 50, queueCap: 100, flushIntervalMs: 5 } });
    writer.start();
    for (let i = 0; i < 2000; i++) {
      expect(writer.enqueue(q(A, i, 1000 + i))).toBe(true);
      if (i % 40 === 0) await new Promise((r) => setImmediate(r));
    }
    writer.flush();
    expect(writer.counters()['state.queue_overflow']).toBeUndefined();
    expect(reader.queryTimestamps(reader.listServers()[0]?.id ?? -1, 0)).toHaveLength(2000);
  });

  it('writes what is queued on close and refuses work after it', () => {
    const first = open();
    first.writer.enqueue(q(A, 0, 42));
    first.close();
    expect(first.writer.enqueue(q(A, 1, 43))).toBe(false);
    expect(() => first.writer.flush()).toThrow(StateClosedError);
    const second = openState(tmp.path('state.db'));
    state = second;
    expect(second.reader.queryTimestamps(second.reader.listServers()[0]?.id ?? -1, 0)).toEqual([42]);
  });
});
