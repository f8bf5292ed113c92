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
import { ZipfSampler, zipfWeights } from './zipf.js';

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

// ── A realistically sized directory (benchmarks) ─────────────────────────
//
// The paper's 120 files make a search almost free for any server. A real
// OpenNap server of the time indexed tens of thousands of files from a few
// hundred users, and searches walked real keyword sets. This generator makes
// such a directory, deterministically per seed: a vocabulary of words with
// Zipf-like popularity, songs named from it (2–5 words, popular words more
// often), and peers each sharing distinct songs drawn by Zipf-like song
// popularity, so popular songs are shared by many peers (same name and md5,
// different owners), as on Napster.

/** Default shape: 400 peers sharing 50 files each = 20,000 files, named from 5,000 words. */
export const DIRECTORY_DEFAULTS = { peers: 400, filesPerPeer: 50, vocabulary: 5000, songs: 8000 } as const;

/** Words per song name: 2 to 5, like "artist title" names. */
const MIN_NAME_WORDS = 2;
const MAX_NAME_WORDS = 5;

/**
 * Most files one generated directory may hold: the directory server's
 * default index cap (DEFAULT_MAX_FILES in server.ts), so every generated file
 * can be shared to one server.
 */
export const MAX_DIRECTORY_FILES = 1_000_000;

/**
 * Draws allowed per wanted item when drawing distinct items (a name's words,
 * a song's unique name, a peer's distinct songs, distinct queries) with
 * rejection: a few are always enough at the sizes allowed; the bound makes
 * every loop provably finite.
 */
export const MAX_DRAWS_PER_ITEM = 100;

export interface DirectoryOptions {
  peers?: number;
  filesPerPeer?: number;
  /** Distinct words file names are made of. */
  vocabulary?: number;
  /** Distinct songs (names) the peers' files are drawn from; at least twice `filesPerPeer`. */
  songs?: number;
  seed?: number;
}

export interface Directory {
  /** Vocabulary, most popular first. */
  words: string[];
  /** Distinct songs, most popular first. */
  songs: CatalogueFile[];
  /** Per peer, the files it shares (distinct within a peer). */
  peers: CatalogueFile[][];
}

function positiveIntOption(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new CatalogueError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** Draws `n` distinct indices with `sampler`, by rejection (bounded). */
function distinctDraws(sampler: ZipfSampler, n: number, what: string): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  for (let draws = 0; out.length < n; draws++) {
    if (draws >= n * MAX_DRAWS_PER_ITEM) throw new CatalogueError(`could not draw ${n} distinct ${what}`);
    const i = sampler.sample();
    if (seen.has(i)) continue;
    seen.add(i);
    out.push(i);
  }
  return out;
}

/** A directory of `peers × filesPerPeer` files (defaults: DIRECTORY_DEFAULTS), deterministic for `seed`. */
export function directoryCatalogue(options: DirectoryOptions = {}): Directory {
  const peers = positiveIntOption('peers', options.peers ?? DIRECTORY_DEFAULTS.peers);
  const filesPerPeer = positiveIntOption('filesPerPeer', options.filesPerPeer ?? DIRECTORY_DEFAULTS.filesPerPeer);
  const vocabulary = positiveIntOption('vocabulary', options.vocabulary ?? DIRECTORY_DEFAULTS.vocabulary);
  const songCount = positiveIntOption('songs', options.songs ?? DIRECTORY_DEFAULTS.songs);
  const seed = options.seed ?? 1;
  if (!Number.isFinite(seed)) throw new CatalogueError(`seed must be a finite number, got ${seed}`);
  if (peers * filesPerPeer > MAX_DIRECTORY_FILES) {
    throw new CatalogueError(`${peers} × ${filesPerPeer} files exceeds ${MAX_DIRECTORY_FILES}`);
  }
  if (songCount < 2 * filesPerPeer) throw new CatalogueError(`songs (${songCount}) must be at least twice filesPerPeer (${filesPerPeer})`);
  if (vocabulary < 2 * MAX_NAME_WORDS) throw new CatalogueError(`vocabulary must be at least ${2 * MAX_NAME_WORDS} words`);
  const rng = new Random(seed);

  const seen = new Set<string>();
  const words: string[] = [];
  for (let draws = 0; words.length < vocabulary; draws++) {
    if (draws >= vocabulary * MAX_DRAWS_PER_ITEM) throw new CatalogueError(`could not make ${vocabulary} distinct words`);
    const w = makeWord(rng);
    if (seen.has(w)) continue;
    seen.add(w);
    words.push(w);
  }

  const wordSampler = new ZipfSampler(zipfWeights(vocabulary), rng);
  const names = new Set<string>();
  const songs: CatalogueFile[] = [];
  for (let draws = 0; songs.length < songCount; draws++) {
    if (draws >= songCount * MAX_DRAWS_PER_ITEM) throw new CatalogueError(`could not name ${songCount} distinct songs`);
    const count = MIN_NAME_WORDS + rng.int(MAX_NAME_WORDS - MIN_NAME_WORDS + 1);
    const nameWords = distinctDraws(wordSampler, count, 'name words').map((i) => words[i] as string);
    const name = `${nameWords.join(' ')}.mp3`;
    if (names.has(name)) continue;
    names.add(name);
    const bitrate = rng.pick(BITRATES);
    const duration = MIN_DURATION + rng.int(MAX_DURATION - MIN_DURATION + 1);
    songs.push({
      name,
      keywords: nameWords,
      size: Math.round((duration * bitrate * 1000) / 8) + 128 + rng.int(4096),
      bitrate,
      freq: rng.pick(FREQUENCIES),
      duration,
      md5: hex32(rng),
      group: 'A',
    });
  }

  const songSampler = new ZipfSampler(zipfWeights(songCount), rng);
  const shares: CatalogueFile[][] = [];
  for (let p = 0; p < peers; p++) {
    // The first half of the peers is network A, the second network B (as the paper's two networks).
    const group: Group = p < peers / 2 ? 'A' : 'B';
    shares.push(distinctDraws(songSampler, filesPerPeer, 'songs').map((i) => ({ ...(songs[i] as CatalogueFile), group })));
  }
  return { words, songs, peers: shares };
}

/**
 * `count` distinct searches over `dir`, each the include words of one query:
 * 1 or 2 words (even odds) of a shared song drawn by popularity, so every query
 * matches at least that song's files, and popular songs' words are asked most.
 * Distinct by word set; the first ones drawn are the most popular.
 */
export function directoryQueries(dir: Directory, count: number, seed = 1): string[][] {
  positiveIntOption('count', count);
  const rng = new Random(seed);
  const songSampler = new ZipfSampler(zipfWeights(dir.songs.length), rng);
  const seen = new Set<string>();
  // Only songs some peer shares: a song nobody shares would make a query that matches nothing.
  const shared = new Set(dir.peers.flatMap((files) => files.map((f) => f.name)));
  const out: string[][] = [];
  for (let draws = 0; out.length < count; draws++) {
    if (draws >= count * MAX_DRAWS_PER_ITEM) throw new CatalogueError(`could not draw ${count} distinct queries`);
    const song = dir.songs[songSampler.sample()] as CatalogueFile;
    if (!shared.has(song.name)) continue;
    const picked = rng.shuffle(song.keywords).slice(0, 1 + rng.int(2));
    const key = [...picked].sort().join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(picked);
  }
  return out;
}
