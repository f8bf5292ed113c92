/**
 * Ready-encoded answers of one session by raw search text, so a repeated
 * search costs one Map lookup and one write (brief: "a cache hit is a Map
 * lookup + one write"). An answer stays valid only while the local
 * directory's generation and the cache entry it was built from are
 * unchanged; `get` checks both. Per session the memo is bounded in entries
 * and bytes (oldest first out: a hit does not reorder, so it costs no Map
 * writes), and all sessions together draw on one shared byte budget, so the
 * total stays bounded whatever the number of sessions. Pure.
 */
import type { CacheEntry } from './result-cache.js';

export interface MemoAnswer {
  readonly bytes: Buffer;
  readonly local: number;
  readonly cached: number;
  /** `LocalDirectory.generation` when built. */
  readonly generation: number;
  /** The cache entry it was built from (undefined: built on a miss). */
  readonly entry: CacheEntry | undefined;
}

/** The byte budget all memos share; `used` never exceeds `limit`. */
export class MemoBudget {
  used = 0;
  /** Answers not memoised because the shared budget was spent (counted, never silent). */
  refused = 0;
  /** Answers dropped to make room (per-session caps) or because they went stale. */
  evictions = 0;

  constructor(readonly limit: number) {}
}

export class AnswerMemo {
  private readonly entries = new Map<string, MemoAnswer>();
  private ownBytes = 0;

  constructor(
    private readonly budget: MemoBudget,
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.ownBytes;
  }

  /** The memoised answer to `text` if still valid for `generation` and `entry`; a stale one is dropped. */
  get(text: string, generation: number, entry: CacheEntry | undefined): MemoAnswer | undefined {
    const m = this.entries.get(text);
    if (m === undefined) return undefined;
    if (m.generation !== generation || m.entry !== entry) {
      this.delete(text, m);
      this.budget.evictions++;
      return undefined;
    }
    return m;
  }

  set(text: string, answer: MemoAnswer): void {
    const size = answer.bytes.length;
    if (size > this.maxBytes) return;
    const old = this.entries.get(text);
    if (old !== undefined) this.delete(text, old);
    while (this.entries.size >= this.maxEntries || this.ownBytes + size > this.maxBytes) {
      const oldest = this.entries.entries().next();
      if (oldest.done === true) break;
      this.delete(oldest.value[0], oldest.value[1]);
      this.budget.evictions++;
    }
    if (this.budget.used + size > this.budget.limit) {
      this.budget.refused++;
      return;
    }
    this.entries.set(text, answer);
    this.ownBytes += size;
    this.budget.used += size;
  }

  /** Returns every byte to the shared budget (the session closed). */
  clear(): void {
    this.budget.used -= this.ownBytes;
    this.ownBytes = 0;
    this.entries.clear();
  }

  private delete(text: string, m: MemoAnswer): void {
    this.entries.delete(text);
    this.ownBytes -= m.bytes.length;
    this.budget.used -= m.bytes.length;
  }
}
