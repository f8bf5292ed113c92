// Unit and property tests of the OpenNap search-expression grammar (napster.txt type 200, search.c).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_RESULTS_CAP,
  MAX_SEARCH_DATA_LENGTH,
  MAX_SEARCH_WORDS,
  SEARCH_ERROR_CODES,
  keywordsOf,
  matchesFilters,
  matchesName,
  parseSearch,
  serializeSearch,
} from './search-expression.js';
import type { Cmp, SearchErrorCode, SearchQuery } from './search-expression.js';

function ok(data: string | Buffer): SearchQuery {
  const r = parseSearch(data);
  if (r.kind !== 'ok') throw new Error(`expected ok, got ${r.code} at ${r.offset}: ${r.message}`);
  return r.query;
}

describe('keywordsOf', () => {
  it.each([
    ['The Beatles - Hey_Jude (1968).MP3', ['the', 'beatles', 'hey', 'jude', '1968', 'mp3']],
    ['a A a', ['a']],
    ['', []],
    ['  --  ', []],
    ["don't", ['don', 't']],
    ['Café Müller/ÉTÉ', ['café', 'müller', 'été']],
    ['C:\\Program Files\\Napster\\song.mp3', ['c', 'program', 'files', 'napster', 'song', 'mp3']],
  ])('%j → %j', (text, words) => {
    expect(keywordsOf(text)).toEqual(words);
  });

  /** The definition: lower-case, split on anything not a letter or digit, de-duplicated in order. */
  const byRegex = (text: string): string[] => [...new Set(text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0))];

  it('agrees with the regex definition on ASCII (scanned) and other text', () => {
    // Few letters, so words repeat, and long enough for more than 16 distinct words (the set path).
    const ascii = fc.string({ unit: fc.constantFrom('a', 'B', 'c', '1', ' ', '-', '_', '.', '\t', 'Z'), maxLength: 200 });
    const mixed = fc.string({ unit: fc.constantFrom('a', 'É', 'ß', '1', ' ', '-', 'K', 'İ', '٣'), maxLength: 60 });
    fc.assert(
      fc.property(fc.oneof(ascii, mixed, fc.string({ unit: 'binary', maxLength: 60 })), (s) => {
        expect(keywordsOf(s)).toEqual(byRegex(s));
      }),
      { numRuns: 500 },
    );
    const many = Array.from({ length: 40 }, (_, i) => `w${i % 25}`).join(' ');
    expect(keywordsOf(many)).toEqual(byRegex(many));
    expect(keywordsOf(many)).toHaveLength(25);
  });

  it('is stable: the words of the joined words are the words', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const w = keywordsOf(s);
        expect(keywordsOf(w.join(' '))).toEqual(w);
        for (const word of w) expect(/^[\p{L}\p{N}]+$/u.test(word)).toBe(true);
      }),
    );
  });
});

