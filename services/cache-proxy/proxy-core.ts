/**
 * The shared state of one cache proxy and what a session asks of it: the
 * answer to a search (seed 001 §5.2 steps 1–3), deposits into the cache,
 * forwards in flight, counters and latencies. Synchronous on the search
 * path: nothing here awaits, so a client's answer never waits for the
 * origin. The listener and session life cycle live in cache-proxy.ts.
 */
import { encodeSearchError } from '../../opennap/server-search.js';
import { queryKeyOfKeywords, wordsOfKey } from './cache-key.js';
import type { QueryKey } from './cache-key.js';
import { buildAnswer } from './answer.js';
import { MemoBudget } from './answer-memo.js';
import type { MemoAnswer } from './answer-memo.js';
import { cachedResultFromPayload } from './cached-result.js';
import type { CachedResult } from './cached-result.js';
import { EventCounters } from './counters.js';
import { LatencyRing } from './latency-ring.js';
import { ANSWER_MEMO_TOTAL_BYTES, MAX_FORWARDS_IN_FLIGHT, MAX_RESULTS_PER_ENTRY } from './limits.js';
import { PARSE_CACHE_MAX_KEY } from '../../opennap/parse-cache.js';
import { LocalDirectory } from './local-directory.js';
import { ParsedQueries } from './parsed-queries.js';
import { plainAnswerOf, servesPlain } from './plain-answer.js';
import { ResultCache } from './result-cache.js';
import type { DepositOutcome } from './result-cache.js';
import type { ProxySession, SessionCore } from './session.js';
import type { UpstreamUnreachableError } from '../errors.js';
import type { HostPort, UpstreamSourceBinder } from './types.js';

export interface ProxyCoreOptions {
  origin: HostPort;
  upstreamSource: UpstreamSourceBinder;
  upstreamConnectTimeoutMs: number;
  cacheTtlMs: number;
  maxCacheEntries: number;
  maxCacheBytes: number;
  now: () => number;
  onUpstreamOpened: () => void;
  onUpstreamFailed: (err: UpstreamUnreachableError) => void;
  onSessionClosed: (session: ProxySession) => void;
}

export class ProxyCore implements SessionCore {
  readonly origin: HostPort;
  readonly upstreamSource: UpstreamSourceBinder;
  readonly upstreamConnectTimeoutMs: number;
  readonly directory = new LocalDirectory();
  readonly counters = new EventCounters();
  readonly cache: ResultCache;
  readonly latency = new LatencyRing();
  readonly memoBudget = new MemoBudget(ANSWER_MEMO_TOTAL_BYTES);
  private readonly parsed = new ParsedQueries();
  /** Keys forwarded and not yet answered → the session that forwarded them (a key is forwarded once). */
  private readonly inFlight = new Map<string, number>();

  searches = 0;
  hits = 0;
  misses = 0;
  forwards = 0;
  localResults = 0;
  cacheResults = 0;
  upstreamFailures = 0;

  constructor(private readonly opts: ProxyCoreOptions) {
    this.origin = opts.origin;
    this.upstreamSource = opts.upstreamSource;
    this.upstreamConnectTimeoutMs = opts.upstreamConnectTimeoutMs;
    this.cache = new ResultCache({ ttlMs: opts.cacheTtlMs, maxEntries: opts.maxCacheEntries, maxBytes: opts.maxCacheBytes });
  }

  now(): number {
    return this.opts.now();
  }

  get forwardsInFlight(): number {
    return this.inFlight.size;
  }

