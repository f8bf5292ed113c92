/**
 * The proxy's cache of result sets learnt from the origin (seed 001 §5.2
 * step 2 and the TTL rule): query key → the results of that query, with the
 * instant they were deposited. An entry older than T is ignored and removed
 * when met (lazily on access) and by a periodic sweep; entries and bytes are
 * capped, least recently used evicted first, every removal counted.
 *
 * Pure: the current time is an argument, never read from a clock. Eviction
 * order is least recently used by the CLOCK ("second chance") approximation:
 * a hit only marks the entry as used (no Map writes on the hot path); when
 * room is needed, the oldest entry is evicted unless it was used since it
 * was last passed over, in which case it moves to the back and loses its mark.
 * The order is kept beside the map (placement-order.ts): moving entries
 * within the Map itself left a deleted slot per move that every eviction's
 * `values().next()` walked past, 10–12 µs a deposit into a full cache of
 * 10,000 entries (BENCHMARKS.md).
 */
import { PlacementOrder } from '../../opennap/placement-order.js';
import { CACHED_RESULT_OVERHEAD_BYTES } from './limits.js';
import type { CachedResult } from './cached-result.js';
import type { PlainAnswer } from './plain-answer.js';

export interface CacheEntry {
  readonly key: string;
  /** ms timestamp of the deposit: the entry expires when more than the TTL has passed since. */
  readonly depositedAt: number;
  readonly results: readonly CachedResult[];
  /** What the entry is charged against the byte cap. */
  readonly bytes: number;
  /** The whole answer encoded once, when the results allow one (plain-answer.ts); its frames are the results' frames. */
  readonly plain?: PlainAnswer;
}

/** The cache's own record: the entry, its second-chance mark and its stamp in the order. */
interface Slot {
  readonly entry: CacheEntry;
  used: boolean;
  stamp: number;
}

export interface ResultCacheLimits {
  ttlMs: number;
  maxEntries: number;
  maxBytes: number;
}

export type DepositOutcome =
  | 'stored'
  /** Replaced an older entry for the same key. */
  | 'replaced'
  /** Already older than the TTL when deposited (e.g. an old capture). */
  | 'stale'
  /** Larger on its own than the byte cap. */
  | 'too_large'
  /** The cache holds a newer deposit for this key. */
  | 'kept_newer';

/** Bytes an entry is charged: its frames, the parsed fields kept beside each, and its key. */
export function entryBytes(key: string, results: readonly CachedResult[]): number {
  let bytes = key.length;
  for (const r of results) bytes += r.frame.length + CACHED_RESULT_OVERHEAD_BYTES;
  return bytes;
}

export class ResultCache {
  private readonly entries = new Map<string, Slot>();
  /** The entries oldest first, a moved one at its new place. */
  private readonly order = new PlacementOrder<string>(
    (key) => this.entries.get(key)?.stamp,
    () => this.entries.size,
  );
  private totalBytes = 0;
  /** Entries removed by the entry or byte cap. */
  evictions = 0;
  /** Entries removed because their TTL passed. */
  expired = 0;

  constructor(private readonly limits: ResultCacheLimits) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  private isExpired(e: CacheEntry, now: number): boolean {
    return now - e.depositedAt > this.limits.ttlMs;
  }

  /** The fresh entry for `key`, marked as used; an expired one is removed and counted. */
  get(key: string, now: number): CacheEntry | undefined {
    const slot = this.entries.get(key);
    if (slot === undefined) return undefined;
    if (this.isExpired(slot.entry, now)) {
      this.delete(slot.entry);
      this.expired++;
      return undefined;
    }
    slot.used = true;
    return slot.entry;
  }

  /** The entry held for `key`, fresh or not, without marking or removing it (status, tests). */
  peek(key: string): CacheEntry | undefined {
    return this.entries.get(key)?.entry;
  }

  /** True when a fresh entry exists, without marking it used. */
  has(key: string, now: number): boolean {
    const slot = this.entries.get(key);
    return slot !== undefined && !this.isExpired(slot.entry, now);
  }

  /** Deposits the results of `key` seen at `depositedAt` (with their plain answer, when there is one). */
  put(key: string, results: readonly CachedResult[], depositedAt: number, now: number, plain?: PlainAnswer): DepositOutcome {
    const bytes = entryBytes(key, results);
    if (now - depositedAt > this.limits.ttlMs) return 'stale';
    if (bytes > this.limits.maxBytes) return 'too_large';
    const old = this.entries.get(key)?.entry;
    if (old !== undefined) {
      if (old.depositedAt > depositedAt) return 'kept_newer';
      this.delete(old);
    }
    const entry: CacheEntry = plain === undefined ? { key, depositedAt, results, bytes } : { key, depositedAt, results, bytes, plain };
    const fresh: Slot = { entry, used: false, stamp: this.order.place(key) };
    this.entries.set(key, fresh);
    this.totalBytes += bytes;
    this.makeRoom(fresh);
    return old === undefined ? 'stored' : 'replaced';
  }

  /**
   * Evicts until both caps hold. The new slot is never evicted (it fits on
   * its own, so another entry is there to go); a used slot gets one second
   * chance and loses its mark, so the loop ends within two turns over the entries.
   */
  private makeRoom(fresh: Slot): void {
    while (this.entries.size > this.limits.maxEntries || this.totalBytes > this.limits.maxBytes) {
      const key = this.order.takeOldest();
      if (key === undefined) break;
      const slot = this.entries.get(key)!;
      if (slot === fresh || slot.used) {
        // Passed over: the new entry is never the victim, a used one gets its second chance.
        slot.used = false;
        slot.stamp = this.order.place(key);
        // Cannot happen (the new entry fits on its own), but would loop forever.
        if (slot === fresh && this.entries.size === 1) break;
        continue;
      }
      this.delete(slot.entry);
      this.evictions++;
    }
  }

  /** Removes every expired entry; returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const slot of this.entries.values()) {
      if (this.isExpired(slot.entry, now)) {
        this.delete(slot.entry);
        n++;
      }
    }
    this.expired += n;
    return n;
  }

  private delete(e: CacheEntry): void {
    if (this.entries.get(e.key)?.entry === e) {
      this.entries.delete(e.key);
      this.totalBytes -= e.bytes;
    }
  }
}
