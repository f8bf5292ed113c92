/**
 * The proxy's answer to one search, seed 001 §5.2 steps 1–2: the matching
 * files of the local directory first, then the cached results of the same
 * key, de-duplicated by (nick, file name), never the searcher's own files,
 * each checked against the query's words and filters, cut to MAX_RESULTS;
 * all encoded into one buffer of 201 frames and the closing 202, so it goes
 * out in one write. Pure.
 */
import { matchesFilters } from '../../opennap/search-expression.js';
import type { SearchQuery } from '../../opennap/search-expression.js';
import type { CachedResult } from './cached-result.js';
import type { LocalFile, Searcher } from './local-directory.js';
import { END_FRAME } from '../../opennap/server-search.js';


export interface Answer {
  /** Every 201 then the 202. */
  bytes: Buffer;
  /** Results taken from the local directory. */
  local: number;
  /** Results taken from the cache. */
  cached: number;
}

function hasFilters(q: SearchQuery): boolean {
  return q.linespeed !== undefined || q.bitrate !== undefined || q.freq !== undefined || q.size !== undefined || q.duration !== undefined;
}

/** True when a cached result may answer `q`: every include word, no exclude word, every filter. */
export function cachedResultMatches(q: SearchQuery, r: CachedResult, filtered = hasFilters(q)): boolean {
  for (const w of q.include) if (!r.words.has(w)) return false;
  for (const w of q.exclude) if (r.words.has(w)) return false;
  if (!filtered) return true;
  return matchesFilters(q, { bitrate: r.bitrate, freq: r.freq, size: r.size, duration: r.duration, linespeed: r.linkType });
}

/**
 * Merges `local` (already matched, filtered and at most MAX_RESULTS, from
 * `LocalDirectory.search`) with `cached` (the cache entry of the query's
 * key, or nothing) into the answer for `searcher`.
 */
export function buildAnswer(
  q: SearchQuery,
  searcher: Searcher,
  local: readonly LocalFile[],
  cached: readonly CachedResult[] | undefined,
): Answer {
  const limit = q.maxResults;
  const frames: Buffer[] = [];
  const seen = new Set<string>();
  for (const f of local) {
    if (frames.length >= limit) break;
    if (f.owner.nick === searcher.nick || seen.has(f.id)) continue;
    seen.add(f.id);
    frames.push(f.resultFrame);
  }
  const localCount = frames.length;
  if (cached !== undefined && frames.length < limit) {
    const filtered = hasFilters(q);
    for (const r of cached) {
      if (frames.length >= limit) break;
      if (r.nick === searcher.nick || seen.has(r.id)) continue;
      if (!cachedResultMatches(q, r, filtered)) continue;
      seen.add(r.id);
      frames.push(r.frame);
    }
  }
  frames.push(END_FRAME);
  return { bytes: Buffer.concat(frames), local: localCount, cached: frames.length - 1 - localCount };
}
