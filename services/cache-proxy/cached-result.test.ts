import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cachedResultFromPayload } from './cached-result.js';

describe('cachedResultFromPayload', () => {
  it.each([
    ['a full result', '"dir\\My Song.mp3" 0123 4000000 128 44100 250 alice 16777343 6', 'ok'],
    ['too few fields', '"x.mp3" 0123 4000000 128', 'cache_proxy.bad_result'],
    ['non-numeric size', '"x.mp3" 0123 big 128 44100 250 alice 16777343 6', 'cache_proxy.bad_result'],
    ['bad ip', '"x.mp3" 0123 1 128 44100 250 alice 99999999999 6', 'cache_proxy.bad_result'],
    ['empty', '', 'cache_proxy.bad_result'],
  ])('%s', (_name, text, expected) => {
    const r = cachedResultFromPayload(Buffer.from(text, 'latin1'));
    expect(r.kind === 'ok' ? 'ok' : r.code).toBe(expected);
  });

  it('reads the fields it filters on and the words of the name', () => {
    const r = cachedResultFromPayload(Buffer.from('"Alpha - Beta.mp3" m 10 192 48000 300 bob 16777343 8', 'latin1'));
    if (r.kind !== 'ok') throw new Error('expected ok');
    expect(r.result).toMatchObject({ nick: 'bob', filename: 'Alpha - Beta.mp3', size: 10, bitrate: 192, freq: 48000, duration: 300, linkType: 8 });
    expect([...r.result.words]).toEqual(['alpha', 'beta', 'mp3']);
    expect(r.result.id).toBe('bob\0Alpha - Beta.mp3');
  });

  it('never throws on random or truncated bytes', () => {
    const valid = Buffer.from('"x y.mp3" 0123 4000000 128 44100 250 alice 16777343 6', 'latin1');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(valid.length), (bytes, cut) => {
        for (const b of [Buffer.from(bytes), valid.subarray(0, cut)]) {
          const r = cachedResultFromPayload(b);
          expect(['ok', 'error']).toContain(r.kind);
        }
      }),
      { numRuns: 300 },
    );
  });
});
