/**
 * The OpenNap search expression: the data of a 200 (search) message.
 *
 * Follows napster.txt §2 type 200 (sbcas/opennap) and what the C server's
 * `search_internal()` in search.c (v1.135, 2001) actually accepts:
 *
 *   FILENAME CONTAINS "words"   (repeatable, implicit AND; "-word" inside excludes it)
 *   FILENAME EXCLUDES "words"   (repeatable)
 *   MAX_RESULTS n               (0, negative or above the cap → the cap, 100)
 *   LINESPEED|BITRATE|FREQ|SIZE|DURATION "AT LEAST"|"AT BEST"|"EQUAL TO" n
 *   TYPE t                      (content type, or ANY)
 *   LOCAL | LOCAL_ONLY          (search this server only)
 *
 * Clauses come in any order; keywords and comparisons are case-insensitive;
 * any argument may be quoted or not. Quotes are never escaped: a quoted
 * string ends at a quote followed by whitespace or the end of the input
 * (napster.txt §1 "use of quotes inside of quotes"). Older servers also took
 * "AT MOST" for BITRATE/FREQ; it is read as "AT BEST".
 *
 * Pure: `parseSearch` never throws, it returns ok or a named error with the
 * offset (in characters of the decoded text; Buffers are read as latin1,
 * byte for byte, as messages.ts does, so offsets are byte offsets).
 */

/**
 * Default and cap of MAX_RESULTS. The C server's config.c sets
 * `max_results` (Max_Search_Results) to 100 by default, and search.c
 * `search_internal()` replaces any request above it, or of 0, by it.
 */
export const MAX_RESULTS_CAP = 100;

/** Longest expression accepted: the framing's 16-bit length field cannot carry more. */
export const MAX_SEARCH_DATA_LENGTH = 0xffff;

/**
 * Most distinct words (CONTAINS plus EXCLUDES) one query may carry. Real
 * clients send a handful; the cap bounds the work one hostile query can
 * cause in the index and in the proxy's keyword history.
 */
export const MAX_SEARCH_WORDS = 64;

/** Largest constraint value: SIZE is an unsigned 32-bit integer in the C server's SEARCH struct. */
export const MAX_CONSTRAINT_VALUE = 0xffff_ffff;

export type CmpOp = 'atLeast' | 'atBest' | 'equalTo';

export interface Cmp {
  op: CmpOp;
  value: number;
}

export interface SearchQuery {
  /** FILENAME CONTAINS terms, split into lower-cased words by `keywordsOf`, de-duplicated, in order. */
  include: string[];
  /** FILENAME EXCLUDES terms and "-word"s of CONTAINS terms, same splitting. */
  exclude: string[];
  /** 1…MAX_RESULTS_CAP, after the server's capping. */
  maxResults: number;
  linespeed?: Cmp;
  bitrate?: Cmp;
  freq?: Cmp;
  size?: Cmp;
  duration?: Cmp;
  /** TYPE argument, lower-cased (e.g. `audio/mp3`, `any`). Absent means the server's default, mp3. */
  type?: string;
  /** LOCAL / LOCAL_ONLY: do not forward the search to linked servers. */
  localOnly?: boolean;
}

/** Stable error codes of `parseSearch`. */
export const SEARCH_ERROR_CODES = [
  'opennap.search_too_long',
  'opennap.search_unterminated_quote',
  'opennap.search_unknown_clause',
  'opennap.search_missing_argument',
  'opennap.search_bad_filename_op',
  'opennap.search_bad_comparison',
  'opennap.search_bad_number',
  'opennap.search_number_out_of_range',
  'opennap.search_duplicate_constraint',
  'opennap.search_too_many_words',
  'opennap.search_no_words',
] as const;

export type SearchErrorCode = (typeof SEARCH_ERROR_CODES)[number];

export type SearchParseResult =
  | { kind: 'ok'; query: SearchQuery }
  | { kind: 'error'; code: SearchErrorCode; message: string; offset: number };

/** Attributes `matchesFilters` compares against a query's constraints. */
export interface FileAttributes {
  bitrate: number;
  freq: number;
  size: number;
  duration: number;
  /** Link type of the sharing user (napster.txt type 2: 0 unknown … 10 T3). */
  linespeed: number;
}

type ConstraintField = 'linespeed' | 'bitrate' | 'freq' | 'size' | 'duration';

const CONSTRAINT_FIELDS: readonly ConstraintField[] = ['linespeed', 'bitrate', 'freq', 'size', 'duration'];