describe('parseSearch: real client strings', () => {
  const table: [string, string, Partial<SearchQuery>][] = [
    [
      'napster.txt example 1 (Windows client)',
      'FILENAME CONTAINS "Sneaker Pimps" MAX_RESULTS 75 FILENAME CONTAINS "tesko suicide" BITRATE "AT LEAST" "128"',
      { include: ['sneaker', 'pimps', 'tesko', 'suicide'], exclude: [], maxResults: 75, bitrate: { op: 'atLeast', value: 128 } },
    ],
    [
      'napster.txt example 2',
      'MAX_RESULTS 100 FILENAME CONTAINS "Ventolin" LINESPEED "EQUAL TO" 10',
      { include: ['ventolin'], exclude: [], maxResults: 100, linespeed: { op: 'equalTo', value: 10 } },
    ],
    [
      'lower-case keywords and comparisons',
      'filename contains "beatles" max_results 10 bitrate "at least" "128"',
      { include: ['beatles'], maxResults: 10, bitrate: { op: 'atLeast', value: 128 } },
    ],
    [
      'extra spaces and tabs',
      '  FILENAME   CONTAINS\t "Abbey Road"   MAX_RESULTS   5  ',
      { include: ['abbey', 'road'], maxResults: 5 },
    ],
    [
      'unquoted term, numbers and two-word comparisons',
      'FILENAME CONTAINS beatles MAX_RESULTS 5 BITRATE AT LEAST 128 FREQ equal to 44100',
      { include: ['beatles'], maxResults: 5, bitrate: { op: 'atLeast', value: 128 }, freq: { op: 'equalTo', value: 44100 } },
    ],
    [
      'unescaped quote inside a quoted string (not followed by a blank)',
      'FILENAME CONTAINS "12"inch mix" MAX_RESULTS 20',
      { include: ['12', 'inch', 'mix'], maxResults: 20 },
    ],
    [
      'quoted MAX_RESULTS and spaces inside quoted numbers',
      'FILENAME CONTAINS "x" MAX_RESULTS "40" SIZE "AT LEAST" " 1000"',
      { include: ['x'], maxResults: 40, size: { op: 'atLeast', value: 1000 } },
    ],
    [
      'EXCLUDES clause and a "-word" inside CONTAINS',
      'FILENAME CONTAINS "beatles -live" FILENAME EXCLUDES "remix demo" MAX_RESULTS 7',
      { include: ['beatles'], exclude: ['live', 'remix', 'demo'], maxResults: 7 },
    ],
    [
      'AT BEST, and AT MOST as older servers wrote it',
      'FILENAME CONTAINS "x" SIZE "AT BEST" "5000000" DURATION "AT LEAST" "60" BITRATE "AT MOST" "192"',
      {
        include: ['x'],
        size: { op: 'atBest', value: 5_000_000 },
        duration: { op: 'atLeast', value: 60 },
        bitrate: { op: 'atBest', value: 192 },
      },
    ],
    ['TYPE and LOCAL_ONLY', 'FILENAME CONTAINS "x" TYPE ANY LOCAL_ONLY', { include: ['x'], type: 'any', localOnly: true }],
    ['LOCAL', 'LOCAL FILENAME CONTAINS "x" TYPE audio/mp3', { include: ['x'], type: 'audio/mp3', localOnly: true }],
    [
      "a server's forwarded search (search.c generate_request, trailing blank inside quotes)",
      'FILENAME CONTAINS "sneaker pimps " MAX_RESULTS 25 BITRATE "AT LEAST" 128 LINESPEED "AT BEST" 5 FILENAME EXCLUDES "live "',
      {
        include: ['sneaker', 'pimps'],
        exclude: ['live'],
        maxResults: 25,
        bitrate: { op: 'atLeast', value: 128 },
        linespeed: { op: 'atBest', value: 5 },
      },
    ],
    ['repeated words are kept once', 'FILENAME CONTAINS "la la land" FILENAME CONTAINS "LA"', { include: ['la', 'land'] }],
    ['quoted keywords (the server strips quotes before comparing)', '"FILENAME" "CONTAINS" "x"', { include: ['x'] }],
  ];

  it.each(table)('%s', (_name, data, expected) => {
    const q = ok(data);
    expect(q).toMatchObject(expected);
    if (!('exclude' in expected)) expect(q.exclude).toEqual([]);
  });

  it.each([
    ['MAX_RESULTS 500', MAX_RESULTS_CAP],
    ['MAX_RESULTS 0', MAX_RESULTS_CAP],
    ['MAX_RESULTS -3', MAX_RESULTS_CAP],
    ['MAX_RESULTS 99999999999999999999999', MAX_RESULTS_CAP],
    ['MAX_RESULTS 100', 100],
    ['MAX_RESULTS 1', 1],
    ['MAX_RESULTS 10 MAX_RESULTS 20', 20],
    ['', MAX_RESULTS_CAP],
  ])('%j → maxResults %d (capped as search.c does)', (tail, expected) => {
    expect(ok(`FILENAME CONTAINS "x" ${tail}`).maxResults).toBe(expected);
  });

  it('reads a Buffer byte for byte (latin1), as the message layer does', () => {
    const q = ok(Buffer.from('FILENAME CONTAINS "Café" MAX_RESULTS 3', 'latin1'));
    expect(q.include).toEqual(['café']);
  });

  it('leaves out the optional fields it did not see', () => {
    expect(ok('FILENAME CONTAINS "x"')).toEqual({ include: ['x'], exclude: [], maxResults: 100 });
  });
});

