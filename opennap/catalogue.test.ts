// Unit tests of the paper's catalogue (seed 001 §5.3): exact keyword counts, determinism, the A/B split.
import { describe, expect, it } from 'vitest';
import {
  KEYWORDS_PER_FILE,
  KeywordPicker,
  PAPER_FILE_COUNT,
  PAPER_KEYWORD_TIERS,
  assignFilesToPeers,
  countMatches,
  directoryCatalogue,
  directoryQueries,
  filesOfGroup,
  keywordPopularity,
  paperCatalogue,
} from './catalogue.js';
import type { Catalogue } from './catalogue.js';
import { CatalogueError, PeerCountError } from './errors.js';
import { Random } from './random.js';
import { keywordsOf, matchesName, parseSearch } from './search-expression.js';

const SEEDS = [1, 2, 3, 17, 123456, 0xffffffff];

/** How many keywords of the catalogue match exactly `m` file names, counted from the names alone. */
function tierSizeFromNames(c: Catalogue, m: number): number {
  return c.keywords.filter((k) => countMatches(c, k.word) === m).length;
}

describe('paperCatalogue', () => {
  it('has the paper\'s shape: 120 files, 126 keywords, 600 keyword-file incidences', () => {
    const c = paperCatalogue();
    expect(c.files).toHaveLength(PAPER_FILE_COUNT);
    expect(c.keywords).toHaveLength(126);
    expect(c.keywords.reduce((s, k) => s + k.matches, 0)).toBe(600);
    expect(c.files.reduce((s, f) => s + f.keywords.length, 0)).toBe(600);
  });

  it.each(SEEDS)('seed %s: every keyword matches exactly its count of file names by keywordsOf', (seed) => {
    const c = paperCatalogue(seed);
    for (const k of c.keywords) expect(countMatches(c, k.word), k.word).toBe(k.matches);
    // The tiers, recounted from the names: 6 × 20, 10 × 12, 20 × 6, 30 × 4, 60 × 2.
    for (const tier of PAPER_KEYWORD_TIERS) expect(tierSizeFromNames(c, tier.matches)).toBe(tier.keywords);
  });

  it.each(SEEDS)('seed %s: each name holds its 5 distinct keywords (plus "mp3"), and names are unique', (seed) => {
    const c = paperCatalogue(seed);
    const catalogueWords = new Set(c.keywords.map((k) => k.word));
    for (const f of c.files) {
      expect(f.keywords).toHaveLength(KEYWORDS_PER_FILE);
      expect(new Set(f.keywords).size).toBe(KEYWORDS_PER_FILE);
      expect(keywordsOf(f.name).sort()).toEqual([...f.keywords, 'mp3'].sort());
      for (const w of f.keywords) expect(catalogueWords.has(w)).toBe(true);
    }
    expect(new Set(c.files.map((f) => f.name)).size).toBe(PAPER_FILE_COUNT);
  });

  it('keywords are distinct, lower-case alphanumeric, and none is a substring of another', () => {
    const words = paperCatalogue(5).keywords.map((k) => k.word);
    expect(new Set(words).size).toBe(words.length);
    for (const w of words) {
      expect(w).toMatch(/^[a-z0-9]+$/);
      expect(w).not.toBe('mp3');
      for (const other of words) if (other !== w) expect(other.includes(w)).toBe(false);
    }
  });

  it('is deterministic per seed and differs between seeds', () => {
    expect(paperCatalogue(1)).toEqual(paperCatalogue(1));
    expect(paperCatalogue()).toEqual(paperCatalogue(1));
    expect(paperCatalogue(2)).not.toEqual(paperCatalogue(1));
    expect(paperCatalogue(2).keywords.map((k) => k.word)).not.toEqual(paperCatalogue(1).keywords.map((k) => k.word));
  });

  it('rejects a seed that is not a finite number', () => {
    expect(() => paperCatalogue(Number.NaN)).toThrow(CatalogueError);
  });

  it.each(SEEDS)('seed %s: files split half and half between groups A and B', (seed) => {
    const c = paperCatalogue(seed);
    const a = filesOfGroup(c, 'A');
    const b = filesOfGroup(c, 'B');
    expect(a).toHaveLength(PAPER_FILE_COUNT / 2);
    expect(b).toHaveLength(PAPER_FILE_COUNT / 2);
    expect(new Set([...a, ...b].map((f) => f.name)).size).toBe(PAPER_FILE_COUNT);
  });

  it('the split is random: it differs between seeds and is not the first half of the list', () => {
    const g1 = paperCatalogue(1).files.map((f) => f.group).join('');
    const g2 = paperCatalogue(2).files.map((f) => f.group).join('');
    expect(g1).not.toBe(g2);
    expect(g1).not.toBe('A'.repeat(60) + 'B'.repeat(60));
  });

  it('gives each file plausible mp3 metadata', () => {
    for (const f of paperCatalogue(3).files) {
      expect([96, 112, 128, 160, 192, 256, 320]).toContain(f.bitrate);
      expect([22050, 32000, 44100, 48000]).toContain(f.freq);
      expect(f.duration).toBeGreaterThanOrEqual(120);
      expect(f.duration).toBeLessThanOrEqual(420);
      const audioBytes = (f.duration * f.bitrate * 1000) / 8;
      expect(f.size).toBeGreaterThan(audioBytes);
      expect(f.size).toBeLessThan(audioBytes + 4096 + 129);
      expect(f.md5).toMatch(/^[0-9a-f]{32}$/);
      expect(f.name.endsWith('.mp3')).toBe(true);
    }
  });

  it('a one-keyword search finds exactly the keyword\'s files through the grammar', () => {
    const c = paperCatalogue(4);
    for (const k of c.keywords) {
      const r = parseSearch(`FILENAME CONTAINS "${k.word}" MAX_RESULTS 100`);
      if (r.kind !== 'ok') throw new Error(r.code);
      expect(c.files.filter((f) => matchesName(r.query, f.name))).toHaveLength(k.matches);
    }
  });
});