const CMP_WORDS: ReadonlyMap<string, CmpOp> = new Map([
  ['at least', 'atLeast'],
  ['at best', 'atBest'],
  ['at most', 'atBest'],
  ['equal to', 'equalTo'],
]);

const CMP_TEXT: Record<CmpOp, string> = { atLeast: 'AT LEAST', atBest: 'AT BEST', equalTo: 'EQUAL TO' };

// ── words ────────────────────────────────────────────────────────────────

const NON_WORD = /[^\p{L}\p{N}]+/u;

/**
 * The lower-cased words of a file name or a search term: split on anything
 * that is not a letter or a digit, de-duplicated, in order of appearance.
 * Shared by the server's inverted index, the proxy and the analyzer so that a
 * query word and a file-name word compare equal exactly when they should.
 * Lower-casing happens before splitting so the result is stable: feeding the
 * joined words back in gives the same words.
 */
export function keywordsOf(text: string): string[] {
  const lower = text.toLowerCase();
  // ASCII text (nearly every search and file name) is split by a scan: its only letters and digits are
  // a-z and 0-9, so the scan agrees with the regex, at about half its cost (the analyzer parses every search).
  const words: string[] = [];
  // Duplicates are found by a linear scan among the handful of words a name has; a set past that.
  let seen: Set<string> | null = null;
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 32;
    if (c >= 128) return wordsOfUnicode(lower);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      const w = lower.slice(start, i);
      start = -1;
      if (seen === null) {
        if (words.includes(w)) continue;
        words.push(w);
        if (words.length >= 16) seen = new Set(words);
      } else if (!seen.has(w)) {
        seen.add(w);
        words.push(w);
      }
    }
  }
  return words;
}

function wordsOfUnicode(lower: string): string[] {
  const seen = new Set<string>();
  for (const w of lower.split(NON_WORD)) {
    if (w.length > 0) seen.add(w);
  }
  return [...seen];
}

// ── tokens ───────────────────────────────────────────────────────────────

interface Token {
  text: string;
  quoted: boolean;
  /** Offset of the token's first character (the opening quote if quoted). */
  start: number;
}

type TokenizeResult = { kind: 'ok'; tokens: Token[] } | { kind: 'error'; offset: number };

function isSpace(c: number): boolean {
  // The C server's next_arg() splits on isspace(): space, \t, \n, \v, \f, \r.
  return c === 32 || (c >= 9 && c <= 13);
}

function tokenize(s: string): TokenizeResult {
  const tokens: Token[] = [];
  const n = s.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    if (s.charCodeAt(i) === 34) {
      // Quotes are not escaped: the string ends at a quote followed by whitespace or end of input.
      let j = i + 1;
      while (j < n && !(s.charCodeAt(j) === 34 && (j + 1 === n || isSpace(s.charCodeAt(j + 1))))) j++;
      if (j >= n) return { kind: 'error', offset: start };
      tokens.push({ text: s.slice(i + 1, j), quoted: true, start });
      i = j + 1;
    } else {
      let j = i;
      while (j < n && !isSpace(s.charCodeAt(j))) j++;
      tokens.push({ text: s.slice(i, j), quoted: false, start });
      i = j;
    }
  }
  return { kind: 'ok', tokens };
}

// ── numbers ──────────────────────────────────────────────────────────────

type NumberResult = { kind: 'ok'; negative: boolean; value: number } | { kind: 'bad' };

/** Like the C server's strtol() with a check that nothing follows: leading blanks and a sign allowed. */
function readInteger(text: string): NumberResult {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (!m) return { kind: 'bad' };
  const value = Number(m[2]);
  return { kind: 'ok', negative: m[1] === '-' && value !== 0, value };
}

// ── parse ────────────────────────────────────────────────────────────────

function fail(code: SearchErrorCode, message: string, offset: number): SearchParseResult {
  return { kind: 'error', code, message, offset };
}

function addWords(target: string[], seen: Set<string>, words: readonly string[]): void {
  for (const w of words) {
    if (!seen.has(w)) {
      seen.add(w);
      target.push(w);
    }
  }
}

/** Splits a CONTAINS term: a whitespace-separated piece starting with '-' is excluded (search.c tokenize()). */
function splitContains(term: string): { include: string[]; exclude: string[] } {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const piece of term.split(/[ \t\n\v\f\r]+/)) {
    if (piece.length === 0) continue;
    // The C server also excludes a word after any '-' (so "artist - title" loses "title");
    // we take only a leading '-', which is what a user typing "-live" means.
    if (piece.charCodeAt(0) === 45) exclude.push(...keywordsOf(piece));
    else include.push(...keywordsOf(piece));
  }
  return { include, exclude };
}