describe('parseSearch: errors', () => {
  const quotedCase = 'FILENAME CONTAINS "a "quoted" string" MAX_RESULTS 100';
  const table: [string, string, SearchErrorCode, number][] = [
    // napster.txt: the Windows client sends this and the server answers "invalid search request".
    ['napster.txt quoted-quote example', quotedCase, 'opennap.search_unknown_clause', quotedCase.indexOf('string"')],
    ['empty', '', 'opennap.search_no_words', 0],
    ['no CONTAINS', 'MAX_RESULTS 10', 'opennap.search_no_words', 0],
    ['CONTAINS of no words', 'FILENAME CONTAINS "--"', 'opennap.search_no_words', 0],
    ['empty quotes', 'FILENAME CONTAINS ""', 'opennap.search_no_words', 0],
    ['only excluded words', 'FILENAME CONTAINS "-live"', 'opennap.search_no_words', 0],
    ['unterminated quote', 'FILENAME CONTAINS "abc', 'opennap.search_unterminated_quote', 18],
    ['FILENAME alone', 'FILENAME', 'opennap.search_missing_argument', 8],
    ['FILENAME CONTAINS alone', 'FILENAME CONTAINS ', 'opennap.search_missing_argument', 18],
    ['FILENAME HAS', 'FILENAME HAS "x"', 'opennap.search_bad_filename_op', 9],
    ['bad comparison', 'FILENAME CONTAINS "x" BITRATE "ABOUT" "128"', 'opennap.search_bad_comparison', 30],
    ['half a comparison', 'FILENAME CONTAINS "x" BITRATE AT', 'opennap.search_missing_argument', 32],
    ['comparison without value', 'FILENAME CONTAINS "x" BITRATE "AT LEAST"', 'opennap.search_missing_argument', 40],
    ['MAX_RESULTS without value', 'FILENAME CONTAINS "x" MAX_RESULTS', 'opennap.search_missing_argument', 33],
    ['MAX_RESULTS not a number', 'FILENAME CONTAINS "x" MAX_RESULTS ten', 'opennap.search_bad_number', 34],
    ['fraction', 'FILENAME CONTAINS "x" BITRATE "AT LEAST" "12.8"', 'opennap.search_bad_number', 41],
    ['trailing garbage after a number', 'FILENAME CONTAINS "x" FREQ "AT LEAST" 44100hz', 'opennap.search_bad_number', 38],
    ['negative constraint', 'FILENAME CONTAINS "x" SIZE "AT LEAST" "-1"', 'opennap.search_number_out_of_range', 38],
    ['constraint above 2^32-1', 'FILENAME CONTAINS "x" SIZE "AT LEAST" 4294967296', 'opennap.search_number_out_of_range', 38],
    ['same field twice', 'FILENAME CONTAINS "x" BITRATE "AT LEAST" 128 BITRATE "AT BEST" 320', 'opennap.search_duplicate_constraint', 45],
    ['unknown clause', 'FILENAME CONTAINS "x" FOO bar', 'opennap.search_unknown_clause', 22],
    ['TYPE without value', 'FILENAME CONTAINS "x" TYPE', 'opennap.search_missing_argument', 26],
  ];

  it.each(table)('%s → %s at %d', (_name, data, code, offset) => {
    const r = parseSearch(data);
    expect(r).toMatchObject({ kind: 'error', code, offset });
    if (r.kind === 'error') expect(r.message.length).toBeGreaterThan(0);
  });

  it(`refuses more than ${MAX_SEARCH_WORDS} words`, () => {
    const words = Array.from({ length: MAX_SEARCH_WORDS + 1 }, (_, i) => `w${i}`);
    expect(parseSearch(`FILENAME CONTAINS "${words.slice(0, MAX_SEARCH_WORDS).join(' ')}"`).kind).toBe('ok');
    expect(parseSearch(`FILENAME CONTAINS "${words.join(' ')}"`)).toMatchObject({ code: 'opennap.search_too_many_words' });
    expect(parseSearch(`FILENAME CONTAINS "${words.slice(0, 40).join(' ')}" FILENAME EXCLUDES "${words.slice(40).join(' ')}"`)).toMatchObject({
      code: 'opennap.search_too_many_words',
    });
  });

  it('refuses input longer than a frame can carry', () => {
    const long = `FILENAME CONTAINS "${'x'.repeat(MAX_SEARCH_DATA_LENGTH)}"`;
    expect(parseSearch(long)).toMatchObject({ code: 'opennap.search_too_long' });
    expect(parseSearch(Buffer.from(long, 'latin1'))).toMatchObject({ code: 'opennap.search_too_long' });
  });
});

