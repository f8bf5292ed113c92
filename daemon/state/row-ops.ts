/**
 * Turns analyzer events (analyzers/events.ts) into compact row operations for
 * the state writer's queue. Pure: validates every field the SQLite STRICT
 * schema would reject (a bad row must not fail a whole batch), bounds keyword
 * text, and drops what the database does not keep (result payloads belong to
 * the cache proxy), so a queued op holds no Buffers.
 */
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { AnalyzerEvent } from '../../analyzers/events.js';
import { memoByArray } from '../memo-by-array.js';
import type { MetricWindowRow } from './state-reader.js';

/** Keywords kept per query: OpenNap searches carry a handful; more is noise or an attack. */
export const MAX_KEYWORDS = 32;
/** Characters kept per keyword (OpenNap file names are far shorter than this). */
export const MAX_KEYWORD_CHARS = 128;
/** Longest IP text: canonical IPv6 with a zone is under 64 characters. */
export const MAX_IP_CHARS = 64;
/** Longest protocol name accepted as a server key. */
export const MAX_PROTOCOL_CHARS = 32;
/** Longest nick kept (OpenNap nicks are short; bounded so a hostile login cannot bloat rows). */
export const MAX_NICK_CHARS = 64;

export type Learnt = 'port' | 'probe' | 'policy';

/**
 * Ops keep the event's own endpoint objects (validated here, never copied: an op is queued for at
 * most one flush interval, and the writer re-checks ip and port wherever it caches by identity),
 * so queuing an event allocates one object, not four.
 */
export type RowOp =
  /** `learnt` null: the server was only implied by another event; created as 'port' if new, never relabelled. */
  | { op: 'server'; protocol: string; server: Endpoint; ts: number; learnt: Learnt | null }
  | {
      op: 'query';
      protocol: string;
      server: Endpoint;
      ts: number;
      client: Endpoint;
      seq: number;
      /** JSON array text (boundKeywords). */
      keywords: string;
      maxResults: number | null;
      /**
       * Filled while the op is still queued, when the query's first response or end comes before its
       * batch leaves (StateWriter folds those events into it instead of queuing ops of their own).
       */
      firstResponseTs: number | null;
      doneTs: number | null;
      results: number | null;
    }
  | { op: 'first_response'; protocol: string; server: Endpoint; ts: number; client: Endpoint; seq: number; queryTs: number }
  | {
      op: 'query_done';
      protocol: string;
      server: Endpoint;
      ts: number;
      client: Endpoint;
      seq: number;
      queryTs: number;
      results: number;
      keywords: string;
    }
  | { op: 'session_close'; protocol: string; server: Endpoint; ts: number; client: Endpoint }
  | {
      /** session_open creates (or touches) the client's open session; session_update fills it in. */
      op: 'session_open' | 'session_update';
      protocol: string;
      server: Endpoint;
      ts: number;
      client: Endpoint;
      nick: string | null;
      files: number | null;
      /**
       * Newest time the op stands for: its own `ts`, or later when StateWriter folded the session's
       * later login/shares events into it while it was queued.
       */
      lastSeen: number;
    }
  | ({ op: 'metric_window' } & MetricWindowRow);

export type RowOpResult =
  | { kind: 'ok'; op: RowOp; truncated: boolean }
  | { kind: 'error'; event: 'state.invalid_event'; field: string };

/** A timestamp the schema accepts (finite REAL). */
export const isTs = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** A count the schema accepts (non-negative safe INTEGER). */
export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function endpointOk(e: Endpoint | undefined): e is Endpoint {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.ip === 'string' &&
    e.ip.length > 0 &&
    e.ip.length <= MAX_IP_CHARS &&
    Number.isInteger(e.port) &&
    e.port >= 0 &&
    e.port <= 65535
  );
}

/** Whether every keyword is kept as it is (a plain loop: a hole in a sparse array counts as a non-string). */
function withinBounds(keywords: readonly unknown[]): boolean {
  if (keywords.length > MAX_KEYWORDS) return false;
  for (let i = 0; i < keywords.length; i++) {
    const k = keywords[i];
    if (typeof k !== 'string' || k.length > MAX_KEYWORD_CHARS) return false;
  }
  return true;
}

