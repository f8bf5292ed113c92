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
  /**
   * The kept texts in insertion order, as a ring: `order[next]` is the oldest once full. Not the Map's
   * own order: `keys().next()` walks past every slot deleted since the Map last compacted, which at
   * 4096 entries made each eviction cost about 1.5 µs instead of 0.25 (BENCHMARKS.md).
   */
  private readonly order: string[] = [];
  private next = 0;

  constructor(
    private readonly parseText: (text: string) => T,
    private readonly onEvict: () => void = () => undefined,
    private readonly capacity = PARSE_CACHE_ENTRIES,
  ) {}

  parse(text: string): T {
    const hit = this.entries.get(text);
    if (hit !== undefined) return hit;
    const parsed = this.parseText(text);
    if (text.length <= PARSE_CACHE_MAX_KEY && this.capacity > 0) {
      // A text is only added when missing, so each kept text is in the ring once.
      if (this.order.length < this.capacity) {
        this.order.push(text);
      } else {
        this.entries.delete(this.order[this.next]!);
        this.onEvict();
        this.order[this.next] = text;
        this.next = (this.next + 1) % this.capacity;
      }
      this.entries.set(text, parsed);
    }
    return parsed;
  }
}