// ── generators ───────────────────────────────────────────────────────────

const asciiWord = fc.stringMatching(/^[a-z0-9]{1,8}$/);
/** Words as keywordsOf makes them from arbitrary text: any letters or digits, lower-cased. */
const anyWords = fc.string({ unit: 'binary', maxLength: 30 }).map(keywordsOf);
const cmp: fc.Arbitrary<Cmp> = fc.record({
  op: fc.constantFrom('atLeast' as const, 'atBest' as const, 'equalTo' as const),
  value: fc.integer({ min: 0, max: 0xffff_ffff }),
});

function queryArb(words: fc.Arbitrary<string[]>, excludeWords: fc.Arbitrary<string[]>): fc.Arbitrary<SearchQuery> {
  return fc.record(
    {
      include: words,
      exclude: excludeWords,
      maxResults: fc.integer({ min: 1, max: MAX_RESULTS_CAP }),
      linespeed: cmp,
      bitrate: cmp,
      freq: cmp,
      size: cmp,
      duration: cmp,
      type: fc.stringMatching(/^[a-z0-9/_-]{1,12}$/),
      localOnly: fc.constant(true),
    },
    { requiredKeys: ['include', 'exclude', 'maxResults'] },
  );
}

const asciiQuery = queryArb(fc.uniqueArray(asciiWord, { minLength: 1, maxLength: 6 }), fc.uniqueArray(asciiWord, { maxLength: 4 }));
const unicodeQuery = queryArb(
  anyWords.filter((w) => w.length > 0 && w.length <= 20),
  anyWords.filter((w) => w.length <= 20),
);

describe('parseSearch: properties', () => {
  it('parse(serialize(q)) ≡ q (ASCII words)', () => {
    fc.assert(
      fc.property(asciiQuery, (q) => {
        expect(parseSearch(serializeSearch(q))).toEqual({ kind: 'ok', query: q });
      }),
    );
  });

  it('parse(serialize(q)) ≡ q (any letters and digits)', () => {
    fc.assert(
      fc.property(unicodeQuery, (q) => {
        expect(parseSearch(serializeSearch(q))).toEqual({ kind: 'ok', query: q });
      }),
    );
  });

  function checkResult(data: string | Buffer): void {
    const r = parseSearch(data);
    if (r.kind === 'error') {
      expect(SEARCH_ERROR_CODES).toContain(r.code);
      expect(r.offset).toBeGreaterThanOrEqual(0);
      expect(r.offset).toBeLessThanOrEqual(Math.max(data.length, MAX_SEARCH_DATA_LENGTH));
      expect(r.message.length).toBeGreaterThan(0);
    } else {
      expect(r.kind).toBe('ok');
      expect(r.query.include.length).toBeGreaterThan(0);
      expect(r.query.maxResults).toBeGreaterThanOrEqual(1);
      expect(r.query.maxResults).toBeLessThanOrEqual(MAX_RESULTS_CAP);
    }
  }

  it('never throws on random strings or bytes', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => checkResult(s)));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => checkResult(Buffer.from(b))));
  });

  const soupToken = fc.oneof(
    fc.constantFrom(
      'FILENAME',
      'filename',
      'CONTAINS',
      'EXCLUDES',
      'MAX_RESULTS',
      'BITRATE',
      'FREQ',
      'SIZE',
      'DURATION',
      'LINESPEED',
      'TYPE',
      'LOCAL_ONLY',
      '"AT LEAST"',
      'AT',
      'LEAST',
      'BEST',
      'EQUAL',
      'TO',
      '"',
      '""',
      '128',
      '"128"',
      '-1',
      '0',
      '"a b"',
      '"x "y" z"',
      '-live',
    ),
    asciiWord,
  );

  it('never throws on keyword soup, and whatever parses is a fixed point of serialize∘parse', () => {
    fc.assert(
      fc.property(fc.array(soupToken, { maxLength: 14 }), fc.constantFrom(' ', '  ', '\t'), (tokens, sep) => {
        const s = tokens.join(sep);
        checkResult(s);
        const r = parseSearch(s);
        if (r.kind === 'ok') expect(parseSearch(serializeSearch(r.query))).toEqual(r);
      }),
    );
  });

  it('a truncated valid expression gives ok or a clear error', () => {
    const truncationCodes: SearchErrorCode[] = [
      'opennap.search_unterminated_quote',
      'opennap.search_missing_argument',
      'opennap.search_unknown_clause',
      'opennap.search_bad_filename_op',
      'opennap.search_no_words',
    ];
    fc.assert(
      fc.property(asciiQuery, fc.nat(), (q, cut) => {
        const s = serializeSearch(q);
        const prefix = s.slice(0, cut % (s.length + 1));
        const r = parseSearch(prefix);
        if (r.kind === 'error') {
          expect(truncationCodes).toContain(r.code);
          expect(r.offset).toBeLessThanOrEqual(prefix.length);
        } else {
          // The CONTAINS clause is first and quoted: a cut inside it cannot parse, so it is whole.
          expect(r.query.include).toEqual(q.include);
        }
      }),
    );
  });
});

