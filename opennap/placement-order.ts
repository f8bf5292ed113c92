/**
 * The order in which keys were placed in a map, kept beside it so the oldest
 * can be found in O(1) amortised. A JavaScript Map keeps insertion order, but
 * V8 leaves a deleted entry's slot in its table until it rehashes, and
 * `keys().next()` walks past every one of them: with a bounded map whose
 * oldest entry goes on every insert, that is 20 µs an eviction at 65,536
 * entries (BENCHMARKS.md), and the walk grows with the map.
 *
 * Each placement gets a stamp, which the owner keeps with its entry (as the
 * map's value, or a field of it). A slot whose key no longer carries that
 * stamp (deleted since, or placed again) is stale: skipped when met, and
 * dropped when the slots outnumber twice the live entries plus 1,024, so
 * memory stays within about twice the map's.
 *
 * Here beside parse-cache.ts, and for the same reason: the daemon's server
 * registry and the cache proxy's result cache both need it, and `opennap/` is
 * the one folder both may import (ARCHITECTURE.md).
 */
export class PlacementOrder<K> {
  private keys: K[] = [];
  private stamps: number[] = [];
  private head = 0;
  private lastStamp = 0;

  /**
   * `stampOf`: the stamp the owner keeps for a key now (undefined: not in its map);
   * `liveCount`: how many keys its map holds; `slack`: stale slots allowed beyond the live count
   * before a compaction (tests set it small).
   */
  constructor(
    private readonly stampOf: (key: K) => number | undefined,
    private readonly liveCount: () => number,
    private readonly slack = 1024,
  ) {}

  /** Slots held, stale ones included (at most twice the live entries plus `slack` plus one). */
  get slotCount(): number {
    return this.keys.length;
  }

  /** Records `key` as placed now (new, or moved to the end); returns the stamp to keep with it. */
  place(key: K): number {
    // Before the new slot goes in: the owner has not stored its stamp yet.
    if (this.keys.length > 2 * this.liveCount() + this.slack) this.compact();
    const stamp = ++this.lastStamp;
    this.keys.push(key);
    this.stamps.push(stamp);
    return stamp;
  }

  /** The oldest key still placed, taken out of the order (the owner deletes it); undefined when none is. */
  takeOldest(): K | undefined {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head]!;
      const live = this.stampOf(key) === this.stamps[this.head];
      this.head++;
      if (live) return key;
    }
    return undefined;
  }

  /**
   * Visits the keys still placed, oldest first, until `visit` returns false. The visitor may delete
   * the key it is given from the owner's map; the slots of the leading keys so deleted (and stale
   * ones among them) are dropped as it goes, so a walk that prunes from the front leaves no work behind.
   */
  walk(visit: (key: K) => boolean): void {
    let front = true;
    for (let i = this.head; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      const stamp = this.stamps[i];
      if (this.stampOf(key) === stamp && !visit(key)) return;
      if (front && this.stampOf(key) !== stamp) this.head = i + 1;
      else front = false;
    }
  }

  /** Every key still placed, oldest first (a snapshot: the owner may delete while walking it). */
  liveKeys(): K[] {
    const out: K[] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (this.stampOf(key) === this.stamps[i]) out.push(key);
    }
    return out;
  }

  /** Drops the slots before `head` and the stale ones past it, in place. */
  private compact(): void {
    const keys = this.keys;
    const stamps = this.stamps;
    let w = 0;
    for (let r = this.head; r < keys.length; r++) {
      const key = keys[r]!;
      if (this.stampOf(key) !== stamps[r]) continue;
      keys[w] = key;
      stamps[w] = stamps[r]!;
      w++;
    }
    keys.length = w;
    stamps.length = w;
    this.head = 0;
  }
}