/** Parses the data of a 200 (search) message. Never throws. */
export function parseSearch(data: string | Buffer): SearchParseResult {
  if (data.length > MAX_SEARCH_DATA_LENGTH) {
    return fail('opennap.search_too_long', `search of ${data.length} bytes exceeds ${MAX_SEARCH_DATA_LENGTH}`, MAX_SEARCH_DATA_LENGTH);
  }
  const text = typeof data === 'string' ? data : data.toString('latin1');
  const tk = tokenize(text);
  if (tk.kind === 'error') return fail('opennap.search_unterminated_quote', 'quoted string has no closing quote', tk.offset);
  const tokens = tk.tokens;
  const end = text.length;

  const include: string[] = [];
  const exclude: string[] = [];
  const includeSeen = new Set<string>();
  const excludeSeen = new Set<string>();
  let maxResults = MAX_RESULTS_CAP;
  const constraints: Partial<Record<ConstraintField, Cmp>> = {};
  let type: string | undefined;
  let localOnly = false;

  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    const keyword = t.text.toLowerCase();
    switch (keyword) {
      case 'filename': {
        const op = tokens[i + 1];
        if (!op) return fail('opennap.search_missing_argument', 'FILENAME needs CONTAINS or EXCLUDES and a term', end);
        const opWord = op.text.toLowerCase();
        if (opWord !== 'contains' && opWord !== 'excludes') {
          return fail('opennap.search_bad_filename_op', `FILENAME must be followed by CONTAINS or EXCLUDES, not "${op.text}"`, op.start);
        }
        const arg = tokens[i + 2];
        if (!arg) return fail('opennap.search_missing_argument', `FILENAME ${op.text.toUpperCase()} needs a term`, end);
        if (opWord === 'contains') {
          const split = splitContains(arg.text);
          addWords(include, includeSeen, split.include);
          addWords(exclude, excludeSeen, split.exclude);
        } else {
          addWords(exclude, excludeSeen, keywordsOf(arg.text));
        }
        if (include.length + exclude.length > MAX_SEARCH_WORDS) {
          return fail('opennap.search_too_many_words', `more than ${MAX_SEARCH_WORDS} words`, arg.start);
        }
        i += 3;
        break;
      }
      case 'max_results': {
        const arg = tokens[i + 1];
        if (!arg) return fail('opennap.search_missing_argument', 'MAX_RESULTS needs a number', end);
        const num = readInteger(arg.text);
        if (num.kind === 'bad') return fail('opennap.search_bad_number', `MAX_RESULTS "${arg.text}" is not a number`, arg.start);
        // search.c: above the cap, or 0 ("don't let the user pick 0 to force unlimited results"), means the cap.
        // A negative value would mean unlimited there; we cap it too.
        maxResults = num.negative || num.value === 0 || num.value > MAX_RESULTS_CAP ? MAX_RESULTS_CAP : num.value;
        i += 2;
        break;
      }
      case 'type': {
        const arg = tokens[i + 1];
        if (!arg) return fail('opennap.search_missing_argument', 'TYPE needs a content type', end);
        type = arg.text.toLowerCase();
        i += 2;
        break;
      }
      case 'local':
      case 'local_only':
        localOnly = true;
        i += 1;
        break;
      case 'linespeed':
      case 'bitrate':
      case 'freq':
      case 'size':
      case 'duration': {
        const field: ConstraintField = keyword;
        const a = tokens[i + 1];
        if (!a) return fail('opennap.search_missing_argument', `${t.text.toUpperCase()} needs a comparison and a value`, end);
        let op = CMP_WORDS.get(normaliseCmp(a.text));
        let used = 1;
        const b = tokens[i + 2];
        if (op === undefined && !a.quoted && b && !b.quoted) {
          // Unquoted two-word comparison: BITRATE AT LEAST 128.
          op = CMP_WORDS.get(normaliseCmp(`${a.text} ${b.text}`));
          used = 2;
        }
        if (op === undefined) {
          if (!a.quoted && b === undefined && (a.text.toLowerCase() === 'at' || a.text.toLowerCase() === 'equal')) {
            return fail('opennap.search_missing_argument', `${t.text.toUpperCase()} comparison is cut short`, end);
          }
          return fail('opennap.search_bad_comparison', `"${a.text}" is not AT LEAST, AT BEST or EQUAL TO`, a.start);
        }
        const v = tokens[i + 1 + used];
        if (!v) return fail('opennap.search_missing_argument', `${t.text.toUpperCase()} needs a value`, end);
        const num = readInteger(v.text);
        if (num.kind === 'bad') return fail('opennap.search_bad_number', `${t.text.toUpperCase()} value "${v.text}" is not a number`, v.start);
        if (num.negative || num.value > MAX_CONSTRAINT_VALUE) {
          return fail('opennap.search_number_out_of_range', `${t.text.toUpperCase()} value ${v.text} is outside 0…${MAX_CONSTRAINT_VALUE}`, v.start);
        }
        // One comparison per field: the query model holds one, and real clients send one.
        if (constraints[field]) {
          return fail('opennap.search_duplicate_constraint', `${t.text.toUpperCase()} given twice`, t.start);
        }
        constraints[field] = { op, value: num.value };
        i += 2 + used;
        break;
      }
      default:
        return fail('opennap.search_unknown_clause', `unknown search clause "${t.text}"`, t.start);
    }
  }

  if (include.length === 0) {
    // search.c answers "search failed: request contained no valid words".
    return fail('opennap.search_no_words', 'no FILENAME CONTAINS words', 0);
  }

  const query: SearchQuery = { include, exclude, maxResults };
  for (const f of CONSTRAINT_FIELDS) {
    const c = constraints[f];
    if (c) query[f] = c;
  }
  if (type !== undefined) query.type = type;
  if (localOnly) query.localOnly = true;
  return { kind: 'ok', query };
}

