/**
 * Parses by raw text, bounded: clients repeat the same few search strings
 * (Zipf-like keyword popularity, seed 001 §5.3), so the directory server, the
 * cache proxy and the analyzer parse each string once. Oldest entries go first
 * (Map insertion order): cheap, and a popular string comes straight back.
 */

/** Parses kept at most. */
export const PARSE_CACHE_ENTRIES = 4096;

/** Longest text whose parse is kept: longer ones are parsed every time rather than pinned in memory. */
export const PARSE_CACHE_MAX_KEY = 512;

export class ParseCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(
    private readonly parseText: (text: string) => T,
    private readonly onEvict: () => void = () => undefined,
    private readonly capacity = PARSE_CACHE_ENTRIES,
  ) {}

  parse(text: string): T {
    const hit = this.entries.get(text);
    if (hit !== undefined) return hit;
    const parsed = this.parseText(text);
    if (text.length <= PARSE_CACHE_MAX_KEY) {
      if (this.entries.size >= this.capacity) {
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
        this.onEvict();
      }
      this.entries.set(text, parsed);
    }
    return parsed;
  }
}
