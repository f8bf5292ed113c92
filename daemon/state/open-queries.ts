/**
 * The state writer's memory of open queries: which `queries` row a later first
 * response or end updates, by rowid, so the table needs no unique key over
 * (server, client, seq, query time) (schema migration 2). Keyed by (server id,
 * client ip, client port, seq); the query time is kept in the entry and must
 * match, since seq restarts with every flow of a client endpoint. Bounded:
 * beyond the cap the oldest entry goes (FIFO, Map insertion order), and every
 * entry that leaves without its query ending is counted by reason. A response
 * whose entry is gone becomes an orphan row, as one for a query never seen.
 */

/**
 * Open queries remembered: the daemon is sized for 100,000 concurrent flows (issue 3) and an
 * OpenNap client waits for one search at a time, so twice that leaves room for bursts of
 * pipelined searches; an entry is ~150 bytes, so the bound is ~30 MB at worst.
 */
export const MAX_OPEN_QUERIES = 200_000;

/** One query the writer may still update: not yet written (`rowid` 0, fields pending) or written. */
export interface OpenQuery {
  /** OpenQueries.key of the entry (to forget it when its insert fails). */
  key: string;
  queryTs: number;
  /** Rowid once inserted; 0 while the insert is pending in the current batch. */
  rowid: number;
  serverId: number;
  clientIp: string;
  clientPort: number;
  seq: number;
  /** Pending fields (only read before the insert; dropped after it to keep entries small). */
  keywords: string | null;
  maxResults: number | null;
  firstResponseTs: number | null;
  doneTs: number | null;
  results: number | null;
}

export type OpenQueryDrop = 'evicted' | 'replaced' | 'expired';

export class OpenQueries {
  private readonly map = new Map<string, OpenQuery>();
  /**
   * Every entry set, oldest first from `head`, as parallel arrays of key and entry; a slot whose entry
   * has left the map (ended, replaced, expired, evicted) is skipped when met. The Map's own order is
   * not used for eviction: `keys().next()` walks past every slot deleted since the Map last compacted,
   * 44 µs an eviction at this cap (BENCHMARKS.md). Compacted once it holds twice the live entries
   * (plus 1,024), so every operation is O(1) amortised and it stays within about twice the cap.
   */
  private orderKeys: string[] = [];
  private orderEntries: OpenQuery[] = [];
  private head = 0;

  constructor(
    private readonly onDrop: (reason: OpenQueryDrop, n: number) => void,
    readonly capacity: number = MAX_OPEN_QUERIES,
  ) {}

  get size(): number {
    return this.map.size;
  }

  static key(serverId: number, clientIp: string, clientPort: number, seq: number): string {
    // Small integers and a short ip: no float formatting (the query time is checked in the entry).
    return `${serverId} ${clientIp} ${clientPort} ${seq}`;
  }

  /** The open query with this key and query time, if remembered. */
  get(key: string, queryTs: number): OpenQuery | undefined {
    const q = this.map.get(key);
    return q !== undefined && q.queryTs === queryTs ? q : undefined;
  }

  /** Remembers a query; an entry of the same key (an older flow's query) is replaced, counted. */
  set(key: string, q: OpenQuery): void {
    if (this.map.delete(key)) this.onDrop('replaced', 1);
    else if (this.map.size >= this.capacity && this.evictOldest()) this.onDrop('evicted', 1);
    this.map.set(key, q);
    this.orderKeys.push(key);
    this.orderEntries.push(q);
    // Slots before `head` and stale ones past it both count: either way the arrays stay within bounds.
    if (this.orderKeys.length > 2 * this.map.size + 1024) this.compact();
  }

  /** Deletes the oldest entry still in the map; false when there is none. */
  private evictOldest(): boolean {
    while (this.head < this.orderKeys.length) {
      const key = this.orderKeys[this.head]!;
      const live = this.map.get(key) === this.orderEntries[this.head];
      this.head++;
      if (live) {
        this.map.delete(key);
        return true;
      }
    }
    return false;
  }

  /** Rebuilds the order from the map (which iterates in insertion order), dropping stale slots. */
  private compact(): void {
    this.orderKeys = [...this.map.keys()];
    this.orderEntries = [...this.map.values()];
    this.head = 0;
  }

  /** Forgets a query that ended (not counted: that is the normal way out). */
  delete(key: string): void {
    this.map.delete(key);
  }

  /** Forgets queries older than `beforeTs` (their rows are past retention); returns how many. */
  expire(beforeTs: number): number {
    let n = 0;
    for (const [key, q] of this.map) {
      if (q.queryTs < beforeTs) {
        this.map.delete(key);
        n++;
      }
    }
    if (n > 0) this.onDrop('expired', n);
    return n;
  }

  /** Forgets everything (after a failed commit the remembered rowids may name rolled-back rows). */
  clear(): number {
    const n = this.map.size;
    this.map.clear();
    this.compact();
    return n;
  }
}
