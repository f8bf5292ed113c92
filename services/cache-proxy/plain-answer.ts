/**
 * A cache entry's whole answer, encoded once when the entry is deposited, so
 * a cache hit from any client is one lookup and one write of a shared buffer
 * (the per-session memo only helps a client that repeats itself).
 *
 * It is exactly what `buildAnswer` (answer.ts) gives when the answer depends
 * on nothing but the entry: every cached result, in order, then the 202. That
 * holds for a "plain" search — include words only (no excludes, no
 * filters), MAX_RESULTS at least the entry's results, a searcher who shares
 * none of them, and nothing in the local directory matching — and only for
 * an entry whose every result contains every word of its key (the origin's
 * answers do; a deposit from elsewhere might not). Otherwise the proxy builds
 * the answer as before. Pure.
 */
import { END_FRAME } from '../../opennap/server-search.js';
import type { SearchQuery } from '../../opennap/search-expression.js';
import type { CachedResult } from './cached-result.js';

export interface PlainAnswer {
  /** Every result's 201 frame, in order, then the 202. */
  readonly bytes: Buffer;
  /** Results in `bytes`. */
  readonly count: number;
  /** Sharer nicks of the results: a searcher among them must not get its own files, so gets a built answer. */
  readonly nicks: ReadonlySet<string>;
}

/**
 * The plain answer of an entry of `words` holding `results` (already
 * de-duplicated, as the cache stores them), and the same results with their
 * frames re-pointed into it, so the entry holds each frame's bytes once.
 * Undefined when some result lacks a key word.
 */
export function plainAnswerOf(
  words: readonly string[],
  results: readonly CachedResult[],
): { plain: PlainAnswer; results: CachedResult[] } | undefined {
  let total = END_FRAME.length;
  for (const r of results) {
    for (const w of words) if (!r.words.has(w)) return undefined;
    total += r.frame.length;
  }
  const bytes = Buffer.allocUnsafeSlow(total);
  const nicks = new Set<string>();
  const views: CachedResult[] = [];
  let at = 0;
  for (const r of results) {
    bytes.set(r.frame, at);
    views.push({ ...r, frame: bytes.subarray(at, at + r.frame.length) });
    at += r.frame.length;
    nicks.add(r.nick);
  }
  bytes.set(END_FRAME, at);
  return { plain: { bytes, count: results.length, nicks }, results: views };
}

/** True when `plain` is the whole answer to `q` from `searcherNick`, provided the local directory has no match. */
export function servesPlain(q: SearchQuery, searcherNick: string, plain: PlainAnswer): boolean {
  return (
    q.exclude.length === 0 &&
    q.linespeed === undefined &&
    q.bitrate === undefined &&
    q.freq === undefined &&
    q.size === undefined &&
    q.duration === undefined &&
    q.maxResults >= plain.count &&
    !plain.nicks.has(searcherNick)
  );
}
