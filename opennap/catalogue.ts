/**
 * The file catalogue of the paper's experiment (seed 001, §5.3): 120 files
 * named from a keyword list whose match counts are Zipf-like: 6 keywords
 * match 20 files each, 10 match 12, 20 match 6, 30 match 4 and 60 match 2
 * (126 keywords); the files are split at random into two groups, one shared
 * by the peers of network A, the other by those of network B.
 *
 * Construction, so that every count is exact: each tier's keywords times
 * their count is exactly 120 (6·20 = 10·12 = 20·6 = 30·4 = 60·2 = 120), so
 * each tier is a partition of the 120 files. Per tier the files are shuffled
 * and cut into consecutive blocks of the tier's count, one block per keyword.
 * Every file thus gets exactly one keyword of each tier: 5 distinct keywords
 * per file, 600 keyword-file incidences. Keywords are pronounceable
 * consonant-vowel words of the same length (6 letters), so no keyword is a
 * substring of another (old servers matched substrings) and none is one of
 * the C server's filtered common words. Deterministic per seed.
 */
import { CatalogueError, PeerCountError } from './errors.js';
import { Random } from './random.js';
import type { Rng } from './random.js';
import { keywordsOf } from './search-expression.js';
import { ZipfSampler } from './zipf.js';

/** Files in the paper's catalogue. */
export const PAPER_FILE_COUNT = 120;

/** The paper's tiers: `keywords` keywords each matching `matches` files. */
export const PAPER_KEYWORD_TIERS: readonly { keywords: number; matches: number }[] = [
  { keywords: 6, matches: 20 },
  { keywords: 10, matches: 12 },
  { keywords: 20, matches: 6 },
  { keywords: 30, matches: 4 },
  { keywords: 60, matches: 2 },
];

/** One keyword of each tier per file. */
export const KEYWORDS_PER_FILE = PAPER_KEYWORD_TIERS.length;

/**
 * Reshuffles of the last tier allowed while looking for a catalogue where no
 * two files share all five keywords (which would give two equal names). A
 * clash is rare (a pair keyword joins two files that must already agree on
 * four other tiers), so a few tries always suffice; the bound makes the loop
 * provably finite.
 */
export const MAX_NAMING_ATTEMPTS = 100;

const CONSONANTS: readonly string[] = [...'bdfgklmnprstvz'];
const VOWELS: readonly string[] = [...'aeiou'];
/** Syllables per keyword: 3 CV syllables = 6 letters, 14·5 = 70 syllables, 343 000 possible words. */
const SYLLABLES_PER_WORD = 3;

const BITRATES = [96, 112, 128, 128, 128, 160, 192, 192, 256, 320] as const;
const FREQUENCIES = [22050, 32000, 44100, 44100, 44100, 44100, 48000] as const;
/** Play length range in seconds: a typical song. */
const MIN_DURATION = 120;
const MAX_DURATION = 420;

export type Group = 'A' | 'B';

export interface CatalogueKeyword {
  word: string;
  /** How many file names contain this word. */
  matches: number;
}

export interface CatalogueFile {
  /** e.g. "kavomu tisepa ... .mp3"; its `keywordsOf` words are `keywords` plus "mp3". */
  name: string;
  keywords: string[];
  /** Bytes. */
  size: number;
  /** kbps. */
  bitrate: number;
  /** Hz. */
  freq: number;
  /** Seconds. */
  duration: number;
  /** 32 lower-case hex digits, md5-like. */
  md5: string;
  group: Group;
}

export interface Catalogue {
  keywords: CatalogueKeyword[];
  files: CatalogueFile[];
}

function makeWord(rng: Random): string {
  let w = '';
  for (let s = 0; s < SYLLABLES_PER_WORD; s++) w += rng.pick(CONSONANTS) + rng.pick(VOWELS);
  return w;
}

function hex32(rng: Random): string {
  let out = '';
  for (let i = 0; i < 4; i++) out += rng.nextUint32().toString(16).padStart(8, '0');
  return out;
}

/** Per tier, the keyword index (into the tier) of each file: shuffled files cut into blocks of `matches`. */
function assignTier(rng: Random, matches: number): number[] {
  const order = rng.shuffle(Array.from({ length: PAPER_FILE_COUNT }, (_, i) => i));
  const keywordOfFile = new Array<number>(PAPER_FILE_COUNT).fill(0);
  order.forEach((file, position) => {
    keywordOfFile[file] = Math.floor(position / matches);
  });
  return keywordOfFile;
}

