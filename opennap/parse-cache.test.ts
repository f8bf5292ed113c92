import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PARSE_CACHE_MAX_KEY, ParseCache } from './parse-cache.js';

describe('ParseCache', () => {
  it('parses each text once while kept, evicts first in first out, and counts each eviction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 200 }), (capacity, texts) => {
        let parses = 0;
        let evictions = 0;
        const cache = new ParseCache(
          (text: string) => {
            parses++;
            return { text };
          },
          () => void evictions++,
          capacity,
        );
        // The model: the kept texts, oldest first.
        const kept: string[] = [];
        let modelParses = 0;
        let modelEvictions = 0;
        const seen = new Map<string, { text: string }>();
        for (const n of texts) {
          const text = `t${n}`;
          const got = cache.parse(text);
          expect(got.text).toBe(text);
          if (kept.includes(text)) {
            // A hit is the object parsed when the text was kept.
            expect(got).toBe(seen.get(text));
            continue;
          }
          modelParses++;
          if (kept.length >= capacity) {
            kept.shift();
            modelEvictions++;
          }
          kept.push(text);
          seen.set(text, got);
        }
        expect(parses).toBe(modelParses);
        expect(evictions).toBe(modelEvictions);
      }),
    );
  });

  it('parses a text longer than PARSE_CACHE_MAX_KEY every time and keeps nothing of it', () => {
    let parses = 0;
    const cache = new ParseCache((text: string) => ({ text, n: ++parses }), undefined, 2);
    const long = 'x'.repeat(PARSE_CACHE_MAX_KEY + 1);
    cache.parse('a');
    cache.parse(long);
    cache.parse(long);
    expect(parses).toBe(3);
    // 'a' is still kept: the long text took no slot.
    expect(cache.parse('a').n).toBe(1);
  });

  it('after 200,000 misses through 4,096 entries it keeps exactly the newest 4,096 texts', () => {
    let parses = 0;
    const cache = new ParseCache(() => ++parses, undefined, 4096);
    for (let i = 0; i < 200_000; i++) cache.parse(`q${i}`);
    expect(parses).toBe(200_000);
    expect(cache.parse('q199999')).toBe(200_000);
    expect(cache.parse(`q${200_000 - 4096}`)).toBe(200_000 - 4096 + 1);
    expect(cache.parse(`q${200_000 - 4097}`)).toBe(200_001);
  });
});
