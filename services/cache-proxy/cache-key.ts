/**
 * The cache proxy's query key (seed 001 §5.2 step 3, "a list of keywords
 * that it has searched"): the sorted include keywords of a search, plus its
 * TYPE when one is given. Excludes and filters are not part of the key: the
 * proxy forwards the bare keywords, caches the full answer, and filters by
 * name and attributes when serving, so one entry answers every variant of a
 * query. Pure.
 */
import { MAX_RESULTS_CAP, keywordsOf } from '../../opennap/search-expression.js';
import type { SearchQuery } from '../../opennap/search-expression.js';

/** What a key stands for: the words to forward and the content type, if any. */
export interface QueryKey {
  key: string;
  /** Sorted distinct lower-cased include words. */
  words: string[];
  type?: string;
}

function make(words: string[], type: string | undefined): QueryKey | undefined {
  if (words.length === 0) return undefined;
  words.sort();
  const key = type === undefined ? words.join(' ') : `${words.join(' ')}\ttype=${type}`;
  return type === undefined ? { key, words } : { key, words, type };
}

/** The key of a parsed search. Undefined only for a query without include words (which never parses). */
export function queryKeyOf(q: SearchQuery): QueryKey | undefined {
  return make([...q.include], q.type);
}

/** The words of a key made here (its part before the TYPE suffix). */
export function wordsOfKey(key: string): string[] {
  const tab = key.indexOf('\t');
  return (tab < 0 ? key : key.slice(0, tab)).split(' ');
}

/**
 * The key of a keyword list as the analyzer reports it (`QueryDoneEvent.keywords`),
 * re-split with `keywordsOf` so it equals the key of the same words typed by a client.
 */
export function queryKeyOfKeywords(keywords: readonly string[]): QueryKey | undefined {
  return make(keywordsOf(keywords.join(' ')), undefined);
}

/**
 * The search the proxy sends the origin for a key: the bare keywords with
 * the servers' maximum of results, so the cached answer is the whole answer.
 */
export function forwardSearchText(k: QueryKey): string {
  const base = `FILENAME CONTAINS "${k.words.join(' ')}" MAX_RESULTS ${MAX_RESULTS_CAP}`;
  return k.type === undefined ? base : `${base} TYPE ${k.type}`;
}
