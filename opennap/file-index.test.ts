// Unit tests of the inverted index: table-driven cases plus a property test comparing every search with a full scan.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileIndex } from './file-index.js';

interface F {
  name: string;
  keywords: string[];
}

const f = (name: string): F => ({ name, keywords: [...new Set(name.split(' '))] });

describe('FileIndex', () => {
  const files = [f('a b c'), f('a b'), f('b c'), f('c d'), f('a')];
  const index = new FileIndex<F>();
  for (const x of files) index.add(x);
  const all = (): boolean => true;

  it.each([
    { include: ['a'], exclude: [], expected: ['a b c', 'a b', 'a'] },
    { include: ['a', 'b'], exclude: [], expected: ['a b c', 'a b'] },
    { include: ['b', 'a'], exclude: ['c'], expected: ['a b'] },
    { include: ['c'], exclude: ['zzz'], expected: ['a b c', 'b c', 'c d'] },
    { include: ['zzz'], exclude: [], expected: [] },
    { include: ['a', 'zzz'], exclude: [], expected: [] },
    { include: [], exclude: [], expected: [] },
  ])('include $include exclude $exclude', ({ include, exclude, expected }) => {
    expect(index.search(include, exclude, 100, all).map((x) => x.name)).toEqual(expected);
  });

  it('stops at the limit and applies the accept filter', () => {
    expect(index.search(['a'], [], 2, all)).toHaveLength(2);
    expect(index.search(['a'], [], 100, (x) => x.name !== 'a b').map((x) => x.name)).toEqual(['a b c', 'a']);
  });

  it('forgets removed files and empty keyword sets', () => {
    const i = new FileIndex<F>();
    const x = f('solo word');
    i.add(x);
    expect(i.size).toBe(1);
    expect(i.words).toBe(2);
    i.remove(x);
    expect(i.size).toBe(0);
    expect(i.words).toBe(0);
    expect(i.search(['solo'], [], 10, all)).toEqual([]);
  });

  it('answers like a full scan for random libraries and queries', () => {
    const word = fc.constantFrom('w0', 'w1', 'w2', 'w3', 'w4', 'w5');
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(word, { minLength: 1, maxLength: 4 }), { maxLength: 40 }),
        fc.uniqueArray(word, { maxLength: 3 }),
        fc.uniqueArray(word, { maxLength: 2 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (libs, include, exclude, limit, removals) => {
          const i = new FileIndex<F>();
          const live = libs.map((ws, n) => ({ name: `${n}`, keywords: ws }));
          for (const x of live) i.add(x);
          for (const r of removals) {
            if (live.length === 0) break;
            const [gone] = live.splice(r % live.length, 1);
            i.remove(gone!);
          }
          const got = i.search(include, exclude, limit, all).map((x) => x.name).sort();
          const scan = live.filter(
            (x) => include.length > 0 && include.every((w) => x.keywords.includes(w)) && !exclude.some((w) => x.keywords.includes(w)),
          );
          expect(i.size).toBe(live.length);
          if (scan.length <= limit) expect(got).toEqual(scan.map((x) => x.name).sort());
          else {
            expect(got).toHaveLength(limit);
            for (const n of got) expect(scan.some((x) => x.name === n)).toBe(true);
          }
        },
      ),
    );
  });
});
