import { describe, expect, it } from 'vitest';
import { parseSearch } from '../../opennap/search-expression.js';
import { forwardSearchText, queryKeyOf, queryKeyOfKeywords, wordsOfKey } from './cache-key.js';
import { ParsedQueries, parseForProxy } from './parsed-queries.js';

function keyOf(text: string): string | undefined {
  const r = parseSearch(text);
  if (r.kind !== 'ok') throw new Error(`test search does not parse: ${text}`);
  return queryKeyOf(r.query)?.key;
}

describe('queryKeyOf', () => {
  it.each([
    ['FILENAME CONTAINS "beta alpha" MAX_RESULTS 10', 'alpha beta'],
    ['FILENAME CONTAINS "Alpha BETA" MAX_RESULTS 100 BITRATE "AT LEAST" "128"', 'alpha beta'],
    ['FILENAME CONTAINS "alpha" FILENAME CONTAINS "beta" FILENAME EXCLUDES "live"', 'alpha beta'],
    ['FILENAME CONTAINS "alpha -live beta"', 'alpha beta'],
    ['FILENAME CONTAINS "alpha" TYPE audio/mp3', 'alpha\ttype=audio/mp3'],
  ])('%s → %j', (text, key) => {
    expect(keyOf(text)).toBe(key);
  });

  it('gives the analyzer keywords the same key as the typed search', () => {
    expect(queryKeyOfKeywords(['Beta', 'alpha'])?.key).toBe(keyOf('FILENAME CONTAINS "alpha beta"'));
    expect(queryKeyOfKeywords(['alpha-beta'])?.key).toBe('alpha beta');
    expect(queryKeyOfKeywords([])).toBeUndefined();
    expect(queryKeyOfKeywords(['--', ' '])).toBeUndefined();
  });

  it('forwards the bare keywords with the maximum of results, and the forward has the same key', () => {
    const k = queryKeyOfKeywords(['zeta', 'alpha'])!;
    const text = forwardSearchText(k);
    expect(text).toBe('FILENAME CONTAINS "alpha zeta" MAX_RESULTS 100');
    expect(keyOf(text)).toBe(k.key);
    const typed = parseForProxy('FILENAME CONTAINS "alpha" TYPE video/mpeg');
    expect(typed.kind).toBe('ok');
    if (typed.kind === 'ok') expect(forwardSearchText(typed.key)).toBe('FILENAME CONTAINS "alpha" MAX_RESULTS 100 TYPE video/mpeg');
  });
});

describe('ParsedQueries', () => {
  it('parses once per text, reports errors as values, and stays within its capacity', () => {
    const pq = new ParsedQueries(2);
    const a = pq.parse('FILENAME CONTAINS "a"');
    expect(pq.parse('FILENAME CONTAINS "a"')).toBe(a);
    expect(pq.parse('BOGUS')).toMatchObject({ kind: 'error', code: 'opennap.search_unknown_clause' });
    pq.parse('FILENAME CONTAINS "c"');
    expect(pq.evicted).toBe(1);
    expect(pq.parse('FILENAME CONTAINS "a"')).not.toBe(a);
  });
});

describe('wordsOfKey', () => {
  it.each([
    ['FILENAME CONTAINS "b a" MAX_RESULTS 5', ['a', 'b']],
    ['FILENAME CONTAINS "zz" TYPE audio/mp3', ['zz']],
  ])('gives back the sorted words of the key of %s', (text, words) => {
    const p = parseSearch(text);
    if (p.kind !== 'ok') throw new Error(text);
    const key = queryKeyOf(p.query);
    if (key === undefined) throw new Error('no key');
    expect(wordsOfKey(key.key)).toEqual(words);
  });
});