  answerSearch(session: ProxySession, data: Buffer): Buffer {
    this.searches++;
    const text = data.toString('latin1');
    const p = this.parsed.parse(text);
    if (p.kind === 'error') {
      // Like search.c: 404 then 202, so the client's query/answer order holds; the session stays.
      this.counters.inc(p.code);
      return encodeSearchError(p.message);
    }
    const searcher = session.searcher() ?? { session: session.id, nick: '', port: 0 };
    const entry = this.cache.get(p.key.key, this.opts.now());
    if (entry !== undefined) this.hits++;
    else {
      this.misses++;
      this.maybeForward(session, p.key);
    }
    // The common hit: the entry's answer encoded once, shared by every client (plain-answer.ts).
    const plain = entry?.plain;
    if (plain !== undefined && servesPlain(p.query, searcher.nick, plain) && this.directory.search(p.query, searcher, 1).length === 0) {
      this.cacheResults += plain.count;
      return plain.bytes;
    }
    // Long texts are answered each time rather than pinned in the memo.
    const memoable = text.length <= PARSE_CACHE_MAX_KEY;
    const generation = this.directory.generation;
    let answer: MemoAnswer | undefined = memoable ? session.memo.get(text, generation, entry) : undefined;
    if (answer === undefined) {
      const local = this.directory.search(p.query, searcher, p.query.maxResults);
      const built = buildAnswer(p.query, searcher, local, entry?.results);
      answer = { ...built, generation, entry };
      if (memoable) session.memo.set(text, answer);
    }
    this.localResults += answer.local;
    this.cacheResults += answer.cached;
    return answer.bytes;
  }

  private maybeForward(session: ProxySession, key: QueryKey): void {
    if (this.inFlight.has(key.key)) {
      this.counters.inc('cache_proxy.forward_coalesced');
      return;
    }
    if (this.inFlight.size >= MAX_FORWARDS_IN_FLIGHT) {
      this.counters.inc('cache_proxy.forward_skipped_in_flight_limit');
      return;
    }
    if (session.forward(key)) {
      this.inFlight.set(key.key, session.id);
      this.forwards++;
    }
  }

  forwardDone(session: ProxySession, key: string, payloads: Buffer[]): void {
    if (this.inFlight.get(key) === session.id) this.inFlight.delete(key);
    const now = this.opts.now();
    this.count(this.depositKey(key, payloads, now, now));
  }

  forwardAbandoned(session: ProxySession, key: string): void {
    if (this.inFlight.get(key) === session.id) this.inFlight.delete(key);
  }

  /** Deposits 201 data sections seen for `keywords` at `ts` (warm start, or an analyzer feed). */
  deposit(keywords: readonly string[], payloads: readonly Buffer[], ts: number): DepositOutcome | 'no_keywords' {
    const key = queryKeyOfKeywords(keywords);
    if (key === undefined) {
      this.counters.inc('cache_proxy.deposit_no_keywords');
      return 'no_keywords';
    }
    const outcome = this.depositKey(key.key, payloads, ts, this.opts.now());
    this.count(outcome);
    return outcome;
  }

  private depositKey(key: string, payloads: readonly Buffer[], ts: number, now: number): DepositOutcome {
    const results: CachedResult[] = [];
    const seen = new Set<string>();
    for (const payload of payloads) {
      if (results.length >= MAX_RESULTS_PER_ENTRY) {
        this.counters.inc('cache_proxy.deposit_result_over_cap');
        break;
      }
      const r = cachedResultFromPayload(payload);
      if (r.kind === 'error') {
        this.counters.inc(r.code);
        continue;
      }
      if (seen.has(r.result.id)) continue;
      seen.add(r.result.id);
      results.push(r.result);
    }
    const withPlain = plainAnswerOf(wordsOfKey(key), results);
    return withPlain === undefined ? this.cache.put(key, results, ts, now) : this.cache.put(key, withPlain.results, ts, now, withPlain.plain);
  }

  private count(outcome: DepositOutcome): void {
    this.counters.inc(`cache_proxy.deposit_${outcome}`);
  }

  /** Every named counter, with the memo's and the parser cache's evictions folded in. */
  events(): Record<string, number> {
    const out = this.counters.snapshot();
    const extra: [string, number][] = [
      ['cache_proxy.answer_memo_evicted', this.memoBudget.evictions],
      ['cache_proxy.answer_memo_refused', this.memoBudget.refused],
      ['cache_proxy.parsed_query_evicted', this.parsed.evicted],
    ];
    for (const [name, n] of extra) if (n > 0) out[name] = n;
    return out;
  }

  recordLatency(ms: number): void {
    this.latency.record(ms);
  }

  upstreamOpened(): void {
    this.opts.onUpstreamOpened();
  }

  upstreamFailed(err: UpstreamUnreachableError): void {
    this.upstreamFailures++;
    this.counters.inc(`cache_proxy.upstream_${err.reason}`);
    this.opts.onUpstreamFailed(err);
  }

  sessionClosed(session: ProxySession): void {
    this.opts.onSessionClosed(session);
  }
}
