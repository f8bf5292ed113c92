/**
 * Parsed search expressions by raw text, bounded: clients repeat the same
 * few strings (Zipf-like keyword popularity, seed 001 §5.3), so the hot path
 * parses each string once (the shared opennap parse cache).
 */
import { parseSearch } from '../../opennap/search-expression.js';
import type { SearchQuery } from '../../opennap/search-expression.js';
import { queryKeyOf } from './cache-key.js';
import type { QueryKey } from './cache-key.js';
import { ParseCache } from '../../opennap/parse-cache.js';

export type ParsedSearch =
  | { kind: 'ok'; query: SearchQuery; key: QueryKey }
  | { kind: 'error'; code: string; message: string };

/** Parses one search's data; never throws. */
export function parseForProxy(text: string): ParsedSearch {
  const r = parseSearch(text);
  if (r.kind === 'error') return { kind: 'error', code: r.code, message: r.message };
  const key = queryKeyOf(r.query);
  if (key === undefined) return { kind: 'error', code: 'opennap.search_no_words', message: 'no FILENAME CONTAINS words' };
  return { kind: 'ok', query: r.query, key };
}

export class ParsedQueries extends ParseCache<ParsedSearch> {
  /** Entries dropped to stay under the cap. */
  evicted = 0;

  constructor(capacity?: number) {
    super(parseForProxy, () => void this.evicted++, capacity);
  }
}