function normaliseCmp(s: string): string {
  return s.trim().toLowerCase().replace(/[ \t\n\v\f\r]+/g, ' ');
}

// ── serialize ────────────────────────────────────────────────────────────

function clampInt(n: number, max: number, fallback: number): number {
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(0, Math.trunc(n)));
}

/**
 * The expression a client sends for `q`, in the Windows client's layout
 * (napster.txt examples): `FILENAME CONTAINS "…" MAX_RESULTS n`, then the
 * constraints with quoted comparisons (values quoted except LINESPEED's).
 * Words are re-split with `keywordsOf`, so whatever `q` holds, the output
 * parses; an empty `include` gives `FILENAME CONTAINS ""`, which a server
 * rejects (no words).
 */
export function serializeSearch(q: SearchQuery): string {
  const parts: string[] = [];
  parts.push(`FILENAME CONTAINS "${keywordsOf(q.include.join(' ')).join(' ')}"`);
  parts.push(`MAX_RESULTS ${clampInt(q.maxResults, MAX_CONSTRAINT_VALUE, MAX_RESULTS_CAP)}`);
  const exclude = keywordsOf(q.exclude.join(' '));
  if (exclude.length > 0) parts.push(`FILENAME EXCLUDES "${exclude.join(' ')}"`);
  for (const f of CONSTRAINT_FIELDS) {
    const c = q[f];
    if (!c) continue;
    const value = clampInt(c.value, MAX_CONSTRAINT_VALUE, 0);
    const shown = f === 'linespeed' ? `${value}` : `"${value}"`;
    parts.push(`${f.toUpperCase()} "${CMP_TEXT[c.op]}" ${shown}`);
  }
  if (q.type !== undefined) {
    const t = q.type.toLowerCase();
    // A type with blanks or quotes could not be read back as one token; such types do not exist.
    parts.push(`TYPE ${/^[^ \t\n\v\f\r"]+$/.test(t) ? t : 'any'}`);
  }
  if (q.localOnly) parts.push('LOCAL_ONLY');
  return parts.join(' ');
}

// ── matching ─────────────────────────────────────────────────────────────

function satisfies(value: number, c: Cmp | undefined): boolean {
  if (!c) return true;
  switch (c.op) {
    case 'atLeast':
      return value >= c.value;
    case 'atBest':
      return value <= c.value;
    case 'equalTo':
      return value === c.value;
  }
}

/** True when `file` meets every LINESPEED/BITRATE/FREQ/SIZE/DURATION constraint of `q` (search.c fdb_search()). */
export function matchesFilters(q: SearchQuery, file: FileAttributes): boolean {
  return (
    satisfies(file.linespeed, q.linespeed) &&
    satisfies(file.bitrate, q.bitrate) &&
    satisfies(file.freq, q.freq) &&
    satisfies(file.size, q.size) &&
    satisfies(file.duration, q.duration)
  );
}

/**
 * True when the file name holds every include word and no exclude word, as
 * whole words (the C server's token index matches whole words). A query
 * without include words matches nothing, as the server refuses it.
 */
export function matchesName(q: SearchQuery, fileName: string): boolean {
  if (q.include.length === 0) return false;
  const words = new Set(keywordsOf(fileName));
  return q.include.every((w) => words.has(w)) && !q.exclude.some((w) => words.has(w));
}