/** The paper's 120-file catalogue, deterministic for `seed`. */
export function paperCatalogue(seed = 1): Catalogue {
  if (!Number.isFinite(seed)) throw new CatalogueError(`seed must be a finite number, got ${seed}`);
  const rng = new Random(seed);

  // Keywords, tier by tier, all distinct.
  const seen = new Set<string>();
  const tierWords: string[][] = PAPER_KEYWORD_TIERS.map((tier) => {
    const words: string[] = [];
    while (words.length < tier.keywords) {
      const w = makeWord(rng);
      if (!seen.has(w)) {
        seen.add(w);
        words.push(w);
      }
    }
    return words;
  });

  const assignments = PAPER_KEYWORD_TIERS.map((tier) => assignTier(rng, tier.matches));
  const lastTier = PAPER_KEYWORD_TIERS.length - 1;
  const lastMatches = (PAPER_KEYWORD_TIERS[lastTier] as { matches: number }).matches;
  let attempts = 1;
  while (hasDuplicateKeywordSets(assignments)) {
    if (attempts >= MAX_NAMING_ATTEMPTS) {
      throw new CatalogueError(`no duplicate-free naming after ${MAX_NAMING_ATTEMPTS} attempts (seed ${seed})`);
    }
    assignments[lastTier] = assignTier(rng, lastMatches);
    attempts++;
  }

  const groupOrder = rng.shuffle(Array.from({ length: PAPER_FILE_COUNT }, (_, i) => i));
  const groupOf = new Array<Group>(PAPER_FILE_COUNT).fill('B');
  for (let p = 0; p < PAPER_FILE_COUNT / 2; p++) groupOf[groupOrder[p] as number] = 'A';

  const files: CatalogueFile[] = [];
  for (let f = 0; f < PAPER_FILE_COUNT; f++) {
    const keywords = assignments.map((tier, t) => (tierWords[t] as string[])[tier[f] as number] as string);
    // Word order inside the name is shuffled so the most popular word is not always first.
    const nameWords = rng.shuffle(keywords);
    const bitrate = rng.pick(BITRATES);
    const freq = rng.pick(FREQUENCIES);
    const duration = MIN_DURATION + rng.int(MAX_DURATION - MIN_DURATION + 1);
    // CBR mp3: bytes = seconds · kbps · 1000 / 8, plus an ID3 tag and a little header slack.
    const size = Math.round((duration * bitrate * 1000) / 8) + 128 + rng.int(4096);
    files.push({
      name: `${nameWords.join(' ')}.mp3`,
      keywords: nameWords,
      size,
      bitrate,
      freq,
      duration,
      md5: hex32(rng),
      group: groupOf[f] as Group,
    });
  }

  const keywords: CatalogueKeyword[] = [];
  PAPER_KEYWORD_TIERS.forEach((tier, t) => {
    for (const word of tierWords[t] as string[]) keywords.push({ word, matches: tier.matches });
  });
  return { keywords, files };
}

function hasDuplicateKeywordSets(assignments: readonly number[][]): boolean {
  const seen = new Set<string>();
  for (let f = 0; f < PAPER_FILE_COUNT; f++) {
    const key = assignments.map((tier) => tier[f]).join(',');
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

/** The files of one group (network A's or network B's share). */
export function filesOfGroup(c: Catalogue, group: Group): CatalogueFile[] {
  return c.files.filter((f) => f.group === group);
}

/** Deals `files` to `peerCount` peers: shuffled, then round-robin, so shares differ by at most one file. */
export function assignFilesToPeers<T>(files: readonly T[], peerCount: number, rng: Random): T[][] {
  if (!Number.isInteger(peerCount) || peerCount < 1) {
    throw new PeerCountError(`peer count must be a positive integer, got ${peerCount}`);
  }
  const peers: T[][] = Array.from({ length: peerCount }, () => []);
  rng.shuffle(files).forEach((file, i) => {
    (peers[i % peerCount] as T[]).push(file);
  });
  return peers;
}

/**
 * Search weights per keyword (same order as `c.keywords`): Zipf-like over
 * popularity rank, weight = 1 / rank^exponent, where keywords matching more
 * files rank higher and keywords that match equally many files share the mean
 * rank of their tie group (so equally popular keywords are equally likely).
 * With the paper's tiers and exponent 1 a search picks one of the six major
 * keywords about 38% of the time and a pair keyword about 14%.
 */
export function keywordPopularity(c: Catalogue, exponent = 1): number[] {
  const order = c.keywords.map((k, i) => ({ i, matches: k.matches })).sort((a, b) => b.matches - a.matches || a.i - b.i);
  const weights = new Array<number>(c.keywords.length).fill(0);
  let start = 0;
  while (start < order.length) {
    let end = start;
    const m = (order[start] as { matches: number }).matches;
    while (end < order.length && (order[end] as { matches: number }).matches === m) end++;
    // Ranks are 1-based: the tie group covers ranks start+1 … end.
    const meanRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) weights[(order[k] as { i: number }).i] = 1 / Math.pow(meanRank, exponent);
    start = end;
  }
  return weights;
}

/** Draws one keyword per search, popular keywords more often (`keywordPopularity`). */
export class KeywordPicker {
  private readonly sampler: ZipfSampler;
  private readonly words: readonly string[];

  constructor(c: Catalogue, rng: Rng, exponent = 1) {
    this.words = c.keywords.map((k) => k.word);
    this.sampler = new ZipfSampler(keywordPopularity(c, exponent), rng);
  }

  next(): string {
    return this.words[this.sampler.sample()] as string;
  }
}

/** How many catalogue file names contain `word`, by `keywordsOf` (what a server's index would answer). */
export function countMatches(c: Catalogue, word: string): number {
  let n = 0;
  for (const f of c.files) if (keywordsOf(f.name).includes(word)) n++;
  return n;
}
