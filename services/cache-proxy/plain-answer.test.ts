import { describe, expect, it } from 'vitest';
import { parseSearch } from '../../opennap/search-expression.js';
import type { SearchQuery } from '../../opennap/search-expression.js';
import { buildAnswer } from './answer.js';
import { cachedResultFromPayload } from './cached-result.js';
import type { CachedResult } from './cached-result.js';
import { plainAnswerOf, servesPlain } from './plain-answer.js';

function cached(nick: string, name: string, bitrate = 128): CachedResult {
  const r = cachedResultFromPayload(Buffer.from(`"${name}" m 1000 ${bitrate} 44100 200 ${nick} 16777343 4`, 'latin1'));
  if (r.kind !== 'ok') throw new Error(name);
  return r.result;
}

function query(text: string): SearchQuery {
  const p = parseSearch(text);
  if (p.kind !== 'ok') throw new Error(text);
  return p.query;
}

const results = [cached('ann', 'kavomu tisepa.mp3'), cached('bob', 'kavomu tisepa live.mp3', 320), cached('cy', 'tisepa kavomu remix.mp3')];
const searcher = { session: 9, nick: 'dee', port: 6699 };

describe('plainAnswerOf / servesPlain', () => {
  it('is byte for byte what buildAnswer gives a plain search with no local match', () => {
    const built = plainAnswerOf(['kavomu', 'tisepa'], results);
    if (built === undefined) throw new Error('expected a plain answer');
    const q = query('FILENAME CONTAINS "tisepa kavomu" MAX_RESULTS 100');
    expect(servesPlain(q, searcher.nick, built.plain)).toBe(true);
    expect(built.plain.count).toBe(3);
    expect(built.plain.bytes.equals(buildAnswer(q, searcher, [], results).bytes)).toBe(true);
    // The re-pointed results carry the same frames, so a full build from them is unchanged too.
    expect(buildAnswer(q, searcher, [], built.results).bytes.equals(built.plain.bytes)).toBe(true);
  });

  it('frames of the re-pointed results are views into the one answer buffer', () => {
    const built = plainAnswerOf(['kavomu'], results);
    expect(built?.results.every((r) => r.frame.buffer === built.plain.bytes.buffer)).toBe(true);
  });

  it('refuses an entry with a result lacking a key word', () => {
    expect(plainAnswerOf(['kavomu', 'remix'], results)).toBeUndefined();
  });

  it.each([
    ['an exclude', 'FILENAME CONTAINS "kavomu" FILENAME EXCLUDES "live" MAX_RESULTS 100', 'dee'],
    ['a filter', 'FILENAME CONTAINS "kavomu" BITRATE "AT LEAST" "256" MAX_RESULTS 100', 'dee'],
    ['fewer results asked than held', 'FILENAME CONTAINS "kavomu" MAX_RESULTS 2', 'dee'],
    ['a searcher sharing one of the results', 'FILENAME CONTAINS "kavomu" MAX_RESULTS 100', 'bob'],
  ])('is not served for %s (the built answer differs)', (_what, text, nick) => {
    const built = plainAnswerOf(['kavomu'], results);
    if (built === undefined) throw new Error('expected a plain answer');
    const q = query(text);
    expect(servesPlain(q, nick, built.plain)).toBe(false);
    expect(buildAnswer(q, { ...searcher, nick }, [], results).bytes.equals(built.plain.bytes)).toBe(false);
  });

  it('an empty entry answers with the 202 alone', () => {
    const built = plainAnswerOf(['kavomu'], []);
    expect(built?.plain.bytes.equals(Buffer.from([0, 0, 202, 0]))).toBe(true);
  });
});