describe('serializeSearch', () => {
  it("writes the Windows client's layout", () => {
    expect(
      serializeSearch({
        include: ['sneaker', 'pimps'],
        exclude: ['live'],
        maxResults: 75,
        bitrate: { op: 'atLeast', value: 128 },
        linespeed: { op: 'equalTo', value: 10 },
      }),
    ).toBe('FILENAME CONTAINS "sneaker pimps" MAX_RESULTS 75 FILENAME EXCLUDES "live" LINESPEED "EQUAL TO" 10 BITRATE "AT LEAST" "128"');
  });

  it('re-splits words that are not in normal form', () => {
    expect(serializeSearch({ include: ['Hey Jude', '"x"'], exclude: [], maxResults: 5 })).toBe('FILENAME CONTAINS "hey jude x" MAX_RESULTS 5');
  });
});

describe('matchesFilters', () => {
  const file = { bitrate: 128, freq: 44100, size: 4_000_000, duration: 240, linespeed: 7 };
  const base: SearchQuery = { include: ['x'], exclude: [], maxResults: 100 };
  it.each([
    ['no constraints', {}, true],
    ['bitrate at least 128', { bitrate: { op: 'atLeast', value: 128 } }, true],
    ['bitrate at least 129', { bitrate: { op: 'atLeast', value: 129 } }, false],
    ['bitrate at best 128', { bitrate: { op: 'atBest', value: 128 } }, true],
    ['bitrate at best 127', { bitrate: { op: 'atBest', value: 127 } }, false],
    ['freq equal to 44100', { freq: { op: 'equalTo', value: 44100 } }, true],
    ['freq equal to 48000', { freq: { op: 'equalTo', value: 48000 } }, false],
    ['size at best 3 MB', { size: { op: 'atBest', value: 3_000_000 } }, false],
    ['duration at least 60', { duration: { op: 'atLeast', value: 60 } }, true],
    ['linespeed at least 8', { linespeed: { op: 'atLeast', value: 8 } }, false],
    ['all met', { linespeed: { op: 'atLeast', value: 7 }, size: { op: 'atLeast', value: 1 }, duration: { op: 'atBest', value: 240 } }, true],
  ] as [string, Partial<SearchQuery>, boolean][])('%s → %s', (_name, extra, expected) => {
    expect(matchesFilters({ ...base, ...extra }, file)).toBe(expected);
  });
});

describe('matchesName', () => {
  it.each([
    ['FILENAME CONTAINS "beatles"', 'The Beatles - Help.mp3', true],
    ['FILENAME CONTAINS "beatles help"', 'The Beatles - Help.mp3', true],
    ['FILENAME CONTAINS "beatles yesterday"', 'The Beatles - Help.mp3', false],
    ['FILENAME CONTAINS "beat"', 'The Beatles - Help.mp3', false],
    ['FILENAME CONTAINS "beatles -help"', 'The Beatles - Help.mp3', false],
    ['FILENAME CONTAINS "beatles" FILENAME EXCLUDES "live"', 'Beatles (live).mp3', false],
  ])('%s on %j → %s', (expr, name, expected) => {
    expect(matchesName(ok(expr), name)).toBe(expected);
  });

  it('a query without words matches nothing', () => {
    expect(matchesName({ include: [], exclude: [], maxResults: 100 }, 'anything.mp3')).toBe(false);
  });
});
