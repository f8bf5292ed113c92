import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../opennap/codec.js';
import { parseSearchResult } from '../../opennap/messages.js';
import { parseSearch } from '../../opennap/search-expression.js';
import { buildAnswer } from './answer.js';
import { cachedResultFromPayload } from './cached-result.js';
import type { CachedResult } from './cached-result.js';
import { LocalDirectory } from './local-directory.js';

function cached(nick: string, name: string, bitrate = 128, linkType = 4): CachedResult {
  const r = cachedResultFromPayload(Buffer.from(`"${name}" m 1000 ${bitrate} 44100 200 ${nick} 16777343 ${linkType}`, 'latin1'));
  if (r.kind !== 'ok') throw new Error(name);
  return r.result;
}

/** Decodes an answer into "nick:file" lines and checks it ends with exactly one 202. */
function lines(bytes: Buffer): string[] {
  const d = new FrameDecoder(0xffff);
  d.push(bytes);
  const out: string[] = [];
  let ended = 0;
  for (;;) {
    const r = d.next();
    if (r.kind !== 'ok') break;
    if (r.frame.type === 202) ended++;
    else {
      expect(r.frame.type).toBe(201);
      const p = parseSearchResult(r.frame.data.toString('latin1'));
      if (p.kind !== 'ok') throw new Error('bad 201');
      out.push(`${p.value.nick}:${p.value.filename}`);
    }
  }
  expect(ended).toBe(1);
  expect(d.buffered).toBe(0);
  return out;
}

function setup(): LocalDirectory {
  const d = new LocalDirectory();
  d.addUser(1, { nick: 'local1', ip: '10.0.0.1', port: 6699, linkType: 6 });
  d.addUser(2, { nick: 'me', ip: '10.0.0.2', port: 6699, linkType: 6 });
  d.share(1, { filename: 'song one.mp3', md5: 'm', size: 1, bitrate: 128, freq: 44100, duration: 1 });
  d.share(1, { filename: 'song two.mp3', md5: 'm', size: 1, bitrate: 320, freq: 44100, duration: 1 });
  d.share(2, { filename: 'song mine.mp3', md5: 'm', size: 1, bitrate: 128, freq: 44100, duration: 1 });
  return d;
}

const me = { session: 2, nick: 'me', port: 6699 };
const cache = [
  cached('remote', 'song three.mp3'),
  cached('local1', 'song one.mp3'), // the same file the local directory has: de-duplicated
  cached('me', 'song elsewhere.mp3'), // the searcher's own (learnt from the origin): never returned
  cached('remote', 'song live.mp3', 320, 1),
  cached('remote', 'other thing.mp3'), // does not hold the query word
];

describe('buildAnswer', () => {
  it.each([
    ['local first, then cache, de-duplicated, own files excluded', 'FILENAME CONTAINS "song"', ['local1:song one.mp3', 'local1:song two.mp3', 'remote:song three.mp3', 'remote:song live.mp3'], 2, 2],
    ['cut to MAX_RESULTS', 'FILENAME CONTAINS "song" MAX_RESULTS 3', ['local1:song one.mp3', 'local1:song two.mp3', 'remote:song three.mp3'], 2, 1],
    ['exclude applies to cached results', 'FILENAME CONTAINS "song" FILENAME EXCLUDES "live"', ['local1:song one.mp3', 'local1:song two.mp3', 'remote:song three.mp3'], 2, 1],
    ['filters apply to both', 'FILENAME CONTAINS "song" BITRATE "AT LEAST" "256"', ['local1:song two.mp3', 'remote:song live.mp3'], 1, 1],
    ['linespeed is the cached sharer link type', 'FILENAME CONTAINS "song" LINESPEED "AT BEST" 1', ['remote:song live.mp3'], 0, 1],
  ])('%s', (_name, text, expected, local, fromCache) => {
    const parsed = parseSearch(text);
    if (parsed.kind !== 'ok') throw new Error(text);
    const dir = setup();
    const a = buildAnswer(parsed.query, me, dir.search(parsed.query, me, parsed.query.maxResults), cache);
    expect(lines(a.bytes)).toEqual(expected);
    expect([a.local, a.cached]).toEqual([local, fromCache]);
  });

  it('answers an empty 202 when nothing matches and there is no cache entry', () => {
    const parsed = parseSearch('FILENAME CONTAINS "nothing"');
    if (parsed.kind !== 'ok') throw new Error('parse');
    const a = buildAnswer(parsed.query, me, [], undefined);
    expect(lines(a.bytes)).toEqual([]);
    expect(a.bytes.length).toBe(4);
  });
});
