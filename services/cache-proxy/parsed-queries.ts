/**
 * Parsed search expressions by raw text, bounded: clients repeat the same
 * few strings (Zipf-like keyword popularity, seed 001 §5.3), so the hot path
 * parses each string once. Same idea as the directory server's QueryCache.
 */
import { parseSearch } from '../../opennap/search-expression.js';
import type { SearchQuery } from '../../opennap/search-expression.js';
import { queryKeyOf } from './cache-key.js';
import type { QueryKey } from './cache-key.js';
import { PARSED_QUERY_ENTRIES, PARSED_QUERY_MAX_TEXT } from './limits.js';

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

export class ParsedQueries {
  private readonly entries = new Map<string, ParsedSearch>();
  /** Entries dropped to stay under the cap. */
  evicted = 0;

  constructor(private readonly capacity = PARSED_QUERY_ENTRIES) {}

  parse(text: string): ParsedSearch {
    const hit = this.entries.get(text);
    if (hit !== undefined) return hit;
    const parsed = parseForProxy(text);
    if (text.length <= PARSED_QUERY_MAX_TEXT) {
      if (this.entries.size >= this.capacity) {
        // Oldest inserted first: cheap, and a popular string comes straight back.
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
        this.evicted++;
      }
      this.entries.set(text, parsed);
    }
    return parsed;
  }
}
