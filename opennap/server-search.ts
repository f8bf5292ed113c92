/**
 * Answering a search (200) like the C server's search.c: keyword AND through
 * the inverted index, never the searcher's own files (`search_callback`), no
 * result when both ends are firewalled (data port 0: no transfer could
 * happen), filters on bitrate/freq/size/duration/linespeed, at most
 * MAX_RESULTS lines, then 202. A search the grammar cannot read gets 404
 * "invalid search request" followed by 202, as search.c does (`goto done`),
 * so the client's query/answer order stays intact.
 *
 * Search strings repeat a lot (Zipf-like keyword popularity), so parsed
 * queries are kept in a small bounded cache keyed by the raw data.
 */
import { encodeFrame } from './codec.js';
import type { FileIndex } from './file-index.js';
import { MessageType } from './message-types.js';
import { matchesFilters, parseSearch } from './search-expression.js';
import type { SearchParseResult, SearchQuery } from './search-expression.js';
import type { ServerCounters } from './server-stats.js';
import type { ServerFile, ServerUser } from './server-model.js';
import { ParseCache } from './parse-cache.js';

/** The 202 that ends every answer; shared with the cache proxy. */
export const END_FRAME = encodeFrame(MessageType.SearchEnd);

/** The server's parsed searches: the shared parse cache, evictions counted as `opennap.query_cache_evicted`. */
export class QueryCache extends ParseCache<SearchParseResult> {
  constructor(counters: ServerCounters, capacity?: number) {
    super(parseSearch, () => counters.count('opennap.query_cache_evicted'), capacity);
  }
}

function hasFilters(q: SearchQuery): boolean {
  return (
    q.linespeed !== undefined || q.bitrate !== undefined || q.freq !== undefined || q.size !== undefined || q.duration !== undefined
  );
}

/** The files a search by `searcher` returns, in index order. */
export function findResults(index: FileIndex<ServerFile>, searcher: ServerUser, q: SearchQuery): ServerFile[] {
  const filtered = hasFilters(q);
  const searcherFirewalled = searcher.port === 0;
  return index.search(q.include, q.exclude, q.maxResults, (file) => {
    const owner = file.owner;
    if (owner === searcher) return false;
    if (searcherFirewalled && owner.port === 0) return false;
    if (!filtered) return true;
    const s = file.shared;
    return matches(q, s.bitrate, s.freq, s.size, s.duration, owner.linkType);
  });
}

function matches(q: SearchQuery, bitrate: number, freq: number, size: number, duration: number, linespeed: number): boolean {
  return matchesFilters(q, { bitrate, freq, size, duration, linespeed });
}

/** The answer to a search the grammar cannot read: 404 then 202 (search.c). */
export function encodeSearchError(message: string): Buffer {
  return Buffer.concat([encodeFrame(MessageType.GeneralError, `invalid search request: ${message}`), END_FRAME]);
}
