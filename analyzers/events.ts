/**
 * Typed events analyzers emit, consumed by the state database writer
 * (daemon/state) and by the cache proxy's warm start. All times are capture
 * timestamps in milliseconds since the epoch. Addresses are `Endpoint`s.
 */
import type { Endpoint } from './analyzer.js';

interface EventBase {
  protocol: string;
  server: Endpoint;
  ts: number;
}

export interface ServerSeenEvent extends EventBase {
  kind: 'server_seen';
  learnt: 'port' | 'probe';
}

export interface SessionOpenEvent extends EventBase {
  kind: 'session_open';
  client: Endpoint;
}

export interface SessionCloseEvent extends EventBase {
  kind: 'session_close';
  client: Endpoint;
}

export interface LoginEvent extends EventBase {
  kind: 'login';
  client: Endpoint;
  nick: string;
}

export interface SharesEvent extends EventBase {
  kind: 'shares';
  client: Endpoint;
  /** Files the client shares on this server after this change. */
  files: number;
}

/** A query seen going to the server. `seq` counts queries per (server, client) flow from 0. */
export interface QueryEvent extends EventBase {
  kind: 'query';
  client: Endpoint;
  seq: number;
  /** Lower-cased keywords of the query, in the order sent. */
  keywords: string[];
  maxResults: number;
}

/** The first response packet answering a query: RT = ts − queryTs. */
export interface FirstResponseEvent extends EventBase {
  kind: 'first_response';
  client: Endpoint;
  seq: number;
  queryTs: number;
}

/** The end of the answer to a query, with how many results it carried. */
export interface QueryDoneEvent extends EventBase {
  kind: 'query_done';
  client: Endpoint;
  seq: number;
  queryTs: number;
  results: number;
  /** The raw data of each result message (OpenNap 201 payloads), for the cache proxy's warm start. */
  resultPayloads: Buffer[];
  keywords: string[];
}

export type AnalyzerEvent =
  | ServerSeenEvent
  | SessionOpenEvent
  | SessionCloseEvent
  | LoginEvent
  | SharesEvent
  | QueryEvent
  | FirstResponseEvent
  | QueryDoneEvent;