/** JSON text of at most MAX_KEYWORDS keywords of at most MAX_KEYWORD_CHARS each. */
export function boundKeywords(keywords: readonly unknown[]): { json: string; truncated: boolean } {
  // The usual case, a handful of short words, is kept as it is: no copies of the array.
  if (withinBounds(keywords)) return { json: JSON.stringify(keywords), truncated: false };
  const strings = keywords.filter((k): k is string => typeof k === 'string');
  let truncated = strings.length !== keywords.length || strings.length > MAX_KEYWORDS;
  const kept = strings.slice(0, MAX_KEYWORDS).map((k) => {
    if (k.length > MAX_KEYWORD_CHARS) truncated = true;
    return k.slice(0, MAX_KEYWORD_CHARS);
  });
  return { json: JSON.stringify(kept), truncated };
}

/** boundKeywords by array identity: a query and its query_done, and every repeat of a search, share one array. */
const boundKeywordsCached = memoByArray(boundKeywords);

const bad = (field: string): RowOpResult => ({ kind: 'error', event: 'state.invalid_event', field });

export function rowOpOf(event: AnalyzerEvent): RowOpResult {
  // Typed input, but it crossed a module boundary: check the shape instead of trusting it.
  if (typeof event !== 'object' || event === null) return bad('event');
  if (typeof event.protocol !== 'string' || event.protocol.length === 0 || event.protocol.length > MAX_PROTOCOL_CHARS) {
    return bad('protocol');
  }
  if (!endpointOk(event.server)) return bad('server');
  if (!isTs(event.ts)) return bad('ts');
  const protocol = event.protocol;
  const server = event.server;
  const ts = event.ts;
  if (event.kind === 'server_seen') {
    if (event.learnt !== 'port' && event.learnt !== 'probe') return bad('learnt');
    return { kind: 'ok', op: { op: 'server', protocol, server, ts, learnt: event.learnt }, truncated: false };
  }
  if (!endpointOk(event.client)) return bad('client');
  const client = event.client;
  switch (event.kind) {
    case 'session_open':
      return { kind: 'ok', op: { op: event.kind, protocol, server, ts, client, nick: null, files: null, lastSeen: ts }, truncated: false };
    case 'session_close':
      return { kind: 'ok', op: { op: event.kind, protocol, server, ts, client }, truncated: false };
    case 'login': {
      if (typeof event.nick !== 'string') return bad('nick');
      const nick = event.nick.slice(0, MAX_NICK_CHARS);
      const op: RowOp = { op: 'session_update', protocol, server, ts, client, nick, files: null, lastSeen: ts };
      return { kind: 'ok', op, truncated: nick.length !== event.nick.length };
    }
    case 'shares': {
      if (!isCount(event.files)) return bad('files');
      const op: RowOp = { op: 'session_update', protocol, server, ts, client, nick: null, files: event.files, lastSeen: ts };
      return { kind: 'ok', op, truncated: false };
    }
    case 'query': {
      if (!isCount(event.seq)) return bad('seq');
      if (!Array.isArray(event.keywords)) return bad('keywords');
      const kw = boundKeywordsCached(event.keywords);
      const maxResults = isCount(event.maxResults) ? event.maxResults : null;
      const op: RowOp = {
        op: 'query', protocol, server, ts, client, seq: event.seq, keywords: kw.json, maxResults,
        firstResponseTs: null, doneTs: null, results: null,
      };
      return { kind: 'ok', op, truncated: kw.truncated };
    }
    case 'first_response': {
      if (!isCount(event.seq)) return bad('seq');
      if (!isTs(event.queryTs)) return bad('queryTs');
      const op: RowOp = { op: 'first_response', protocol, server, ts, client, seq: event.seq, queryTs: event.queryTs };
      return { kind: 'ok', op, truncated: false };
    }
    case 'query_done': {
      if (!isCount(event.seq)) return bad('seq');
      if (!isTs(event.queryTs)) return bad('queryTs');
      if (!isCount(event.results)) return bad('results');
      if (!Array.isArray(event.keywords)) return bad('keywords');
      const kw = boundKeywordsCached(event.keywords);
      const op: RowOp = {
        op: 'query_done',
        protocol,
        server,
        ts,
        client,
        seq: event.seq,
        queryTs: event.queryTs,
        results: event.results,
        keywords: kw.json,
      };
      return { kind: 'ok', op, truncated: kw.truncated };
    }
    default:
      return bad('kind');
  }
}