describe('assignFilesToPeers', () => {
  it('deals every file exactly once, shares differing by at most one', () => {
    const files = filesOfGroup(paperCatalogue(), 'A');
    const peers = assignFilesToPeers(files, 7, new Random(1));
    expect(peers).toHaveLength(7);
    expect(peers.map((p) => p.length).sort()).toEqual([8, 8, 8, 9, 9, 9, 9]);
    expect(peers.flat().map((f) => f.name).sort()).toEqual(files.map((f) => f.name).sort());
  });

  it('is deterministic for a seed and shuffles before dealing', () => {
    const files = Array.from({ length: 30 }, (_, i) => i);
    expect(assignFilesToPeers(files, 3, new Random(9))).toEqual(assignFilesToPeers(files, 3, new Random(9)));
    expect(assignFilesToPeers(files, 3, new Random(9))[0]).not.toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
  });

  it('gives empty shares when there are more peers than files', () => {
    const peers = assignFilesToPeers(['x'], 3, new Random(1));
    expect(peers.map((p) => p.length).sort()).toEqual([0, 0, 1]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects peer count %s', (n) => {
    expect(() => assignFilesToPeers([1, 2], n, new Random(1))).toThrow(PeerCountError);
  });
});

describe('keywordPopularity and KeywordPicker', () => {
  const c = paperCatalogue();
  // Tie groups cover popularity ranks 1–6, 7–16, 17–36, 37–66, 67–126: their mean ranks.
  const meanRank = new Map([
    [20, 3.5],
    [12, 11.5],
    [6, 26.5],
    [4, 51.5],
    [2, 96.5],
  ]);

  it('weights each keyword 1 / (mean rank of its tie group)', () => {
    const w = keywordPopularity(c);
    c.keywords.forEach((k, i) => expect(w[i]).toBeCloseTo(1 / (meanRank.get(k.matches) as number), 12));
  });

  it('keywords matching more files weigh more; equal matches weigh the same', () => {
    const w = keywordPopularity(c, 1.5);
    for (let i = 0; i < c.keywords.length; i++) {
      for (let j = 0; j < c.keywords.length; j++) {
        const mi = c.keywords[i]!.matches;
        const mj = c.keywords[j]!.matches;
        if (mi > mj) expect(w[i]!).toBeGreaterThan(w[j]!);
        if (mi === mj) expect(w[i]).toBe(w[j]);
      }
    }
  });

  it('picks the six major keywords about as often as their weight says (seeded, within 5 sigma)', () => {
    const w = keywordPopularity(c);
    const total = w.reduce((s, x) => s + x, 0);
    const major = new Set(c.keywords.filter((k) => k.matches === 20).map((k) => k.word));
    const p = (6 / 3.5) / total;
    const picker = new KeywordPicker(c, new Random(21));
    const n = 20_000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (major.has(picker.next())) hits++;
    expect(Math.abs(hits - n * p)).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
  });

  it('only picks catalogue keywords, and is deterministic for a seed', () => {
    const words = new Set(c.keywords.map((k) => k.word));
    const a = new KeywordPicker(c, new Random(2));
    const b = new KeywordPicker(c, new Random(2));
    const sa = Array.from({ length: 200 }, () => a.next());
    expect(sa).toEqual(Array.from({ length: 200 }, () => b.next()));
    for (const w of sa) expect(words.has(w)).toBe(true);
  });
});

describe('directoryCatalogue and directoryQueries (the cache-proxy benchmark\'s realistic directory)', () => {
  const small = { peers: 40, filesPerPeer: 10, vocabulary: 300, songs: 200, seed: 7 };

  it('gives every peer the asked number of distinct songs, the same for the same seed', () => {
    const dir = directoryCatalogue(small);
    expect(dir.peers).toHaveLength(40);
    for (const files of dir.peers) {
      expect(files).toHaveLength(10);
      expect(new Set(files.map((f) => f.name)).size).toBe(10);
    }
    expect(new Set(dir.songs.map((s) => s.name)).size).toBe(dir.songs.length);
    expect(directoryCatalogue(small)).toEqual(dir);
    expect(directoryCatalogue({ ...small, seed: 8 })).not.toEqual(dir);
  });

  it('draws distinct 1-2 word queries that each match at least one shared file', () => {
    const dir = directoryCatalogue(small);
    const shared = dir.peers.flat();
    const queries = directoryQueries(dir, 50, 3);
    expect(queries).toHaveLength(50);
    expect(new Set(queries.map((q) => [...q].sort().join(' '))).size).toBe(50);
    for (const q of queries) {
      expect(q.length).toBeGreaterThanOrEqual(1);
      expect(q.length).toBeLessThanOrEqual(2);
      expect(shared.some((f) => q.every((w) => f.keywords.includes(w)))).toBe(true);
    }
  });

  it('refuses sizes it cannot honour', () => {
    expect(() => directoryCatalogue({ peers: 0 })).toThrow(CatalogueError);
    expect(() => directoryCatalogue({ filesPerPeer: 10, songs: 5 })).toThrow(CatalogueError);
  });
});
