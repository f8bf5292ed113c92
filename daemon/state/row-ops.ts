/**
 * Turns analyzer events (analyzers/events.ts) into compact row operations for
 * the state writer's queue. Pure: validates every field the SQLite STRICT
 * schema would reject (a bad row must not fail a whole batch), bounds keyword
 * text, and drops what the database does not keep (result payloads belong to
 * the cache proxy), so a queued op holds no Buffers.
 */
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { AnalyzerEvent } from '../../analyzers/events.js';
import type { MetricsSnapshot } from '../metrics/window.js';

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

export interface ServerKey {
  protocol: string;
  ip: string;
  port: number;
}

export interface QueryKey {
  clientIp: string;
  clientPort: number;
  seq: number;
  queryTs: number;
}

export type RowOp =
  /** `learnt` null: the server was only implied by another event; created as 'port' if new, never relabelled. */
  | { op: 'server'; server: ServerKey; ts: number; learnt: Learnt | null }
  | {
      op: 'query';
      server: ServerKey;
      ts: number;
      key: QueryKey;
      keywords: string;
      maxResults: number | null;
      /** Filled by the writer when the query's first response / end arrive in the same batch. */
      firstResponseTs?: number;
      done?: { ts: number; results: number };
    }
  | { op: 'first_response'; server: ServerKey; ts: number; key: QueryKey }
  | { op: 'query_done'; server: ServerKey; ts: number; key: QueryKey; results: number; keywords: string }
  | { op: 'session_open' | 'session_close'; server: ServerKey; ts: number; clientIp: string; clientPort: number }
  | { op: 'session_update'; server: ServerKey; ts: number; clientIp: string; clientPort: number; nick: string | null; files: number | null }
  | { op: 'metric_window'; serverId: number; ts: number; windowMs: number; snapshot: MetricsSnapshot };

export type RowOpResult =
  | { kind: 'ok'; op: RowOp; truncated: boolean }
  | { kind: 'error'; event: 'state.invalid_event'; field: string };

const isTs = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

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

/** JSON text of at most MAX_KEYWORDS keywords of at most MAX_KEYWORD_CHARS each. */
export function boundKeywords(keywords: readonly unknown[]): { json: string; truncated: boolean } {
  const strings = keywords.filter((k): k is string => typeof k === 'string');
  let truncated = strings.length !== keywords.length || strings.length > MAX_KEYWORDS;
  const kept = strings.slice(0, MAX_KEYWORDS).map((k) => {
    if (k.length > MAX_KEYWORD_CHARS) truncated = true;
    return k.slice(0, MAX_KEYWORD_CHARS);
  });
  return { json: JSON.stringify(kept), truncated };
}

const bad = (field: string): RowOpResult => ({ kind: 'error', event: 'state.invalid_event', field });

export function rowOpOf(event: AnalyzerEvent): RowOpResult {
  // Typed input, but it crossed a module boundary: check the shape instead of trusting it.
  if (typeof event !== 'object' || event === null) return bad('event');
  if (typeof event.protocol !== 'string' || event.protocol.length === 0 || event.protocol.length > MAX_PROTOCOL_CHARS) {
    return bad('protocol');
  }
  if (!endpointOk(event.server)) return bad('server');
  if (!isTs(event.ts)) return bad('ts');
  const server: ServerKey = { protocol: event.protocol, ip: event.server.ip, port: event.server.port };
  const ts = event.ts;
  if (event.kind === 'server_seen') {
    if (event.learnt !== 'port' && event.learnt !== 'probe') return bad('learnt');
    return { kind: 'ok', op: { op: 'server', server, ts, learnt: event.learnt }, truncated: false };
  }
  if (!endpointOk(event.client)) return bad('client');
  const clientIp = event.client.ip;
  const clientPort = event.client.port;
  switch (event.kind) {
    case 'session_open':
    case 'session_close':
      return { kind: 'ok', op: { op: event.kind, server, ts, clientIp, clientPort }, truncated: false };
    case 'login': {
      if (typeof event.nick !== 'string') return bad('nick');
      const nick = event.nick.slice(0, MAX_NICK_CHARS);
      const op: RowOp = { op: 'session_update', server, ts, clientIp, clientPort, nick, files: null };
      return { kind: 'ok', op, truncated: nick.length !== event.nick.length };
    }
    case 'shares': {
      if (!isCount(event.files)) return bad('files');
      const op: RowOp = { op: 'session_update', server, ts, clientIp, clientPort, nick: null, files: event.files };
      return { kind: 'ok', op, truncated: false };
    }
    case 'query': {
      if (!isCount(event.seq)) return bad('seq');
      if (!Array.isArray(event.keywords)) return bad('keywords');
      const kw = boundKeywords(event.keywords);
      const maxResults = isCount(event.maxResults) ? event.maxResults : null;
      const key: QueryKey = { clientIp, clientPort, seq: event.seq, queryTs: ts };
      return { kind: 'ok', op: { op: 'query', server, ts, key, keywords: kw.json, maxResults }, truncated: kw.truncated };
    }
    case 'first_response': {
      if (!isCount(event.seq)) return bad('seq');
      if (!isTs(event.queryTs)) return bad('queryTs');
      const key: QueryKey = { clientIp, clientPort, seq: event.seq, queryTs: event.queryTs };
      return { kind: 'ok', op: { op: 'first_response', server, ts, key }, truncated: false };
    }
    case 'query_done': {
      if (!isCount(event.seq)) return bad('seq');
      if (!isTs(event.queryTs)) return bad('queryTs');
      if (!isCount(event.results)) return bad('results');
      if (!Array.isArray(event.keywords)) return bad('keywords');
      const kw = boundKeywords(event.keywords);
      const key: QueryKey = { clientIp, clientPort, seq: event.seq, queryTs: event.queryTs };
      const op: RowOp = { op: 'query_done', server, ts, key, results: event.results, keywords: kw.json };
      return { kind: 'ok', op, truncated: kw.truncated };
    }
    default:
      return bad('kind');
  }
}
